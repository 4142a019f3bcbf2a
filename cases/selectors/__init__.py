"""Reads of the case domain. Everything a user sees passes through ``visible_to``."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Case as CaseWhen
from django.db.models import (
    Count,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber

from cases.models import (
    Brand,
    Case,
    CasePriority,
    CaseStatus,
    CaseStorefront,
    Comment,
    Evidence,
    IPRight,
    IPRightStatus,
    OperatorLink,
    PresenceState,
    Sighting,
    Storefront,
    Warning,
)
from cases.services._common import case_ref
from evidence.models import AuditEvent

# Sort keys of the case list: ``key`` ascending, ``-key`` descending. The ID breaks ties,
# so a page boundary never shows a case twice or skips one.
CASE_SORTS: dict[str, tuple[str, ...]] = {
    "created": ("created_at", "id"),
    "updated": ("updated_at", "id"),
    "priority": ("priority_rank", "id"),
    "status": ("status_rank", "id"),
    "reference": ("reference", "id"),
    "asin": ("asin", "marketplace", "id"),
}
DEFAULT_CASE_SORT = "-created"
# Workflow order; a reopened case needs attention as a new one does.
_STATUS_ORDER = [
    CaseStatus.NEW,
    CaseStatus.REOPENED,
    CaseStatus.INVESTIGATING,
    CaseStatus.WARNED,
    CaseStatus.TEST_BUY,
    CaseStatus.REPORTED,
    CaseStatus.RESOLVED,
    CaseStatus.CLOSED,
]
_PRIORITY_ORDER = [CasePriority.LOW, CasePriority.NORMAL, CasePriority.HIGH, CasePriority.URGENT]


def case_list(
    *,
    user: Any,
    search: str = "",
    statuses: Collection[str] = (),
    priorities: Collection[str] = (),
    brand_id: int | None = None,
    marketplace: str = "",
    assignee_id: int | None = None,
    unassigned: bool = False,
    sort: str = DEFAULT_CASE_SORT,
) -> QuerySet[Case]:
    """The user's cases, filtered and sorted, with their brand and assignee.

    An unknown ``sort`` falls back to the newest first. What each row shows of its
    hijackers is read for one page at a time, with ``case_list_rows``.
    """
    cases: QuerySet[Case] = Case.objects.visible_to(user).select_related("brand", "assignee")
    if statuses:
        cases = cases.filter(status__in=statuses)
    if priorities:
        cases = cases.filter(priority__in=priorities)
    if brand_id is not None:
        cases = cases.filter(brand_id=brand_id)
    if marketplace:
        cases = cases.filter(marketplace=marketplace)
    if unassigned:
        cases = cases.filter(assignee__isnull=True)
    elif assignee_id is not None:
        cases = cases.filter(assignee_id=assignee_id)
    return _sorted(case_search(cases, search), sort)


@dataclass(frozen=True)
class CaseRow:
    """A case as a row of the list: how many hijackers were seen, how many still sell, who."""

    case: Case
    seen: int
    selling: int
    selling_first: list[Storefront]


def case_list_rows(cases: Sequence[Case], *, names: int = 3) -> list[CaseRow]:
    """One page of ``case_list`` with its hijackers: two queries, however long the page.

    Counted here, for the page's cases only: as columns of the list's query they would be
    computed for every matching case before a sort that no index serves.
    """
    counts: dict[int, tuple[int, int]] = {
        row["case_id"]: (row["seen"], row["selling"])
        for row in CaseStorefront.objects.filter(case__in=cases)
        .order_by()
        .values("case_id")
        .annotate(seen=Count("id"), selling=Count("id", filter=Q(state=PresenceState.ACTIVE)))
    }
    # A window per case keeps the first few of each in the database.
    nth = Window(RowNumber(), partition_by="case_id", order_by=["attached_at", "id"])
    selling = (
        CaseStorefront.objects.filter(case__in=cases, state=PresenceState.ACTIVE)
        .select_related("storefront")
        .only("case_id", "storefront__name", "storefront__seller_id")
        .annotate(nth=nth)
        .filter(nth__lte=names)
        .order_by("case_id", "attached_at", "id")
    )
    first: dict[int, list[Storefront]] = {}
    for link in selling:
        first.setdefault(link.case_id, []).append(link.storefront)
    return [
        CaseRow(
            case=case,
            seen=counts.get(case.pk, (0, 0))[0],
            selling=counts.get(case.pk, (0, 0))[1],
            selling_first=first.get(case.pk, []),
        )
        for case in cases
    ]


def _sorted(cases: QuerySet[Case], sort: str) -> QuerySet[Case]:
    descending = sort.startswith("-")
    fields = CASE_SORTS.get(sort.removeprefix("-"))
    if fields is None:
        return _sorted(cases, DEFAULT_CASE_SORT)
    if "priority_rank" in fields:
        cases = cases.alias(priority_rank=_rank("priority", _PRIORITY_ORDER))
    if "status_rank" in fields:
        cases = cases.alias(status_rank=_rank("status", _STATUS_ORDER))
    return cases.order_by(*(F(name).desc() if descending else F(name).asc() for name in fields))


def _rank(field: str, order: list[Any]) -> CaseWhen:
    return CaseWhen(
        *(When(**{field: value}, then=Value(index)) for index, value in enumerate(order)),
        default=Value(len(order)),
        output_field=IntegerField(),
    )


def case_search(cases: QuerySet[Case], term: str) -> QuerySet[Case]:
    """Cases whose ASIN, reference, title, or a storefront's name or seller ID match ``term``."""
    term = term.strip()
    if not term:
        return cases
    matching_storefronts = CaseStorefront.objects.filter(
        Q(storefront__name__icontains=term) | Q(storefront__seller_id__iexact=term)
    ).values("case_id")
    return cases.filter(
        Q(asin__iexact=term) | Q(reference__iexact=term) | Q(title__icontains=term) | Q(pk__in=matching_storefronts)
    )


def for_api(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Cases with what their API shape needs and no more (lists read 100 at a time)."""
    return with_counts(
        cases.select_related("brand", "assignee").defer(
            *(
                f"brand__{f}"
                for f in (
                    "rights_owner",
                    "contact_name",
                    "contact_email",
                    "contact_phone",
                    "contact_address",
                    "created_at",
                    "updated_at",
                    "team",
                )
            ),
            *(
                f"assignee__{f}"
                for f in (
                    "password",
                    "last_login",
                    "first_name",
                    "last_name",
                    "email",
                    "is_staff",
                    "is_superuser",
                    "date_joined",
                )
            ),
        )
    )


def with_counts(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Storefront and (not withdrawn) evidence counts, in the same query."""
    return cases.annotate(
        storefront_count=_count(CaseStorefront.objects.filter(case=OuterRef("pk"))),
        evidence_count=_count(Evidence.objects.filter(case=OuterRef("pk"), withdrawn_at__isnull=True)),
    )


def _count(rows: QuerySet[Any], *, by: str = "case_id") -> Coalesce:
    """A correlated COUNT: unlike joined counts it does not multiply rows when combined."""
    counted = rows.order_by().values(by).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def case_get(*, user: Any, pk: int) -> Case:
    """The case if it is in one of the user's teams; ``Case.DoesNotExist`` otherwise."""
    return Case.objects.visible_to(user).select_related("brand", "team", "assignee").get(pk=pk)


# A storefront's sightings on one case shown on its page; older ones are counted, not read.
SIGHTINGS_SHOWN = 200


def case_storefronts(*, case: Case) -> QuerySet[CaseStorefront]:
    """The case's storefronts with their latest sightings, the warnings sent them and their operator groups.

    A fixed number of queries however many storefronts, sightings or warnings there are.
    """
    latest = Sighting.objects.filter(case=case).order_by("-seen_at", "-id")
    sighting_count = _count(Sighting.objects.filter(case=case, storefront=OuterRef("storefront")), by="storefront_id")
    return (
        CaseStorefront.objects.filter(case=case)
        .select_related("storefront")
        .annotate(sighting_count=sighting_count)
        .prefetch_related(
            Prefetch("storefront__sightings", queryset=latest[:SIGHTINGS_SHOWN], to_attr="case_sightings")
        )
        .prefetch_related(
            Prefetch(
                "storefront__warnings",
                queryset=Warning.objects.filter(case=case).order_by("sent_at", "id"),
                to_attr="case_warnings",
            )
        )
        .prefetch_related(
            Prefetch(
                "storefront__operator_links",
                queryset=OperatorLink.objects.select_related("group").prefetch_related(
                    Prefetch("group__links", queryset=OperatorLink.objects.select_related("storefront"))
                ),
            ),
        )
    )


def case_comments(*, case: Case) -> QuerySet[Comment]:
    return Comment.objects.filter(case=case).select_related("author").prefetch_related("mentions")


def case_evidence(*, case: Case) -> QuerySet[Evidence]:
    return Evidence.objects.filter(case=case).select_related("blob", "captured_by", "storefront", "withdrawn_by")


def case_activity(*, case: Case) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(ref=case_ref(case.pk)).order_by("-created_at", "-seq")


def operator_links_of(*, storefront: Storefront) -> QuerySet[OperatorLink]:
    """The links of the other storefronts run by the same operator, with the reason of each."""
    groups = OperatorLink.objects.filter(storefront=storefront).values("group_id")
    return (
        OperatorLink.objects.filter(group_id__in=groups)
        .exclude(storefront=storefront)
        .select_related("group", "storefront")
    )


def primary_ip_right(brand: Brand) -> IPRight | None:
    """The right a report or letter cites: a registered trademark, else a registered patent, else any."""
    rights = list(brand.ip_rights.all())
    for kind in ("trademark", "patent"):
        for right in rights:
            if right.kind == kind and right.status == IPRightStatus.REGISTERED:
                return right
    return rights[0] if rights else None
