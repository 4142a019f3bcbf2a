"""Detection: offer snapshots in, hijack cases and sightings out.

A seller on a watched listing who is not authorized is a hijacker. The first one opens
a case (or joins the open case of the listing); each new one fires the
``sighting.new_seller`` webhook, notifies the team and queues captures of their
storefront, their seller profile and the listing's offers. An offer seen again on the
same terms only extends its ``last_seen``; a new price, fulfilment, Buy Box or condition
is a new sighting. A seller missing from a complete offer list is recorded as gone.

Snapshots come in batches (a queue read, a poll). A batch costs a handful of
statements however many listings and offers it holds: open cases and their storefronts
are read at once, and sightings, presence and audit rows are written at once, last, so
the team's audit chain is locked only briefly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from cases.models import (
    AuthorizedSeller,
    Brand,
    CaptureKind,
    Case,
    CaseStorefront,
    NotificationKind,
    PresenceState,
    Sighting,
    SpApiCredential,
    Storefront,
    WebhookEvent,
)
from cases.models.cases import FINISHED_STATUSES
from cases.services._common import deferred_records, entry, record_all
from cases.services._common import snapshot as row_snapshot
from cases.services.captures import capture_create
from cases.services.cases import case_open
from cases.services.notifications import notify_team
from cases.services.storefronts import SIGHTING_FIELDS, _attach, _storefront_get_or_create
from cases.services.webhooks import emit
from evidence.amazon import offers_url, seller_profile_url, storefront_url
from evidence.offers import AMAZON_RETAIL_SELLER_IDS, Offer, OfferSnapshot
from evidence.services import Actor, AuditEntry

WATCHER = Actor.job("offer_watch")
# An offer seen again on the same terms moves its last_seen on at most this often: a busy
# listing is notified every few seconds, and a minute is precise enough to say how long
# a hijacker sold (last_seen never claims more than was seen).
LAST_SEEN_STEP = dt.timedelta(minutes=1)


@dataclass
class Observed:
    case: Case | None = None
    new_sellers: list[Storefront] = field(default_factory=list)
    sightings: int = 0
    extended: int = 0
    gone: list[str] = field(default_factory=list)


def authorized_sellers(brand: Brand, marketplace: str) -> frozenset[str]:
    """Who may sell the brand's listings in a marketplace: its list, itself, and Amazon if allowed."""
    allowed = set(
        AuthorizedSeller.objects.filter(brand=brand, marketplace=marketplace).values_list("seller_id", flat=True)
    )
    own = SpApiCredential.objects.filter(brand=brand).values_list("selling_partner_id", flat=True).first()
    if own:
        allowed.add(own)
    if brand.amazon_is_authorized and marketplace in AMAZON_RETAIL_SELLER_IDS:
        allowed.add(AMAZON_RETAIL_SELLER_IDS[marketplace])
    return frozenset(allowed)


# What makes a sighting new when it changes: (price, currency, condition, fulfillment, Buy Box).
Terms = tuple[Decimal | None, str, str, str, bool | None]


def _terms(offer: Offer, condition: str) -> Terms:
    return (offer.price, offer.currency if offer.price is not None else "", condition, offer.fulfillment, offer.buy_box)


def _same_terms(last: Terms, offer: Offer, condition: str) -> bool:
    price, currency, last_condition, fulfillment, buy_box = last
    return (
        price == offer.price
        and currency == (offer.currency if offer.price is not None else "")
        and last_condition == condition
        and fulfillment == offer.fulfillment
        # A source that does not say who has the Buy Box changes nothing.
        and (offer.buy_box is None or buy_box == offer.buy_box)
    )


@dataclass(slots=True)
class _Link:
    """A storefront on a case, as detection needs it (read as a row, not a model: there are many)."""

    pk: int
    storefront_id: int
    seller_id: str
    state: str
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None
    last_sighting_id: int | None
    terms: Terms | None
    pending: Sighting | None = None  # the sighting that will be its last, once inserted


_LINK_COLUMNS = (
    "pk",
    "storefront_id",
    "storefront__seller_id",
    "state",
    "first_seen",
    "last_seen",
    "last_sighting_id",
    "last_sighting__price",
    "last_sighting__currency",
    "last_sighting__condition",
    "last_sighting__fulfillment",
    "last_sighting__buy_box",
)


def _links_of(case_ids: list[int]) -> dict[int, dict[str, _Link]]:
    found: dict[int, dict[str, _Link]] = {}
    rows = CaseStorefront.objects.filter(case__in=case_ids).values_list("case_id", *_LINK_COLUMNS)
    for case_id, pk, storefront_id, seller_id, state, first, last, sighting_id, *terms in rows:
        link = _Link(pk, storefront_id, seller_id, state, first, last, sighting_id, None)
        if sighting_id is not None:
            link.terms = (terms[0], terms[1], terms[2], terms[3], terms[4])
        found.setdefault(case_id, {})[seller_id] = link
    return found


@dataclass
class Listing:
    """What a batch knows of one brand's listing: its snapshots, oldest first."""

    brand: Brand
    asin: str
    marketplace: str
    snapshots: list[OfferSnapshot]
    authorized: frozenset[str]


class _Writes:
    """The batch's writes, made together by ``flush``."""

    def __init__(self) -> None:
        self.sightings: list[Sighting] = []
        self.changed: dict[int, _Link] = {}
        self.extended: dict[int, _Link] = {}
        self.entries: dict[int, list[AuditEntry]] = {}  # by team, filled by services too
        self.after: list[Callable[[], None]] = []

    def flush(self, actor: Actor) -> None:
        Sighting.objects.bulk_create(self.sightings)
        for link in self.changed.values():
            if link.pending is not None:
                link.last_sighting_id = link.pending.pk  # now that the sighting has its ID
        _update_links(list(self.changed.values()), ["first_seen", "last_seen", "state", "last_sighting_id"])
        _update_links([link for pk, link in self.extended.items() if pk not in self.changed], ["last_seen"])
        # One audit row per case and batch lists its sightings: a busy listing would
        # otherwise write a row per offer change.
        per_case: dict[int, list[Sighting]] = {}
        for sighting in self.sightings:
            per_case.setdefault(sighting.case_id, []).append(sighting)
        for sightings in per_case.values():
            case = sightings[0].case
            self.entries.setdefault(case.team_id, []).append(
                entry(
                    actor=actor,
                    action="sightings.recorded",
                    subject=case,
                    case_id=case.pk,
                    after={"sightings": [{"id": s.pk, **row_snapshot(s, SIGHTING_FIELDS)} for s in sightings]},
                )
            )
        for step in self.after:
            step()
        record_all(self.entries)  # last: the follow-ups' services add their rows to it


def _update_links(links: list[_Link], fields: list[str]) -> None:
    """One UPDATE for many rows (PostgreSQL: from arrays); a plain loop elsewhere."""
    if not links:
        return
    if connection.vendor != "postgresql":
        rows = [CaseStorefront(pk=link.pk, **{name: getattr(link, name) for name in fields}) for link in links]
        CaseStorefront.objects.bulk_update(rows, [name.removesuffix("_id") for name in fields])
        return
    types = {"first_seen": "timestamptz", "last_seen": "timestamptz", "state": "text", "last_sighting_id": "bigint"}
    columns = ", ".join(f"{name} = data.{name}" for name in fields)
    arrays = ", ".join(f"%s::{types[name]}[]" for name in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE cases_casestorefront SET {columns} "  # noqa: S608 (the column names are ours)
            f"FROM unnest(%s::bigint[], {arrays}) AS data(id, {', '.join(fields)}) "
            "WHERE cases_casestorefront.id = data.id",
            [[link.pk for link in links], *[[getattr(link, name) for link in links] for name in fields]],
        )


def _open_case(brand: Brand, listing: Listing, actor: Actor) -> Case:
    try:
        case = case_open(
            brand=brand,
            asin=listing.asin,
            marketplace=listing.marketplace,
            actor=actor,
            title=f"Hijackers detected on {listing.asin}",
        )
    except ValidationError as error:
        # A concurrent detection opened it first: join that case.
        codes = {e.code for errors in getattr(error, "error_dict", {}).values() for e in errors}
        existing = _open_cases([listing]).get((brand.team_id, listing.asin, listing.marketplace))
        if "duplicate_open_case" not in codes or existing is None:
            raise
        return existing
    return Case.objects.select_for_update(no_key=True).get(pk=case.pk)


def _open_cases(listings: list[Listing]) -> dict[tuple[int, str, str], Case]:
    """The open cases of these listings, locked (in one order): the lock that serializes detections."""
    wanted = {(listing.brand.team_id, listing.asin, listing.marketplace) for listing in listings}
    cases = (
        Case.objects.select_for_update(no_key=True)
        .filter(team_id__in={w[0] for w in wanted}, asin__in={w[1] for w in wanted})
        .exclude(status__in=FINISHED_STATUSES)
        .order_by("pk")
    )
    return {key: case for case in cases if (key := (case.team_id, case.asin, case.marketplace)) in wanted}


@transaction.atomic
def offers_observe(
    *,
    brand: Brand,
    snapshot: OfferSnapshot,
    actor: Actor = WATCHER,
    authorized: frozenset[str] | None = None,
) -> Observed:
    """Record what one snapshot says about one brand's listing."""
    if authorized is None:
        authorized = authorized_sellers(brand, snapshot.marketplace)
    listing = Listing(brand, snapshot.asin, snapshot.marketplace, [snapshot], authorized)
    return listings_observe(listings=[listing], actor=actor)[0]


def listings_observe(*, listings: list[Listing], actor: Actor = WATCHER) -> list[Observed]:
    """Record a batch of listings' snapshots, in the caller's transaction.

    Everything a batch locks it locks in one order (cases by ID, then per team in team
    order: case numbers, new rows, and last the audit chains), so two batches wait for
    each other but do not deadlock.
    """
    cases = _open_cases(listings)
    links = _links_of([case.pk for case in cases.values()])
    with deferred_records() as collected:
        results = _observe_all(sorted(listings, key=_listing_order), cases, links, actor, collected)
    return [results[id(listing)] for listing in listings]


def _listing_order(listing: Listing) -> tuple[int, str, str]:
    return (listing.brand.team_id, listing.asin, listing.marketplace)


def _observe_all(
    listings: list[Listing],
    cases: dict[tuple[int, str, str], Case],
    links: dict[int, dict[str, _Link]],
    actor: Actor,
    collected: dict[int, list[AuditEntry]],
) -> dict[int, Observed]:
    writes = _Writes()
    writes.entries = collected
    results: dict[int, Observed] = {}
    for listing in listings:
        case = cases.get((listing.brand.team_id, listing.asin, listing.marketplace))
        if case is None and all(o.seller_id in listing.authorized for s in listing.snapshots for o in s.offers):
            results[id(listing)] = Observed()
            continue
        if case is None:
            case = cases[(listing.brand.team_id, listing.asin, listing.marketplace)] = _open_case(
                listing.brand, listing, actor
            )
        results[id(listing)] = _observe(listing, case, links.setdefault(case.pk, {}), writes, actor)
    writes.flush(actor)
    return results


def _observe(listing: Listing, case: Case, links: dict[str, _Link], writes: _Writes, actor: Actor) -> Observed:
    result = Observed(case=case)
    now = timezone.now()
    attached: dict[str, Storefront] = {}
    new_sellers: dict[str, tuple[Sighting, OfferSnapshot]] = {}
    for snapshot in sorted(listing.snapshots, key=lambda s: s.observed_at):
        observed_at = min(snapshot.observed_at, now)
        for offer in snapshot.offers:
            if offer.seller_id in listing.authorized:
                continue
            link = links.get(offer.seller_id)
            if link is None:
                storefront = _storefront_get_or_create(
                    team=case.team, marketplace=case.marketplace, seller_id=offer.seller_id, name="", actor=actor
                )
                row = _attach(case, storefront, actor)
                link = links[offer.seller_id] = _Link(
                    row.pk, storefront.pk, storefront.seller_id, row.state, row.first_seen, row.last_seen, None, None
                )
                attached[offer.seller_id] = storefront
            elif (
                link.state == PresenceState.ACTIVE
                and link.terms is not None
                and _same_terms(link.terms, offer, snapshot.condition)
            ):
                if link.last_seen is None or observed_at - link.last_seen >= LAST_SEEN_STEP:
                    link.last_seen = observed_at
                    writes.extended[link.pk] = link
                    result.extended += 1
                continue
            sighting = Sighting(
                case=case,
                storefront_id=link.storefront_id,
                seen_at=observed_at,
                price=offer.price,
                currency=offer.currency if offer.price is not None else "",
                condition=snapshot.condition,
                fulfillment=offer.fulfillment,
                buy_box=offer.buy_box,
                source=snapshot.source,
                ships_from=offer.ships_from,
                feedback_count=offer.feedback_count,
                feedback_positive_percent=offer.feedback_rating,
            )
            writes.sightings.append(sighting)
            result.sightings += 1
            if offer.seller_id in attached and offer.seller_id not in new_sellers:
                new_sellers[offer.seller_id] = (sighting, snapshot)
            link.first_seen = min(link.first_seen or observed_at, observed_at)
            if link.last_seen is None or observed_at >= link.last_seen:
                link.last_seen, link.state = observed_at, PresenceState.ACTIVE
                link.terms, link.pending = _terms(offer, snapshot.condition), sighting
            writes.changed[link.pk] = link
        if snapshot.complete:
            result.gone += _mark_gone(case, links, snapshot, observed_at, writes, actor)
    for seller_id, (first, seen_in) in new_sellers.items():
        storefront = attached[seller_id]
        writes.after.append(partial(_new_seller, listing.brand, case, seen_in, storefront, first, actor))
        result.new_sellers.append(storefront)
    if new_sellers and listing.brand.capture_new_hijackers:
        url = offers_url(case.marketplace, case.asin)
        writes.after.append(partial(_capture, case, url, CaptureKind.OFFERS, None, actor))
    return result


def _mark_gone(
    case: Case,
    links: dict[str, _Link],
    snapshot: OfferSnapshot,
    observed_at: dt.datetime,
    writes: _Writes,
    actor: Actor,
) -> list[str]:
    present = {offer.seller_id for offer in snapshot.offers}
    gone = []
    for seller_id, link in links.items():
        if (
            link.state == PresenceState.ACTIVE
            and seller_id not in present
            and (link.terms is None or link.terms[2] == snapshot.condition)
            and (link.last_seen is None or link.last_seen <= observed_at)
        ):
            link.state = PresenceState.GONE
            writes.changed[link.pk] = link
            writes.entries.setdefault(case.team_id, []).append(
                entry(
                    actor=actor,
                    action="storefront.gone",
                    subject=CaseStorefront(pk=link.pk),
                    case_id=case.pk,
                    before={"state": PresenceState.ACTIVE},
                    after={"state": PresenceState.GONE, "last_seen": link.last_seen},
                )
            )
            gone.append(seller_id)
    return gone


def _new_seller(
    brand: Brand, case: Case, snapshot: OfferSnapshot, storefront: Storefront, first: Sighting, actor: Actor
) -> None:
    """A new hijacker: a webhook, the team told, its pages captured, its operator looked for."""
    from cases.tasks import operator_links_detect_task

    emit(WebhookEvent.SIGHTING_NEW_SELLER, first, team_id=case.team_id)
    offer = next(o for o in snapshot.offers if o.seller_id == storefront.seller_id)
    price = f" at {offer.price} {offer.currency}" if offer.price is not None else ""
    notify_team(
        case=case,
        kind=NotificationKind.NEW_HIJACKER,
        message=(
            f"{storefront.name or storefront.seller_id} ({storefront.seller_id}) now sells "
            f"{case.asin} in {case.marketplace}{price}, {offer.fulfillment}."
        ),
    )
    operator_links_detect_task.delay_on_commit(storefront.pk)
    if brand.capture_new_hijackers:
        for url, kind in (
            (seller_profile_url(case.marketplace, storefront.seller_id), CaptureKind.SELLER_PROFILE),
            (storefront_url(case.marketplace, storefront.seller_id), CaptureKind.STOREFRONT),
        ):
            _capture(case, url, kind, storefront, actor)


def _capture(case: Case, url: str, kind: str, storefront: Storefront | None, actor: Actor) -> None:
    capture_create(case=case, url=url, kind=kind, storefront=storefront, actor=actor)
