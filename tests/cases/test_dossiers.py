"""Dossiers built for real: PDFs read back with pdftotext and pdffonts."""

import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from PIL import Image, ImageDraw

from cases import services
from cases.dossier.render import RenderError
from cases.models import Dossier, DossierStatus, IPRightKind, Notification, NotificationKind
from cases.services.dossiers import dossier_build, dossier_request
from evidence.models import AuditEvent
from evidence.renditions import plan_tiles
from evidence.services import Actor, evidence_storage
from tests.factories import BrandFactory, CaseFactory, add_evidence, attach, manager_of, sight

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
HOSTILE = '<img src="file:///etc/passwd"><link rel="stylesheet" href="http://169.254.169.254/">'


def tall_screenshot(width=1920, height=5000) -> bytes:
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for y in range(0, height, 100):
        draw.text((20, y + 10), f"row {y}", fill="black")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def case(personas):
    brand = BrandFactory(team=personas.team, name="Lumora")
    actor = manager_of(personas.team)
    services.brand_update(
        brand=brand,
        rights_owner="Lumora Lighting Co., Ltd.",
        contact_name="Dana Demo",
        contact_email="bp@lumora.example",
        actor=actor,
    )
    services.ip_right_create(
        brand=brand,
        kind=IPRightKind.TRADEMARK,
        registration_number="6123456",
        office="USPTO",
        mark_text="LUMORA",
        actor=actor,
    )
    case = CaseFactory(brand=brand, asin="B0C1HJ4K2L")
    services.case_update(case=case, infringement_locations=["product", "packaging"], actor=actor)
    chinese = attach(case, 1, name="深圳市好运来贸易有限公司")
    japanese = attach(case, 2, name="株式会社さくら商事")
    attach(case, 3, name=HOSTILE)
    sight(case, chinese)
    sight(case, japanese)
    return case


def build(case, actor=None):
    dossier = dossier_request(case=case, actor=actor or Actor.job("test"))
    dossier_build(dossier_id=dossier.pk)
    dossier.refresh_from_db()
    return dossier


def pdf_of(dossier, tmp_path) -> Path:
    path = tmp_path / f"v{dossier.version}.pdf"
    with evidence_storage().open(dossier.pdf.storage_name) as source:
        path.write_bytes(source.read())
    return path


def text_of(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_dossier_pdf_has_cjk_names_hashes_tiles_and_escaped_hostile_values(case, tmp_path):
    screenshot = add_evidence(case, data=tall_screenshot(), description=f"note {HOSTILE} url(http://10.0.0.1/x)")
    photo = add_evidence(case, kind="test_buy_photo")
    dossier = build(case)
    assert dossier.status == DossierStatus.DONE, dossier.error
    assert dossier.progress == 100
    path = pdf_of(dossier, tmp_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == dossier.sha256
    text = text_of(path)
    assert "深圳市好运来贸易有限公司" in text
    assert "株式会社さくら商事" in text
    for item in (screenshot, photo):
        assert item.sha256 in text
    assert HOSTILE in text.replace("\n", "")  # shown as text, not markup
    assert "9.99 USD" in text, "prices print with two decimals"
    tiles = len(plan_tiles(1920, 5000).bands)
    assert tiles == 4
    assert text.count(f"Exhibit 1, part {tiles} of {tiles}") == 1
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "Noto-Sans-CJK-SC" in fonts
    assert "Noto-Sans-CJK-JP" in fonts
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:]), "every font embedded"
    pages = int(
        next(
            line.split()[-1]
            for line in subprocess.run(
                ["pdfinfo", str(path)], capture_output=True, text=True, check=True
            ).stdout.splitlines()
            if line.startswith("Pages:")
        )
    )
    assert pages == dossier.pages
    assert f"Page {pages} of {pages}" in text
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert f"Infringement dossier {case.reference}" in info
    assert "Lumora Lighting Co., Ltd." in info
    assert list(dossier.exhibits.values_list("number", flat=True)) == [1, 2]


def test_form_sheet_lists_what_is_missing(personas, tmp_path):
    case = CaseFactory(brand=BrandFactory(team=personas.team))
    text = text_of(pdf_of(build(case), tmp_path))
    assert "Missing — complete these before filing" in text
    for missing in ("Rights owner", "Contact phone", "Type of IP", "Registration number", "Infringing sellers"):
        assert missing in text
    assert "MISSING" in text


def test_the_renderer_loads_nothing_it_was_not_given(tmp_path):
    (tmp_path / "page.html").write_text(
        '<html><body><img src="file:///etc/passwd"><link rel="stylesheet" href="http://169.254.169.254/x.css">'
        '<div style="background: url(http://127.0.0.1:9/beacon)">x</div><img src="cm-file:nope"></body></html>'
    )
    (tmp_path / "manifest.json").write_text("{}")
    subprocess.run(
        [sys.executable, "-m", "cases.dossier.pdfworker", str(tmp_path)], cwd=ROOT, check=True, capture_output=True
    )
    refused = json.loads((tmp_path / "result.json").read_text())["refused"]
    assert set(refused) == {
        "file:///etc/passwd",
        "http://169.254.169.254/x.css",
        "http://127.0.0.1:9/beacon",
        "cm-file:nope",
    }


def test_rebuild_keeps_the_old_version(case, tmp_path):
    first = build(case)
    add_evidence(case)
    second = build(case)
    assert (first.version, second.version) == (1, 2)
    assert first.sha256 != second.sha256
    first.refresh_from_db()
    assert first.status == DossierStatus.DONE
    assert hashlib.sha256(pdf_of(first, tmp_path).read_bytes()).hexdigest() == first.sha256
    assert first.exhibits.count() == 0
    assert second.exhibits.count() == 1


def test_failure_is_recorded_with_the_reason(case, monkeypatch):
    def broken(context, tiles):
        raise RenderError("rendering ran out of its 64 MB")

    monkeypatch.setattr("cases.services.dossiers.render_pdf", broken)
    dossier = build(case)
    assert dossier.status == DossierStatus.FAILED
    assert "ran out" in dossier.error
    assert AuditEvent.objects.filter(action="dossier.failed").exists()


def test_time_and_memory_limits_stop_the_renderer(case, settings):
    settings.DOSSIER_TIME_LIMIT_SECONDS = 0.05
    assert "longer than" in build(case).error
    settings.DOSSIER_TIME_LIMIT_SECONDS = 120
    settings.DOSSIER_MEMORY_LIMIT_MB = 48
    failed = build(case)
    assert failed.status == DossierStatus.FAILED
    assert "failed" in failed.error or "ran out" in failed.error


def test_a_gone_or_built_dossier_is_a_quiet_no_op(case):
    assert dossier_build(dossier_id=987654) is None
    dossier = build(case)
    assert dossier_build(dossier_id=dossier.pk) is None, "a second message for a built job does nothing"


def test_build_dossier_command(case, tmp_path, capsys):
    out = tmp_path / "dossier.pdf"
    call_command("build_dossier", case.reference, "-o", str(out))
    assert out.read_bytes().startswith(b"%PDF")
    dossier = Dossier.objects.get()
    assert hashlib.sha256(out.read_bytes()).hexdigest() == dossier.sha256
    assert dossier.requested_by_job == "manage.py build_dossier"
    assert timezone.now() >= dossier.finished_at


def test_tiles_cut_short_are_completed_before_use(case):
    from evidence.models import Rendition, RenditionKind
    from evidence.renditions import renditions_prepare

    item = add_evidence(case, data=tall_screenshot(1600, 5000))
    renditions_prepare(blob=item.blob)
    planned = len(plan_tiles(1600, 5000).bands)
    Rendition.objects.filter(source=item.blob, kind=RenditionKind.PRINT_TILE, index__gte=2).delete()
    assert renditions_prepare(blob=item.blob) is True
    indexes = set(
        Rendition.objects.filter(source=item.blob, kind=RenditionKind.PRINT_TILE).values_list("index", flat=True)
    )
    assert indexes == set(range(planned))


def test_extreme_images_stay_within_bounds():
    assert len(plan_tiles(1, 150_000_000).bands) == 40
    assert len(plan_tiles(1600, 1081).bands) == 1, "no page for a thin last strip"
    bands = plan_tiles(1920, 5000).bands
    assert bands[-1][1] == 4167
    assert all(top < bottom for top, bottom in bands)


def test_a_build_that_lost_its_claim_stores_nothing(case, monkeypatch):
    from cases.dossier import render

    real = render.render_pdf

    def requeued_meanwhile(context, tiles):
        # The sweeper gave the job to another run while this one was rendering.
        Dossier.objects.filter(pk=context["dossier"].pk).update(attempts=99)
        return real(context, tiles)

    monkeypatch.setattr("cases.services.dossiers.render_pdf", requeued_meanwhile)
    dossier = dossier_request(case=case, actor=Actor.job("test"))
    assert dossier_build(dossier_id=dossier.pk) is None
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.RUNNING
    assert dossier.pdf is None
    assert not dossier.exhibits.exists()


def test_a_job_that_keeps_dying_is_given_up(case):
    import datetime as dt

    from cases.services.dossiers import MAX_ATTEMPTS, dossiers_stalled

    dossier = dossier_request(case=case, actor=Actor.job("test"))
    Dossier.objects.filter(pk=dossier.pk).update(
        status=DossierStatus.RUNNING, attempts=MAX_ATTEMPTS, started_at=timezone.now() - dt.timedelta(days=1)
    )
    assert dossiers_stalled() == []
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.FAILED
    assert "gave up" in dossier.error


def test_timeline_shows_dates_for_date_only_events(case, personas):
    from cases.dossier.content import timeline

    services.submission_record(
        case=case, channel="report_infringement", submitted_on=timezone.localdate(), actor=manager_of(personas.team)
    )
    report = next(event for event in timeline(case) if event["what"] == "Report")
    assert report["when"] == timezone.localdate().isoformat()


def test_the_requester_is_told_when_the_dossier_is_ready(
    case, personas, mailoutbox, django_capture_on_commit_callbacks
):
    personas.agent.email = "agent@example.com"
    personas.agent.save()
    with django_capture_on_commit_callbacks(execute=True):
        dossier = dossier_request(case=case, actor=Actor.of_user(personas.agent))
    note = Notification.objects.get(user=personas.agent, kind=NotificationKind.DOSSIER_READY)
    dossier.refresh_from_db()
    assert note.case_id == case.pk
    assert dossier.pdf_id in note.message
    assert [m.to for m in mailoutbox] == [["agent@example.com"]]
    assert not Notification.objects.filter(kind=NotificationKind.DOSSIER_READY).exclude(user=personas.agent).exists()
