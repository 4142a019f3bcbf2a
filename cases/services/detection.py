"""Detection: offer snapshots in, hijack cases, sightings and operator links out.

A seller on a watched listing who is not authorized is a hijacker. The first one opens
a case (or joins the open case of the listing); each new one fires the
``sighting.new_seller`` webhook, notifies the team and queues captures of their
storefront, their seller profile and the listing's offers. An offer seen again on the
same terms only extends its ``last_seen``; a new price, fulfilment, Buy Box or condition
is a new sighting. A seller missing from a complete offer list is recorded as gone.
"""

from __future__ import annotations

import datetime as dt
import logging
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cases.models import (
    AuthorizedSeller,
    Brand,
    CaptureKind,
    Case,
    CaseStorefront,
    NotificationKind,
    NotificationStatus,
    OfferNotification,
    OperatorGroup,
    OperatorLinkReason,
    PresenceState,
    Sighting,
    SpApiCredential,
    Storefront,
    WatchItem,
)
from cases.models.cases import FINISHED_STATUSES
from cases.services.cases import case_open
from cases.services.notifications import notify_team
from cases.services.storefronts import (
    _storefront_get_or_create,
    case_storefront_mark_gone,
    operator_link,
    sighting_record,
)
from evidence.amazon import offers_url, seller_profile_url, storefront_url
from evidence.offers import AMAZON_RETAIL_SELLER_IDS, Offer, OfferSnapshot, SnapshotError, snapshot_from_notification
from evidence.services import Actor

logger = logging.getLogger(__name__)
WATCHER = Actor.job("offer_watch")
LINKER = Actor.job("operator_linking")


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


def _same_terms(last: Sighting, offer: Offer, condition: str) -> bool:
    return (
        last.price == offer.price
        and last.currency == offer.currency
        and last.fulfillment == offer.fulfillment
        and last.condition == condition
        # A source that does not say who has the Buy Box changes nothing.
        and (offer.buy_box is None or last.buy_box == offer.buy_box)
    )


def _open_case(brand: Brand, snapshot: OfferSnapshot, actor: Actor) -> Case:
    try:
        case = case_open(
            brand=brand,
            asin=snapshot.asin,
            marketplace=snapshot.marketplace,
            actor=actor,
            title=f"Hijackers detected on {snapshot.asin}",
        )
    except ValidationError as error:
        # A concurrent detection opened it first: join that case.
        codes = {e.code for errors in getattr(error, "error_dict", {}).values() for e in errors}
        existing = _locked_open_case(brand, snapshot) if "duplicate_open_case" in codes else None
        if existing is None:
            raise
        return existing
    return Case.objects.select_for_update().get(pk=case.pk)


def _locked_open_case(brand: Brand, snapshot: OfferSnapshot) -> Case | None:
    return (
        Case.objects.select_for_update()
        .filter(team_id=brand.team_id, asin=snapshot.asin, marketplace=snapshot.marketplace)
        .exclude(status__in=FINISHED_STATUSES)
        .first()
    )


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
    now = timezone.now()
    observed_at = min(snapshot.observed_at, now)
    hijacks = [offer for offer in snapshot.offers if offer.seller_id not in authorized]
    result = Observed()
    # The case row is the lock that serializes detections of one listing.
    case = _locked_open_case(brand, snapshot)
    if case is None:
        if not hijacks:
            return result
        case = _open_case(brand, snapshot, actor)
    result.case = case
    links = {
        link.storefront.seller_id: link
        for link in CaseStorefront.objects.filter(case=case).select_related("storefront", "last_sighting")
    }
    extend: list[int] = []
    for offer in hijacks:
        link = links.get(offer.seller_id)
        unchanged = (
            link is not None
            and link.state == PresenceState.ACTIVE
            and link.last_sighting is not None
            and _same_terms(link.last_sighting, offer, snapshot.condition)
        )
        if unchanged:
            assert link is not None
            if link.last_seen is None or link.last_seen < observed_at:
                extend.append(link.pk)
            continue
        storefront = (
            link.storefront
            if link is not None
            else _storefront_get_or_create(
                team=case.team, marketplace=case.marketplace, seller_id=offer.seller_id, name="", actor=actor
            )
        )
        sighting_record(
            case=case,
            storefront=storefront,
            actor=actor,
            seen_at=observed_at,
            price=offer.price,
            currency=offer.currency if offer.price is not None else "",
            condition=snapshot.condition,
            fulfillment=offer.fulfillment,
            buy_box=offer.buy_box,
            source=snapshot.source,
        )
        result.sightings += 1
        if link is None:
            result.new_sellers.append(storefront)
    if extend:
        result.extended = CaseStorefront.objects.filter(pk__in=extend, last_seen__lt=observed_at).update(
            last_seen=observed_at
        )
    if snapshot.complete:
        present = {offer.seller_id for offer in snapshot.offers}
        for seller_id, link in links.items():
            if (
                link.state == PresenceState.ACTIVE
                and seller_id not in present
                and (link.last_sighting is None or link.last_sighting.condition == snapshot.condition)
                and (link.last_seen is None or link.last_seen <= observed_at)
            ):
                case_storefront_mark_gone(link=link, actor=actor)
                result.gone.append(seller_id)
    if result.new_sellers:
        _follow_up(brand, case, snapshot, result.new_sellers, actor)
    return result


def _follow_up(brand: Brand, case: Case, snapshot: OfferSnapshot, sellers: list[Storefront], actor: Actor) -> None:
    from cases.services.captures import capture_create
    from cases.tasks import operator_links_detect_task

    offers = {offer.seller_id: offer for offer in snapshot.offers}
    for storefront in sellers:
        offer = offers[storefront.seller_id]
        price = f" at {offer.price} {offer.currency}" if offer.price is not None else ""
        notify_team(
            case=case,
            kind=NotificationKind.NEW_HIJACKER,
            message=(
                f"{storefront.name or storefront.seller_id} ({storefront.seller_id}) now sells "
                f"{case.asin} in {case.marketplace}{price}, {offer.fulfillment}."
            ),
        )
        transaction.on_commit(partial(operator_links_detect_task.delay, storefront.pk))
        if brand.capture_new_hijackers:
            capture_create(
                case=case,
                url=seller_profile_url(case.marketplace, storefront.seller_id),
                kind=CaptureKind.SELLER_PROFILE,
                storefront=storefront,
                actor=actor,
            )
            capture_create(
                case=case,
                url=storefront_url(case.marketplace, storefront.seller_id),
                kind=CaptureKind.STOREFRONT,
                storefront=storefront,
                actor=actor,
            )
    if brand.capture_new_hijackers:
        capture_create(case=case, url=offers_url(case.marketplace, case.asin), kind=CaptureKind.OFFERS, actor=actor)


# --- Notifications ------------------------------------------------------------------------


def _watching_brands(snapshot: OfferSnapshot, team_ids: list[int] | None) -> list[Brand]:
    items = WatchItem.objects.filter(asin=snapshot.asin, marketplace=snapshot.marketplace)
    if team_ids is not None:
        items = items.filter(brand__team_id__in=team_ids)
    elif snapshot.subscriber:
        items = items.filter(brand__sp_api__selling_partner_id=snapshot.subscriber)
    else:
        return []
    return [item.brand for item in items.select_related("brand")]


@dataclass
class Received:
    pending: list[int]  # rows waiting for detection, these and earlier deliveries of them
    duplicates: int  # notifications already received before (by NotificationId)
    errors: list[str]  # documents that are not ANY_OFFER_CHANGED notifications (not stored)


def offer_notifications_receive(
    *, documents: Iterable[object], via: str, team_ids: list[int] | None = None
) -> Received:
    """Store notifications as received; a NotificationId already stored is not stored again."""
    rows: dict[str, OfferNotification] = {}
    errors: list[str] = []
    for document in documents:
        try:
            snapshot = snapshot_from_notification(document)
        except SnapshotError as error:
            errors.append(str(error))
            continue
        rows.setdefault(
            snapshot.notification_id,
            OfferNotification(
                notification_id=snapshot.notification_id, received_via=via, team_ids=team_ids, payload=document
            ),
        )
    known = set(OfferNotification.objects.filter(notification_id__in=rows).values_list("notification_id", flat=True))
    OfferNotification.objects.bulk_create([row for key, row in rows.items() if key not in known], ignore_conflicts=True)
    pending = OfferNotification.objects.filter(notification_id__in=rows, status=NotificationStatus.PENDING)
    return Received(list(pending.values_list("pk", flat=True)), len(known), errors)


def offer_notifications_process(*, ids: list[int]) -> int:
    """Run detection for pending notifications, each once; returns how many were processed.

    Rows are claimed with ``SKIP LOCKED`` and marked done in the same transaction as what
    they caused: a worker that dies mid-batch leaves them pending for the sweeper.
    """
    processed = 0
    with transaction.atomic():
        rows = list(
            OfferNotification.objects.select_for_update(skip_locked=True)
            .filter(pk__in=ids, status=NotificationStatus.PENDING)
            .order_by("pk")
        )
        authorized: dict[tuple[int, str], frozenset[str]] = {}
        now = timezone.now()
        for row in rows:
            row.processed_at = now
            try:
                snapshot = snapshot_from_notification(row.payload)
            except SnapshotError as error:
                row.status, row.error = NotificationStatus.IGNORED, str(error)
                continue
            brands = _watching_brands(snapshot, row.team_ids)
            if not brands:
                row.status, row.error = NotificationStatus.IGNORED, "No brand watches this listing."
                continue
            try:
                with transaction.atomic():
                    for brand in brands:
                        key = (brand.pk, snapshot.marketplace)
                        if key not in authorized:
                            authorized[key] = authorized_sellers(brand, snapshot.marketplace)
                        offers_observe(brand=brand, snapshot=snapshot, authorized=authorized[key])
            except (ValidationError, ValueError) as error:
                logger.warning("notification %s could not be recorded: %s", row.notification_id, error)
                row.status, row.error = NotificationStatus.FAILED, str(error)[:2000]
                continue
            row.status, row.error = NotificationStatus.DONE, ""
            processed += 1
        OfferNotification.objects.bulk_update(rows, ["status", "error", "processed_at"])
    return processed


def offer_notifications_stalled(*, older_than: dt.timedelta = dt.timedelta(minutes=2)) -> list[int]:
    return list(
        OfferNotification.objects.filter(
            status=NotificationStatus.PENDING, received_at__lt=timezone.now() - older_than
        ).values_list("pk", flat=True)[:5000]
    )


# --- Operator linking ---------------------------------------------------------------------


def _text_key(value: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", value).casefold() if ch.isalnum())


def _phone_key(value: str) -> str:
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", value) if ch.isdigit())
    return digits if len(digits) >= 7 else ""


_PROFILE_RULES = (
    (OperatorLinkReason.BUSINESS_NAME, "business_name", _text_key, "business name"),
    (OperatorLinkReason.ADDRESS, "business_address", _text_key, "business address"),
    (OperatorLinkReason.PHONE, "phone", _phone_key, "phone"),
)


def operator_links_detect(*, storefront: Storefront, actor: Actor = LINKER) -> list[OperatorGroup]:
    """Link the storefront to others of its team that share profile details or take turns with it."""
    groups: list[OperatorGroup] = []
    for reason, name, key_of, label in _PROFILE_RULES:
        key = key_of(getattr(storefront, name))
        if len(key) < 4:
            continue
        others = Storefront.objects.filter(team_id=storefront.team_id).exclude(pk=storefront.pk).exclude(**{name: ""})
        matches = [
            s for s in others.only("pk", "team_id", "seller_id", "name", name) if key_of(getattr(s, name)) == key
        ]
        if matches:
            detail = f"Same {label}: {getattr(storefront, name)}"[:1000]
            groups.append(operator_link(storefronts=[storefront, *matches], reason=reason, actor=actor, detail=detail))
    rotating = _takes_turns_with(storefront)
    for other, asins in rotating:
        detail = f"Took turns on {', '.join(sorted(asins))}"
        groups.append(
            operator_link(
                storefronts=[storefront, other], reason=OperatorLinkReason.ROTATION, actor=actor, detail=detail
            )
        )
    return groups


def _takes_turns_with(storefront: Storefront) -> list[tuple[Storefront, set[str]]]:
    """Storefronts that sold the same listings as this one, never at the same time, twice or more."""
    mine = {
        link.case_id: link
        for link in CaseStorefront.objects.filter(storefront=storefront, first_seen__isnull=False).select_related(
            "case"
        )
    }
    if len(mine) < 2:
        return []
    turns: dict[int, set[str]] = {}
    others = CaseStorefront.objects.filter(case_id__in=mine, first_seen__isnull=False).exclude(storefront=storefront)
    for link in others:
        own = mine[link.case_id]
        assert own.first_seen
        assert own.last_seen
        assert link.first_seen
        assert link.last_seen
        if own.first_seen > link.last_seen or link.first_seen > own.last_seen:
            turns.setdefault(link.storefront_id, set()).add(own.case.asin)
    partners = {pk: asins for pk, asins in turns.items() if len(asins) >= 2}
    found = Storefront.objects.in_bulk(list(partners))
    return [(found[pk], partners[pk]) for pk in partners if pk in found]
