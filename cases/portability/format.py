"""The archive format of a moved case: its manifest fields, and reading an archive safely."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models

from evidence.services import CHUNK_SIZE, jsonable

FORMAT = "casemanager.case"
VERSION = 1
MANIFEST = "manifest.json"
BLOB_PREFIX = "blobs/"
# A manifest is rows and text; anything larger is not one of ours.
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")
_REFERENCE = re.compile(r"HJ-(?P<year>\d{4})-(?P<number>\d{4,9})")

CASE_FIELDS = (
    "reference",
    "asin",
    "marketplace",
    "title",
    "priority",
    "external_refs",
    "infringement_locations",
    "status",
    "closed_reason",
    "resolution_suggested_at",
    "status_changed_at",
    "created_at",
    "updated_at",
)
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
IP_RIGHT_FIELDS = (
    "id",
    "kind",
    "registration_number",
    "office",
    "mark_text",
    "classes",
    "registration_date",
    "status",
    "certificate",
    "certificate_name",
    "created_at",
    "updated_at",
)
STOREFRONT_FIELDS = (
    "id",
    "marketplace",
    "seller_id",
    "name",
    "business_name",
    "business_address",
    "phone",
    "created_at",
    "updated_at",
)
CASE_STOREFRONT_FIELDS = ("storefront", "state", "first_seen", "last_seen", "last_sighting", "attached_at")
SIGHTING_FIELDS = (
    "id",
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
    "created_at",
)
GROUP_FIELDS = ("id", "name", "notes", "created_at")
LINK_FIELDS = ("group", "storefront", "reason", "detail", "evidence", "created_at")
EVIDENCE_FIELDS = (
    "id",
    "blob",
    "kind",
    "original_name",
    "source_url",
    "captured_at",
    "captured_by_job",
    "description",
    "storefront",
    "created_at",
    "withdrawn_at",
    "withdrawn_reason",
)
TEST_BUY_FIELDS = (
    "storefront",
    "order_id",
    "order_date",
    "price_paid",
    "currency",
    "received_date",
    "verdict",
    "comparison_notes",
    "created_at",
    "updated_at",
)
WARNING_FIELDS = ("storefront", "language", "text", "channel", "sent_at", "reply", "replied_at", "created_at")
SUBMISSION_FIELDS = (
    "channel",
    "submitted_on",
    "amazon_ref",
    "asins",
    "ip_right",
    "outcome",
    "outcome_reason",
    "outcome_on",
    "created_at",
    "updated_at",
)
COMMENT_FIELDS = ("body", "created_at")
DOSSIER_FIELDS = ("version", "status", "pdf", "pages", "requested_by_job", "created_at", "started_at", "finished_at")
EXHIBIT_FIELDS = ("number", "evidence", "blob", "label", "file_name", "source_url", "captured_at")
AUDIT_FIELDS = (
    "chain",
    "seq",
    "created_at",
    "actor_kind",
    "actor_id",
    "actor_name",
    "action",
    "subject_type",
    "subject_id",
    "ref",
    "before",
    "after",
    "prev_hash",
    "hash",
)


class PortabilityError(Exception):
    """An export that cannot be written or an archive that will not be imported; says why."""


def _row(obj: models.Model, names: Iterable[str]) -> dict[str, Any]:
    """Field values as JSON; a foreign key is written as the id it holds."""
    values: dict[str, Any] = {}
    for name in names:
        field = obj._meta.get_field(name)
        values[name] = jsonable(getattr(obj, getattr(field, "attname", name)))
    return values


def _usernames(ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {pk for pk in ids if pk is not None}
    return dict(get_user_model().objects.filter(pk__in=wanted).values_list("pk", "username"))


def _read_manifest(archive: zipfile.ZipFile) -> tuple[bytes, dict[str, Any]]:
    try:
        info = archive.getinfo(MANIFEST)
    except KeyError:
        raise PortabilityError(f"the archive has no {MANIFEST}") from None
    with archive.open(info) as handle:
        raw = handle.read(MAX_MANIFEST_BYTES + 1)
    if len(raw) > MAX_MANIFEST_BYTES:
        raise PortabilityError(f"{MANIFEST} is larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        manifest = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PortabilityError(f"{MANIFEST} is not JSON: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise PortabilityError(f"{MANIFEST} is not a casemanager case export")
    if manifest.get("version") != VERSION:
        raise PortabilityError(
            f"export format version {manifest.get('version')!r} is not supported (this installation reads {VERSION})"
        )
    return raw, manifest


def _referenced_blobs(manifest: dict[str, Any]) -> set[str]:
    referenced = {item["blob"] for item in manifest["evidence"]}
    referenced |= {right["certificate"] for right in manifest["ip_rights"] if right["certificate"]}
    for dossier in manifest["dossiers"]:
        if dossier["pdf"]:
            referenced.add(dossier["pdf"])
        referenced |= {exhibit["blob"] for exhibit in dossier["exhibits"]}
    return referenced


def archive_verify(archive: zipfile.ZipFile) -> tuple[bytes, dict[str, Any]]:
    """Check the whole archive before anything is written: format, names, and every file's hash.

    Returns the manifest's bytes and its parsed content.
    """
    raw, manifest = _read_manifest(archive)
    listed: dict[str, Any] = manifest.get("blobs", {})
    in_zip: set[str] = set()
    for name in archive.namelist():
        if name == MANIFEST:
            continue
        sha256 = name.removeprefix(BLOB_PREFIX)
        if not name.startswith(BLOB_PREFIX) or not _SHA256.fullmatch(sha256):
            raise PortabilityError(f"unexpected entry {name!r} in the archive")
        in_zip.add(sha256)
    try:
        referenced = _referenced_blobs(manifest)
    except (KeyError, TypeError) as error:
        raise PortabilityError(f"{MANIFEST} is incomplete: {error}") from None
    if missing := sorted((referenced | set(listed)) - in_zip):
        raise PortabilityError(f"files missing from the archive: {', '.join(missing)}")
    if extra := sorted(in_zip - set(listed)):
        raise PortabilityError(f"files in the archive that the manifest does not list: {', '.join(extra)}")
    for sha256 in sorted(in_zip):
        size = int(listed[sha256]["size"])
        if size > settings.EVIDENCE_MAX_BYTES:
            raise PortabilityError(f"file {sha256} is larger than EVIDENCE_MAX_BYTES")
        digest = hashlib.sha256()
        read = 0
        with archive.open(BLOB_PREFIX + sha256) as handle:
            # Never more than the manifest says: a forged entry cannot make us read a bomb.
            while chunk := handle.read(min(CHUNK_SIZE, size + 1 - read)):
                digest.update(chunk)
                read += len(chunk)
                if read > size:
                    break
        if read != size or digest.hexdigest() != sha256:
            raise PortabilityError(f"file {sha256} does not match its SHA-256 or size: the archive was altered")
    return raw, manifest
