"""A Celery worker killed (SIGKILL) in the middle of a dossier build: the build runs again to
completion and stores one PDF; nothing partial is visible meanwhile. (A page capture killed
mid-job is in tests/cases/test_collection_worker.py.)"""

from __future__ import annotations

import datetime as dt
import os
import signal

import pytest
import requests
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from cases.models import Dossier
from evidence.models import AuditEvent, Blob
from tests.conftest import eventually
from tests.factories import BrandFactory, CaseFactory, add_evidence, attach, png_bytes
from tests.faults.conftest import bearer, finished

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def build_waits_for_the_row() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # see the other sessions as they are now
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return bool(cursor.fetchone()[0])


def test_a_dossier_build_killed_mid_render_runs_again_and_stores_one_pdf(personas, stack):
    case = CaseFactory(brand=BrandFactory(team=personas.team))
    attach(case, 1, name="深圳市好运来贸易有限公司")
    # Enough tall screenshots that rendering takes a while: the kill lands inside it.
    for shade in range(12):
        add_evidence(case, png_bytes(width=1600, height=4000, color=(shade * 20, 90, 160)))
    headers = bearer(personas.agent)
    stack.serve()
    first = stack.worker()
    response = requests.post(f"{stack.url}/api/v1/cases/{case.pk}/dossiers/", headers=headers, timeout=60)
    assert response.status_code == 202
    dossier_id = response.json()["id"]
    eventually(
        lambda: Dossier.objects.filter(pk=dossier_id, stage="rendering").exists(), timeout=120, what="the render"
    )
    blobs_before = Blob.objects.count()
    # Holding the job's row stops the build at its next progress update, before it stores
    # anything: the kill lands at a known point, however fast or slow the machine is.
    with transaction.atomic():
        assert Dossier.objects.select_for_update().get(pk=dossier_id).stage == "rendering"
        eventually(build_waits_for_the_row, timeout=120, what="the build to wait for the row")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)

    # Nothing of the killed run is visible or stored.
    assert Dossier.objects.get(pk=dossier_id).status == "running"
    pdf = requests.get(f"{stack.url}/api/v1/dossiers/{dossier_id}/pdf/", headers=headers, timeout=30)
    assert pdf.status_code in (404, 409)
    assert Blob.objects.count() == blobs_before

    # Its time limit has passed: the sweeper puts the job back, a new worker builds it.
    started = timezone.now() - dt.timedelta(seconds=settings.DOSSIER_TIME_LIMIT_SECONDS + 600)
    Dossier.objects.filter(pk=dossier_id).update(started_at=started)
    assert stack.manage("sweep").returncode == 0
    stack.worker()
    finished(Dossier, [dossier_id])
    dossier = Dossier.objects.get(pk=dossier_id)
    assert dossier.attempts == 2
    assert Blob.objects.count() == blobs_before + 1  # the one PDF
    assert AuditEvent.objects.filter(action="dossier.built", subject_id=str(dossier_id)).count() == 1
    pdf = requests.get(f"{stack.url}/api/v1/dossiers/{dossier_id}/pdf/", headers=headers, timeout=30)
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    call_command("verify_evidence")
    call_command("verify_audit")
