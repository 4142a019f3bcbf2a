"""Template context every page gets."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from cases.models import Notification


def unread_notifications(request: HttpRequest) -> dict[str, Any]:
    """The signed-in user's unread notifications, counted only when a page shows it."""
    user: Any = request.user
    if not user.is_authenticated:
        return {}
    unread = Notification.objects.visible_to(user).filter(user=user, read_at__isnull=True)
    return {"unread_notifications": unread.count}
