"""A person's own settings: the language and time zone the web app uses for them."""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from cases.models import UserPreferences
from evidence.errors import field_error


@cache
def time_zones() -> list[str]:
    """IANA zone names a person can choose, sorted (Etc/ and legacy aliases left out)."""
    names = zoneinfo.available_timezones()
    return sorted(name for name in names if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/")))


@transaction.atomic
def preferences_set(*, user: Any, language: str | None = None, time_zone: str | None = None) -> UserPreferences:
    """Store a person's language ("" lets the browser choose) and time zone.

    Personal display settings are not team records, so they write no audit row.
    """
    prefs, _created = UserPreferences.objects.select_for_update().get_or_create(user=user)
    fields = []
    if language is not None:
        if language and language not in dict(settings.LANGUAGES):
            raise field_error("language", _("Choose one of the languages offered."), "invalid_choice")
        prefs.language = language
        fields.append("language")
    if time_zone is not None:
        if time_zone != "UTC" and time_zone not in time_zones():
            raise field_error(
                "time_zone", _("Choose a time zone from the list, such as Asia/Shanghai."), "invalid_choice"
            )
        prefs.time_zone = time_zone
        fields.append("time_zone")
    if fields:
        prefs.save(update_fields=[*fields, "updated_at"])
    return prefs
