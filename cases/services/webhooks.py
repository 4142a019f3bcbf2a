"""Webhook endpoints, the events services emit to them, and redelivery."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import uuid
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import (
    Case,
    CaseStorefront,
    DeliveryStatus,
    Dossier,
    Evidence,
    Role,
    Sighting,
    Submission,
    Team,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from cases.services._common import authorize, full_clean, public_url, record, save_changes
from evidence.errors import field_error
from evidence.services import Actor

SIGNATURE_HEADER = "Casemanager-Signature"


def _check_url(url: str) -> str:
    return public_url(url, schemes=frozenset({"https"}), max_length=2000)


def _check_events(events: Any) -> list[str]:
    if not isinstance(events, list) or not events:
        raise field_error("events", _("Choose at least one event."), "required")
    unknown = [e for e in events if e not in WebhookEvent.values]
    if unknown:
        raise field_error(
            "events", _("Unknown events: %(events)s.") % {"events": ", ".join(map(str, unknown))}, "invalid_choice"
        )
    return sorted(set(events))


def webhook_endpoint_create(
    *, team: Team, url: str, events: list[str], actor: Actor, description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it with its signing secret, shown this once."""
    authorize(actor, team.pk, Role.MANAGER)
    # Checked before the transaction: resolving the host is network I/O.
    url, events = _check_url(url), _check_events(events)
    with transaction.atomic():
        return _endpoint_create(team=team, url=url, events=events, actor=actor, description=description)


def _endpoint_create(
    *, team: Team, url: str, events: list[str], actor: Actor, description: str
) -> tuple[WebhookEndpoint, str]:
    secret = f"whsec_{secrets.token_urlsafe(32)}"
    endpoint = WebhookEndpoint(
        team=team,
        url=url,
        events=events,
        description=description.strip(),
        secret=secret,
        created_by=actor.user if actor.is_user else None,
    )
    # A description too long or with NUL is refused by name, not cut short or left to fail in the database.
    full_clean(endpoint, exclude=["url"])
    endpoint.save()
    record(
        actor=actor,
        action="webhook.created",
        subject=endpoint,
        team_id=team.pk,
        after={"url": endpoint.url, "events": endpoint.events, "description": endpoint.description},
    )
    return endpoint, secret


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, actor: Actor, **changes: Any) -> WebhookEndpoint:
    authorize(actor, endpoint.team_id, Role.MANAGER)
    # Checked before the row is locked: resolving the host is network I/O.
    if "url" in changes:
        changes["url"] = _check_url(changes["url"])
    if "events" in changes:
        changes["events"] = _check_events(changes["events"])
    with transaction.atomic():
        return _endpoint_update(endpoint=endpoint, actor=actor, changes=changes)


def _endpoint_update(*, endpoint: WebhookEndpoint, actor: Actor, changes: dict[str, Any]) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    save_changes(
        endpoint,
        changes,
        allowed=("url", "events", "description", "is_active"),
        actor=actor,
        action="webhook.updated",
        team_id=endpoint.team_id,
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor: Actor) -> None:
    authorize(actor, endpoint.team_id, Role.MANAGER)
    record(
        actor=actor,
        action="webhook.deleted",
        subject=endpoint,
        team_id=endpoint.team_id,
        before={"url": endpoint.url, "events": endpoint.events},
    )
    endpoint.delete()


def emit(
    event_type: WebhookEvent, obj: models.Model, *, team_id: int, changes: dict[str, Any] | None = None
) -> list[WebhookDelivery]:
    """Queue ``event_type`` for every active endpoint of the team that wants it.

    The body carries ``obj`` as the API shows it (and what changed, for updates); it is
    only built when some endpoint listens, since every write of a case passes here. Runs
    inside the service's transaction: the deliveries commit with the change and are sent
    only after commit, so a rolled-back change never reaches a receiver.
    """
    from cases.api import serializers as s
    from cases.tasks import webhook_deliver

    endpoints = [e for e in WebhookEndpoint.objects.filter(team_id=team_id, is_active=True) if event_type in e.events]
    if not endpoints:
        return []
    shapes: dict[type[models.Model], Any] = {
        Case: s.CaseSerializer,
        CaseStorefront: s.CaseStorefrontSerializer,
        Sighting: s.SightingSerializer,
        Evidence: s.EvidenceSerializer,
        Submission: s.SubmissionSerializer,
        Dossier: s.DossierSerializer,
    }
    data: dict[str, Any] = {"object": shapes[type(obj)](obj).data}
    if changes is not None:
        data["changes"] = changes
    body = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    now = timezone.now()
    deliveries = []
    for endpoint in endpoints:
        event_id = uuid.uuid4()
        payload = {"id": str(event_id), "type": str(event_type), "created_at": now.isoformat(), "team": team_id, **body}
        deliveries.append(WebhookDelivery(endpoint=endpoint, event_id=event_id, event_type=event_type, payload=payload))
    created = WebhookDelivery.objects.bulk_create(deliveries)
    for delivery in created:
        webhook_deliver.delay_on_commit(delivery.pk)
    return created


@transaction.atomic
def webhook_redeliver(*, delivery: WebhookDelivery, actor: Actor) -> WebhookDelivery:
    """Send an earlier delivery's event again, as a new delivery with the same event ID."""
    from cases.tasks import webhook_deliver

    endpoint = delivery.endpoint
    authorize(actor, endpoint.team_id, Role.MANAGER)
    copy = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        payload=delivery.payload,
        redelivery_of=delivery,
    )
    record(
        actor=actor,
        action="webhook.redelivered",
        subject=copy,
        team_id=endpoint.team_id,
        after={"of": delivery.pk, "event_id": delivery.event_id},
    )
    webhook_deliver.delay_on_commit(copy.pk)
    return copy


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


# Retries: 30 s, 1 min, 2 min … doubling up to an hour between tries, for a day.
RETRY_FIRST = dt.timedelta(seconds=30)
RETRY_CAP = dt.timedelta(hours=1)
RETRY_WINDOW = dt.timedelta(days=1)


def retry_delay(attempts: int) -> dt.timedelta:
    delay = RETRY_FIRST * (2 ** max(attempts - 1, 0))
    delay = min(delay, RETRY_CAP)
    # Up to 20% jitter, so endpoints that fail together do not retry together.
    return delay + delay * (secrets.randbelow(200) / 1000)


def deliveries_due() -> models.QuerySet[WebhookDelivery]:
    now = timezone.now()
    return WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).filter(
        models.Q(next_attempt_at__isnull=True) | models.Q(next_attempt_at__lte=now)
    )
