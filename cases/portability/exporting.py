"""Writing a case, its audit trail and its files to a ZIP."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from cases.models import (
    Case,
    CaseStorefront,
    Comment,
    Dossier,
    DossierStatus,
    Evidence,
    IPRight,
    OperatorGroup,
    OperatorLink,
    Sighting,
    Storefront,
    Submission,
    TestBuy,
    Warning,
)
from cases.portability.format import (
    AUDIT_FIELDS,
    BLOB_PREFIX,
    BRAND_FIELDS,
    CASE_FIELDS,
    CASE_STOREFRONT_FIELDS,
    COMMENT_FIELDS,
    DOSSIER_FIELDS,
    EVIDENCE_FIELDS,
    EXHIBIT_FIELDS,
    FORMAT,
    GROUP_FIELDS,
    IP_RIGHT_FIELDS,
    LINK_FIELDS,
    MANIFEST,
    SIGHTING_FIELDS,
    STOREFRONT_FIELDS,
    SUBMISSION_FIELDS,
    TEST_BUY_FIELDS,
    VERSION,
    WARNING_FIELDS,
    PortabilityError,
    _row,
    _usernames,
)
from cases.services._common import case_ref, team_chain
from evidence.models import AuditEvent, Blob
from evidence.services import CHUNK_SIZE, evidence_storage, jsonable


@dataclass(frozen=True)
class ExportResult:
    path: Path
    blobs: int
    blob_bytes: int
    audit_rows: int


def case_manifest(*, case: Case) -> dict[str, Any]:
    """Every row of the case, the team rows it needs, and its audit rows as recorded."""
    brand = case.brand
    link_rows = list(CaseStorefront.objects.filter(case=case).order_by("id"))
    evidence = list(Evidence.objects.filter(case=case).order_by("id"))
    # Evidence may name any storefront of the team, not only those attached to the case.
    storefront_ids = {link.storefront_id for link in link_rows} | {
        item.storefront_id for item in evidence if item.storefront_id is not None
    }
    comments = list(Comment.objects.filter(case=case).prefetch_related("mentions").order_by("id"))
    dossiers = list(
        Dossier.objects.filter(case=case, status=DossierStatus.DONE).prefetch_related("exhibits").order_by("version")
    )
    operator_links = list(OperatorLink.objects.filter(storefront_id__in=storefront_ids).order_by("id"))
    groups = OperatorGroup.objects.filter(pk__in={link.group_id for link in operator_links}).order_by("id")
    users = _usernames(
        [case.assignee_id]
        + [item.captured_by_id for item in evidence]
        + [item.withdrawn_by_id for item in evidence]
        + [comment.author_id for comment in comments]
        + [user.pk for comment in comments for user in comment.mentions.all()]
        + [dossier.requested_by_id for dossier in dossiers]
    )
    ip_rights = list(IPRight.objects.filter(brand=brand).order_by("id"))
    test_buys = list(TestBuy.objects.filter(case=case).prefetch_related("photos").order_by("id"))
    audit = AuditEvent.objects.filter(chain=team_chain(case.team_id), ref=case_ref(case.pk)).order_by("seq")

    blobs: dict[str, Blob] = {}
    for blob in Blob.objects.filter(
        models.Q(pk__in=[item.blob_id for item in evidence])
        | models.Q(pk__in=[right.certificate_id for right in ip_rights if right.certificate_id])
        | models.Q(pk__in=[dossier.pdf_id for dossier in dossiers if dossier.pdf_id])
        | models.Q(pk__in=[exhibit.blob_id for dossier in dossiers for exhibit in dossier.exhibits.all()])
    ):
        blobs[blob.sha256] = blob

    return {
        "format": FORMAT,
        "version": VERSION,
        "source_site": settings.SITE_URL,
        "exported_at": jsonable(timezone.now()),
        "team": {"slug": case.team.slug, "name": case.team.name},
        "case": {**_row(case, CASE_FIELDS), "assignee": users.get(case.assignee_id or 0)},
        "brand": _row(brand, BRAND_FIELDS),
        "ip_rights": [_row(right, IP_RIGHT_FIELDS) for right in ip_rights],
        "storefronts": [
            _row(storefront, STOREFRONT_FIELDS)
            for storefront in Storefront.objects.filter(pk__in=storefront_ids).order_by("id")
        ],
        "case_storefronts": [_row(link, CASE_STOREFRONT_FIELDS) for link in link_rows],
        "sightings": [_row(row, SIGHTING_FIELDS) for row in Sighting.objects.filter(case=case).order_by("id")],
        "operator_groups": [_row(group, GROUP_FIELDS) for group in groups],
        "operator_links": [_row(link, LINK_FIELDS) for link in operator_links],
        "evidence": [
            {
                **_row(item, EVIDENCE_FIELDS),
                "captured_by": users.get(item.captured_by_id or 0),
                "withdrawn_by": users.get(item.withdrawn_by_id or 0),
            }
            for item in evidence
        ],
        "test_buys": [
            {**_row(buy, TEST_BUY_FIELDS), "photos": sorted(photo.pk for photo in buy.photos.all())}
            for buy in test_buys
        ],
        "warnings": [_row(warning, WARNING_FIELDS) for warning in Warning.objects.filter(case=case).order_by("id")],
        "submissions": [
            _row(submission, SUBMISSION_FIELDS) for submission in Submission.objects.filter(case=case).order_by("id")
        ],
        "comments": [
            {
                **_row(comment, COMMENT_FIELDS),
                "author": users[comment.author_id],
                "mentions": sorted(users[user.pk] for user in comment.mentions.all()),
            }
            for comment in comments
        ],
        "dossiers": [
            {
                **_row(dossier, DOSSIER_FIELDS),
                "requested_by": users.get(dossier.requested_by_id or 0),
                "exhibits": [_row(exhibit, EXHIBIT_FIELDS) for exhibit in dossier.exhibits.all()],
            }
            for dossier in dossiers
        ],
        "audit": [_row(event, AUDIT_FIELDS) for event in audit],
        "blobs": {sha: {"size": blob.size, "mime_type": blob.mime_type} for sha, blob in sorted(blobs.items())},
    }


def case_export(*, case: Case, destination: Path) -> ExportResult:
    """Write the case's ZIP; every file is hashed as it is copied and must match its address.

    Written under a temporary name and renamed, so a failed export leaves no partial ZIP.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            # One snapshot for every query, so a write landing mid-export cannot leave a
            # sighting pointing at a storefront the export did not list.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        manifest = case_manifest(case=case)
    partial_path = destination.with_name(destination.name + ".part")
    total = 0
    try:
        with zipfile.ZipFile(partial_path, "w", allowZip64=True) as archive:
            archive.writestr(
                MANIFEST,
                json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8"),
                compress_type=zipfile.ZIP_DEFLATED,
            )
            for sha256, meta in manifest["blobs"].items():
                total += _export_blob(archive, sha256, meta["size"])
        os.replace(partial_path, destination)
    except BaseException:
        partial_path.unlink(missing_ok=True)
        raise
    return ExportResult(
        path=destination, blobs=len(manifest["blobs"]), blob_bytes=total, audit_rows=len(manifest["audit"])
    )


def _export_blob(archive: zipfile.ZipFile, sha256: str, size: int) -> int:
    digest = hashlib.sha256()
    copied = 0
    with (
        evidence_storage().open(Blob(sha256=sha256).storage_name, "rb") as source,
        archive.open(BLOB_PREFIX + sha256, "w", force_zip64=True) as out,
    ):
        while chunk := source.read(CHUNK_SIZE):
            digest.update(chunk)
            copied += len(chunk)
            out.write(chunk)
    if digest.hexdigest() != sha256 or copied != size:
        raise PortabilityError(
            f"stored file {sha256} no longer matches its SHA-256 or size: run verify_evidence; nothing was exported"
        )
    return copied


# --- Import ---------------------------------------------------------------------------------
