from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from cases.models import Membership, Role, Team
from cases.services._common import authorize, full_clean, record
from evidence.errors import field_error
from evidence.services import Actor


@transaction.atomic
def team_create(*, name: str, actor: Actor, slug: str = "") -> Team:
    """A new team; a user who creates it becomes its first manager."""
    team = Team(name=name.strip(), slug=slug or _free_slug(name))
    full_clean(team)
    team.save()
    record(actor=actor, action="team.created", subject=team, team_id=team.pk, after={"name": team.name})
    if actor.is_user:
        _membership_write(team=team, user=actor.user, role=Role.MANAGER, actor=actor)
    return team


def _free_slug(name: str) -> str:
    base = slugify(name)[:50] or "team"
    slug, n = base, 1
    while Team.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def membership_set(*, team: Team, user: Any, role: Role | str, actor: Actor) -> Membership:
    """Add ``user`` to ``team`` with ``role``, or change their role."""
    authorize(actor, team.pk, Role.MANAGER)
    if role not in Role.values:
        raise field_error(
            "role", _("%(role)r is not a role: use viewer, agent or manager.") % {"role": role}, "invalid_choice"
        )
    return _membership_write(team=team, user=user, role=Role(role), actor=actor)


def _membership_write(*, team: Team, user: Any, role: Role, actor: Actor) -> Membership:
    membership = Membership.objects.select_for_update().filter(team=team, user=user).first()
    if membership is None:
        membership = Membership.objects.create(team=team, user=user, role=role)
        record(
            actor=actor,
            action="membership.created",
            subject=membership,
            team_id=team.pk,
            after={"user": user.get_username(), "role": role.value},
        )
        return membership
    if membership.role != role:
        if membership.role == Role.MANAGER:
            _keep_a_manager(team, leaving=membership)
        before = {"role": membership.role}
        membership.role = role
        membership.save(update_fields=["role"])
        record(
            actor=actor,
            action="membership.role_changed",
            subject=membership,
            team_id=team.pk,
            before=before,
            after={"user": user.get_username(), "role": role.value},
        )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: Actor) -> None:
    authorize(actor, membership.team_id, Role.MANAGER)
    if membership.role == Role.MANAGER:
        _keep_a_manager(membership.team, leaving=membership)
    record(
        actor=actor,
        action="membership.removed",
        subject=membership,
        team_id=membership.team_id,
        before={"user": membership.user.get_username(), "role": membership.role},
    )
    membership.delete()


def _keep_a_manager(team: Team, *, leaving: Membership) -> None:
    # Lock every manager row, so two managers demoting each other cannot both pass.
    managers = list(Membership.objects.select_for_update().filter(team=team, role=Role.MANAGER).order_by("pk"))
    if not [m for m in managers if m.pk != leaving.pk]:
        raise field_error("role", _("A team needs at least one manager."), "last_manager")
