"""ANY_OFFER_CHANGED notifications: stored as received, then run through detection once.

They arrive from Amazon's SQS queue or the HTTPS endpoint, possibly twice: the
``NotificationId`` makes a repeat a no-op. Rows are processed in batches, one
transaction each; a batch that fails falls back to one notification at a time, so one
bad notification cannot hold the others back.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import DatabaseError, OperationalError, connection, transaction
from django.utils import timezone

from cases.models import Brand, NotificationStatus, OfferNotification, SpApiCredential, WatchItem
from cases.services.detection import WATCHER, Listing, authorized_sellers, listings_observe
from evidence.offers import OfferSnapshot, SnapshotError, snapshot_from_notification

logger = logging.getLogger(__name__)


@dataclass
class Received:
    pending: list[int]  # rows waiting for detection, these and earlier deliveries of them
    duplicates: int  # notifications already received before (by NotificationId)
    errors: list[str]  # documents that are not ANY_OFFER_CHANGED notifications (not stored)


def offer_notifications_receive(
    *, documents: Iterable[object], via: str, team_ids: list[int] | None = None
) -> Received:
    """Store notifications as received; a NotificationId already stored is not stored again."""
    rows: dict[str, OfferNotification] = {}
    errors: list[str] = []
    for document in documents:
        try:
            snapshot = snapshot_from_notification(document)
        except SnapshotError as error:
            errors.append(str(error))
            continue
        rows.setdefault(
            snapshot.notification_id,
            OfferNotification(
                notification_id=snapshot.notification_id, received_via=via, team_ids=team_ids, payload=document
            ),
        )
    known = set(OfferNotification.objects.filter(notification_id__in=rows).values_list("notification_id", flat=True))
    OfferNotification.objects.bulk_create([row for key, row in rows.items() if key not in known], ignore_conflicts=True)
    pending = OfferNotification.objects.filter(notification_id__in=rows, status=NotificationStatus.PENDING)
    return Received(list(pending.values_list("pk", flat=True)), len(known), errors)


def _partner_of(brand: Brand) -> str:
    try:
        return brand.sp_api.selling_partner_id
    except SpApiCredential.DoesNotExist:
        return ""


def _routes(row: OfferNotification, snapshot: OfferSnapshot, items: list[WatchItem]) -> list[Brand]:
    """Which brands a notification is for: by the posting user's teams, or by the subscriber."""
    if row.team_ids is not None:
        return [item.brand for item in items if item.brand.team_id in row.team_ids]
    if not snapshot.subscriber:
        return []
    return [item.brand for item in items if _partner_of(item.brand) == snapshot.subscriber]


def _detect(rows: list[OfferNotification], known: dict[str, OfferSnapshot]) -> None:
    """Detection for these rows, and their status, in the caller's transaction."""
    now = timezone.now()
    parsed: list[tuple[OfferNotification, OfferSnapshot]] = []
    for row in rows:
        row.processed_at = now
        try:
            snapshot = known.get(row.notification_id) or snapshot_from_notification(row.payload)
        except SnapshotError as error:
            row.status, row.error = NotificationStatus.IGNORED, str(error)
            continue
        parsed.append((row, snapshot))
    watchers: dict[tuple[str, str], list[WatchItem]] = {}
    for item in WatchItem.objects.filter(asin__in={s.asin for _, s in parsed}).select_related("brand__sp_api"):
        watchers.setdefault((item.asin, item.marketplace), []).append(item)
    listings: dict[tuple[int, str, str], Listing] = {}
    authorized: dict[tuple[int, str], frozenset[str]] = {}
    for row, snapshot in parsed:
        brands = _routes(row, snapshot, watchers.get((snapshot.asin, snapshot.marketplace), []))
        if not brands:
            row.status, row.error = NotificationStatus.IGNORED, "No brand watches this listing."
            continue
        row.status, row.error = NotificationStatus.DONE, ""
        for brand in brands:
            key = (brand.pk, snapshot.asin, snapshot.marketplace)
            if key not in listings:
                if (brand.pk, snapshot.marketplace) not in authorized:
                    authorized[(brand.pk, snapshot.marketplace)] = authorized_sellers(brand, snapshot.marketplace)
                allowed = authorized[(brand.pk, snapshot.marketplace)]
                listings[key] = Listing(brand, snapshot.asin, snapshot.marketplace, [], allowed)
            listings[key].snapshots.append(snapshot)
    listings_observe(listings=list(listings.values()), actor=WATCHER)
    done = [row.pk for row in rows if row.status == NotificationStatus.DONE]
    OfferNotification.objects.filter(pk__in=done).update(
        status=NotificationStatus.DONE, error="", processed_at=now, payload=None
    )
    for row in rows:
        if row.status != NotificationStatus.DONE:
            OfferNotification.objects.filter(pk=row.pk).update(status=row.status, error=row.error, processed_at=now)


def _claim(ids: list[int] | None, limit: int) -> list[OfferNotification]:
    pending = OfferNotification.objects.select_for_update(skip_locked=True).filter(status=NotificationStatus.PENDING)
    if ids is not None:
        pending = pending.filter(pk__in=ids)
    return list(pending.order_by("pk")[:limit])


def offer_notifications_process(*, ids: list[int] | None = None, limit: int = 200) -> int:
    """Run detection for pending notifications (these, or the oldest ``limit``), each once.

    Returns how many rows it took. Rows are claimed with ``SKIP LOCKED`` and marked in the
    same transaction as what they caused: a worker that dies mid-batch leaves them
    pending for the sweeper, and two workers never take the same row.
    """
    claimed: list[int] = []
    try:
        with transaction.atomic():
            rows = _claim(ids, limit)
            claimed = [row.pk for row in rows]
            _detect(rows, {})
            return len(rows)
    except _BAD_INPUT as error:
        if isinstance(error, OperationalError):
            raise  # the database went away: the whole batch waits for the retry
        logger.warning("a batch of notifications failed (%s); taking them one by one", error)
    taken = 0
    for row_id in claimed:
        try:
            with transaction.atomic():
                taken += len(one := _claim([row_id], 1))
                _detect(one, {})
        except _BAD_INPUT as error:
            if isinstance(error, OperationalError):
                raise
            OfferNotification.objects.filter(pk=row_id, status=NotificationStatus.PENDING).update(
                status=NotificationStatus.FAILED, error=str(error)[:2000], processed_at=timezone.now()
            )
    return taken


# What one notification can cause: a value the database refuses, a rule a service enforces.
# Anything of these fails that notification alone, never its batch for good.
_BAD_INPUT = (ValidationError, ValueError, DatabaseError)


def offer_notifications_consume(*, documents: list[object]) -> Received:
    """Notifications read from SQS (see ``_consume``); a batch that fails is taken one by one.

    A notification that fails alone is kept as failed, with its payload, so that its
    message can be deleted instead of coming back for ever.
    """
    try:
        return _consume(documents)
    except _BAD_INPUT as error:
        if isinstance(error, OperationalError):
            raise
        logger.warning("a batch of SQS notifications failed (%s); taking them one by one", error)
    received = Received([], 0, [])
    for document in documents:
        try:
            one = _consume([document])
        except _BAD_INPUT as error:
            if isinstance(error, OperationalError):
                raise
            _keep_failed(document, error)
            continue
        received.duplicates += one.duplicates
        received.errors += one.errors
    return received


def _keep_failed(document: object, error: Exception) -> None:
    notification_id = snapshot_from_notification(document).notification_id
    OfferNotification.objects.get_or_create(
        notification_id=notification_id,
        defaults={
            "received_via": "sqs",
            "payload": document,
            "status": NotificationStatus.FAILED,
            "error": str(error)[:2000],
            "processed_at": timezone.now(),
        },
    )


def _consume(documents: list[object]) -> Received:
    """Store notifications read from SQS and run them through detection, in one transaction.

    The caller deletes the messages after this returns. Should it fail or its worker die
    first, nothing is kept and SQS delivers the messages again; a notification delivered
    twice is found by its NotificationId (inserted with ON CONFLICT DO NOTHING, which
    waits for a concurrent consumer of the same notification to finish).
    """
    snapshots: dict[str, OfferSnapshot] = {}
    errors: list[str] = []
    for document in documents:
        try:
            snapshot = snapshot_from_notification(document)
        except SnapshotError as error:
            errors.append(str(error))
            continue
        snapshots.setdefault(snapshot.notification_id, snapshot)
    if not snapshots:
        return Received([], 0, errors)
    now = timezone.now()
    table = OfferNotification._meta.db_table
    rows_sql = ", ".join(["(%s, 'sqs', %s, %s, '', %s)"] * len(snapshots))
    params: list[str | dt.datetime] = []
    for notification_id in sorted(snapshots):  # one order for every consumer: no deadlock on the index
        params += [notification_id, NotificationStatus.PENDING, now, now]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} "  # noqa: S608 (the table name is ours)
                "(notification_id, received_via, status, received_at, error, processed_at) "
                f"VALUES {rows_sql} ON CONFLICT (notification_id) DO NOTHING RETURNING id, notification_id",
                params,
            )
            inserted = cursor.fetchall()
        rows = [
            OfferNotification(pk=pk, notification_id=nid, status=NotificationStatus.PENDING) for pk, nid in inserted
        ]
        _detect(rows, snapshots)
    return Received([], len(snapshots) - len(rows), errors)


# A NotificationId must be remembered as long as SQS may deliver it again (14 days at most).
KEEP_NOTIFICATIONS = dt.timedelta(days=14)


def offer_notifications_prune() -> int:
    """Forget processed notifications older than SQS's longest retention."""
    old = OfferNotification.objects.filter(received_at__lt=timezone.now() - KEEP_NOTIFICATIONS).exclude(
        status=NotificationStatus.PENDING
    )
    deleted, _ = old.delete()
    return deleted


def offer_notifications_stalled(*, older_than: dt.timedelta = dt.timedelta(minutes=2)) -> bool:
    """Whether notifications have waited so long that their drain must have been lost."""
    return OfferNotification.objects.filter(
        status=NotificationStatus.PENDING, received_at__lt=timezone.now() - older_than
    ).exists()
