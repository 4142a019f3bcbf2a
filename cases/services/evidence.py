from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import IO

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Case, Evidence, EvidenceKind, Role, Storefront, WebhookEvent
from cases.services._common import authorize, clean_file_name, record, require_aware, snapshot
from cases.services.webhooks import emit
from evidence.errors import field_error
from evidence.models import Blob
from evidence.renditions import IMAGE_TYPES
from evidence.services import Actor, StagedBlob, blob_ingest
from evidence.tasks import blob_renditions
from evidence.uploads import upload_content_check

_http_url = URLValidator(schemes=["http", "https"])


def _check_source_url(url: str) -> str:
    url = url.strip()
    if url:
        try:
            _http_url(url)
        except ValidationError:
            raise field_error("source_url", _("Give an http or https address."), "invalid_url") from None
    return url


def evidence_ingest(
    *,
    case: Case,
    file: IO[bytes] | Path,
    kind: str,
    actor: Actor,
    original_name: str = "",
    source_url: str = "",
    captured_at: dt.datetime | None = None,
    description: str = "",
    storefront: Storefront | None = None,
) -> Evidence:
    """Store a file as evidence of the case, hashed as it is read, with its custody row.

    Metadata is checked before any byte is stored; if anything fails after that, neither
    the row nor the file remains.
    """
    authorize(actor, case.team_id, Role.AGENT)
    if kind not in EvidenceKind.values:
        raise field_error("kind", _("%(kind)r is not an evidence kind.") % {"kind": kind}, "invalid_choice")
    source_url = _check_source_url(source_url)
    require_aware("captured_at", captured_at)
    now = timezone.now()
    captured_at = captured_at or now
    if captured_at > now + dt.timedelta(minutes=5):
        raise field_error("captured_at", _("The capture time cannot be in the future."), "future")
    if storefront is not None and storefront.team_id != case.team_id:
        raise field_error("storefront", _("The storefront belongs to another team."), "invalid")
    images_only = kind in (EvidenceKind.SCREENSHOT, EvidenceKind.TEST_BUY_PHOTO)

    def accept(staged: StagedBlob) -> None:
        upload_content_check(
            path=staged.path, mime_type=staged.mime_type, size=staged.size, name=original_name, images_only=images_only
        )

    with blob_ingest(source=file, accept=accept) as blob:
        return evidence_create(
            case=case,
            blob=blob,
            kind=kind,
            actor=actor,
            original_name=original_name,
            source_url=source_url,
            captured_at=captured_at,
            description=description,
            storefront=storefront,
        )


def evidence_create(
    *,
    case: Case,
    blob: Blob,
    kind: str,
    actor: Actor,
    original_name: str,
    source_url: str,
    captured_at: dt.datetime,
    description: str,
    storefront: Storefront | None,
) -> Evidence:
    """The evidence row of a blob stored in the caller's ``blob_ingest`` transaction."""
    item = Evidence(
        case=case,
        blob=blob,
        kind=kind,
        original_name=clean_file_name(original_name),
        source_url=source_url,
        captured_at=captured_at,
        captured_by=actor.user if actor.is_user else None,
        captured_by_job="" if actor.is_user else actor.name,
        description=description.strip(),
        storefront=storefront,
    )
    item.save(force_insert=True)
    after = snapshot(
        item,
        ("blob", "kind", "original_name", "source_url", "captured_at", "description", "storefront"),
    )
    after["size"] = blob.size
    after["mime_type"] = blob.mime_type
    record(actor=actor, action="evidence.added", subject=item, team_id=case.team_id, case_id=case.pk, after=after)
    emit(WebhookEvent.EVIDENCE_ADDED, item, team_id=case.team_id)
    if blob.mime_type in IMAGE_TYPES:
        # Thumbnails and print tiles are made once per hash, off the request, after commit.
        blob_renditions.delay_on_commit(blob.sha256)
    return item


@transaction.atomic
def evidence_withdraw(*, evidence: Evidence, reason: str, actor: Actor) -> Evidence:
    """Take an item out of dossiers; the file and its hash stay, with who withdrew it and why."""
    authorize(actor, evidence.case.team_id, Role.AGENT)
    evidence = Evidence.objects.select_for_update(no_key=True).select_related("case").get(pk=evidence.pk)
    if evidence.is_withdrawn:
        raise field_error("evidence", _("This item is already withdrawn."), "already_withdrawn")
    if not reason.strip():
        raise field_error("reason", _("Say why the item is withdrawn."), "required")
    evidence.withdrawn_at = timezone.now()
    evidence.withdrawn_by = actor.user if actor.is_user else None
    evidence.withdrawn_reason = reason.strip()
    evidence.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawn_reason"])
    record(
        actor=actor,
        action="evidence.withdrawn",
        subject=evidence,
        team_id=evidence.case.team_id,
        case_id=evidence.case_id,
        after={"reason": evidence.withdrawn_reason, "sha256": evidence.blob_id},
    )
    return evidence
