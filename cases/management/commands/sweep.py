from typing import Any

from django.core.management.base import BaseCommand

from cases.tasks import dossier_sweep, idempotency_sweep, webhook_sweep


class Command(BaseCommand):
    help = (
        "Run the periodic sweeps once: webhook retries that are due, stalled dossier jobs, expired "
        "idempotency keys. Celery beat does this every minute; the embedded mode has no beat, so run "
        "this from cron there."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        webhooks, dossiers, keys = webhook_sweep(), dossier_sweep(), idempotency_sweep()
        self.stdout.write(f"{webhooks} webhook deliveries and {dossiers} dossiers re-queued, {keys} keys expired.")
