"""Template helpers of the case page's evidence and dossier panels."""

from __future__ import annotations

from typing import Any

from django import template

from cases.models import Role
from cases.services._common import role_of

register = template.Library()

_TILE_LABELS = {
    "application/pdf": "PDF",
    "multipart/related": "MHTML",
    "message/rfc822": "MHTML",
    "text/html": "HTML",
    "text/plain": "TXT",
    "application/zip": "ZIP",
    "text/csv": "CSV",
}


@register.simple_tag(takes_context=True)
def may_work(context: template.Context, case: Any) -> bool:
    """Whether the signed-in person may work the case (agent or manager).

    The panels are included by the case page and served alone for htmx, so the role is
    read here from the request, once per request and team, rather than by each caller.
    """
    request = context.get("request")
    if request is None:
        return False
    known: dict[int, bool] = getattr(request, "_may_work_in_team", {})
    if case.team_id not in known:
        role = role_of(request.user, case.team_id)
        known[case.team_id] = role is not None and role.includes(Role.AGENT)
        request._may_work_in_team = known
    return known[case.team_id]


@register.filter
def file_tile(mime_type: str) -> str:
    """A short label for the tile of a file shown without a picture."""
    if mime_type in _TILE_LABELS:
        return _TILE_LABELS[mime_type]
    subtype = mime_type.rsplit("/", 1)[-1].split(";")[0].split("+")[0]
    return subtype[:6].upper() or "FILE"


@register.filter
def is_web_address(url: str) -> bool:
    """Only http(s) addresses are offered as links; anything else is shown as text."""
    return str(url).lower().startswith(("http://", "https://"))
