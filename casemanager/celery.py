"""The Celery app. Without REDIS_URL tasks run in-process (embedded mode)."""

import logging
import os
from functools import partial
from typing import Any

from celery import Celery
from celery.contrib.django.task import DjangoTask
from django.db import transaction
from kombu.exceptions import KombuError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casemanager.settings")
logger = logging.getLogger(__name__)


class Task(DjangoTask):
    """A task queued after the transaction that wrote its job commits.

    Jobs are committed rows (a dossier, a capture, a delivery, an e-mail, a thumbnail)
    that a sweeper re-queues when their message never arrives. So when the broker is
    down, the request that asked for the work still succeeds: the message is dropped with
    a warning, and the sweeper sends it once Redis is back. (Linking a storefront to its
    operator's other accounts has no row: it runs again when the storefront's seller
    profile is next captured.)
    """

    # celery-types says this returns a result; Celery's own returns None, as this does.
    def delay_on_commit(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        # robust: whatever happens here, the transaction's later callbacks still run.
        transaction.on_commit(partial(self._send_or_leave_to_sweeper, args, kwargs), robust=True)

    def _send_or_leave_to_sweeper(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            self.apply_async(args, kwargs)
        except KombuError as error:
            logger.warning("broker unavailable, %s%r left to its sweeper: %s", self.name, args, error)


app = Celery("casemanager", task_cls=Task)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
