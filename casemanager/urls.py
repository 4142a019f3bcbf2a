from django.contrib import admin
from django.urls import include, path

from cases.views import account

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", account.SignInView.as_view(), name="login"),
    path("accounts/password_reset/", account.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("cases.api.urls")),
    path("", include("cases.urls")),
]

handler404 = "cases.api.errors.json_not_found"
handler500 = "cases.api.errors.json_server_error"
