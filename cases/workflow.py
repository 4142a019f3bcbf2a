"""Which status a case may move to next."""

from __future__ import annotations

from cases.models import CaseStatus

# The working order of an open case. A case may move forward past steps it does not
# need (a registered-trademark report needs no warning first), never backwards.
_OPEN_ORDER = [
    CaseStatus.NEW,
    CaseStatus.INVESTIGATING,
    CaseStatus.WARNED,
    CaseStatus.TEST_BUY,
    CaseStatus.REPORTED,
]


def allowed_transitions(status: str) -> list[CaseStatus]:
    current = CaseStatus(status)
    if current in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        return [CaseStatus.REOPENED]
    # A reopened case resumes anywhere after "new".
    start = 1 if current == CaseStatus.REOPENED else _OPEN_ORDER.index(current) + 1
    targets = list(_OPEN_ORDER[start:])
    if current == CaseStatus.REPORTED:
        targets.append(CaseStatus.RESOLVED)
    targets.append(CaseStatus.CLOSED)
    return targets


def reason_required(target: str) -> bool:
    return target == CaseStatus.CLOSED
