"""Dossiers: requested by a person or a job, built by a Celery task, kept as versions."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from cases.dossier.content import attach_tiles, dossier_context, exhibits_of
from cases.dossier.render import RenderError, render_pdf
from cases.models import Case, Dossier, DossierExhibit, DossierStatus, NotificationKind, Role, WebhookEvent
from cases.services._common import authorize, record
from cases.services.notifications import notify_users
from cases.services.webhooks import emit
from evidence.renditions import renditions_prepare
from evidence.services import Actor, blob_ingest, when_database_answers

logger = logging.getLogger(__name__)
BUILDER = Actor.job("dossier_build")
# A job that has taken down its worker this many times is failed, not retried forever.
MAX_ATTEMPTS = 3


class _LostClaim(Exception):
    """Another run owns the job now (it was re-queued while this one was still going)."""


@transaction.atomic
def dossier_request(*, case: Case, actor: Actor) -> Dossier:
    """Queue a new version of the case's dossier; earlier versions are kept as they are."""
    authorize(actor, case.team_id, Role.AGENT)
    case = Case.objects.select_for_update(no_key=True).get(pk=case.pk)
    latest = Dossier.objects.filter(case=case).aggregate(latest=Max("version"))["latest"] or 0
    dossier = Dossier.objects.create(
        case=case,
        version=latest + 1,
        requested_by=actor.user if actor.is_user else None,
        requested_by_job="" if actor.is_user else actor.name,
    )
    record(
        actor=actor,
        action="dossier.requested",
        subject=dossier,
        team_id=case.team_id,
        case_id=case.pk,
        after={"version": dossier.version},
    )
    from cases.tasks import dossier_build_task

    dossier_build_task.delay_on_commit(dossier.pk)
    return dossier


def _progress(dossier_id: int, percent: int, stage: str) -> None:
    Dossier.objects.filter(pk=dossier_id).update(progress=percent, stage=stage)


@transaction.atomic  # a claim whose attempt number cannot be read back is not taken
def _claim(dossier_id: int) -> int | None:
    """Queued → running, once; returns the attempt number this run owns, or None."""
    claimed = Dossier.objects.filter(pk=dossier_id, status=DossierStatus.QUEUED).update(
        status=DossierStatus.RUNNING,
        started_at=timezone.now(),
        attempts=F("attempts") + 1,
        progress=1,
        stage="starting",
        error="",
    )
    if not claimed:
        return None
    return int(Dossier.objects.values_list("attempts", flat=True).get(pk=dossier_id))


def _owned(dossier_id: int, attempt: int) -> Any:
    return Dossier.objects.filter(pk=dossier_id, status=DossierStatus.RUNNING, attempts=attempt)


def dossier_build(*, dossier_id: int) -> Dossier | None:
    """Build a queued dossier (called by its task). Returns None when there is nothing to do."""
    attempt = _claim(dossier_id)
    if attempt is None:
        return None
    try:
        dossier = Dossier.objects.select_related("case__brand").get(pk=dossier_id)
    except (OperationalError, InterfaceError):
        _put_back(dossier_id, attempt)
        raise
    try:
        _progress(dossier_id, 5, "collecting evidence")
        exhibits = exhibits_of(dossier.case)
        for done, exhibit in enumerate(exhibits, start=1):
            # Normally made at upload; made here for evidence stored before that existed.
            renditions_prepare(blob=exhibit.blob)
            _progress(dossier_id, 5 + 40 * done // max(len(exhibits), 1), "preparing images")
        tiles = attach_tiles(exhibits)
        _progress(dossier_id, 50, "rendering")
        context = dossier_context(dossier, exhibits)
        with render_pdf(context, tiles) as rendered:
            if rendered.refused:
                logger.warning("dossier %s refused to load %s", dossier_id, rendered.refused[:5])
            _progress(dossier_id, 90, "storing")
            with blob_ingest(source=rendered.pdf) as pdf:
                finished = _owned(dossier_id, attempt).update(
                    status=DossierStatus.DONE,
                    pdf=pdf,
                    pages=rendered.pages,
                    progress=100,
                    stage="done",
                    finished_at=timezone.now(),
                )
                if not finished:
                    raise _LostClaim()  # rolls back; the run that owns the job will store its own
                DossierExhibit.objects.bulk_create(
                    DossierExhibit(
                        dossier_id=dossier_id,
                        number=e.number,
                        evidence=e.evidence,
                        blob=e.blob,
                        label=e.title[:200],
                        file_name=e.file_name,
                        source_url=e.source_url,
                        captured_at=e.captured,
                    )
                    for e in exhibits
                )
                dossier.refresh_from_db()
                record(
                    actor=BUILDER,
                    action="dossier.built",
                    subject=dossier,
                    team_id=dossier.case.team_id,
                    case_id=dossier.case_id,
                    after={
                        "version": dossier.version,
                        "sha256": pdf.sha256,
                        "pages": rendered.pages,
                        "exhibits": [e.sha256 for e in exhibits],
                    },
                )
                emit(WebhookEvent.DOSSIER_READY, dossier, team_id=dossier.case.team_id)
                if dossier.requested_by_id is not None:
                    notify_users(
                        case=dossier.case,
                        user_ids=[dossier.requested_by_id],
                        kind=NotificationKind.DOSSIER_READY,
                        message=f"Dossier v{dossier.version} of {dossier.case.reference} is ready "
                        f"({rendered.pages} pages, SHA-256 {pdf.sha256}).",
                    )
    except _LostClaim:
        return None
    except (OperationalError, InterfaceError):
        _put_back(dossier_id, attempt)
        raise
    except Exception as error:
        _fail(dossier, error, attempt)
        if not isinstance(error, RenderError):
            logger.exception("dossier %s failed", dossier_id)
        return Dossier.objects.get(pk=dossier_id)
    return dossier


def _put_back(dossier_id: int, attempt: int) -> None:
    """The database went away mid-build: queue the job again for the task's retry, once the
    database answers, rather than fail it (or leave it "running" for the sweeper)."""
    try:
        when_database_answers(
            lambda: _owned(dossier_id, attempt).update(status=DossierStatus.QUEUED, stage="waiting to retry")
        )
    except DatabaseError:
        logger.warning("dossier %s stays running until the sweeper finds it", dossier_id, exc_info=True)


@transaction.atomic
def _fail(dossier: Dossier, error: Exception, attempt: int | None) -> None:
    reason = str(error) or type(error).__name__
    jobs = Dossier.objects.filter(pk=dossier.pk) if attempt is None else _owned(dossier.pk, attempt)
    if not jobs.update(status=DossierStatus.FAILED, error=reason[:2000], stage="failed", finished_at=timezone.now()):
        return  # another run owns the job

    record(
        actor=BUILDER,
        action="dossier.failed",
        subject=dossier,
        team_id=dossier.case.team_id,
        case_id=dossier.case_id,
        after={"version": dossier.version, "error": reason[:500]},
    )


def dossiers_stalled() -> list[int]:
    """Jobs whose message was lost (queued for a while) or whose worker died (running too long)."""
    now = timezone.now()
    lost = Q(status=DossierStatus.QUEUED, created_at__lt=now - dt.timedelta(minutes=2))
    dead = Q(
        status=DossierStatus.RUNNING,
        started_at__lt=now - dt.timedelta(seconds=settings.DOSSIER_TIME_LIMIT_SECONDS + 300),
    )
    for dossier in Dossier.objects.filter(dead, attempts__gte=MAX_ATTEMPTS).select_related("case"):
        _fail(dossier, RenderError(f"gave up after {dossier.attempts} attempts that never finished"), None)
    stalled = list(Dossier.objects.filter(lost | dead).values_list("pk", flat=True)[:100])
    Dossier.objects.filter(pk__in=stalled, status=DossierStatus.RUNNING).update(status=DossierStatus.QUEUED)
    _remove_stale_workdirs()
    return stalled


def _remove_stale_workdirs() -> None:
    """Rendering folders left by a worker that was killed (they hold case data)."""
    cutoff = time.time() - settings.DOSSIER_TIME_LIMIT_SECONDS - 3600
    for folder in Path(tempfile.gettempdir()).glob("dossier-*"):
        if folder.is_dir() and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
