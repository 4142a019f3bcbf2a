"""What a team's dashboard reads: open work, new hijackers, and how fast reports get listings cleared.

Every read is one aggregated query whatever the number of cases, on a ``TeamRows`` made once
per page (``visible_to`` reads the user's teams each time it is called). Days and months are
the user's (the active time zone); stored times are UTC.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Case as SqlCase
from django.db.models import Count, IntegerField, Min, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from cases.models import (
    Case,
    CasePriority,
    CaseStatus,
    CaseStorefront,
    Submission,
    SubmissionOutcome,
    Team,
)
from cases.models.cases import FINISHED_STATUSES

OPEN_STATUSES = [s for s in CaseStatus if s not in FINISHED_STATUSES]
PRIORITIES_BY_URGENCY = [CasePriority.URGENT, CasePriority.HIGH, CasePriority.NORMAL, CasePriority.LOW]
# A storefront attached by hand before any sighting has no first_seen; its attachment stands in.
_FIRST_SEEN = Coalesce("first_seen", "attached_at")


@dataclass(frozen=True)
class Tally:
    value: str
    label: str
    count: int


@dataclass(frozen=True)
class OpenCounts:
    by_status: list[Tally]
    by_priority: list[Tally]
    total: int


@dataclass(frozen=True)
class AwaitingAnswer:
    submission: Submission
    age_days: int


@dataclass(frozen=True)
class MonthlyMedians:
    """Median days from detection per month; None for a month without any case."""

    months: list[dt.date]
    to_report: list[float | None]
    to_removal: list[float | None]


@dataclass(frozen=True)
class MonthlyRate:
    month: dt.date
    accepted: int
    decided: int

    @property
    def percent(self) -> float | None:
        return 100 * self.accepted / self.decided if self.decided else None


@dataclass(frozen=True)
class TeamRows:
    """The rows of one team that the user may see, by model."""

    user: Any
    team: Team
    cases: QuerySet[Case]
    storefront_links: QuerySet[CaseStorefront]
    submissions: QuerySet[Submission]


def teams(*, user: Any) -> list[Team]:
    return list(Team.objects.visible_to(user).only("pk", "name").order_by("name", "pk"))


def team_rows(*, user: Any, team: Team) -> TeamRows:
    return TeamRows(
        user=user,
        team=team,
        cases=Case.objects.visible_to(user).filter(team=team),
        storefront_links=CaseStorefront.objects.visible_to(user).filter(case__team=team),
        submissions=Submission.objects.visible_to(user).filter(case__team=team),
    )


def open_counts(rows: TeamRows) -> OpenCounts:
    counted = (
        rows.cases.exclude(status__in=FINISHED_STATUSES).values("status", "priority").annotate(n=Count("pk")).order_by()
    )
    by_status: dict[str, int] = defaultdict(int)
    by_priority: dict[str, int] = defaultdict(int)
    for row in counted:
        by_status[row["status"]] += row["n"]
        by_priority[row["priority"]] += row["n"]
    return OpenCounts(
        by_status=[Tally(s.value, str(s.label), by_status[s]) for s in OPEN_STATUSES],
        by_priority=[Tally(p.value, str(p.label), by_priority[p]) for p in PRIORITIES_BY_URGENCY],
        total=sum(by_status.values()),
    )


def new_hijackers(rows: TeamRows, *, since: dt.datetime, limit: int = 50) -> list[CaseStorefront]:
    """Storefronts first seen on one of the team's cases since ``since``, newest first."""
    return list(
        rows.storefront_links.annotate(first=_FIRST_SEEN)
        .filter(first__gte=since)
        .select_related("storefront", "case")
        .order_by("-first", "-pk")[:limit]
    )


def new_hijackers_per_day(rows: TeamRows, *, days: int = 30) -> list[tuple[dt.date, int]]:
    """Storefronts first seen on a case per day, the last ``days`` days up to today (zeros included)."""
    today = timezone.localdate()
    first_day = today - dt.timedelta(days=days - 1)
    per_day = (
        rows.storefront_links.annotate(first=_FIRST_SEEN)
        .filter(first__gte=_midnight(first_day))
        .annotate(day=TruncDate("first"))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {row["day"]: row["n"] for row in per_day}
    return [(day, counts.get(day, 0)) for day in (first_day + dt.timedelta(days=k) for k in range(days))]


def waiting_on_user(rows: TeamRows, *, limit: int = 25) -> list[Case]:
    """Open cases assigned to the user, the most urgent first, then the longest unchanged."""
    urgency = SqlCase(
        *(When(priority=p, then=Value(rank)) for rank, p in enumerate(PRIORITIES_BY_URGENCY)),
        default=Value(len(PRIORITIES_BY_URGENCY)),
        output_field=IntegerField(),
    )
    return list(
        rows.cases.filter(assignee=rows.user)
        .exclude(status__in=FINISHED_STATUSES)
        .annotate(urgency=urgency)
        .order_by("urgency", "status_changed_at", "pk")[:limit]
    )


def awaiting_answer(rows: TeamRows, *, limit: int = 25) -> tuple[list[AwaitingAnswer], bool]:
    """Reports Amazon has not answered, the oldest first; and whether there are more than ``limit``."""
    today = timezone.localdate()
    pending = list(
        rows.submissions.filter(outcome=SubmissionOutcome.PENDING)
        .select_related("case")
        .order_by("submitted_on", "pk")[: limit + 1]
    )
    return [AwaitingAnswer(s, (today - s.submitted_on).days) for s in pending[:limit]], len(pending) > limit


def last_months(count: int) -> list[dt.date]:
    """The first days of the last ``count`` months, this one included, oldest first."""
    today = timezone.localdate()
    year, month = today.year, today.month
    months = []
    for _ in range(count):
        months.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def time_to_report_and_removal(rows: TeamRows, *, months: int = 6) -> MonthlyMedians:
    """Median days from detection (the case opened) to its first report and to its removal.

    A case counts in the month of its first report, and in the month it was resolved: a
    resolved case's ``status_changed_at`` is when it reached that status (a resolved case
    can only move on by being reopened, which changes it). Only the window's cases are read,
    two timestamps each; the medians are taken here, as SQLite has no median. A report dated
    before its case was opened (a case recorded late) counts as the same day.
    """
    window = last_months(months)
    reported = (
        rows.cases.annotate(first_report=Min("submissions__submitted_on"))
        .filter(first_report__gte=window[0])
        .order_by()
        .values_list("created_at", "first_report")
    )
    resolved = rows.cases.filter(status=CaseStatus.RESOLVED, status_changed_at__gte=_midnight(window[0])).values_list(
        "created_at", "status_changed_at"
    )
    to_report: dict[dt.date, list[float]] = defaultdict(list)
    for opened, first_report in reported:
        days = (first_report - timezone.localtime(opened).date()).days
        to_report[first_report.replace(day=1)].append(max(days, 0))
    to_removal: dict[dt.date, list[float]] = defaultdict(list)
    for opened, removed in resolved:
        to_removal[timezone.localtime(removed).date().replace(day=1)].append((removed - opened).total_seconds() / 86400)
    return MonthlyMedians(
        months=window,
        to_report=[_median(to_report.get(month, [])) for month in window],
        to_removal=[_median(to_removal.get(month, [])) for month in window],
    )


def acceptance_per_month(rows: TeamRows, *, months: int = 6) -> list[MonthlyRate]:
    """Accepted of the reports Amazon answered, by the month of the answer."""
    window = last_months(months)
    per_month = (
        rows.submissions.filter(
            outcome__in=[SubmissionOutcome.ACCEPTED, SubmissionOutcome.REJECTED],
            outcome_on__gte=window[0],
        )
        .annotate(month=TruncMonth("outcome_on"))
        .values("month")
        .annotate(decided=Count("pk"), accepted=Count("pk", filter=Q(outcome=SubmissionOutcome.ACCEPTED)))
        .order_by()
    )
    counts = {_as_date(row["month"]): (row["accepted"], row["decided"]) for row in per_month}
    return [MonthlyRate(month, *counts.get(month, (0, 0))) for month in window]


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _median(values: Iterable[float]) -> float | None:
    listed = list(values)
    return round(statistics.median(listed), 1) if listed else None


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value
