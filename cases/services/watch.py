"""A brand's watch list and its SP-API access: what the offer sources check, and how."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Brand, Role, SpApiCredential, SpApiRegion, WatchItem
from cases.services._common import authorize, full_clean, record, save_changes, snapshot
from evidence.amazon import marketplace as find_marketplace
from evidence.errors import field_error
from evidence.sealing import seal
from evidence.services import Actor


@transaction.atomic
def sp_api_credentials_set(
    *,
    brand: Brand,
    selling_partner_id: str,
    region: str,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    actor: Actor,
) -> SpApiCredential:
    """Store (or replace) the brand's SP-API authorization; the secrets are sealed, never shown."""
    authorize(actor, brand.team_id, Role.MANAGER)
    for name, value in (("client_secret", client_secret), ("refresh_token", refresh_token)):
        if not value.strip():
            raise field_error(name, _("This field is required."), "required")
        if len(value) > 4000:
            raise field_error(name, _("This value is too long."), "too_long")
    if region not in SpApiRegion.values:
        raise field_error(
            "region", _("Choose among: %(choices)s.") % {"choices": ", ".join(SpApiRegion.values)}, "invalid_choice"
        )
    credential = SpApiCredential.objects.select_for_update().filter(brand=brand).first()
    created = credential is None
    credential = credential or SpApiCredential(brand=brand)
    credential.selling_partner_id = selling_partner_id.strip().upper()
    credential.region = region
    credential.client_id = client_id.strip()
    credential.client_secret_sealed = seal(client_secret.strip())
    credential.refresh_token_sealed = seal(refresh_token.strip())
    credential.last_error = ""
    credential.updated_by = actor.user if actor.is_user else None
    full_clean(credential, exclude=["brand", "updated_by"])
    credential.save()
    # The audit row names what was set, never the secrets.
    after = snapshot(credential, ("selling_partner_id", "region", "client_id"))
    action = "sp_api.credentials_set" if created else "sp_api.credentials_replaced"
    record(actor=actor, action=action, subject=credential, team_id=brand.team_id, after=after)
    return credential


@transaction.atomic
def sp_api_credentials_remove(*, brand: Brand, actor: Actor) -> None:
    authorize(actor, brand.team_id, Role.MANAGER)
    credential = SpApiCredential.objects.filter(brand=brand).first()
    if credential is None:
        return
    record(
        actor=actor,
        action="sp_api.credentials_removed",
        subject=credential,
        team_id=brand.team_id,
        before={"selling_partner_id": credential.selling_partner_id},
    )
    credential.delete()


@transaction.atomic
def watch_add(
    *, brand: Brand, asin: str, marketplace: str, actor: Actor, interval_minutes: int | None = None
) -> WatchItem:
    """Watch an ASIN in a marketplace; the first check is due at once."""
    authorize(actor, brand.team_id, Role.MANAGER)
    item = WatchItem(
        brand=brand,
        asin=asin.strip().upper(),
        marketplace=find_marketplace(marketplace).code,
        interval_minutes=interval_minutes if interval_minutes is not None else settings.WATCH_INTERVAL_MINUTES,
        next_check_at=timezone.now(),
    )
    full_clean(item, exclude=["brand"])
    try:
        with transaction.atomic():
            item.save(force_insert=True)
    except IntegrityError:
        raise field_error(
            "asin",
            _("%(asin)s in %(marketplace)s is already on this brand's watch list.")
            % {"asin": item.asin, "marketplace": item.marketplace},
            "duplicate",
        ) from None
    after = snapshot(item, ("asin", "marketplace", "interval_minutes"))
    record(actor=actor, action="watch.added", subject=item, team_id=brand.team_id, after=after)
    return item


@transaction.atomic
def watch_update(*, item: WatchItem, actor: Actor, interval_minutes: int) -> WatchItem:
    authorize(actor, item.brand.team_id, Role.MANAGER)
    item = WatchItem.objects.select_for_update().select_related("brand").get(pk=item.pk)
    _before, after = save_changes(
        item,
        {"interval_minutes": interval_minutes},
        allowed=("interval_minutes",),
        actor=actor,
        action="watch.updated",
        team_id=item.brand.team_id,
        exclude=["brand"],
    )
    if after:
        due = (item.last_checked_at or timezone.now()) + dt.timedelta(minutes=item.interval_minutes)
        item.next_check_at = min(due, item.next_check_at)
        item.save(update_fields=["next_check_at"])
    return item


@transaction.atomic
def watch_remove(*, item: WatchItem, actor: Actor) -> None:
    team_id = item.brand.team_id
    authorize(actor, team_id, Role.MANAGER)
    record(
        actor=actor,
        action="watch.removed",
        subject=item,
        team_id=team_id,
        before={"asin": item.asin, "marketplace": item.marketplace},
    )
    item.delete()
