from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from evidence.models import Blob
from evidence.renditions import renditions_prepare

# Retries when the database went away, with backoff and jitter.
RETRY_DATABASE: dict[str, Any] = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(**RETRY_DATABASE, soft_time_limit=120, time_limit=150)
def blob_renditions(sha256: str) -> bool:
    """Prepare a stored image's thumbnail and print tiles; quiet if the blob is gone."""
    blob = Blob.objects.filter(pk=sha256).first()
    return renditions_prepare(blob=blob) if blob is not None else False


@shared_task(soft_time_limit=60, time_limit=90)
def blob_renditions_sweep() -> int:
    """Re-enqueue the renditions of images that still have none."""
    from evidence.selectors import blobs_without_renditions

    pending = blobs_without_renditions()
    for sha256 in pending:
        blob_renditions.delay(sha256)
    return len(pending)
