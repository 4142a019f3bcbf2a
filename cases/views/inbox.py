"""The signed-in user's notifications: new hijackers, re-checks that found hijackers gone."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from cases.models import Notification
from cases.services.notifications import notifications_mark_read

PAGE_SIZE = 50


@require_http_methods(["GET", "POST"])
@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    """A POST with ``read=<id>`` marks one notification read; without it, all of them."""
    user: Any = request.user
    if request.method == "POST":
        one = request.POST.get("read", "")
        if one.isascii() and one.isdigit() and len(one) < 19:
            # Filtered by the user in the service: another person's ID marks nothing.
            notifications_mark_read(user_id=user.pk, ids=[int(one)])
        else:
            marked = notifications_mark_read(user_id=user.pk)
            messages.success(
                request,
                ngettext("%(count)d notification marked read.", "%(count)d notifications marked read.", marked)
                % {"count": marked},
            )
        return redirect(_back(request))
    mine = Notification.objects.visible_to(user).filter(user=user).select_related("case")
    page = Paginator(mine, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "cases/notifications.html", {"page": page})


def _back(request: HttpRequest) -> str:
    """The page the user was on, kept through the query string of the form's address."""
    page = request.GET.get("page", "")
    url = reverse("cases:notifications")
    return f"{url}?page={page}" if page.isascii() and page.isdigit() else url
