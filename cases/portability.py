"""Moving one case between installations: a ZIP of its rows, its audit trail and its files.

The ZIP holds ``manifest.json`` and ``blobs/<sha256>`` for every file a row refers to
(evidence, dossier PDFs, IP-right certificates). Renditions are not exported: the
target makes them again from the originals.

Users do not travel: a username on another installation may be someone else. Who
captured, requested or wrote something is kept as text (``imported: alice``), and the
manifest itself, with the source's audit rows as they were recorded, is attached to the
imported case as a document: those rows are sealed with the source's ``AUDIT_KEY`` and
cannot be re-chained under the target's.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.utils import timezone

from cases.models import (
    Brand,
    Case,
    CaseSequence,
    CaseStorefront,
    Comment,
    Dossier,
    DossierExhibit,
    DossierStatus,
    Evidence,
    EvidenceKind,
    IPRight,
    OperatorGroup,
    OperatorLink,
    Role,
    Sighting,
    Storefront,
    Submission,
    Team,
    TestBuy,
    Warning,
)
from cases.services._common import authorize, case_ref, full_clean, record, team_chain
from cases.services.cases import _next_reference
from evidence.models import AuditEvent, Blob
from evidence.renditions import IMAGE_TYPES
from evidence.services import CHUNK_SIZE, Actor, blobs_ingest, evidence_storage, jsonable
from evidence.tasks import blob_renditions

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


@dataclass(frozen=True)
class ExportResult:
    path: Path
    blobs: int
    blob_bytes: int
    audit_rows: int


# --- Export ---------------------------------------------------------------------------------


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


def _parse(model: type[models.Model], row: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """Plain (non-relation) values of ``row`` as the model's fields hold them."""
    return {name: cast("models.Field[Any, Any]", model._meta.get_field(name)).to_python(row[name]) for name in names}


def _stamps(model: type[models.Model], row: dict[str, Any]) -> dict[str, Any]:
    """The automatic timestamps of a row, kept as the source recorded them."""
    return {
        field.name: field.to_python(row[field.name])
        for field in model._meta.concrete_fields
        if (getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)) and field.name in row
    }


def _insert(obj: models.Model, row: dict[str, Any]) -> Any:
    """Validate and insert ``obj``, then give it back the source's creation and update times."""
    full_clean(obj)
    obj.save(force_insert=True)
    stamps = _stamps(type(obj), row)
    if stamps:
        type(obj)._default_manager.filter(pk=obj.pk).update(**stamps)
    return obj


def _who(username: str | None, job: str = "") -> str:
    """Who did something on the source, as text: its users do not exist here."""
    name = username or (f"job {job}" if job else "")
    return f"imported: {name}"[:100] if name else "imported"


@dataclass
class _Ids:
    """Source ids to target rows, per kind."""

    ip_rights: dict[int, IPRight]
    storefronts: dict[int, Storefront]
    sightings: dict[int, Sighting]
    evidence: dict[int, Evidence]


def case_import(*, source: Path, team: Team, actor: Actor) -> Case:
    """Recreate an exported case in ``team``, all rows and files, or nothing at all.

    Every file is checked against its SHA-256 before anything is written, and again
    as it is stored. The case keeps its reference unless the team already uses it.
    """
    authorize(actor, team.pk, Role.MANAGER)
    try:
        archive = zipfile.ZipFile(source)
    except zipfile.BadZipFile:
        raise PortabilityError(f"{source} is not a ZIP archive") from None
    with archive:
        raw, manifest = archive_verify(archive)
        order = sorted(manifest["blobs"])
        handles: list[IO[bytes] | Path] = [archive.open(BLOB_PREFIX + sha256) for sha256 in order]
        with blobs_ingest(sources=[*handles, io.BytesIO(raw)]) as stored:
            by_hash = {blob.sha256: blob for blob in stored[:-1]}
            if list(by_hash) != order:
                raise PortabilityError("a file changed while it was imported: nothing was imported")
            try:
                case = _recreate(manifest=manifest, raw_manifest=stored[-1], blobs=by_hash, team=team, actor=actor)
            except (KeyError, TypeError) as error:
                raise PortabilityError(f"{MANIFEST} is incomplete or inconsistent: {error!r}") from None
            for blob in stored:
                if blob.mime_type in IMAGE_TYPES:
                    transaction.on_commit(partial(blob_renditions.delay, blob.sha256))
    return case


def _recreate(
    *, manifest: dict[str, Any], raw_manifest: Blob, blobs: dict[str, Blob], team: Team, actor: Actor
) -> Case:
    brand, brand_created = _brand(manifest["brand"], team)
    ids = _Ids(ip_rights={}, storefronts={}, sightings={}, evidence={})
    for row in manifest["ip_rights"]:
        ids.ip_rights[row["id"]] = _ip_right(row, brand, blobs)

    source_case = manifest["case"]
    reference = _reference(team, source_case["reference"])
    case = Case(team=team, brand=brand, **_parse(Case, source_case, CASE_FIELDS[1:]))  # reference: below
    case.reference = reference
    _insert(case, source_case)

    created_storefronts = []
    for row in manifest["storefronts"]:
        storefront = Storefront.objects.filter(
            team=team, marketplace=row["marketplace"], seller_id=row["seller_id"]
        ).first()
        if storefront is None:
            fields = _parse(
                Storefront, row, ("marketplace", "seller_id", "name", "business_name", "business_address", "phone")
            )
            storefront = _insert(Storefront(team=team, **fields), row)
            created_storefronts.append(storefront.pk)
        ids.storefronts[row["id"]] = storefront
    for row in manifest["sightings"]:
        fields = _parse(Sighting, row, SIGHTING_FIELDS[2:-1])  # all but id, storefront, created_at
        ids.sightings[row["id"]] = _insert(
            Sighting(case=case, storefront=ids.storefronts[row["storefront"]], **fields), row
        )
    for row in manifest["case_storefronts"]:
        last = row["last_sighting"]
        fields = _parse(CaseStorefront, row, ("state", "first_seen", "last_seen"))
        link = CaseStorefront(case=case, storefront=ids.storefronts[row["storefront"]], **fields)
        link.last_sighting = ids.sightings[last] if last is not None else None
        _insert(link, row)

    for row in manifest["evidence"]:
        fields = _parse(Evidence, row, ("kind", "original_name", "source_url", "captured_at", "description"))
        fields.update(_parse(Evidence, row, ("withdrawn_at", "withdrawn_reason")))
        item = Evidence(
            case=case,
            blob=blobs[row["blob"]],
            storefront=ids.storefronts[row["storefront"]] if row["storefront"] is not None else None,
            captured_by_job=_who(row["captured_by"], row["captured_by_job"]),
            **fields,
        )
        ids.evidence[row["id"]] = _insert(item, row)

    groups = {row["id"]: _group(row, team) for row in manifest["operator_groups"]}
    for row in manifest["operator_links"]:
        group, storefront = groups[row["group"]], ids.storefronts[row["storefront"]]
        if not OperatorLink.objects.filter(group=group, storefront=storefront, reason=row["reason"]).exists():
            evidence = ids.evidence.get(row["evidence"]) if row["evidence"] is not None else None
            fields = _parse(OperatorLink, row, ("reason", "detail"))
            _insert(OperatorLink(group=group, storefront=storefront, evidence=evidence, **fields), row)

    for row in manifest["test_buys"]:
        fields = _parse(TestBuy, row, TEST_BUY_FIELDS[1:-2])  # all but storefront and timestamps
        test_buy = _insert(TestBuy(case=case, storefront=ids.storefronts[row["storefront"]], **fields), row)
        test_buy.photos.set([ids.evidence[pk] for pk in row["photos"]])
    for row in manifest["warnings"]:
        fields = _parse(Warning, row, WARNING_FIELDS[1:-1])  # all but storefront and created_at
        _insert(Warning(case=case, storefront=ids.storefronts[row["storefront"]], **fields), row)
    for row in manifest["submissions"]:
        fields = _parse(Submission, row, ("channel", "submitted_on", "amazon_ref", "asins", "outcome"))
        fields.update(_parse(Submission, row, ("outcome_reason", "outcome_on")))
        right = ids.ip_rights[row["ip_right"]] if row["ip_right"] is not None else None
        _insert(Submission(case=case, ip_right=right, **fields), row)
    for row in manifest["comments"]:
        # The author is not a user here: the importer posts it, under the author's name.
        body = f"[imported: {row['author']}] {row['body']}"
        _insert(Comment(case=case, author=actor.user, body=body), row)
    for row in manifest["dossiers"]:
        _dossier(row, case, blobs, ids)

    audit_record = _insert(
        Evidence(
            case=case,
            blob=raw_manifest,
            kind=EvidenceKind.DOCUMENT,
            original_name=f"{source_case['reference']}-export-manifest.json",
            captured_at=timezone.now(),
            captured_by_job=_who(actor.name),
            description=(
                f"The export this case was imported from ({manifest['source_site']}, "
                f"{manifest['exported_at']}): every row as exported and the {len(manifest['audit'])} audit rows "
                "recorded there, which verify only with that installation's AUDIT_KEY."
            ),
        ),
        {},
    )
    record(
        actor=actor,
        action="case.imported",
        subject=case,
        team_id=team.pk,
        case_id=case.pk,
        after={
            "source_site": manifest["source_site"],
            "source_team": manifest["team"]["slug"],
            "source_reference": source_case["reference"],
            "reference": case.reference,
            "exported_at": manifest["exported_at"],
            "manifest_sha256": raw_manifest.sha256,
            "source_audit_rows": len(manifest["audit"]),
            "source_audit_record": audit_record.pk,
            "brand_created": brand_created,
            "storefronts_created": created_storefronts,
            "files": len(blobs),
        },
    )
    return case


def _reference(team: Team, wanted: str) -> str:
    """The source's reference if the team does not use it, else the team's next one.

    A kept reference also moves the team's numbering past it, or a case opened later in
    that year would be handed the same number.
    """
    if not Case.objects.filter(team=team, reference=wanted).exists():
        match = _REFERENCE.fullmatch(wanted)
        if match is not None:
            sequence, _created = CaseSequence.objects.select_for_update().get_or_create(
                team=team, year=int(match["year"])
            )
            if sequence.last < int(match["number"]):
                sequence.last = int(match["number"])
                sequence.save(update_fields=["last"])
        return wanted
    reference = _next_reference(team.pk)
    while Case.objects.filter(team=team, reference=reference).exists():
        reference = _next_reference(team.pk)
    return reference


def _brand(row: dict[str, Any], team: Team) -> tuple[Brand, bool]:
    """The team's brand of that name, or a new one with the source's details."""
    existing = Brand.objects.filter(team=team, name=row["name"]).first()
    if existing is not None:
        return existing, False
    brand = Brand(team=team, **_parse(Brand, row, BRAND_FIELDS))
    full_clean(brand)
    brand.save(force_insert=True)
    return brand, True


def _ip_right(row: dict[str, Any], brand: Brand, blobs: dict[str, Blob]) -> IPRight:
    existing = IPRight.objects.filter(
        brand=brand, kind=row["kind"], registration_number=row["registration_number"], office=row["office"]
    ).first()
    if existing is not None:
        return existing
    fields = _parse(
        IPRight, row, ("kind", "registration_number", "office", "mark_text", "classes", "registration_date", "status")
    )
    right = IPRight(brand=brand, certificate_name=row["certificate_name"], **fields)
    right.certificate = blobs[row["certificate"]] if row["certificate"] else None
    return _insert(right, row)


def _group(row: dict[str, Any], team: Team) -> OperatorGroup:
    """The team's operator group of that name, or a new one: links are added to it."""
    existing = OperatorGroup.objects.filter(team=team, name=row["name"]).first()
    if existing is not None:
        return existing
    return _insert(OperatorGroup(team=team, name=row["name"], notes=row["notes"]), row)


def _dossier(row: dict[str, Any], case: Case, blobs: dict[str, Blob], ids: _Ids) -> None:
    fields = _parse(Dossier, row, ("version", "status", "pages", "started_at", "finished_at"))
    dossier = Dossier(
        case=case,
        pdf=blobs[row["pdf"]] if row["pdf"] else None,
        progress=100,
        requested_by_job=_who(row["requested_by"], row["requested_by_job"]),
        **fields,
    )
    _insert(dossier, row)
    for exhibit in row["exhibits"]:
        evidence = ids.evidence.get(exhibit["evidence"]) if exhibit["evidence"] is not None else None
        fields = _parse(DossierExhibit, exhibit, ("number", "label", "file_name", "source_url", "captured_at"))
        _insert(DossierExhibit(dossier=dossier, evidence=evidence, blob=blobs[exhibit["blob"]], **fields), exhibit)
