"""Signing in (rate-limited), and a person's own settings: language, time zone, password."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from cases.middleware import remember_preferences
from cases.services.accounts import preferences_set, time_zones
from cases.signin import password_reset_allowed, signin_locked


class SignInView(auth_views.LoginView):
    """Django's sign-in, with a clear refusal once the attempts are used up (cases.signin counts them)."""

    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # A locked-out attempt is refused before its password is looked at.
        if signin_locked(request, request.POST.get("username", "")):
            form = self.form_class(request)
            minutes = settings.LOGIN_WINDOW_MINUTES
            context = self.get_context_data(form=form)
            context["refused"] = _("Too many failed sign-ins. Try again in %(minutes)d minutes.") % {"minutes": minutes}
            response = self.render_to_response(context)
            response.status_code = 429
            return response
        return super().post(request, *args, **kwargs)


class PasswordResetView(auth_views.PasswordResetView):
    """Reset links name the configured site (SITE_URL), never the Host header of the request."""

    def form_valid(self, form: Any) -> HttpResponse:
        if not password_reset_allowed(self.request, form.cleaned_data["email"]):
            minutes = settings.LOGIN_WINDOW_MINUTES
            form.add_error(None, _("Too many reset requests. Try again in %(minutes)d minutes.") % {"minutes": minutes})
            response = self.render_to_response(self.get_context_data(form=form))
            response.status_code = 429
            return response
        site = urlsplit(settings.SITE_URL)
        form.save(
            domain_override=site.netloc,
            use_https=site.scheme == "https",
            token_generator=self.token_generator,
            from_email=self.from_email,
            email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name,
            request=self.request,
            html_email_template_name=self.html_email_template_name,
            extra_email_context={"site_name": "casemanager"},
        )
        return redirect(self.get_success_url())


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    current = getattr(user, "preferences", None)
    values = {
        "language": current.language if current else "",
        "time_zone": current.time_zone if current else "UTC",
    }
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {"language": request.POST.get("language", ""), "time_zone": request.POST.get("time_zone", "")}
        try:
            prefs = preferences_set(user=user, **values)
        except ValidationError as invalid:
            errors = invalid.message_dict
        else:
            remember_preferences(request, prefs)
            messages.success(request, _("Your settings are saved."))
            response = redirect("cases:preferences")
            _set_language_cookie(response, prefs.language)
            return response
    return render(
        request,
        "account/preferences.html",
        {"values": values, "errors": errors, "languages": settings.LANGUAGES, "time_zones": time_zones()},
    )


@require_POST
def language_switch(request: HttpRequest) -> HttpResponseBase:
    """The switcher in the header: Django's cookie for everyone, and remembered for a signed-in person."""
    response = set_language(request)
    user: Any = request.user
    language = request.POST.get("language", "")
    if user.is_authenticated and language in dict(settings.LANGUAGES):
        remember_preferences(request, preferences_set(user=user, language=language))
    return response


def _set_language_cookie(response: HttpResponse, language: str) -> None:
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            samesite="Lax",
        )
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
