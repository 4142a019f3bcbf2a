"""Re-checks after a report: are the hijackers still there?"""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from cases import services
from cases.models import Capture, Case, CaseStorefront, Notification, Recheck
from cases.services.captures import recheck_run, rechecks_due
from cases.services.watch import sp_api_credentials_set
from tests.factories import BrandFactory, CaseFactory, attach, manager_of, seller_id, sight
from tests.support.fake_spapi import fake_spapi, offer

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(personas):
    brand = BrandFactory(team=personas.team)
    case = CaseFactory(brand=brand, asin="B0C1HJ4K2L")
    for n in (1, 2):
        sight(case, attach(case, n), days_ago=2)
    return case


def report(case):
    return services.submission_record(
        case=case, channel="report_infringement", submitted_on=timezone.localdate(), actor=manager_of(case.team)
    )


def test_a_report_schedules_rechecks_after_one_three_and_seven_days(case):
    before = timezone.now()
    report(case)
    days = [round((r.due_at - before).total_seconds() / 86400) for r in Recheck.objects.filter(case=case)]
    assert days == [1, 3, 7]
    assert rechecks_due() == []


def test_without_sp_api_every_storefront_is_captured_again(case):
    report(case)
    first = Recheck.objects.filter(case=case).first()
    assert recheck_run(recheck_id=first.pk) is None  # not due yet
    Recheck.objects.filter(pk=first.pk).update(due_at=timezone.now() - dt.timedelta(minutes=1))
    assert rechecks_due() == [first.pk]
    done = recheck_run(recheck_id=first.pk)
    assert done.status == "done"
    assert sorted(done.still_present) == [seller_id(1), seller_id(2)]
    assert sorted(Capture.objects.values_list("url", flat=True)) == [
        f"https://www.amazon.com/s?me={seller_id(1)}",
        f"https://www.amazon.com/s?me={seller_id(2)}",
    ]
    assert recheck_run(recheck_id=first.pk) is None  # done once


def test_with_sp_api_gone_sellers_are_recorded_and_resolution_suggested(case, settings, monkeypatch):
    monkeypatch.setattr("evidence.spapi.ITEM_OFFERS_RATE", (1000.0, 1))
    with fake_spapi() as amazon:
        settings.SPAPI_ENDPOINT = amazon.url
        settings.SPAPI_LWA_URL = f"{amazon.url}/auth/o2/token"
        sp_api_credentials_set(
            brand=case.brand,
            selling_partner_id="A3TH9S8BH6GOGM",
            region="na",
            client_id=f"amzn1.application-oa2-client.{uuid.uuid4().hex}",
            client_secret="cs",
            refresh_token="Atzr|x",
            actor=manager_of(case.team),
        )
        report(case)
        rechecks = list(Recheck.objects.filter(case=case))
        Recheck.objects.update(due_at=timezone.now())
        amazon.offers = {case.asin: [offer("A3TH9S8BH6GOGM"), offer(seller_id(2))]}
        first = recheck_run(recheck_id=rechecks[0].pk)
        assert (first.gone, first.still_present) == ([seller_id(1)], [seller_id(2)])
        gone = CaseStorefront.objects.get(storefront__seller_id=seller_id(1))
        assert gone.state == "gone"
        assert gone.last_seen < timezone.now() - dt.timedelta(days=1)  # the last sighting stays as it was
        assert Case.objects.get(pk=case.pk).resolution_suggested_at is None
        amazon.offers = {case.asin: [offer("A3TH9S8BH6GOGM")]}
        second = recheck_run(recheck_id=rechecks[1].pk)
    assert sorted(second.gone) == [seller_id(1), seller_id(2)]
    assert Case.objects.get(pk=case.pk).resolution_suggested_at is not None
    assert Notification.objects.filter(kind="hijackers_gone", case=case).count() == 2  # manager and agent


def test_notifications_are_emailed_once(case, personas, mailoutbox, django_capture_on_commit_callbacks):
    from cases.services.notifications import notify_team
    from cases.tasks import notifications_email

    personas.agent.email = "agent@example.com"
    personas.agent.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        notes = notify_team(case=case, kind="new_hijacker", message="A0000000000009 now sells B0C1HJ4K2L")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["agent@example.com"]
    assert case.reference in mailoutbox[0].subject
    assert f"/cases/{case.pk}/" in mailoutbox[0].body
    notifications_email([n.pk for n in notes])
    assert len(mailoutbox) == 1
