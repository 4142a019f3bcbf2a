"""Dossiers: requested by a person or a job, built by a Celery task, kept as versions."""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from cases.dossier.content import attach_tiles, dossier_context, exhibits_of
from cases.dossier.render import RenderError, render_pdf
from cases.models import Case, Dossier, DossierExhibit, DossierStatus, Role, WebhookEvent
from cases.services._common import authorize, record
from cases.services.webhooks import emit
from evidence.renditions import renditions_prepare
from evidence.services import Actor, blob_ingest

logger = logging.getLogger(__name__)
BUILDER = Actor.job("dossier_build")


@transaction.atomic
def dossier_request(*, case: Case, actor: Actor) -> Dossier:
    """Queue a new version of the case's dossier; earlier versions are kept as they are."""
    authorize(actor, case.team_id, Role.AGENT)
    case = Case.objects.select_for_update().get(pk=case.pk)
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

    transaction.on_commit(partial(dossier_build_task.delay, dossier.pk))
    return dossier


def _progress(dossier_id: int, percent: int, stage: str) -> None:
    Dossier.objects.filter(pk=dossier_id).update(progress=percent, stage=stage)


def _claim(dossier_id: int) -> bool:
    """Queued → running, once: a duplicate message or a second worker finds nothing to do."""
    return bool(
        Dossier.objects.filter(pk=dossier_id, status=DossierStatus.QUEUED).update(
            status=DossierStatus.RUNNING,
            started_at=timezone.now(),
            attempts=F("attempts") + 1,
            progress=1,
            stage="starting",
            error="",
        )
    )


def dossier_build(*, dossier_id: int) -> Dossier | None:
    """Build a queued dossier (called by its task). Returns None when there is nothing to do."""
    if not _claim(dossier_id):
        return None
    dossier = Dossier.objects.select_related("case__brand").get(pk=dossier_id)
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
                Dossier.objects.filter(pk=dossier_id).update(
                    status=DossierStatus.DONE,
                    pdf=pdf,
                    pages=rendered.pages,
                    progress=100,
                    stage="done",
                    finished_at=timezone.now(),
                )
                DossierExhibit.objects.bulk_create(
                    DossierExhibit(
                        dossier_id=dossier_id,
                        number=e.number,
                        evidence=e.evidence,
                        blob=e.blob,
                        label=e.title[:200],
                        file_name=e.file_name,
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
    except OperationalError:
        # The database went away: put the job back for the retry rather than failing it.
        Dossier.objects.filter(pk=dossier_id).update(status=DossierStatus.QUEUED, stage="waiting to retry")
        raise
    except Exception as error:
        _fail(dossier, error)
        if not isinstance(error, RenderError):
            logger.exception("dossier %s failed", dossier_id)
        return Dossier.objects.get(pk=dossier_id)
    return dossier


@transaction.atomic
def _fail(dossier: Dossier, error: Exception) -> None:
    reason = str(error) or type(error).__name__
    Dossier.objects.filter(pk=dossier.pk).update(
        status=DossierStatus.FAILED, error=reason[:2000], stage="failed", finished_at=timezone.now()
    )
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
    stalled = list(Dossier.objects.filter(lost | dead).values_list("pk", flat=True)[:100])
    Dossier.objects.filter(pk__in=stalled, status=DossierStatus.RUNNING).update(status=DossierStatus.QUEUED)
    return stalled
