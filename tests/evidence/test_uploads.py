"""Hostile uploads are refused with a clear reason and leave no row and no file behind."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from cases.models import Evidence
from evidence.models import AuditEvent, Blob
from tests.factories import BrandFactory, CaseFactory, add_evidence, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(personas: Any) -> Any:
    return CaseFactory(brand=BrandFactory(team=personas.team))


def _bomb() -> bytes:
    # 256 million pixels in a few kilobytes: decoding it would take gigabytes.
    out = io.BytesIO()
    Image.new("1", (16_000, 16_000)).save(out, format="PNG")
    return out.getvalue()


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("invoice.pdf", b"\0" * (50 * 1024 * 1024))
    return out.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"

HOSTILE = [
    ("decompression bomb", _bomb, "screenshot", "offers.png", "too_many_pixels"),
    ("svg with script", lambda: SVG, "document", "logo.svg", "svg_refused"),
    ("html named png as screenshot", lambda: HTML, "screenshot", "offers.png", "not_an_image"),
    ("html named png as document", lambda: HTML, "document", "offers.png", "type_mismatch"),
    ("png with html appended", lambda: png_bytes() + HTML, "screenshot", "offers.png", "trailing_data"),
    ("zip bomb as document", _zip_bomb, "document", "invoices.zip", "zip_bomb"),
    ("empty file", lambda: b"", "document", "empty.pdf", "empty_file"),
    ("truncated png", lambda: png_bytes()[:40], "screenshot", "offers.png", "bad_image"),
]


@pytest.mark.parametrize(("what", "make", "kind", "name", "code"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_uploads_are_refused_and_leave_nothing(case, settings, what, make, kind, name, code):
    audit_before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        add_evidence(case, make(), kind=kind, original_name=name)
    assert refused.value.error_dict["file"][0].code == code
    assert not Evidence.objects.exists()
    assert not Blob.objects.exists()
    assert AuditEvent.objects.count() == audit_before
    root = Path(settings.EVIDENCE_ROOT)
    assert [p for p in root.rglob("*") if p.is_file()] == []


def test_a_file_over_the_limit_is_refused_and_leaves_nothing(case, settings):
    settings.EVIDENCE_MAX_BYTES = 1000
    with pytest.raises(ValidationError) as refused:
        add_evidence(case, b"%PDF-1.4\n" + b"0" * 2000, kind="document", original_name="big.pdf")
    assert refused.value.error_dict["file"][0].code == "file_too_large"
    assert not Blob.objects.exists()


def test_hostile_names_are_kept_as_clean_metadata_only(case):
    # A browser may send a full Windows path; names never reach the storage path.
    item = add_evidence(case, original_name="C:\\..\\..\\etc\\" + "\x00" * 3 + "é" * 300 + ".png")
    assert "/" not in item.original_name
    assert "\\" not in item.original_name
    assert "\x00" not in item.original_name
    assert len(item.original_name) <= 255


def test_an_ordinary_screenshot_photo_and_invoice_are_accepted(case):
    jpeg = io.BytesIO()
    Image.new("RGB", (800, 600), "white").save(jpeg, format="JPEG")
    add_evidence(case, png_bytes(), kind="screenshot", original_name="offers.png")
    add_evidence(case, jpeg.getvalue(), kind="test_buy_photo", original_name="unboxing.jpg")
    add_evidence(case, b"%PDF-1.4\n%%EOF\n", kind="invoice", original_name="invoice.pdf")
    assert Evidence.objects.count() == 3
