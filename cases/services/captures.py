"""Page captures and re-checks: collection jobs kept as rows, run by Celery tasks.

A capture's screenshot and MHTML archive are stored in one transaction with the job's
completion, by the run that owns the job (its attempt number): a worker killed half-way
leaves no evidence behind, and a re-queued run never stores the page twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import (
    Capture,
    CaptureKind,
    Case,
    CaseStorefront,
    EvidenceKind,
    JobStatus,
    NotificationKind,
    PresenceState,
    Recheck,
    Role,
    SpApiCredential,
    Storefront,
    Submission,
)
from cases.models.cases import FINISHED_STATUSES
from cases.services._common import authorize, public_url, record
from cases.services.evidence import evidence_create
from cases.services.notifications import notify_team
from cases.services.storefronts import PROFILE_FIELDS, case_storefront_mark_gone, storefront_update
from evidence.amazon import MARKETPLACES
from evidence.capture import CaptureFailed, capture_page
from evidence.errors import field_error
from evidence.sellerprofile import parse_seller_profile
from evidence.services import Actor, blobs_ingest, when_database_answers

logger = logging.getLogger(__name__)
CAPTURER = Actor.job("page_capture")
RECHECKER = Actor.job("recheck")
# Transient failures (a page that timed out, a browser that crashed) are tried this often.
MAX_ATTEMPTS = 3
_http_url = URLValidator(schemes=["http", "https"])


class _LostClaim(Exception):
    """Another run owns the job now."""


def _check_url(url: str) -> str:
    try:
        _http_url(url.strip())
    except ValidationError:
        raise field_error("url", _("Give an http or https address."), "invalid_url") from None
    return public_url(url, schemes=frozenset({"http", "https"}))


def capture_request(
    *, case: Case, url: str, actor: Actor, kind: str = CaptureKind.OTHER, storefront: Storefront | None = None
) -> Capture:
    """Queue a capture of ``url`` for the case; the address is checked before anything is written."""
    authorize(actor, case.team_id, Role.AGENT)
    if kind not in CaptureKind.values:
        raise field_error("kind", _("%(kind)r is not a capture kind.") % {"kind": kind}, "invalid_choice")
    if storefront is not None and storefront.team_id != case.team_id:
        raise field_error("storefront", _("The storefront belongs to another team."), "invalid")
    # Resolving the host is network I/O: done before the transaction opens.
    url = _check_url(url)
    with transaction.atomic():
        return capture_create(case=case, url=url, kind=kind, actor=actor, storefront=storefront)


def capture_create(*, case: Case, url: str, kind: str, actor: Actor, storefront: Storefront | None = None) -> Capture:
    """The capture row, its audit row, and its task after commit (inside the caller's transaction)."""
    from cases.tasks import capture_run_task

    capture = Capture.objects.create(
        case=case,
        url=url,
        kind=kind,
        storefront=storefront,
        requested_by=actor.user if actor.is_user else None,
        requested_by_job="" if actor.is_user else actor.name,
    )
    record(
        actor=actor,
        action="capture.requested",
        subject=capture,
        team_id=case.team_id,
        case_id=case.pk,
        after={"url": url, "kind": kind, "storefront": storefront.pk if storefront else None},
    )
    capture_run_task.delay_on_commit(capture.pk)
    return capture


@transaction.atomic  # a claim whose attempt number cannot be read back is not taken
def _claim(capture_id: int) -> int | None:
    claimed = Capture.objects.filter(pk=capture_id, status=JobStatus.PENDING).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1, progress=10, error=""
    )
    if not claimed:
        return None
    return int(Capture.objects.values_list("attempts", flat=True).get(pk=capture_id))


def _owned(capture_id: int, attempt: int) -> Any:
    return Capture.objects.filter(pk=capture_id, status=JobStatus.RUNNING, attempts=attempt)


def _put_back(capture_id: int, attempt: int) -> None:
    """The database went away mid-job: make it pending again for the task's retry, once the
    database answers, rather than leave it "running" for the sweeper."""
    try:
        when_database_answers(lambda: _owned(capture_id, attempt).update(status=JobStatus.PENDING, progress=0))
    except DatabaseError:
        logger.warning("capture %s stays running until the sweeper finds it", capture_id, exc_info=True)


def capture_run(*, capture_id: int) -> Capture | None:
    """Run a pending capture (called by its task); None when there is nothing to do.

    Raises ``CaptureFailed`` (transient) after putting the job back, so the task retries.
    """
    attempt = _claim(capture_id)
    if attempt is None:
        return None
    try:
        capture = Capture.objects.select_related("case", "storefront").get(pk=capture_id)
    except (OperationalError, InterfaceError):
        _put_back(capture_id, attempt)
        raise
    workdir = Path(tempfile.mkdtemp(prefix="capture-"))
    try:
        try:
            page = capture_page(capture.url, workdir=workdir)
        except CaptureFailed as error:
            if error.transient and attempt < MAX_ATTEMPTS:
                _owned(capture_id, attempt).update(status=JobStatus.PENDING, error=str(error)[:2000], progress=0)
                raise
            _fail(capture, error.code, str(error), attempt)
            return Capture.objects.get(pk=capture_id)
        _owned(capture_id, attempt).update(progress=80)
        try:
            _store(capture, page, attempt)
        except _LostClaim:
            return None
        except (OperationalError, InterfaceError):
            _put_back(capture_id, attempt)
            raise
        except (ValidationError, OSError) as error:
            # The page cannot be kept (too large for the store, a disk error): say so.
            _fail(capture, "store_failed", str(error), attempt)
            return Capture.objects.get(pk=capture_id)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if capture.kind == CaptureKind.SELLER_PROFILE and capture.storefront is not None:
        # Only Amazon's own page may fill in a storefront's business details.
        domain = MARKETPLACES[capture.storefront.marketplace].domain
        host = (urlsplit(page.final_url).hostname or "").lower()
        if host == domain or host.endswith(f".{domain}"):
            _read_profile(capture.storefront, page.html)
    return Capture.objects.get(pk=capture_id)


def _store(capture: Capture, page: Any, attempt: int) -> None:
    case = capture.case
    note = f"{capture.get_kind_display()} captured by {page.browser_version}"
    if page.status is not None:
        note += f"; HTTP {page.status}"
    if page.final_url != capture.url:
        note += f"; requested {capture.url}"
    with blobs_ingest(sources=[page.screenshot, page.archive]) as (shot_blob, archive_blob):
        if not _owned(capture.pk, attempt).select_for_update().exists():
            raise _LostClaim()  # rolls back; the files published here are removed again
        common = {
            "case": case,
            "actor": CAPTURER,
            "source_url": page.final_url[:2048],
            "captured_at": page.captured_at,
            "description": note,
            "storefront": capture.storefront,
        }
        shot = evidence_create(
            blob=shot_blob, kind=EvidenceKind.SCREENSHOT, original_name=f"capture-{capture.pk}.png", **common
        )
        archive = evidence_create(
            blob=archive_blob, kind=EvidenceKind.PAGE_CAPTURE, original_name=f"capture-{capture.pk}.mhtml", **common
        )
        _owned(capture.pk, attempt).update(
            status=JobStatus.DONE,
            progress=100,
            final_url=page.final_url[:2048],
            http_status=page.status,
            browser_version=page.browser_version[:100],
            captured_at=page.captured_at,
            screenshot=shot,
            archive=archive,
            finished_at=timezone.now(),
        )
        record(
            actor=CAPTURER,
            action="capture.done",
            subject=capture,
            team_id=case.team_id,
            case_id=case.pk,
            after={
                "url": capture.url,
                "final_url": page.final_url,
                "http_status": page.status,
                "screenshot": shot_blob.sha256,
                "archive": archive_blob.sha256,
                "refused_requests": page.refused[:20],
            },
        )


@transaction.atomic
def _fail(capture: Capture, code: str, message: str, attempt: int | None) -> None:
    jobs = Capture.objects.filter(pk=capture.pk) if attempt is None else _owned(capture.pk, attempt)
    updated = jobs.update(
        status=JobStatus.FAILED, error_code=code[:32], error=message[:2000], finished_at=timezone.now()
    )
    if updated:
        record(
            actor=CAPTURER,
            action="capture.failed",
            subject=capture,
            team_id=capture.case.team_id,
            case_id=capture.case_id,
            after={"url": capture.url, "code": code, "error": message[:500]},
        )


def _read_profile(storefront: Storefront, html: str) -> None:
    """What the seller profile shows feeds the storefront, and through it operator linking."""
    from cases.tasks import operator_links_detect_task

    profile = parse_seller_profile(html)
    current = Storefront.objects.get(pk=storefront.pk)
    changes = {
        name: getattr(profile, name)
        for name in PROFILE_FIELDS
        if getattr(profile, name) and getattr(profile, name) != getattr(current, name)
    }
    if changes:
        with transaction.atomic():
            storefront_update(storefront=current, actor=CAPTURER, **changes)
            operator_links_detect_task.delay_on_commit(storefront.pk)


def captures_stalled() -> list[int]:
    """Jobs whose message was lost, or whose worker died; those that died too often are failed."""
    now = timezone.now()
    lost = Q(status=JobStatus.PENDING, created_at__lt=now - dt.timedelta(minutes=2))
    dead = Q(
        status=JobStatus.RUNNING,
        started_at__lt=now - dt.timedelta(seconds=settings.CAPTURE_TIMEOUT_SECONDS * 2 + 120),
    )
    for capture in Capture.objects.filter(dead, attempts__gte=MAX_ATTEMPTS).select_related("case"):
        _fail(capture, "gave_up", f"gave up after {capture.attempts} attempts that never finished", None)
    stalled = list(Capture.objects.filter(lost | dead).values_list("pk", flat=True)[:200])
    # Only the dead go back: a capture claimed since the list was read is left to its run.
    Capture.objects.filter(dead, pk__in=stalled).update(status=JobStatus.PENDING)
    return stalled


# --- Re-checks after a report ---------------------------------------------------------------


def rechecks_schedule(*, submission: Submission) -> list[Recheck]:
    """Plan the re-checks of a filed report (inside the caller's transaction)."""
    filed = timezone.now()
    rechecks = Recheck.objects.bulk_create(
        Recheck(case_id=submission.case_id, submission=submission, due_at=filed + dt.timedelta(days=days))
        for days in sorted(set(settings.RECHECK_DAYS))
    )
    if rechecks:
        record(
            actor=RECHECKER,
            action="recheck.scheduled",
            subject=submission,
            team_id=submission.case.team_id,
            case_id=submission.case_id,
            after={"due": [r.due_at for r in rechecks]},
        )
    return rechecks


def rechecks_due() -> list[int]:
    now = timezone.now()
    stale = now - dt.timedelta(minutes=30)
    due = Q(status=JobStatus.PENDING, due_at__lte=now) | Q(status=JobStatus.RUNNING, started_at__lt=stale)
    return list(Recheck.objects.filter(due).values_list("pk", flat=True)[:200])


def recheck_run(*, recheck_id: int) -> Recheck | None:
    """Look again at the case's storefronts: capture those still selling, record those gone.

    Presence comes from the brand's SP-API offers when it has credentials; without them
    each storefront's page is captured for a person to judge.
    """
    from cases.services.detection import WATCHER, offers_observe
    from cases.services.polling import poll_listing

    now = timezone.now()
    claimed = (
        Recheck.objects.filter(pk=recheck_id)
        .filter(
            Q(status=JobStatus.PENDING, due_at__lte=now)
            | Q(status=JobStatus.RUNNING, started_at__lt=now - dt.timedelta(minutes=30))
        )
        .update(status=JobStatus.RUNNING, started_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return None
    recheck = Recheck.objects.select_related("case__brand").get(pk=recheck_id)
    case = recheck.case
    if case.status in FINISHED_STATUSES or recheck.attempts > MAX_ATTEMPTS:
        why = "the case is finished" if case.status in FINISHED_STATUSES else "gave up after repeated failures"
        status = JobStatus.DONE if case.status in FINISHED_STATUSES else JobStatus.FAILED
        Recheck.objects.filter(pk=recheck_id).update(status=status, error=why, finished_at=timezone.now())
        return Recheck.objects.get(pk=recheck_id)
    credential = SpApiCredential.objects.filter(brand=case.brand).first()
    present: set[str] | None = None
    if credential is not None:
        try:
            snapshot = poll_listing(credential=credential, asin=case.asin, marketplace=case.marketplace)
            if snapshot is not None:
                offers_observe(brand=case.brand, snapshot=snapshot, actor=WATCHER)
        except Exception:
            # Amazon throttled or is down, or the database: the task retries later, from pending.
            Recheck.objects.filter(pk=recheck_id).update(status=JobStatus.PENDING)
            raise
        if snapshot is not None:
            present = {offer.seller_id for offer in snapshot.offers}
            if not snapshot.complete:
                present |= set(
                    CaseStorefront.objects.filter(case=case, state=PresenceState.ACTIVE).values_list(
                        "storefront__seller_id", flat=True
                    )
                )
    with transaction.atomic():
        links = list(CaseStorefront.objects.filter(case=case).select_related("storefront"))
        still, gone = [], []
        for link in links:
            seller_id = link.storefront.seller_id
            if present is not None and seller_id not in present:
                if link.state == PresenceState.ACTIVE:
                    case_storefront_mark_gone(link=link, actor=RECHECKER)
                gone.append(seller_id)
            elif link.state == PresenceState.GONE and present is not None:
                gone.append(seller_id)
            else:
                still.append(seller_id)
                capture_create(
                    case=case,
                    url=link.storefront.storefront_url,
                    kind=CaptureKind.STOREFRONT,
                    storefront=link.storefront,
                    actor=RECHECKER,
                )
        Recheck.objects.filter(pk=recheck_id).update(
            status=JobStatus.DONE, still_present=still, gone=gone, finished_at=timezone.now(), error=""
        )
        record(
            actor=RECHECKER,
            action="recheck.done",
            subject=recheck,
            team_id=case.team_id,
            case_id=case.pk,
            after={"still_present": still, "gone": gone, "source": "sp_api" if present is not None else "capture"},
        )
        if links and not still and case.resolution_suggested_at is None:
            Case.objects.filter(pk=case.pk).update(resolution_suggested_at=timezone.now())
            record(
                actor=RECHECKER,
                action="case.resolution_suggested",
                subject=case,
                team_id=case.team_id,
                case_id=case.pk,
                after={"gone": gone},
            )
            notify_team(
                case=case,
                kind=NotificationKind.HIJACKERS_GONE,
                message=f"Every hijacker of {case.reference} ({case.asin}) is gone; the case can be resolved.",
            )
    return Recheck.objects.get(pk=recheck_id)
