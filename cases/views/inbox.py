"""The signed-in user's notifications: new hijackers, re-checks that found hijackers gone."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from cases.models import Notification
from cases.services.notifications import notifications_mark_read


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if request.method == "POST":
        notifications_mark_read(user_id=user.pk)
        return redirect("cases:notifications")
    mine = Notification.objects.visible_to(user).filter(user=user).select_related("case")[:100]
    return render(request, "cases/notifications.html", {"notifications": mine})
