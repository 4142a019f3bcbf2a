from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import (
    Brand,
    Case,
    CasePriority,
    CaseSequence,
    CaseStatus,
    InfringementLocation,
    Membership,
    NotificationKind,
    Role,
    WebhookEvent,
)
from cases.models.cases import FINISHED_STATUSES
from cases.services._common import authorize, full_clean, record, save_changes, snapshot
from cases.services.notifications import notify_users
from cases.services.webhooks import emit
from cases.workflow import allowed_transitions, reason_required
from evidence.amazon import marketplace as find_marketplace
from evidence.errors import field_error
from evidence.services import Actor

CASE_FIELDS = ("title", "priority", "assignee", "external_refs", "infringement_locations")


def _next_reference(team_id: int) -> str:
    year = timezone.now().year
    sequence, _created = CaseSequence.objects.select_for_update().get_or_create(team_id=team_id, year=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"HJ-{year}-{sequence.last:04d}"


def _check_assignee(team_id: int, assignee: Any) -> None:
    if assignee is None:
        return
    works_cases = Membership.objects.filter(
        team_id=team_id, user=assignee, user__is_active=True, role__in=[Role.AGENT, Role.MANAGER]
    ).exists()
    if not works_cases:
        raise field_error(
            "assignee", _("The assignee must be an agent or manager of the case's team."), "invalid_assignee"
        )


def _check_external_refs(refs: Any) -> list[str]:
    if not isinstance(refs, list) or not all(isinstance(r, str) and r.strip() for r in refs):
        raise ValidationError(
            {"external_refs": [_("Give a list of ticket references such as ['JIRA-12'].")]}, code="invalid"
        )
    if any(len(r) > 200 for r in refs) or len(refs) > 20:
        raise field_error("external_refs", _("At most 20 references of 200 characters each."), "invalid")
    return [r.strip() for r in refs]


def _check_locations(locations: Any) -> list[str]:
    if not isinstance(locations, list) or any(item not in InfringementLocation.values for item in locations):
        choices = ", ".join(InfringementLocation.values)
        raise field_error(
            "infringement_locations", _("Choose among: %(choices)s.") % {"choices": choices}, "invalid_choice"
        )
    return sorted(set(locations), key=InfringementLocation.values.index)


def _open_case_for(team_id: int, asin: str, marketplace: str) -> Case | None:
    return (
        Case.objects.filter(team_id=team_id, asin=asin, marketplace=marketplace)
        .exclude(status__in=FINISHED_STATUSES)
        .first()
    )


@transaction.atomic
def case_open(
    *,
    brand: Brand,
    asin: str,
    marketplace: str,
    actor: Actor,
    title: str = "",
    priority: str = CasePriority.NORMAL,
    assignee: Any = None,
    external_refs: list[str] | None = None,
) -> Case:
    """Open a case for a hijacked listing; one open case per ASIN and marketplace in a team."""
    authorize(actor, brand.team_id, Role.AGENT)
    asin = asin.strip().upper()
    case = Case(
        team_id=brand.team_id,
        brand=brand,
        asin=asin,
        marketplace=find_marketplace(marketplace).code,
        title=title.strip(),
        priority=priority,
        assignee=assignee,
        external_refs=_check_external_refs(external_refs or []),
        status=CaseStatus.NEW,
        status_changed_at=timezone.now(),
    )
    full_clean(case, exclude=["reference", "team"])
    _check_assignee(brand.team_id, assignee)
    existing = _open_case_for(brand.team_id, case.asin, case.marketplace)
    if existing is not None:
        raise field_error(
            "asin",
            _("The open case %(reference)s already tracks %(asin)s in %(marketplace)s.")
            % {"reference": existing.reference, "asin": asin, "marketplace": case.marketplace},
            "duplicate_open_case",
        )
    case.reference = _next_reference(brand.team_id)
    try:
        with transaction.atomic():
            case.save(force_insert=True)
    except IntegrityError:
        # Another request opened the same listing between our check and our insert.
        raise field_error(
            "asin",
            _("An open case already tracks %(asin)s in %(marketplace)s.")
            % {"asin": asin, "marketplace": case.marketplace},
            "duplicate_open_case",
        ) from None
    after = snapshot(case, ("reference", "brand", "asin", "marketplace", "status", *CASE_FIELDS))
    record(actor=actor, action="case.created", subject=case, team_id=case.team_id, case_id=case.pk, after=after)
    emit(WebhookEvent.CASE_CREATED, case, team_id=case.team_id)
    return case


@transaction.atomic
def case_update(*, case: Case, actor: Actor, **changes: Any) -> Case:
    """Change a case's title, priority, assignee or ticket references."""
    authorize(actor, case.team_id, Role.AGENT)
    case = Case.objects.select_for_update(no_key=True).get(pk=case.pk)
    if "external_refs" in changes:
        changes["external_refs"] = _check_external_refs(changes["external_refs"])
    if "infringement_locations" in changes:
        changes["infringement_locations"] = _check_locations(changes["infringement_locations"])
    if "title" in changes and isinstance(changes["title"], str):
        changes["title"] = changes["title"].strip()
    before, after = save_changes(
        case,
        changes,
        allowed=CASE_FIELDS,
        actor=actor,
        action="case.updated",
        team_id=case.team_id,
        case_id=case.pk,
        exclude=["reference", "team"],
        check=lambda: _check_assignee(case.team_id, case.assignee) if "assignee" in changes else None,
    )
    if after:
        emit(WebhookEvent.CASE_UPDATED, case, team_id=case.team_id, changes={"before": before, "after": after})
    if "assignee" in after and case.assignee_id is not None and case.assignee_id != actor.id:
        notify_users(
            case=case,
            user_ids=[case.assignee_id],
            kind=NotificationKind.ASSIGNED,
            message=f"{actor.name} assigned {case.reference} ({case.asin}, {case.marketplace}) to you.",
        )
    return case


@transaction.atomic
def case_transition(*, case: Case, status: str, actor: Actor, note: str = "", reason: str = "") -> Case:
    """Move a case along its workflow; closing needs a reason."""
    authorize(actor, case.team_id, Role.AGENT)
    case = Case.objects.select_for_update(no_key=True).get(pk=case.pk)
    if status not in CaseStatus.values:
        raise field_error("status", _("%(status)r is not a case status.") % {"status": status}, "invalid_choice")
    allowed = allowed_transitions(case.status)
    if status not in allowed:
        names = ", ".join(allowed)
        raise field_error(
            "status",
            _("A %(current)s case cannot move to %(target)s; it can move to: %(allowed)s.")
            % {"current": case.status, "target": status, "allowed": names},
            "illegal_transition",
        )
    reason = reason.strip()
    if reason_required(status) and not reason:
        raise field_error("reason", _("Say why the case is closed."), "required")
    if status == CaseStatus.REOPENED:
        existing = _open_case_for(case.team_id, case.asin, case.marketplace)
        if existing is not None:
            raise field_error(
                "status",
                _("The open case %(reference)s already tracks this listing; work there.")
                % {"reference": existing.reference},
                "duplicate_open_case",
            )
    before = {"status": case.status}
    case.status = status
    case.status_changed_at = timezone.now()
    case.closed_reason = reason if status == CaseStatus.CLOSED else ""
    try:
        with transaction.atomic():
            case.save(update_fields=["status", "status_changed_at", "closed_reason", "updated_at"])
    except IntegrityError:
        # A concurrent reopen or open of the same listing won.
        raise field_error(
            "status", _("Another open case already tracks this listing; work there."), "duplicate_open_case"
        ) from None
    after: dict[str, Any] = {"status": status}
    if note.strip():
        after["note"] = note.strip()
    if reason:
        after["reason"] = reason
    record(
        actor=actor,
        action="case.status_changed",
        subject=case,
        team_id=case.team_id,
        case_id=case.pk,
        before=before,
        after=after,
    )
    emit(WebhookEvent.CASE_STATUS_CHANGED, case, team_id=case.team_id, changes={"before": before, "after": after})
    return case
