"""Team members' discussion of a case, with ``@username`` mentions that notify."""

from __future__ import annotations

import re

from django.db import transaction
from django.utils.translation import gettext as _

from cases.models import Case, Comment, Membership, NotificationKind, Role
from cases.services._common import authorize, full_clean, record
from cases.services.notifications import notify_users
from evidence.errors import field_error
from evidence.services import Actor

MAX_COMMENT_LENGTH = 10_000
# Django usernames are letters, digits and @.+-_; an address before the @ (a@b) is not a mention.
MENTION_RE = re.compile(r"(?<![\w.+@-])@([\w.@+-]+)")


def mention_readings(written: str) -> list[str]:
    """The names a mention may mean, longest first: a sentence may end right after it ("thanks @ana.")."""
    readings: list[str] = []
    while written:
        readings.append(written)
        stripped = written.rstrip(".-+@")
        written = stripped if stripped != written else ""
    return readings


def mention_candidates(body: str) -> list[str]:
    """Every name the mentions in ``body`` could mean."""
    names = [name for match in MENTION_RE.finditer(body) for name in mention_readings(match.group(1))]
    return list(dict.fromkeys(names))


def mentioned_members(*, team_id: int, body: str) -> list[int]:
    """The user IDs of active members of the team that ``body`` mentions."""
    candidates = mention_candidates(body)
    if not candidates:
        return []
    return list(
        Membership.objects.filter(team_id=team_id, user__is_active=True, user__username__in=candidates).values_list(
            "user_id", flat=True
        )
    )


@transaction.atomic
def comment_post(*, case: Case, body: str, actor: Actor) -> Comment:
    """A comment by an agent or manager; members it mentions are told, others stay plain text."""
    authorize(actor, case.team_id, Role.AGENT)
    if not actor.is_user:
        raise field_error("body", _("Only team members write comments."), "not_a_user")
    body = body.strip()
    if not body:
        raise field_error("body", _("Write something first."), "required")
    if len(body) > MAX_COMMENT_LENGTH:
        raise field_error(
            "body",
            _("A comment has at most %(max)s characters.") % {"max": f"{MAX_COMMENT_LENGTH:,}"},
            "too_long",
        )
    comment = Comment(case=case, author=actor.user, body=body)
    full_clean(comment)
    comment.save()
    mentioned = mentioned_members(team_id=case.team_id, body=body)
    if mentioned:
        comment.mentions.set(mentioned)
    record(
        actor=actor,
        action="comment.posted",
        subject=comment,
        team_id=case.team_id,
        case_id=case.pk,
        after={"body": body, "mentions": sorted(mentioned)},
    )
    others = [user_id for user_id in mentioned if user_id != actor.id]
    if others:
        excerpt = body if len(body) <= 300 else body[:300] + "…"
        notify_users(
            case=case,
            user_ids=others,
            kind=NotificationKind.MENTIONED,
            message=f"{actor.name} mentioned you on {case.reference}: {excerpt}",
        )
    return comment
