"""Celery tasks of the case layer. They take IDs and return quietly when the row is gone."""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import smtplib
import time
from typing import Any

import urllib3
from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, models
from django.utils import timezone, translation

from cases.models import DeliveryStatus, WebhookDelivery
from cases.services.webhooks import (
    RETRY_WINDOW,
    SIGNATURE_HEADER,
    deliveries_due,
    retry_delay,
    sign,
)
from evidence import netguard
from evidence.capture import CaptureFailed
from evidence.ratelimit import RateLimited
from evidence.spapi import Throttled, Unavailable

logger = logging.getLogger(__name__)

# Every task that writes retries when the database went away, with backoff and jitter.
RETRY_DATABASE: dict[str, Any] = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_jitter": True,
    "max_retries": 5,
}

# A claimed delivery is not claimed again for this long, even if its worker died.
CLAIM_LEASE = dt.timedelta(minutes=2)


@shared_task(
    **RETRY_DATABASE,
    soft_time_limit=60,
    time_limit=90,
)
def webhook_deliver(delivery_id: int) -> None:
    """Send one delivery if it is due; record the answer; plan the next try on failure."""
    now = timezone.now()
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING)
        .filter(models.Q(next_attempt_at__isnull=True) | models.Q(next_attempt_at__lte=now))
        .update(next_attempt_at=now + CLAIM_LEASE, last_attempt_at=now, attempts=models.F("attempts") + 1)
    )
    if not claimed:
        return  # gone, finished, not yet due, or another worker has it
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:
        return  # its endpoint was deleted meanwhile
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            status=DeliveryStatus.FAILED, next_attempt_at=None, error="endpoint paused; redeliver after resuming it"
        )
        return
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "casemanager-webhooks/1",
        "Casemanager-Event": delivery.event_type,
        "Casemanager-Delivery": str(delivery.event_id),
        SIGNATURE_HEADER: sign(endpoint.secret, timestamp, body),
    }
    update: dict[str, object] = {}
    try:
        response = netguard.post(endpoint.url, body=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
    except netguard.UnsafeURL as error:
        update = {"status": DeliveryStatus.FAILED, "error": str(error)[:500], "next_attempt_at": None}
    except (urllib3.exceptions.HTTPError, OSError, SoftTimeLimitExceeded) as error:
        # Network trouble, DNS that did not answer, or a server too slow for the task's
        # limit: all worth another try, with backoff.
        update = {"error": f"{type(error).__name__}: {error}"[:500], "response_status": None}
    else:
        update = {
            "response_status": response.status,
            "duration_ms": response.duration_ms,
            "response_excerpt": response.excerpt,
            "error": "" if 200 <= response.status < 300 else f"HTTP {response.status}",
        }
        if 200 <= response.status < 300:
            update.update(status=DeliveryStatus.SUCCEEDED, next_attempt_at=None)
    if "status" not in update:
        if timezone.now() - delivery.created_at >= RETRY_WINDOW:
            update.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
        else:
            update["next_attempt_at"] = timezone.now() + retry_delay(delivery.attempts)
    WebhookDelivery.objects.filter(pk=delivery_id).update(**update)
    # The next try is scheduled only once its time is written, so it never finds itself early.
    due = update.get("next_attempt_at")
    # In-process mode leaves retries to the sweeper.
    if isinstance(due, dt.datetime) and not settings.CELERY_TASK_ALWAYS_EAGER:
        webhook_deliver.apply_async((delivery_id,), eta=due)


def _requeue(task: Task, ids: list[int]) -> int:
    """Queue ``task`` once per row ID (what every sweeper does with what it found)."""
    for pk in ids:
        task.delay(pk)
    return len(ids)


@shared_task(soft_time_limit=60, time_limit=90)
def webhook_sweep() -> int:
    """Re-enqueue deliveries that are due: their message was lost, or their worker died."""
    due = list(deliveries_due().values_list("pk", flat=True)[:1000])
    return _requeue(webhook_deliver, due)


@shared_task(
    **RETRY_DATABASE,
    soft_time_limit=settings.DOSSIER_TIME_LIMIT_SECONDS + 60,
    time_limit=settings.DOSSIER_TIME_LIMIT_SECONDS + 90,
)
def dossier_build_task(dossier_id: int) -> None:
    """Build one dossier; quiet when it is gone, already built or being built elsewhere."""
    from cases.services.dossiers import dossier_build

    # The dossier goes to Amazon in English, whatever language the requester's page was in
    # (in the embedded mode this runs inside their request).
    with translation.override("en"):
        dossier_build(dossier_id=dossier_id)


@shared_task(soft_time_limit=60, time_limit=90)
def dossier_sweep() -> int:
    """Re-enqueue dossiers whose message was lost or whose worker died."""
    from cases.services.dossiers import dossiers_stalled

    stalled = dossiers_stalled()
    return _requeue(dossier_build_task, stalled)


@shared_task(soft_time_limit=240, time_limit=300)
def offer_notification_prune() -> int:
    from cases.services.offers import offer_notifications_prune

    return offer_notifications_prune()


@shared_task(soft_time_limit=60, time_limit=90)
def idempotency_sweep() -> int:
    """Forget idempotency keys older than their time to live."""
    from cases.api.base import IDEMPOTENCY_TTL
    from cases.models import IdempotencyKey

    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - IDEMPOTENCY_TTL).delete()
    return deleted


# --- Evidence collection ------------------------------------------------------------------


@shared_task(
    **{**RETRY_DATABASE, "autoretry_for": (OperationalError, smtplib.SMTPException, OSError), "retry_backoff": 60},
    soft_time_limit=90,
    time_limit=120,
)
def notifications_email(notification_ids: list[int]) -> int:
    """E-mail in-app notifications to members who have an address; each is sent once."""
    from cases.services.notifications import notifications_send_email

    return notifications_send_email(ids=notification_ids)


@shared_task(soft_time_limit=60, time_limit=90)
def notifications_email_sweep() -> int:
    """Re-enqueue e-mails of notifications whose message was lost."""
    from cases.selectors.notifications import notifications_unsent

    unsent = notifications_unsent()
    for start in range(0, len(unsent), 100):
        notifications_email.delay(unsent[start : start + 100])
    return len(unsent)


@shared_task(
    **RETRY_DATABASE,
    soft_time_limit=90,
    time_limit=120,
)
def operator_links_detect_task(storefront_id: int) -> None:
    from cases.models import Storefront
    from cases.services.operators import operator_links_detect

    storefront = Storefront.objects.filter(pk=storefront_id).first()
    if storefront is not None:
        operator_links_detect(storefront=storefront)


def _retry_later(task: Task, error: Exception, *, base: int, cap: int = 3600) -> None:
    """Retry a transient failure with exponential backoff and jitter.

    In the in-process mode a retry would run at once, inside the request that queued the
    task; there the job stays pending in its row and the next sweep takes it up.
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        logger.warning("%s failed (%s); the next sweep retries it", task.name, error)
        return
    delay = min(base * 2**task.request.retries, cap)
    countdown = delay + secrets.randbelow(max(delay // 5, 1) + 1)
    raise task.retry(exc=error, countdown=countdown, max_retries=5)


@shared_task(
    bind=True,
    **RETRY_DATABASE,
    soft_time_limit=settings.CAPTURE_TIMEOUT_SECONDS * 2 + 30,
    time_limit=settings.CAPTURE_TIMEOUT_SECONDS * 2 + 60,
)
def capture_run_task(self: Task, capture_id: int) -> None:
    """Capture one page; a transient failure puts the job back and is retried with backoff."""
    from cases.services.captures import capture_run

    try:
        capture_run(capture_id=capture_id)
    except CaptureFailed as error:
        _retry_later(self, error, base=10)


@shared_task(soft_time_limit=60, time_limit=90)
def capture_sweep() -> int:
    """Re-enqueue captures whose message was lost or whose worker died."""
    from cases.services.captures import captures_stalled

    stalled = captures_stalled()
    return _requeue(capture_run_task, stalled)


@shared_task(soft_time_limit=60, time_limit=90)
def watch_due() -> int:
    """Start a poll for every SP-API authorization whose brand has watch items due."""
    from cases.services.polling import credentials_due

    due = credentials_due()
    return _requeue(watch_poll_task, due)


@shared_task(
    bind=True,
    **RETRY_DATABASE,
    soft_time_limit=150,
    time_limit=180,
)
def watch_poll_task(self: Task, credential_id: int) -> int:
    """Poll one brand's due watch items; Amazon's 429s and outages are retried with backoff."""
    from cases.services.polling import watch_poll

    try:
        return watch_poll(credential_id=credential_id)
    except (Throttled, Unavailable, RateLimited) as error:
        _retry_later(self, error, base=30)
        return 0


# Set while a drain is queued or running; a request that finds it set adds nothing.
DRAIN_FLAG = "offer-notifications:drain"


def offer_notifications_schedule_drain() -> None:
    """Queue one drain of pending notifications, unless one is already on its way."""
    if cache.add(DRAIN_FLAG, 1, timeout=300):
        # Called after commit: with the broker down, the sweeper starts the drain instead.
        offer_notifications_drain.delay_on_commit()


@shared_task(
    **RETRY_DATABASE,
    soft_time_limit=240,
    time_limit=300,
)
def offer_notifications_drain() -> int:
    """Process pending notifications in batches until none is left.

    Many notifications share one task and one transaction per batch: a burst of them
    costs a few tasks, not one each.
    """
    from cases.services.offers import offer_notifications_process

    taken = 0
    while True:
        while batch := offer_notifications_process():
            taken += batch
        # Rows committed before the flag goes find this last look; later ones queue a drain.
        cache.delete(DRAIN_FLAG)
        if not offer_notifications_process():
            return taken
        cache.add(DRAIN_FLAG, 1, timeout=300)


@shared_task(soft_time_limit=60, time_limit=90)
def offer_notification_sweep() -> int:
    """Drain notifications left pending when their drain was lost or its worker died."""
    from cases.services.offers import offer_notifications_stalled

    if not offer_notifications_stalled():
        return 0
    cache.delete(DRAIN_FLAG)
    offer_notifications_schedule_drain()
    return 1


# How long one consumer run reads the queue; beat starts the next one.
SQS_RUN_SECONDS = 50
SQS_BATCH_MESSAGES = 50


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=3,
    soft_time_limit=100,
    time_limit=120,
)
def sqs_consume() -> int:
    """Long-poll the notification queue: store, process, then delete, up to 100 messages at a time."""
    from cases.services.offers import offer_notifications_consume
    from evidence import sqs

    deadline = time.monotonic() + SQS_RUN_SECONDS
    handled = 0
    while time.monotonic() < deadline:
        messages = sqs.receive(wait_seconds=10)
        if not messages:
            break
        # Drain what is already waiting, so one transaction handles many notifications.
        while len(messages) < SQS_BATCH_MESSAGES:
            more = sqs.receive(wait_seconds=0)
            if not more:
                break
            messages.extend(more)
        received = offer_notifications_consume(documents=[m.body for m in messages])
        for error in received.errors[:5]:
            logger.warning("SQS message is not an ANY_OFFER_CHANGED notification: %s", error)
        sqs.delete(messages)
        handled += len(messages)
    return handled


@shared_task(soft_time_limit=60, time_limit=90)
def recheck_due() -> int:
    from cases.services.captures import rechecks_due

    due = rechecks_due()
    return _requeue(recheck_run_task, due)


@shared_task(
    bind=True,
    **RETRY_DATABASE,
    soft_time_limit=120,
    time_limit=150,
)
def recheck_run_task(self: Task, recheck_id: int) -> None:
    from cases.services.captures import recheck_run

    try:
        recheck_run(recheck_id=recheck_id)
    except (Throttled, Unavailable, RateLimited) as error:
        _retry_later(self, error, base=60)
