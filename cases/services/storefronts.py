from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import (
    AuthorizedSeller,
    Case,
    CaseStorefront,
    Condition,
    Evidence,
    Fulfillment,
    OperatorGroup,
    OperatorLink,
    OperatorLinkReason,
    PresenceState,
    Role,
    Sighting,
    SightingSource,
    Storefront,
    Team,
    WebhookEvent,
)
from cases.services._common import authorize, full_clean, record, require_aware, save_changes, snapshot
from cases.services.webhooks import emit
from evidence.amazon import marketplace as find_marketplace
from evidence.errors import field_error
from evidence.services import Actor

PROFILE_FIELDS = ("name", "business_name", "business_address", "phone")
SIGHTING_FIELDS = (
    "storefront",
    "seen_at",
    "price",
    "currency",
    "condition",
    "fulfillment",
    "buy_box",
    "source",
    "ships_from",
    "feedback_count",
    "feedback_positive_percent",
)


def _storefront_get_or_create(*, team: Team, marketplace: str, seller_id: str, name: str, actor: Actor) -> Storefront:
    seller_id = seller_id.strip().upper()
    code = find_marketplace(marketplace).code
    storefront = Storefront.objects.filter(team=team, marketplace=code, seller_id=seller_id).first()
    if storefront is not None:
        if name.strip() and name.strip() != storefront.name:
            _storefront_change(storefront, {"name": name.strip()}, actor)
        return storefront
    storefront = Storefront(team=team, marketplace=code, seller_id=seller_id, name=name.strip())
    full_clean(storefront, exclude=["team"])
    try:
        with transaction.atomic():
            storefront.save()
    except IntegrityError:
        # A concurrent request created it first: use theirs.
        return Storefront.objects.get(team=team, marketplace=code, seller_id=seller_id)
    after = snapshot(storefront, ("marketplace", "seller_id", *PROFILE_FIELDS))
    record(actor=actor, action="storefront.created", subject=storefront, team_id=team.pk, after=after)
    return storefront


def _storefront_change(storefront: Storefront, changes: dict[str, Any], actor: Actor) -> None:
    save_changes(
        storefront,
        changes,
        allowed=PROFILE_FIELDS,
        actor=actor,
        action="storefront.updated",
        team_id=storefront.team_id,
    )


@transaction.atomic
def storefront_update(*, storefront: Storefront, actor: Actor, **changes: Any) -> Storefront:
    """Correct a storefront's display name or the details from its seller profile."""
    authorize(actor, storefront.team_id, Role.AGENT)
    storefront = Storefront.objects.select_for_update(no_key=True).get(pk=storefront.pk)
    _storefront_change(storefront, {k: (v.strip() if isinstance(v, str) else v) for k, v in changes.items()}, actor)
    return storefront


def _lock_case(case: Case) -> None:
    # Detection updates a case's storefront links from what it read under this lock.
    Case.objects.select_for_update(no_key=True).filter(pk=case.pk).values_list("pk", flat=True).first()


def _refuse_authorized(case: Case, seller_id: str) -> None:
    authorized = AuthorizedSeller.objects.filter(
        brand_id=case.brand_id, marketplace=case.marketplace, seller_id=seller_id
    )
    if authorized.exists():
        raise field_error(
            "seller_id",
            _("%(seller_id)s is an authorized seller of this brand and cannot be recorded as a hijacker.")
            % {"seller_id": seller_id},
            "authorized_seller",
        )


def _attach(case: Case, storefront: Storefront, actor: Actor) -> CaseStorefront:
    link = CaseStorefront.objects.select_for_update(no_key=True).filter(case=case, storefront=storefront).first()
    if link is not None:
        return link
    try:
        with transaction.atomic():
            link = CaseStorefront.objects.create(case=case, storefront=storefront)
    except IntegrityError:
        return CaseStorefront.objects.select_for_update(no_key=True).get(case=case, storefront=storefront)
    record(
        actor=actor,
        action="storefront.attached",
        subject=link,
        team_id=case.team_id,
        case_id=case.pk,
        after={"seller_id": storefront.seller_id, "name": storefront.name},
    )
    emit(WebhookEvent.STOREFRONT_ATTACHED, link, team_id=case.team_id)
    return link


@transaction.atomic
def storefront_attach(*, case: Case, seller_id: str, actor: Actor, name: str = "") -> CaseStorefront:
    """Record a storefront as hijacking the case's listing, creating the storefront when new."""
    authorize(actor, case.team_id, Role.AGENT)
    _refuse_authorized(case, seller_id.strip().upper())
    storefront = _storefront_get_or_create(
        team=case.team, marketplace=case.marketplace, seller_id=seller_id, name=name, actor=actor
    )
    return _attach(case, storefront, actor)


@transaction.atomic
def sighting_record(
    *,
    case: Case,
    storefront: Storefront,
    actor: Actor,
    seen_at: dt.datetime | None = None,
    price: Decimal | None = None,
    currency: str = "",
    condition: str = Condition.NEW,
    fulfillment: str = Fulfillment.UNKNOWN,
    buy_box: bool | None = None,
    source: str = SightingSource.MANUAL,
) -> Sighting:
    """A storefront seen on the case's listing; extends its first and last seen."""
    authorize(actor, case.team_id, Role.AGENT)
    _lock_case(case)
    if storefront.team_id != case.team_id or storefront.marketplace != case.marketplace:
        raise field_error("storefront", _("The storefront is not in this case's team and marketplace."), "invalid")
    _refuse_authorized(case, storefront.seller_id)
    require_aware("seen_at", seen_at)
    seen_at = seen_at or timezone.now()
    if seen_at > timezone.now() + dt.timedelta(minutes=5):
        raise field_error("seen_at", _("A sighting cannot be in the future."), "future")
    if price is not None and price < 0:
        raise field_error("price", _("A price cannot be negative."), "invalid")
    sighting = Sighting(
        case=case,
        storefront=storefront,
        seen_at=seen_at,
        price=price,
        currency=currency.strip().upper(),
        condition=condition,
        fulfillment=fulfillment,
        buy_box=buy_box,
        source=source,
    )
    full_clean(sighting)
    if price is not None and not sighting.currency:
        raise field_error("currency", _("Give the currency of the price, e.g. USD."), "required")
    sighting.save()
    new_seller = not CaseStorefront.objects.filter(case=case, storefront=storefront).exists()
    link = _attach(case, storefront, actor)
    changed = []
    if link.first_seen is None or seen_at < link.first_seen:
        link.first_seen = seen_at
        changed.append("first_seen")
    if link.last_seen is None or seen_at >= link.last_seen:
        link.last_seen = seen_at
        link.last_sighting = sighting
        changed.extend(["last_seen", "last_sighting"])
        if link.state != PresenceState.ACTIVE:
            link.state = PresenceState.ACTIVE
            changed.append("state")
    if changed:
        link.save(update_fields=changed)
    after = snapshot(sighting, SIGHTING_FIELDS)
    record(
        actor=actor, action="sighting.recorded", subject=sighting, team_id=case.team_id, case_id=case.pk, after=after
    )
    if new_seller:
        emit(WebhookEvent.SIGHTING_NEW_SELLER, sighting, team_id=case.team_id)
    return sighting


@transaction.atomic
def case_storefront_mark_gone(*, link: CaseStorefront, actor: Actor) -> CaseStorefront:
    """The storefront no longer offers the listing; its last sighting stays as it was."""
    authorize(actor, link.case.team_id, Role.AGENT)
    _lock_case(link.case)
    link = CaseStorefront.objects.select_for_update(no_key=True).select_related("case").get(pk=link.pk)
    if link.state == PresenceState.GONE:
        return link
    link.state = PresenceState.GONE
    link.save(update_fields=["state"])
    record(
        actor=actor,
        action="storefront.gone",
        subject=link,
        team_id=link.case.team_id,
        case_id=link.case_id,
        before={"state": PresenceState.ACTIVE},
        after={"state": PresenceState.GONE, "last_seen": link.last_seen},
    )
    return link


@transaction.atomic
def operator_link(
    *,
    storefronts: list[Storefront],
    reason: str,
    actor: Actor,
    detail: str = "",
    evidence: Evidence | None = None,
) -> OperatorGroup:
    """Record that these storefronts are run by one operator, and why.

    Storefronts already in groups bring their groups along: the groups merge into the
    oldest, so an operator is one group however many links found it.
    """
    if len(storefronts) < 2:
        raise field_error("storefronts", _("Link at least two storefronts."), "too_few")
    team_ids = {s.team_id for s in storefronts}
    if len(team_ids) != 1:
        raise field_error("storefronts", _("Storefronts of different teams cannot be linked."), "invalid")
    team_id = team_ids.pop()
    authorize(actor, team_id, Role.AGENT)
    if reason not in OperatorLinkReason.values:
        raise field_error("reason", _("%(reason)r is not a link reason.") % {"reason": reason}, "invalid_choice")
    if evidence is not None and evidence.case.team_id != team_id:
        raise field_error("evidence", _("The evidence belongs to another team."), "invalid")
    # Lock the storefronts (in one order) so concurrent links of them cannot make two groups.
    list(Storefront.objects.select_for_update(no_key=True).filter(pk__in=[s.pk for s in storefronts]).order_by("pk"))
    member_of = OperatorLink.objects.filter(storefront__in=storefronts).values("group_id")
    groups = list(OperatorGroup.objects.select_for_update().filter(pk__in=member_of).order_by("created_at", "pk"))
    if groups:
        group = groups[0]
        for other in groups[1:]:
            _merge_groups(into=group, other=other, actor=actor)
    else:
        first = storefronts[0]
        group = OperatorGroup.objects.create(team_id=team_id, name=f"Operator of {first.name or first.seller_id}")
        record(actor=actor, action="operator_group.created", subject=group, team_id=team_id, after={"name": group.name})
    for storefront in storefronts:
        link, created = OperatorLink.objects.get_or_create(
            group=group, storefront=storefront, reason=reason, defaults={"detail": detail.strip(), "evidence": evidence}
        )
        if created:
            record(
                actor=actor,
                action="operator_link.created",
                subject=link,
                team_id=team_id,
                after={"group": group.pk, "seller_id": storefront.seller_id, "reason": reason, "detail": link.detail},
            )
    return group


def _merge_groups(*, into: OperatorGroup, other: OperatorGroup, actor: Actor) -> None:
    for link in other.links.all():
        if OperatorLink.objects.filter(group=into, storefront=link.storefront_id, reason=link.reason).exists():
            continue
        OperatorLink.objects.create(
            group=into, storefront_id=link.storefront_id, reason=link.reason, detail=link.detail, evidence=link.evidence
        )
    record(
        actor=actor,
        action="operator_group.merged",
        subject=into,
        team_id=into.team_id,
        before={"merged_group": other.pk, "name": other.name},
        after={"group": into.pk},
    )
    other.delete()
