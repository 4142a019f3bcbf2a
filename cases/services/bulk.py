"""Changes to many cases at once, from the case list.

Each case goes through the service that changes one case (``case_update``,
``case_transition``), so its audit row, webhooks and notifications are those of a
single change. The batch is one transaction, but it is not all-or-nothing: a case that
cannot make the move (wrong status, a role too low in its team, an assignee who is not
in its team) is rolled back alone, to its savepoint, and reported with the reason,
while the others are changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cases.models import Case, CaseStatus
from cases.services._common import deferred_records, record_all
from cases.services.cases import case_transition, case_update
from cases.workflow import reason_required
from evidence.errors import field_error
from evidence.services import Actor, AuditEntry

# Two pages of the case list: enough for "select all", small enough for one request.
MAX_BULK_CASES = 100


@dataclass(frozen=True)
class Refusal:
    case: Case
    reason: str


@dataclass
class BulkResult:
    """The cases changed, and those left as they were with the reason why."""

    done: list[Case] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


@transaction.atomic
def cases_bulk_assign(*, cases: Iterable[Case], assignee: Any, actor: Actor) -> BulkResult:
    """Assign each case to ``assignee`` (None: unassign); they must work cases in its team."""
    return _each(cases, lambda case: case_update(case=case, assignee=assignee, actor=actor))


@transaction.atomic
def cases_bulk_transition(*, cases: Iterable[Case], status: str, actor: Actor, reason: str = "") -> BulkResult:
    """Move each case to ``status`` where its workflow allows; closing needs a reason."""
    if status not in CaseStatus.values:
        raise field_error("status", _("%(status)r is not a case status.") % {"status": status}, "invalid_choice")
    if reason_required(status) and not reason.strip():
        raise field_error("reason", _("Say why the cases are closed."), "required")
    return _each(cases, lambda case: case_transition(case=case, status=status, reason=reason, actor=actor))


def _each(cases: Iterable[Case], change: Callable[[Case], Case]) -> BulkResult:
    unique = {case.pk: case for case in cases}
    if not unique:
        raise field_error("cases", _("Select at least one case."), "required")
    if len(unique) > MAX_BULK_CASES:
        raise field_error("cases", _("Select at most %(max)s cases at a time.") % {"max": MAX_BULK_CASES}, "too_many")
    result = BulkResult()
    collected: dict[int, list[AuditEntry]] = {}
    # Cases are locked in ID order and the audit chains last in team order, as every
    # batch does, so two batches over the same cases wait rather than deadlock.
    for pk in sorted(unique):
        case = unique[pk]
        with deferred_records() as rows:
            try:
                changed = change(case)
            except ValidationError as invalid:
                result.refused.append(Refusal(case, " ".join(invalid.messages)))
                continue
            except PermissionDenied as denied:
                result.refused.append(Refusal(case, str(denied)))
                continue
        result.done.append(changed)
        for team_id, entries in rows.items():
            collected.setdefault(team_id, []).extend(entries)
    record_all(collected)
    return result
