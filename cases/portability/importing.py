"""Recreating a moved case on this installation: verified first, written in one transaction."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from django.db import models
from django.utils import timezone

from cases.models import (
    Brand,
    Case,
    CaseSequence,
    CaseStorefront,
    Comment,
    Dossier,
    DossierExhibit,
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
from cases.portability.format import (
    _REFERENCE,
    BLOB_PREFIX,
    BRAND_FIELDS,
    CASE_FIELDS,
    MANIFEST,
    SIGHTING_FIELDS,
    TEST_BUY_FIELDS,
    WARNING_FIELDS,
    PortabilityError,
    archive_verify,
)
from cases.services._common import authorize, full_clean, record
from cases.services.cases import _next_reference
from evidence.models import Blob
from evidence.renditions import IMAGE_TYPES
from evidence.services import Actor, blobs_ingest
from evidence.tasks import blob_renditions


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
                    blob_renditions.delay_on_commit(blob.sha256)
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
