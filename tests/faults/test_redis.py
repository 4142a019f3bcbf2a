"""Redis down, restarted, and restarted empty: work is accepted, every pending job runs once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.utils import timezone

from cases.models import Case, Dossier, Evidence
from cases.services.webhooks import webhook_endpoint_create
from evidence.models import AuditEvent, Blob, Rendition, RenditionKind
from tests.conftest import eventually
from tests.factories import BrandFactory, CaseFactory, add_evidence, attach, manager_of, png_bytes
from tests.faults.conftest import bearer, finished, signed_in

BUILD = "cases.tasks.dossier_build_task"
pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def case(personas: Any) -> Any:
    case = CaseFactory(brand=BrandFactory(team=personas.team), title="Hijacked listing")
    attach(case, 1, name="深圳市好运来贸易有限公司")
    add_evidence(case)
    return case


def upload(stack: Any, headers: dict[str, str], case: Case, color: str) -> requests.Response:
    return requests.post(
        f"{stack.url}/api/v1/cases/{case.pk}/evidence/",
        headers=headers,
        files={"file": (f"{color}.png", png_bytes(color=color), "image/png")},
        data={"kind": "screenshot"},
        timeout=60,
    )


def request_dossier(stack: Any, headers: dict[str, str], case: Case) -> int:
    response = requests.post(f"{stack.url}/api/v1/cases/{case.pk}/dossiers/", headers=headers, timeout=60)
    assert response.status_code == 202, response.text[:500]
    return int(response.json()["id"])


def as_if_minutes_passed(minutes: int = 10) -> None:
    """The sweepers re-queue what has waited a while; make it so without waiting."""
    earlier = timezone.now() - dt.timedelta(minutes=minutes)
    Dossier.objects.filter(status="queued").update(created_at=earlier)
    Blob.objects.update(created_at=earlier)


def sweep(stack: Any) -> None:
    result = stack.manage("sweep")
    assert result.returncode == 0, result.stderr


def built_once(ids: list[int]) -> None:
    assert sorted(Dossier.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == [1] * len(ids)
    built = AuditEvent.objects.filter(action="dossier.built", subject_id__in=[str(pk) for pk in ids])
    assert built.count() == len(ids)


def verified() -> None:
    call_command("verify_evidence")
    call_command("verify_audit")


def test_work_sent_while_redis_is_down_is_kept_and_runs_once_when_it_is_back(
    personas, settings, case, stack, private_redis, receiver
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    personas.agent.password = make_password("pw")
    personas.agent.save(update_fields=["password"])
    webhook_endpoint_create(
        team=personas.team, url=receiver.url, events=["dossier.ready"], actor=manager_of(personas.team)
    )
    headers = bearer(personas.agent)
    stack.serve()
    stack.worker()
    private_redis.stop()

    # Uploads, dossier requests and web pages still work: their state is in PostgreSQL.
    uploaded = [upload(stack, headers, case, color) for color in ("navy", "teal", "olive")]
    assert [r.status_code for r in uploaded] == [201, 201, 201], [r.text[:300] for r in uploaded]
    dossiers = [request_dossier(stack, headers, case) for _ in range(2)]
    browser = signed_in(stack, "agent", "pw")  # the sign-in rate limit counts in-process meanwhile
    page = browser.get(f"{stack.url}/cases/{case.pk}/", timeout=30)
    assert page.status_code == 200
    assert "深圳市好运来贸易有限公司" in page.text
    listed = requests.get(f"{stack.url}/api/v1/cases/{case.pk}/dossiers/", headers=headers, timeout=30)
    assert {d["status"] for d in listed.json()} == {"queued"}

    private_redis.start()
    as_if_minutes_passed()
    sweep(stack)
    finished(Dossier, dossiers)
    built_once(dossiers)
    eventually(lambda: len(receiver.requests) >= 2, what="the dossier.ready webhooks")
    assert sorted(r["json"]["object"]["id"] for r in receiver.requests) == sorted(dossiers)
    # The thumbnails whose message was lost are made by their sweeper.
    shas = [item.json()["sha256"] for item in uploaded]
    thumbnails = Rendition.objects.filter(source_id__in=shas, kind=RenditionKind.THUMBNAIL)
    eventually(lambda: thumbnails.count() == len(shas), what="thumbnails of uploads sent while Redis was down")
    assert Evidence.objects.filter(case=case).count() == 4
    verified()


@pytest.mark.parametrize("wiped", [False, True], ids=["queue-kept", "queue-lost"])
def test_a_restarted_redis_with_or_without_its_queue_runs_each_job_once(personas, case, stack, private_redis, wiped):
    headers = bearer(personas.agent)
    stack.serve()
    dossiers = [request_dossier(stack, headers, case) for _ in range(2)]
    assert private_redis.queued(BUILD) == 2

    private_redis.stop()
    if wiped:
        private_redis.wipe()
    private_redis.start()
    assert private_redis.queued(BUILD) == (0 if wiped else 2)

    # The sweeper queues both again; where the first messages survived, each job is queued twice.
    as_if_minutes_passed()
    sweep(stack)
    assert private_redis.queued(BUILD) == (2 if wiped else 4)
    stack.worker()
    finished(Dossier, dossiers)
    eventually(lambda: private_redis.queued(BUILD) == 0, what="the queue to drain")
    built_once(dossiers)
    verified()
