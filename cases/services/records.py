"""Test buys, warnings and submissions: what the team did about a hijack."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import (
    Case,
    CaseStorefront,
    Evidence,
    IPRight,
    Role,
    Storefront,
    Submission,
    SubmissionOutcome,
    TestBuy,
    TestBuyVerdict,
    Warning,
    WarningTemplate,
    WebhookEvent,
)
from cases.models.letters import LetterKind, LetterLanguage
from cases.services._common import (
    apply_changes,
    authorize,
    full_clean,
    record,
    require_aware,
    save_changes,
    snapshot,
)
from cases.services.captures import rechecks_schedule
from cases.services.webhooks import emit
from evidence.amazon import validate_asin
from evidence.errors import field_error
from evidence.services import Actor

TEST_BUY_FIELDS = ("received_date", "verdict", "comparison_notes", "price_paid", "currency")
# A verdict about the goods needs goods in hand.
_VERDICTS_NEEDING_DELIVERY = {TestBuyVerdict.COUNTERFEIT, TestBuyVerdict.GENUINE, TestBuyVerdict.NOT_AS_DESCRIBED}
MAX_ASINS_PER_REPORT = 50


def _storefront_on_case(case: Case, storefront: Storefront, *, lock: bool = False) -> None:
    links = CaseStorefront.objects.filter(case=case, storefront=storefront)
    if lock:
        links = links.select_for_update()
    if not links.exists():
        raise field_error("storefront", _("Attach the storefront to the case before recording this."), "not_attached")


def _not_future(field: str, day: dt.date | None) -> None:
    if day is not None and day > timezone.localdate() + dt.timedelta(days=1):
        raise field_error(field, _("This date cannot be in the future."), "future")


def _check_test_buy(test_buy: TestBuy) -> None:
    _not_future("order_date", test_buy.order_date)
    _not_future("received_date", test_buy.received_date)
    if test_buy.received_date and test_buy.order_date and test_buy.received_date < test_buy.order_date:
        raise field_error("received_date", _("The parcel cannot arrive before the order date."), "invalid")
    if test_buy.verdict in _VERDICTS_NEEDING_DELIVERY and test_buy.received_date is None:
        raise field_error("verdict", _("A verdict on the goods needs the date they were received."), "needs_delivery")
    if test_buy.price_paid is not None and not test_buy.currency:
        raise field_error("currency", _("Give the currency of the price, e.g. USD."), "required")


@transaction.atomic
def test_buy_record(
    *,
    case: Case,
    storefront: Storefront,
    order_id: str,
    order_date: dt.date,
    actor: Actor,
    price_paid: Decimal | None = None,
    currency: str = "",
) -> TestBuy:
    """An order placed with a hijacker; what arrived is recorded later with test_buy_update."""
    authorize(actor, case.team_id, Role.AGENT)
    _storefront_on_case(case, storefront)
    test_buy = TestBuy(
        case=case,
        storefront=storefront,
        order_id=order_id.strip(),
        order_date=order_date,
        price_paid=price_paid,
        currency=currency.strip().upper(),
    )
    full_clean(test_buy)
    _check_test_buy(test_buy)
    test_buy.save()
    after = snapshot(test_buy, ("storefront", "order_id", "order_date", "price_paid", "currency", "verdict"))
    record(actor=actor, action="test_buy.created", subject=test_buy, team_id=case.team_id, case_id=case.pk, after=after)
    return test_buy


@transaction.atomic
def test_buy_update(*, test_buy: TestBuy, actor: Actor, **changes: Any) -> TestBuy:
    """Record what arrived: received date, verdict and how it differs from the genuine product."""
    authorize(actor, test_buy.case.team_id, Role.AGENT)
    test_buy = TestBuy.objects.select_for_update(no_key=True).select_related("case").get(pk=test_buy.pk)
    if isinstance(changes.get("currency"), str):
        changes["currency"] = changes["currency"].strip().upper()
    save_changes(
        test_buy,
        changes,
        allowed=TEST_BUY_FIELDS,
        actor=actor,
        action="test_buy.updated",
        team_id=test_buy.case.team_id,
        case_id=test_buy.case_id,
        check=lambda: _check_test_buy(test_buy),
    )
    return test_buy


@transaction.atomic
def test_buy_add_photo(*, test_buy: TestBuy, evidence: Evidence, actor: Actor) -> TestBuy:
    authorize(actor, test_buy.case.team_id, Role.AGENT)
    if evidence.case_id != test_buy.case_id:
        raise field_error("evidence", _("The photo must be evidence of the same case."), "invalid")
    if evidence.is_withdrawn:
        raise field_error("evidence", _("The photo was withdrawn."), "withdrawn")
    if not test_buy.photos.filter(pk=evidence.pk).exists():
        test_buy.photos.add(evidence)
        record(
            actor=actor,
            action="test_buy.photo_added",
            subject=test_buy,
            team_id=test_buy.case.team_id,
            case_id=test_buy.case_id,
            after={"evidence": evidence.pk, "sha256": evidence.blob_id},
        )
    return test_buy


def _require_letter_language(language: str) -> None:
    """Only the languages letters are written in: the value is also the page's ``lang`` for the letter."""
    if language not in LetterLanguage.values:
        raise field_error(
            "language", _("%(language)r is not a letter language.") % {"language": language}, "invalid_choice"
        )


@transaction.atomic
def warning_record(
    *,
    case: Case,
    storefront: Storefront,
    text: str,
    channel: str,
    actor: Actor,
    language: str = "en",
    sent_at: dt.datetime | None = None,
) -> Warning:
    """Record a warning the user has sent. One per storefront and case within the quiet period."""
    authorize(actor, case.team_id, Role.AGENT)
    _require_letter_language(language)
    # The storefront's link row is the lock: two warnings racing cannot both pass the check.
    _storefront_on_case(case, storefront, lock=True)
    require_aware("sent_at", sent_at)
    sent_at = sent_at or timezone.now()
    if sent_at > timezone.now() + dt.timedelta(minutes=5):
        raise field_error("sent_at", _("A warning cannot be sent in the future."), "future")
    quiet = dt.timedelta(hours=settings.WARNING_QUIET_HOURS)
    recent = (
        Warning.objects.filter(
            case=case, storefront=storefront, sent_at__gt=sent_at - quiet, sent_at__lt=sent_at + quiet
        )
        .order_by("-sent_at")
        .first()
    )
    if recent is not None:
        raise field_error(
            "storefront",
            _(
                "A warning was already sent to this storefront on %(sent_at)s UTC; "
                "wait %(hours)s hours between warnings."
            )
            % {"sent_at": f"{recent.sent_at:%Y-%m-%d %H:%M}", "hours": settings.WARNING_QUIET_HOURS},
            "too_soon",
        )
    warning = Warning(
        case=case, storefront=storefront, text=text.strip(), channel=channel, language=language, sent_at=sent_at
    )
    full_clean(warning)
    warning.save()
    after = snapshot(warning, ("storefront", "language", "channel", "sent_at", "text"))
    record(actor=actor, action="warning.sent", subject=warning, team_id=case.team_id, case_id=case.pk, after=after)
    return warning


@transaction.atomic
def warning_record_reply(
    *, warning: Warning, reply: str, actor: Actor, replied_at: dt.datetime | None = None
) -> Warning:
    authorize(actor, warning.case.team_id, Role.AGENT)
    warning = Warning.objects.select_for_update(no_key=True).select_related("case").get(pk=warning.pk)
    if not reply.strip():
        raise field_error("reply", _("The reply is empty."), "required")
    require_aware("replied_at", replied_at)
    before, after = apply_changes(
        warning, {"reply": reply.strip(), "replied_at": replied_at or timezone.now()}, allowed=("reply", "replied_at")
    )
    if not after:
        return warning
    warning.save(update_fields=list(after))
    record(
        actor=actor,
        action="warning.replied",
        subject=warning,
        team_id=warning.case.team_id,
        case_id=warning.case_id,
        before=before,
        after=after,
    )
    return warning


def _check_asins(asins: list[str]) -> list[str]:
    cleaned = [a.strip().upper() for a in asins]
    if not cleaned:
        raise field_error("asins", _("Name at least one ASIN."), "required")
    if len(cleaned) > MAX_ASINS_PER_REPORT:
        raise field_error(
            "asins",
            _("Amazon takes at most %(max)s ASINs per report; split the report.") % {"max": MAX_ASINS_PER_REPORT},
            "too_many",
        )
    for asin in cleaned:
        try:
            validate_asin(asin)
        except ValidationError as error:
            raise field_error("asins", error.messages[0], "invalid_asin") from None
    return list(dict.fromkeys(cleaned))


@transaction.atomic
def submission_record(
    *,
    case: Case,
    channel: str,
    submitted_on: dt.date,
    actor: Actor,
    amazon_ref: str = "",
    asins: list[str] | None = None,
    ip_right: IPRight | None = None,
) -> Submission:
    """A report filed with Amazon; its outcome is recorded when Amazon answers."""
    authorize(actor, case.team_id, Role.AGENT)
    if ip_right is not None and ip_right.brand_id != case.brand_id:
        raise field_error("ip_right", _("The IP right belongs to another brand."), "invalid")
    _not_future("submitted_on", submitted_on)
    submission = Submission(
        case=case,
        channel=channel,
        submitted_on=submitted_on,
        amazon_ref=amazon_ref.strip(),
        asins=_check_asins(asins if asins is not None else [case.asin]),
        ip_right=ip_right,
    )
    full_clean(submission)
    submission.save()
    after = snapshot(submission, ("channel", "submitted_on", "amazon_ref", "asins", "ip_right", "outcome"))
    record(
        actor=actor, action="submission.created", subject=submission, team_id=case.team_id, case_id=case.pk, after=after
    )
    emit(WebhookEvent.SUBMISSION_UPDATED, submission, team_id=case.team_id)
    rechecks_schedule(submission=submission)
    return submission


@transaction.atomic
def submission_set_outcome(
    *,
    submission: Submission,
    outcome: str,
    actor: Actor,
    reason: str = "",
    outcome_on: dt.date | None = None,
    amazon_ref: str | None = None,
) -> Submission:
    authorize(actor, submission.case.team_id, Role.AGENT)
    submission = Submission.objects.select_for_update(no_key=True).select_related("case").get(pk=submission.pk)
    if outcome not in SubmissionOutcome.values:
        raise field_error("outcome", _("%(outcome)r is not an outcome.") % {"outcome": outcome}, "invalid_choice")
    if outcome == SubmissionOutcome.REJECTED and not reason.strip():
        raise field_error("outcome_reason", _("Give Amazon's reason for the rejection."), "required")
    changes: dict[str, Any] = {
        "outcome": outcome,
        "outcome_reason": reason.strip(),
        "outcome_on": None if outcome == SubmissionOutcome.PENDING else (outcome_on or timezone.localdate()),
    }
    if amazon_ref is not None:
        changes["amazon_ref"] = amazon_ref.strip()
    before, after = save_changes(
        submission,
        changes,
        allowed=changes,
        actor=actor,
        action="submission.updated",
        team_id=submission.case.team_id,
        case_id=submission.case_id,
        check=lambda: _not_future("outcome_on", submission.outcome_on),
    )
    if after:
        emit(
            WebhookEvent.SUBMISSION_UPDATED,
            submission,
            team_id=submission.case.team_id,
            changes={"before": before, "after": after},
        )
    return submission


@transaction.atomic
def warning_template_set(*, team: Any, kind: str, language: str, body: str, actor: Actor) -> WarningTemplate:
    """Replace the team's wording of a letter (managers). Placeholders such as $asin are filled later."""
    authorize(actor, team.pk, Role.MANAGER)
    if kind not in LetterKind.values:
        raise field_error("kind", _("%(kind)r is not a letter kind.") % {"kind": kind}, "invalid_choice")
    _require_letter_language(language)
    body = body.strip()
    if not body:
        raise field_error("body", _("The letter is empty."), "required")
    from cases.letters import check_template

    problems = check_template(body)
    if problems:
        raise field_error("body", problems[0], "invalid_template")
    template, created = WarningTemplate.objects.select_for_update().get_or_create(
        team=team, kind=kind, language=language, defaults={"body": body}
    )
    before = None if created else {"body": template.body}
    if not created:
        template.body = body
        full_clean(template)
        template.save(update_fields=["body", "updated_at"])
    record(
        actor=actor,
        action="warning_template.set",
        subject=template,
        team_id=team.pk,
        before=before,
        after={"kind": kind, "language": language, "body": body},
    )
    return template
