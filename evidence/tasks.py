from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from evidence.models import Blob
from evidence.renditions import renditions_prepare


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=120,
    time_limit=150,
)
def blob_renditions(sha256: str) -> bool:
    """Prepare a stored image's thumbnail and print tiles; quiet if the blob is gone."""
    blob = Blob.objects.filter(pk=sha256).first()
    return renditions_prepare(blob=blob) if blob is not None else False
