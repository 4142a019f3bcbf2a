import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cases.models import Case, Evidence, Sighting, Storefront, Team, TestBuy
from evidence.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_demo_loads_once_and_keeps_teams_apart(capsys):
    call_command("demo")
    counts = (Case.objects.count(), Evidence.objects.count(), AuditEvent.objects.count())
    call_command("demo")
    assert (Case.objects.count(), Evidence.objects.count(), AuditEvent.objects.count()) == counts
    out = capsys.readouterr().out
    assert "demo / demo" in out
    demo = Team.objects.get(slug="demo")
    names = set(Storefront.objects.filter(team=demo).values_list("name", flat=True))
    assert "深圳市好运来贸易有限公司" in names
    assert "株式会社さくら商事" in names
    assert (
        Case.objects.filter(team=demo, status__in=["new", "investigating", "warned", "test_buy", "reported"]).count()
        == 2
    )
    assert Sighting.objects.filter(case__team=demo).dates("seen_at", "day").count() >= 3
    assert TestBuy.objects.filter(case__team=demo).exists()
    from django.contrib.auth import get_user_model

    outsider = get_user_model().objects.get(username="outsider")
    assert not Case.objects.visible_to(outsider).filter(team=demo).exists()
    assert outsider.check_password("outsider")


def test_verify_evidence_names_changed_and_missing_items(settings, capsys):
    call_command("demo")
    call_command("verify_evidence")
    assert "match their SHA-256" in capsys.readouterr().out
    item = Evidence.objects.select_related("case").first()
    path = Path(settings.EVIDENCE_ROOT) / item.blob.storage_name
    path.chmod(0o644)
    path.write_bytes(b"edited")
    with pytest.raises(CommandError) as error:
        call_command("verify_evidence")
    assert error.value.returncode == 1
    err = capsys.readouterr().err
    assert f"CHANGED sha256 {item.blob_id}" in err
    assert f"evidence #{item.pk} of case {item.case.reference}" in err
    path.unlink()
    with pytest.raises(CommandError):
        call_command("verify_evidence")
    assert "MISSING" in capsys.readouterr().err


def test_verify_evidence_reports_and_deletes_orphan_files(settings, capsys):
    call_command("demo")
    orphan = Path(settings.EVIDENCE_ROOT) / "sha256" / "ab" / "cd" / ("abcd" + "0" * 60)
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left by a crash")
    os.utime(orphan, (0, 0))
    with pytest.raises(CommandError):
        call_command("verify_evidence")
    assert "ORPHAN sha256/ab/cd/abcd" in capsys.readouterr().err
    call_command("verify_evidence", "--delete-orphans")
    assert not orphan.exists()
    call_command("verify_evidence")


def test_verify_audit_after_demo_and_after_tampering(capsys):
    call_command("demo")
    call_command("verify_audit")
    AuditEvent.objects.filter(action="case.created").first().delete()
    with pytest.raises(CommandError):
        call_command("verify_audit")
    assert "BROKEN chain team:" in capsys.readouterr().err
