"""Per-person language and time zone, and the content security policy, applied to every request."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from cases.models import UserPreferences

SESSION_KEY = "preferences"


def remember_preferences(request: HttpRequest, prefs: UserPreferences | None) -> dict[str, str]:
    """Keep the person's choices in the session, so pages read them without a query."""
    chosen = {"language": prefs.language, "time_zone": prefs.time_zone} if prefs else {"language": "", "time_zone": ""}
    request.session[SESSION_KEY] = chosen
    return chosen


def preferences_on_login(sender: object, request: HttpRequest | None, user: Any, **kwargs: object) -> None:
    if request is not None and hasattr(request, "session"):
        remember_preferences(request, UserPreferences.objects.filter(user=user).first())


class UserPreferencesMiddleware:
    """Runs after authentication: a stored language beats the browser's, and times show in the person's zone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user: Any = request.user
        if user.is_authenticated:
            chosen = request.session.get(SESSION_KEY)
            if chosen is None:
                chosen = remember_preferences(request, UserPreferences.objects.filter(user=user).first())
            if chosen["language"]:
                translation.activate(chosen["language"])
                request.LANGUAGE_CODE = chosen["language"]
            if chosen["time_zone"]:
                try:
                    timezone.activate(zoneinfo.ZoneInfo(chosen["time_zone"]))
                except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                    timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class ContentSecurityPolicyMiddleware:
    """One policy for every page: scripts and styles only from our own files, nothing inline.

    Responses that set their own policy (evidence downloads are sandboxed) keep it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response
