"""Celery tasks of the case layer. They take IDs and return quietly when the row is gone."""

from __future__ import annotations

import datetime as dt
import json
import logging

import urllib3
from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import OperationalError, models
from django.utils import timezone

from cases.models import DeliveryStatus, WebhookDelivery
from cases.services.webhooks import (
    RETRY_WINDOW,
    SIGNATURE_HEADER,
    deliveries_due,
    retry_delay,
    sign,
)
from evidence import netguard

logger = logging.getLogger(__name__)

# A claimed delivery is not claimed again for this long, even if its worker died.
CLAIM_LEASE = dt.timedelta(minutes=2)


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
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


@shared_task(soft_time_limit=60, time_limit=90)
def webhook_sweep() -> int:
    """Re-enqueue deliveries that are due: their message was lost, or their worker died."""
    due = list(deliveries_due().values_list("pk", flat=True)[:1000])
    for delivery_id in due:
        webhook_deliver.delay(delivery_id)
    return len(due)


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=settings.DOSSIER_TIME_LIMIT_SECONDS + 60,
    time_limit=settings.DOSSIER_TIME_LIMIT_SECONDS + 90,
)
def dossier_build_task(dossier_id: int) -> None:
    """Build one dossier; quiet when it is gone, already built or being built elsewhere."""
    from cases.services.dossiers import dossier_build

    dossier_build(dossier_id=dossier_id)


@shared_task(soft_time_limit=60, time_limit=90)
def dossier_sweep() -> int:
    """Re-enqueue dossiers whose message was lost or whose worker died."""
    from cases.services.dossiers import dossiers_stalled

    stalled = dossiers_stalled()
    for dossier_id in stalled:
        dossier_build_task.delay(dossier_id)
    return len(stalled)


@shared_task(soft_time_limit=60, time_limit=90)
def idempotency_sweep() -> int:
    """Forget idempotency keys older than their time to live."""
    from cases.api.base import IDEMPOTENCY_TTL
    from cases.models import IdempotencyKey

    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - IDEMPOTENCY_TTL).delete()
    return deleted
