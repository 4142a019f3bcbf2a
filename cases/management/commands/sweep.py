from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from cases.tasks import (
    capture_sweep,
    dossier_sweep,
    idempotency_sweep,
    notifications_email_sweep,
    offer_notification_prune,
    offer_notification_sweep,
    recheck_due,
    sqs_consume,
    watch_due,
    webhook_sweep,
)
from evidence.tasks import blob_renditions_sweep


class Command(BaseCommand):
    help = (
        "Run the periodic jobs once: webhook retries that are due, stalled dossier and capture jobs, "
        "e-mails and thumbnails whose message was lost, "
        "notifications left pending, watch-list polls and re-checks that are due, the SQS queue when "
        "one is configured, and expired idempotency keys. Celery beat does this on its schedule; the "
        "embedded mode has no beat, so run this from cron there."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = {
            "webhook deliveries re-queued": webhook_sweep(),
            "dossiers re-queued": dossier_sweep(),
            "captures re-queued": capture_sweep(),
            "e-mails re-queued": notifications_email_sweep(),
            "renditions re-queued": blob_renditions_sweep(),
            "notifications re-queued": offer_notification_sweep(),
            "brands polled": watch_due(),
            "re-checks run": recheck_due(),
            "idempotency keys expired": idempotency_sweep(),
            "old notifications forgotten": offer_notification_prune(),
        }
        if settings.SPAPI_SQS_QUEUE_URL:
            counts["SQS messages read"] = sqs_consume()
        self.stdout.write(", ".join(f"{count} {what}" for what, count in counts.items()) + ".")
