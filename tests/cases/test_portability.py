"""export_case / import_case: a case moves between installations with every row and file."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cases import services
from cases.models import (
    Case,
    CaseStorefront,
    Comment,
    Dossier,
    DossierExhibit,
    Evidence,
    OperatorLink,
    Sighting,
    Submission,
    TestBuy,
    Warning,
)
from cases.portability import MANIFEST, case_import
from cases.services.brands import ip_right_attach_certificate
from cases.services.comments import comment_post
from cases.services.dossiers import dossier_build, dossier_request
from evidence.models import AuditEvent, Blob
from evidence.services import Actor, evidence_storage
from tests import factories

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def source_case() -> Case:
    """The demo's desk-lamp case, with every kind of record, a comment, a certificate and a built dossier."""
    call_command("demo")
    case = Case.objects.get(team__slug="demo", asin="B0C1HJ4K2L")
    manager = Actor.of_user(case.assignee)
    right = case.brand.ip_rights.get()
    ip_right_attach_certificate(
        right=right, certificate=io.BytesIO(b"%PDF-1.4 certificate"), certificate_name="tm.pdf", actor=manager
    )
    comment_post(case=case, body="Counterfeit confirmed, @liwei please file 好运来", actor=manager)
    dossier = dossier_request(case=case, actor=manager)
    dossier_build(dossier_id=dossier.pk)
    assert Dossier.objects.get(pk=dossier.pk).pdf_id is not None
    assert TestBuy.objects.filter(case=case).exists()
    assert Warning.objects.filter(case=case).exists()
    assert Submission.objects.filter(case=case).exists()
    assert OperatorLink.objects.exists()
    return case


def _counts(case: Case) -> dict[str, int]:
    return {
        "storefronts": CaseStorefront.objects.filter(case=case).count(),
        "sightings": Sighting.objects.filter(case=case).count(),
        "evidence": Evidence.objects.filter(case=case).count(),
        "test_buys": TestBuy.objects.filter(case=case).count(),
        "test_buy_photos": sum(buy.photos.count() for buy in TestBuy.objects.filter(case=case)),
        "warnings": Warning.objects.filter(case=case).count(),
        "submissions": Submission.objects.filter(case=case).count(),
        "comments": Comment.objects.filter(case=case).count(),
        "dossiers": Dossier.objects.filter(case=case).count(),
        "exhibits": DossierExhibit.objects.filter(dossier__case=case).count(),
    }


def _receiving_team() -> tuple[Any, Any]:
    user = factories.UserFactory(username="receiver")
    return factories.TeamFactory(creator=user, name="Receiving agency"), user


def _export(case: Case, tmp_path: Path) -> Path:
    path = tmp_path / "case.zip"
    call_command("export_case", case.reference, "-o", str(path), "--team", case.team.slug)
    return path


def _file_count(root: Path) -> int:
    return sum(1 for path in (root / "sha256").rglob("*") if path.is_file())


def test_export_holds_every_file_under_its_hash_and_the_audit_rows(source_case, tmp_path):
    path = _export(source_case, tmp_path)
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read(MANIFEST))
        for name in archive.namelist():
            if name != MANIFEST:
                assert hashlib.sha256(archive.read(name)).hexdigest() == name.removeprefix("blobs/")
    assert manifest["version"] == 1
    assert manifest["case"]["reference"] == source_case.reference
    hashes = set(Evidence.objects.filter(case=source_case).values_list("blob_id", flat=True))
    hashes |= set(Dossier.objects.filter(case=source_case).values_list("pdf_id", flat=True))
    hashes.add(source_case.brand.ip_rights.get().certificate_id)
    assert set(manifest["blobs"]) == hashes
    audit = AuditEvent.objects.filter(ref=f"case:{source_case.pk}").order_by("seq")
    assert [row["hash"] for row in manifest["audit"]] == list(audit.values_list("hash", flat=True))
    assert [comment["author"] for comment in manifest["comments"]] == ["demo"]


def test_import_recreates_the_case_with_its_history(source_case, tmp_path, capsys):
    path = _export(source_case, tmp_path)
    team, user = _receiving_team()
    call_command("import_case", str(path), "--team", team.slug, "--as", user.username)
    assert f"Imported case {source_case.reference}" in capsys.readouterr().out

    imported = Case.objects.get(team=team)
    assert imported.reference == source_case.reference
    for field in ("asin", "marketplace", "title", "priority", "status", "infringement_locations", "created_at"):
        assert getattr(imported, field) == getattr(source_case, field), field
    expected = _counts(source_case)
    expected["evidence"] += 1  # the manifest, kept as the record of the source's audit trail
    assert _counts(imported) == expected
    assert sorted(Sighting.objects.filter(case=imported).values_list("seen_at", "price", "buy_box")) == sorted(
        Sighting.objects.filter(case=source_case).values_list("seen_at", "price", "buy_box")
    )
    originals = Evidence.objects.filter(case=source_case).order_by("id")
    copies = Evidence.objects.filter(case=imported).order_by("id")
    for original, copy in zip(originals, copies, strict=False):
        assert (copy.blob_id, copy.captured_at, copy.original_name) == (
            original.blob_id,
            original.captured_at,
            original.original_name,
        )
        assert copy.captured_by is None
        assert copy.captured_by_job == f"imported: {original.captured_by_label}"
    comment = Comment.objects.get(case=imported)
    assert comment.body.startswith("[imported: demo] Counterfeit confirmed")
    assert comment.created_at == Comment.objects.get(case=source_case).created_at
    record = copies.last()
    assert record.kind == "document"
    assert "audit rows" in record.description
    with evidence_storage().open(record.blob.storage_name) as handle:
        kept = json.loads(handle.read())
    assert len(kept["audit"]) == AuditEvent.objects.filter(ref=f"case:{source_case.pk}").count()
    event = AuditEvent.objects.get(chain=f"team:{team.pk}", action="case.imported")
    assert event.after["source_reference"] == source_case.reference
    assert event.after["manifest_sha256"] == record.blob_id
    call_command("verify_audit")
    call_command("verify_evidence")


def test_a_colliding_reference_gets_a_new_one(source_case, tmp_path):
    path = _export(source_case, tmp_path)
    team, user = _receiving_team()
    first = case_import(source=path, team=team, actor=Actor.of_user(user))
    services.case_transition(case=first, status="closed", reason="moved", actor=Actor.of_user(user))
    second = case_import(source=path, team=team, actor=Actor.of_user(user))
    assert first.reference == source_case.reference
    assert second.reference != first.reference
    assert Case.objects.filter(team=team).count() == 2
    # The team's own numbering never hands out an imported reference again.
    brand = Case.objects.get(pk=first.pk).brand
    opened = factories.CaseFactory(brand=brand)
    assert opened.reference not in {first.reference, second.reference}


def test_an_open_case_on_the_same_listing_refuses_the_import(source_case, tmp_path):
    path = _export(source_case, tmp_path)
    team, user = _receiving_team()
    case_import(source=path, team=team, actor=Actor.of_user(user))
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_case", str(path), "--team", team.slug, "--as", user.username)
    assert Case.objects.filter(team=team).count() == 1


def _rewrite(path: Path, change: Any) -> Path:
    """A copy of the archive with ``change(name, data)`` applied to each entry."""
    altered = path.with_name("altered.zip")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(altered, "w") as out:
        for name in source.namelist():
            out.writestr(name, change(name, source.read(name)))
    return altered


def test_a_tampered_file_is_refused_and_nothing_is_written(source_case, tmp_path, settings):
    path = _export(source_case, tmp_path)
    target = next(name for name in zipfile.ZipFile(path).namelist() if name != MANIFEST)
    altered = _rewrite(path, lambda name, data: data[:-1] + b"!" if name == target else data)
    team, user = _receiving_team()
    counts = (Case.objects.count(), Evidence.objects.count(), Blob.objects.count(), AuditEvent.objects.count())
    files = _file_count(Path(settings.EVIDENCE_ROOT))
    with pytest.raises(CommandError, match="does not match its SHA-256"):
        call_command("import_case", str(altered), "--team", team.slug, "--as", user.username)
    assert (Case.objects.count(), Evidence.objects.count(), Blob.objects.count(), AuditEvent.objects.count()) == counts
    assert _file_count(Path(settings.EVIDENCE_ROOT)) == files
    assert not any((Path(settings.EVIDENCE_ROOT) / ".staging").iterdir())


def test_an_unknown_format_version_is_refused(source_case, tmp_path):
    path = _export(source_case, tmp_path)

    def bump(name: str, data: bytes) -> bytes:
        return json.dumps({**json.loads(data), "version": 2}).encode() if name == MANIFEST else data

    team, user = _receiving_team()
    with pytest.raises(CommandError, match="version 2 is not supported"):
        call_command("import_case", str(_rewrite(path, bump)), "--team", team.slug, "--as", user.username)
    assert not Case.objects.filter(team=team).exists()


def test_only_a_manager_of_the_team_imports(source_case, tmp_path):
    path = _export(source_case, tmp_path)
    team, _user = _receiving_team()
    agent = factories.MemberFactory(team=team, username="agent-here")
    with pytest.raises(CommandError, match="manager"):
        call_command("import_case", str(path), "--team", team.slug, "--as", agent.username)


def test_export_refuses_a_stored_file_that_changed(source_case, tmp_path, settings):
    item = Evidence.objects.filter(case=source_case).first()
    stored = Path(settings.EVIDENCE_ROOT) / item.blob.storage_name
    stored.chmod(0o644)
    stored.write_bytes(stored.read_bytes() + b"x")
    with pytest.raises(CommandError, match="verify_evidence"):
        _export(source_case, tmp_path)
    assert not (tmp_path / "case.zip").exists()
    assert not (tmp_path / "case.zip.part").exists()


# A second installation: its own SQLite database and evidence folder, in another process.
_PROBE = """
import json
from cases.models import Case
from evidence.models import Blob
case = Case.objects.get(team__slug="receiving-agency")
print(json.dumps({
    "reference": case.reference,
    "sightings": case.sightings.count(),
    "evidence": case.evidence.count(),
    "test_buys": case.test_buys.count(),
    "warnings": case.warnings.count(),
    "submissions": case.submissions.count(),
    "comments": case.comments.count(),
    "dossiers": case.dossiers.count(),
    "blobs": sorted(Blob.objects.values_list("sha256", flat=True)),
}))
"""

_SETUP = """
from django.contrib.auth import get_user_model
from cases.services import team_create
from evidence.services import Actor
user = get_user_model().objects.create_user("receiver", password="x")
team_create(name="Receiving agency", actor=Actor.of_user(user))
"""


def _site(var_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "EVIDENCE_ROOT", "EVIDENCE_STORAGE"}
    }
    env.update(VAR_DIR=str(var_dir), DEBUG="true")
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done


def test_a_case_moves_to_another_installation_byte_for_byte(source_case, tmp_path, settings):
    path = _export(source_case, tmp_path)
    site = tmp_path / "site2"
    _site(site, "migrate", "-v0")
    _site(site, "shell", "-c", _SETUP)
    _site(site, "import_case", str(path), "--team", "receiving-agency", "--as", "receiver")
    _site(site, "verify_evidence")
    _site(site, "verify_audit")
    found = json.loads(_site(site, "shell", "-c", _PROBE).stdout.strip().splitlines()[-1])

    expected = {**_counts(source_case), "reference": source_case.reference}
    expected["evidence"] += 1  # the manifest, kept as the record of the source's audit trail
    assert {key: value for key, value in found.items() if key != "blobs"} == {
        key: expected[key] for key in found if key != "blobs"
    }
    with zipfile.ZipFile(path) as archive:
        manifest_hash = hashlib.sha256(archive.read(MANIFEST)).hexdigest()
        sent = set(json.loads(archive.read(MANIFEST))["blobs"])
    # Renditions (thumbnails, print tiles) are made again from the originals on import.
    assert sent | {manifest_hash} <= set(found["blobs"])
    for sha256 in sent:
        original = (Path(settings.EVIDENCE_ROOT) / Blob(sha256=sha256).storage_name).read_bytes()
        copy = (site / "evidence" / Blob(sha256=sha256).storage_name).read_bytes()
        assert copy == original
        assert hashlib.sha256(copy).hexdigest() == sha256


def test_evidence_naming_a_storefront_not_on_the_case_travels_with_it(personas, tmp_path):
    brand = factories.BrandFactory(team=personas.team)
    case, other = factories.CaseFactory(brand=brand), factories.CaseFactory(brand=brand)
    elsewhere = factories.attach(other, 7, name="深圳市好运来贸易有限公司")
    factories.add_evidence(case, storefront=elsewhere)
    path = _export(case, tmp_path)
    team, user = _receiving_team()
    imported = case_import(source=path, team=team, actor=Actor.of_user(user))
    item = Evidence.objects.filter(case=imported).exclude(kind="document").get()
    assert (item.storefront.seller_id, item.storefront.name, item.storefront.team_id) == (
        elsewhere.seller_id,
        elsewhere.name,
        team.pk,
    )
