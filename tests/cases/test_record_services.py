import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases import services
from cases.models import IPRightKind, Warning
from evidence.services import Actor
from tests.factories import BrandFactory, CaseFactory, add_evidence, attach

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(personas):
    return CaseFactory(brand=BrandFactory(team=personas.team))


@pytest.fixture
def actor(personas):
    return Actor.of_user(personas.agent)


def test_test_buy_order_id_is_validated(case, actor):
    storefront = attach(case, 1)
    with pytest.raises(ValidationError) as error:
        services.test_buy_record(
            case=case, storefront=storefront, order_id="112-123-456", order_date=timezone.localdate(), actor=actor
        )
    assert "order_id" in error.value.message_dict


def test_test_buy_needs_an_attached_storefront(case, actor, personas):
    other_case = CaseFactory(brand=case.brand)
    storefront = attach(other_case, 1)
    with pytest.raises(ValidationError) as error:
        services.test_buy_record(
            case=case,
            storefront=storefront,
            order_id="112-1234567-1234567",
            order_date=timezone.localdate(),
            actor=actor,
        )
    assert "storefront" in error.value.message_dict


def test_verdict_on_goods_needs_them_received(case, actor):
    storefront = attach(case, 1)
    today = timezone.localdate()
    test_buy = services.test_buy_record(
        case=case,
        storefront=storefront,
        order_id="112-1234567-1234567",
        order_date=today - dt.timedelta(days=5),
        price_paid=Decimal("12.50"),
        currency="usd",
        actor=actor,
    )
    assert test_buy.currency == "USD"
    with pytest.raises(ValidationError) as error:
        services.test_buy_update(test_buy=test_buy, verdict="counterfeit", actor=actor)
    assert "verdict" in error.value.message_dict
    services.test_buy_update(test_buy=test_buy, verdict="not_received", actor=actor)
    test_buy = services.test_buy_update(
        test_buy=test_buy, verdict="counterfeit", received_date=today, comparison_notes="No logo", actor=actor
    )
    assert test_buy.verdict == "counterfeit"
    photo = add_evidence(case, kind="test_buy_photo")
    services.test_buy_add_photo(test_buy=test_buy, evidence=photo, actor=actor)
    assert list(test_buy.photos.all()) == [photo]


def test_one_warning_per_storefront_within_the_quiet_period(case, actor, settings):
    settings.WARNING_QUIET_HOURS = 72
    storefront = attach(case, 1)
    now = timezone.now()
    services.warning_record(
        case=case,
        storefront=storefront,
        text="Please stop.",
        channel="ask_a_question",
        actor=actor,
        sent_at=now - dt.timedelta(hours=10),
    )
    with pytest.raises(ValidationError) as error:
        services.warning_record(case=case, storefront=storefront, text="Again", channel="email", actor=actor)
    assert "72 hours" in error.value.message_dict["storefront"][0]
    services.warning_record(case=case, storefront=attach(case, 2), text="Please stop.", channel="email", actor=actor)
    later = now + dt.timedelta(hours=63)
    with pytest.raises(ValidationError):
        services.warning_record(
            case=case,
            storefront=storefront,
            text="x",
            channel="email",
            actor=actor,
            sent_at=later - dt.timedelta(hours=1),
        )
    assert Warning.objects.count() == 2


@pytest.mark.parametrize("language", ["fr", "EN", "zh", "en-US", "", 'en"><b>', "\u202een"])
def test_a_warning_is_written_only_in_a_letter_language(case, actor, language):
    """The web offers English and Simplified Chinese; the language is also the letter's ``lang`` on the page."""
    storefront = attach(case, 1)
    with pytest.raises(ValidationError) as error:
        services.warning_record(
            case=case, storefront=storefront, text="Please stop.", channel="email", language=language, actor=actor
        )
    assert [e.code for e in error.value.error_dict["language"]] == ["invalid_choice"]
    assert not Warning.objects.exists()
    services.warning_record(
        case=case, storefront=storefront, text="请停止跟卖。", channel="email", language="zh-hans", actor=actor
    )
    assert Warning.objects.get().language == "zh-hans"


def test_submission_asins_and_outcome(case, actor, personas):
    right = services.ip_right_create(
        brand=case.brand,
        kind=IPRightKind.TRADEMARK,
        registration_number="6123456",
        actor=Actor.of_user(personas.manager),
    )
    with pytest.raises(ValidationError) as error:
        services.submission_record(
            case=case, channel="report_infringement", submitted_on=timezone.localdate(), asins=["bad"], actor=actor
        )
    assert "asins" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.submission_record(
            case=case,
            channel="report_infringement",
            submitted_on=timezone.localdate(),
            asins=[f"B{n:09d}" for n in range(51)],
            actor=actor,
        )
    assert "at most 50" in error.value.message_dict["asins"][0]
    submission = services.submission_record(
        case=case, channel="report_a_violation", submitted_on=timezone.localdate(), ip_right=right, actor=actor
    )
    assert submission.asins == [case.asin]
    with pytest.raises(ValidationError) as error:
        services.submission_set_outcome(submission=submission, outcome="rejected", actor=actor)
    assert "outcome_reason" in error.value.message_dict
    submission = services.submission_set_outcome(
        submission=submission, outcome="rejected", reason="Insufficient evidence", actor=actor, amazon_ref="1234567890"
    )
    assert submission.outcome_on == timezone.localdate()
    assert submission.amazon_ref == "1234567890"


def test_ip_right_with_certificate(case, personas):
    right = services.ip_right_create(
        brand=case.brand,
        kind="trademark",
        registration_number="6123456",
        certificate=__import__("io").BytesIO(b"%PDF-1.4\n% certificate"),
        certificate_name="/tmp/cert.pdf",
        actor=Actor.of_user(personas.manager),
    )
    assert right.certificate is not None
    assert right.certificate.mime_type == "application/pdf"
    assert right.certificate_name == "cert.pdf"
