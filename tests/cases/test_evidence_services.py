import datetime as dt
import hashlib
import io
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases import services
from cases.models import Evidence
from evidence.models import AuditEvent, Blob
from evidence.services import Actor
from tests.factories import BrandFactory, CaseFactory, add_evidence, attach, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(personas):
    return CaseFactory(brand=BrandFactory(team=personas.team))


def stored_files(settings):
    return [p for p in Path(settings.EVIDENCE_ROOT).rglob("*") if p.is_file() and ".staging" not in p.parts]


def test_ingest_records_hash_type_custody_and_audit(personas, case):
    data = png_bytes()
    storefront = attach(case, 1)
    item = services.evidence_ingest(
        case=case,
        file=io.BytesIO(data),
        kind="screenshot",
        actor=Actor.of_user(personas.agent),
        original_name="C:\\Users\\me\\..\\..\\etc\\offers.png",
        source_url="https://www.amazon.com/dp/B0C1HJ4K2L",
        storefront=storefront,
        description="Offer page",
    )
    assert item.sha256 == hashlib.sha256(data).hexdigest()
    assert item.blob.mime_type == "image/png"
    assert item.original_name == "offers.png"
    assert item.captured_by == personas.agent
    assert item.captured_by_label == "agent"
    event = AuditEvent.objects.get(action="evidence.added")
    assert event.after["blob"] == item.sha256
    assert event.ref == f"case:{case.pk}"


def test_file_names_never_reach_the_storage_path(personas, case, settings):
    item = add_evidence(case, original_name="../../../../tmp/evil\x00.png")
    paths = stored_files(settings)
    assert paths == [Path(settings.EVIDENCE_ROOT) / "sha256" / item.sha256[:2] / item.sha256[2:4] / item.sha256]
    assert "\x00" not in item.original_name
    assert "/" not in item.original_name


def test_job_actor_is_recorded_as_the_capturer(personas, case):
    item = add_evidence(case, actor=Actor.job("page_capture"))
    assert item.captured_by is None
    assert item.captured_by_label == "job page_capture"


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("kind", {"kind": "rumour"}),
        ("source_url", {"source_url": "javascript:alert(1)"}),
        ("source_url", {"source_url": "file:///etc/passwd"}),
        ("captured_at", {"captured_at": timezone.now() + dt.timedelta(days=1)}),
        ("file", {"data": b""}),
    ],
)
def test_bad_input_leaves_nothing(personas, case, settings, field, kwargs):
    with pytest.raises(ValidationError) as error:
        add_evidence(case, **kwargs)
    assert field in error.value.message_dict
    assert not Evidence.objects.exists()
    assert not Blob.objects.exists()
    assert stored_files(settings) == []


@pytest.mark.django_db(transaction=True)
def test_failure_midway_leaves_no_row_and_no_file(personas, case, settings, monkeypatch):
    def broken_audit(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("cases.services.evidence.record", broken_audit)
    with pytest.raises(RuntimeError):
        add_evidence(case)
    assert not Evidence.objects.exists()
    assert not Blob.objects.exists()
    assert stored_files(settings) == []


def test_viewer_and_outsider_cannot_upload(personas, case, settings):
    for user in (personas.viewer, personas.outsider):
        with pytest.raises(PermissionDenied):
            add_evidence(case, actor=Actor.of_user(user))
    assert stored_files(settings) == []


def test_evidence_is_immutable(personas, case):
    item = add_evidence(case)
    item.description = "rewritten"
    with pytest.raises(ValueError, match="immutable"):
        item.save()
    with pytest.raises(ValueError, match="immutable"):
        item.save(update_fields=["blob"])


def test_withdrawal_keeps_the_file_and_says_who_and_why(personas, case, settings):
    item = add_evidence(case)
    with pytest.raises(ValidationError):
        services.evidence_withdraw(evidence=item, reason=" ", actor=Actor.of_user(personas.agent))
    item = services.evidence_withdraw(evidence=item, reason="Wrong listing", actor=Actor.of_user(personas.agent))
    assert item.is_withdrawn
    assert item.withdrawn_by == personas.agent
    assert len(stored_files(settings)) == 1
    with pytest.raises(ValidationError):
        services.evidence_withdraw(evidence=item, reason="again", actor=Actor.of_user(personas.agent))
