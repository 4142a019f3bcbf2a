"""Reads of notifications that jobs need."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from cases.models import Notification


def notifications_unsent(*, limit: int = 500) -> list[int]:
    """Notifications of the last day still not e-mailed after five minutes: their message
    was lost (the broker was down) or every try to send failed."""
    now = timezone.now()
    unsent = Notification.objects.filter(
        emailed_at__isnull=True,
        created_at__lt=now - dt.timedelta(minutes=5),
        created_at__gte=now - dt.timedelta(days=1),
    ).exclude(user__email="")
    return list(unsent.values_list("pk", flat=True)[:limit])
