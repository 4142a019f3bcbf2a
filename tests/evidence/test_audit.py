import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from evidence.models import AuditChain, AuditEvent, Blob
from evidence.selectors import audit_verify_all
from evidence.services import Actor, audit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def subject():
    return Blob.objects.create(sha256="a" * 64, size=1, mime_type="text/plain")


def write(subject, n=3, chain="team:1"):
    with transaction.atomic():
        for i in range(n):
            audit_record(
                actor=Actor.job("test"),
                action="thing.changed",
                subject=subject,
                chain=chain,
                ref="case:1",
                before={"n": i},
                after={"n": i + 1, "name": "深圳市好运来贸易有限公司"},
            )


def breaks():
    return [str(problem) for _, problem in audit_verify_all() if problem is not None]


def test_rows_chain_by_hash(subject):
    write(subject)
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[1].prev_hash == events[0].hash
    assert AuditChain.objects.get(key="team:1").head_hash == events[2].hash
    assert breaks() == []


@pytest.mark.django_db(transaction=True)
def test_audit_outside_a_transaction_is_refused(subject):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(actor=Actor.job("t"), action="x", subject=subject, chain="team:1")


def test_changed_row_is_detected(subject):
    write(subject)
    AuditEvent.objects.filter(seq=2).update(actor_name="someone else")
    row_id = AuditEvent.objects.get(seq=2).pk
    assert breaks() == [f"chain team:1, seq 2 (row id {row_id}): content does not match its hash: row changed"]


def test_removed_middle_row_is_detected(subject):
    write(subject)
    AuditEvent.objects.filter(seq=2).delete()
    assert "row missing" in breaks()[0]


def test_removed_last_row_is_detected(subject):
    write(subject)
    AuditEvent.objects.filter(seq=3).delete()
    assert "removed" in breaks()[0]


def test_chains_are_independent(subject):
    write(subject, chain="team:1")
    write(subject, chain="team:2")
    AuditEvent.objects.filter(chain="team:2", seq=1).update(action="forged")
    problems = breaks()
    assert len(problems) == 1
    assert problems[0].startswith("chain team:2, seq 1")


def test_a_chain_rewritten_without_the_key_does_not_verify(subject, settings):
    write(subject)
    settings.AUDIT_KEY = "a key an attacker guessed"
    assert "row changed" in breaks()[0]


def test_removing_a_whole_chain_is_detected(subject):
    write(subject, chain="team:1")
    AuditEvent.objects.all().delete()
    AuditChain.objects.all().delete()
    problems = [str(p) for _, p in audit_verify_all(expected={"team:1"}) if p]
    assert problems == ["chain team:1, seq 0 (no row): whole chain removed"]


def test_verify_audit_command_exit_codes(subject, capsys):
    write(subject)
    call_command("verify_audit")
    assert "All 1 audit chains verify" in capsys.readouterr().out
    AuditEvent.objects.filter(seq=1).update(after={"n": 99})
    with pytest.raises(CommandError) as error:
        call_command("verify_audit")
    assert error.value.returncode == 1
    assert "chain team:1, seq 1" in capsys.readouterr().err
