"""Filters of the case page: comments with their mentions marked, and activity in words."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.functional import Promise
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from cases.models import CaseStatus
from cases.services.comments import MENTION_RE, mention_readings

register = template.Library()

ACTION_LABELS: dict[str, Promise] = {
    "case.created": _("opened the case"),
    "case.updated": _("edited the case"),
    "case.status_changed": _("changed the status"),
    "case.resolution_suggested": _("found every hijacker gone and suggested resolving"),
    "storefront.attached": _("added a storefront"),
    "storefront.gone": _("marked a storefront gone"),
    "storefront.updated": _("edited a storefront"),
    "sighting.recorded": _("recorded a sighting"),
    "sightings.recorded": _("recorded sightings"),
    "evidence.added": _("added evidence"),
    "evidence.withdrawn": _("withdrew evidence"),
    "capture.requested": _("asked for a page capture"),
    "capture.done": _("captured a page"),
    "capture.failed": _("failed to capture a page"),
    "recheck.scheduled": _("scheduled a re-check"),
    "recheck.done": _("re-checked the listing"),
    "test_buy.created": _("recorded a test buy"),
    "test_buy.updated": _("updated a test buy"),
    "test_buy.photo_added": _("added a test-buy photo"),
    "warning.sent": _("recorded a warning as sent"),
    "warning.replied": _("recorded a reply to a warning"),
    "submission.created": _("recorded a report to Amazon"),
    "submission.updated": _("updated a report to Amazon"),
    "dossier.requested": _("asked for a dossier"),
    "dossier.built": _("built a dossier"),
    "dossier.failed": _("failed to build a dossier"),
    "comment.posted": _("commented"),
}


@register.filter
def action_label(action: str) -> str:
    """The audit action in words; an action without a label is shown as recorded."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


@register.filter
def event_text(event: Any) -> str:
    """An activity row in words; a status change names the status reached."""
    if event.action == "case.status_changed":
        status = (event.after or {}).get("status")
        if status in CaseStatus.values:
            return str(_("moved the case to %(status)s") % {"status": CaseStatus(status).label})
    return action_label(event.action)


@register.filter
def with_mentions(body: str, mentioned: Iterable[Any]) -> SafeString:
    """The comment escaped, with line breaks, and the mentions that notified someone marked."""
    names = {user.get_username() for user in mentioned}
    parts: list[str] = []
    position = 0
    for match in MENTION_RE.finditer(body):
        name = next((reading for reading in mention_readings(match.group(1)) if reading in names), None)
        if name is None:
            continue
        end = match.start(1) + len(name)
        parts.append(conditional_escape(body[position : match.start()]))
        parts.append(format_html('<strong class="mention">@{}</strong>', name))
        position = end
    parts.append(conditional_escape(body[position:]))
    return mark_safe("".join(parts).replace("\n", "<br>"))  # noqa: S308 - every part is escaped above
