"""Sweepers queue again what a lost message left undone (the tasks run in-process here)."""

import datetime as dt
import io
from typing import Any

import pytest
from django.utils import timezone

from cases.models import Notification, NotificationKind
from cases.tasks import notifications_email_sweep
from evidence.models import Blob, Rendition, RenditionKind
from evidence.services import blob_ingest
from evidence.tasks import blob_renditions_sweep
from tests.factories import BrandFactory, CaseFactory, png_bytes

pytestmark = pytest.mark.django_db


def test_e_mails_whose_message_was_lost_are_sent_by_their_sweeper(personas, mailoutbox):

    case: Any = CaseFactory(brand=BrandFactory(team=personas.team))
    personas.agent.email = "agent@example.com"
    personas.agent.save(update_fields=["email"])
    note = Notification.objects.create(
        team=personas.team, user=personas.agent, case=case, kind=NotificationKind.ASSIGNED, message="Yours now"
    )
    assert notifications_email_sweep() == 0  # too recent: its own message may be on its way
    Notification.objects.filter(pk=note.pk).update(created_at=timezone.now() - dt.timedelta(minutes=10))
    assert notifications_email_sweep() == 1
    assert [m.to for m in mailoutbox] == [["agent@example.com"]]
    assert notifications_email_sweep() == 0


def test_images_whose_renditions_message_was_lost_get_them_from_their_sweeper(personas):

    with blob_ingest(source=io.BytesIO(png_bytes(color="orange"))) as blob:
        pass
    assert blob_renditions_sweep() == 0
    Blob.objects.filter(pk=blob.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))
    assert blob_renditions_sweep() == 1
    assert Rendition.objects.filter(source=blob, kind=RenditionKind.THUMBNAIL).exists()
    assert blob_renditions_sweep() == 0  # nor are the thumbnails themselves taken for images to render
