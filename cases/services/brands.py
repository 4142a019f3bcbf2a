from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cases.models import AuthorizedSeller, Brand, IPRight, Role, Team
from cases.services._common import apply_changes, authorize, clean_file_name, full_clean, record, save_changes, snapshot
from evidence.amazon import marketplace as find_marketplace
from evidence.errors import field_error
from evidence.models import Blob
from evidence.renditions import IMAGE_TYPES
from evidence.services import Actor, blob_ingest

BRAND_FIELDS = (
    "name",
    "rights_owner",
    "contact_name",
    "contact_email",
    "contact_phone",
    "contact_address",
    "amazon_is_authorized",
    "capture_new_hijackers",
)
IP_RIGHT_FIELDS = ("kind", "registration_number", "office", "mark_text", "classes", "registration_date", "status")
# What Amazon's brand registry and the dossier accept as proof of a registration.
CERTIFICATE_TYPES = frozenset({"application/pdf", *IMAGE_TYPES})


@transaction.atomic
def brand_create(*, team: Team, name: str, actor: Actor, **details: Any) -> Brand:
    authorize(actor, team.pk, Role.MANAGER)
    brand = Brand(team=team, name=name.strip())
    apply_changes(brand, details, allowed=BRAND_FIELDS)
    full_clean(brand)
    brand.save()
    record(actor=actor, action="brand.created", subject=brand, team_id=team.pk, after=snapshot(brand, BRAND_FIELDS))
    return brand


@transaction.atomic
def brand_update(*, brand: Brand, actor: Actor, **changes: Any) -> Brand:
    authorize(actor, brand.team_id, Role.MANAGER)
    brand = Brand.objects.select_for_update(no_key=True).get(pk=brand.pk)
    save_changes(brand, changes, allowed=BRAND_FIELDS, actor=actor, action="brand.updated", team_id=brand.team_id)
    return brand


@transaction.atomic
def authorized_seller_add(
    *, brand: Brand, marketplace: str, seller_id: str, actor: Actor, name: str = ""
) -> AuthorizedSeller:
    authorize(actor, brand.team_id, Role.MANAGER)
    seller = AuthorizedSeller(
        brand=brand,
        marketplace=find_marketplace(marketplace).code,
        seller_id=seller_id.strip().upper(),
        name=name.strip(),
    )
    full_clean(seller)
    seller.save()
    record(
        actor=actor,
        action="authorized_seller.added",
        subject=seller,
        team_id=brand.team_id,
        after=snapshot(seller, ("brand", "marketplace", "seller_id", "name")),
    )
    return seller


@transaction.atomic
def authorized_seller_remove(*, seller: AuthorizedSeller, actor: Actor) -> None:
    team_id = seller.brand.team_id
    authorize(actor, team_id, Role.MANAGER)
    record(
        actor=actor,
        action="authorized_seller.removed",
        subject=seller,
        team_id=team_id,
        before=snapshot(seller, ("brand", "marketplace", "seller_id", "name")),
    )
    seller.delete()


def ip_right_create(
    *,
    brand: Brand,
    kind: str,
    actor: Actor,
    certificate: IO[bytes] | Path | None = None,
    certificate_name: str = "",
    **details: Any,
) -> IPRight:
    authorize(actor, brand.team_id, Role.MANAGER)
    right = IPRight(brand=brand, kind=kind)
    apply_changes(right, details, allowed=IP_RIGHT_FIELDS)
    full_clean(right, exclude=["certificate"])
    if certificate is None:
        with transaction.atomic():
            return _ip_right_save(right, actor)
    with _certificate_blob(certificate) as blob:
        right.certificate = blob
        right.certificate_name = clean_file_name(certificate_name)
        return _ip_right_save(right, actor)


def _ip_right_save(right: IPRight, actor: Actor) -> IPRight:
    right.save()
    after = snapshot(right, (*IP_RIGHT_FIELDS, "brand", "certificate", "certificate_name"))
    record(actor=actor, action="ip_right.created", subject=right, team_id=right.brand.team_id, after=after)
    return right


@transaction.atomic
def ip_right_update(*, right: IPRight, actor: Actor, **changes: Any) -> IPRight:
    authorize(actor, right.brand.team_id, Role.MANAGER)
    right = IPRight.objects.select_for_update().select_related("brand").get(pk=right.pk)
    save_changes(
        right, changes, allowed=IP_RIGHT_FIELDS, actor=actor, action="ip_right.updated", team_id=right.brand.team_id
    )
    return right


def ip_right_attach_certificate(
    *, right: IPRight, certificate: IO[bytes] | Path, actor: Actor, certificate_name: str = ""
) -> IPRight:
    """Attach the registration certificate, or replace it; a replaced file stays in the store under its hash."""
    authorize(actor, right.brand.team_id, Role.MANAGER)
    with _certificate_blob(certificate) as blob:
        right = IPRight.objects.select_for_update().select_related("brand").get(pk=right.pk)
        before = snapshot(right, ("certificate", "certificate_name"))
        right.certificate = blob
        right.certificate_name = clean_file_name(certificate_name)
        right.save(update_fields=["certificate", "certificate_name", "updated_at"])
        after = {**snapshot(right, ("certificate", "certificate_name")), "size": blob.size, "mime_type": blob.mime_type}
        record(
            actor=actor,
            action="ip_right.certificate_attached",
            subject=right,
            team_id=right.brand.team_id,
            before=before,
            after=after,
        )
    return right


@contextlib.contextmanager
def _certificate_blob(source: IO[bytes] | Path) -> Iterator[Blob]:
    """``blob_ingest`` for a certificate: a PDF or an image, with the store's errors put on ``certificate``."""
    try:
        with blob_ingest(source=source) as blob:
            if blob.mime_type not in CERTIFICATE_TYPES:
                raise field_error(
                    "certificate",
                    _("A certificate is a PDF or an image, not %(type)s.") % {"type": blob.mime_type},
                    "unsupported_type",
                )
            yield blob
    except ValidationError as error:
        if hasattr(error, "error_dict") and "file" in error.error_dict:
            fields = dict(error.error_dict)
            fields["certificate"] = fields.pop("file")
            raise ValidationError(fields) from None
        raise
