from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("cases.api.urls")),
    path("", include("cases.urls")),
]

handler404 = "cases.api.errors.json_not_found"
handler500 = "cases.api.errors.json_server_error"
