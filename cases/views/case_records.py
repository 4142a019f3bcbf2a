"""What the team did about a case, from its page: test buys, warnings, reports to Amazon."""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases.models import CaseStorefront, Submission, TestBuy, TestBuyVerdict, Warning
from cases.services.records import (
    submission_record,
    submission_set_outcome,
    test_buy_record,
    test_buy_update,
    warning_record,
    warning_record_reply,
)
from cases.views.case_forms import OutcomeForm, ReplyForm, TestBuyUpdateForm, WarningForm, order_id_problem
from cases.views.case_page import (
    can_work,
    case_for_work,
    case_url,
    case_visible,
    new_submission_form,
    new_test_buy_form,
    render_page,
)
from cases.views.forms import is_row_id, submit
from evidence.services import Actor

# What a new test buy may say about its goods at once; the rest is test_buy_record's.
_ARRIVAL_FIELDS = ("received_date", "verdict", "comparison_notes")


R = TypeVar("R", TestBuy, Warning, Submission)


def _record_for_work(request: HttpRequest, model: type[R], case_pk: int, pk: int) -> R:
    """A record of a case the user may see (404 otherwise), refused to viewers."""
    item = model.objects.visible_to(request.user).select_related("case").filter(case=case_pk, pk=pk).first()
    if item is None:
        raise Http404(f"No such {model._meta.verbose_name}")
    if not can_work(request, item.case):
        raise PermissionDenied(_("Viewers can read a case but not change it."))
    return item


@require_GET
@login_required
def order_id_check(request: HttpRequest, pk: int) -> HttpResponse:
    """The order ID field's verdict while it is typed (htmx); submitting checks it again."""
    case = case_visible(request, pk)
    value = request.GET.get("order_id", "").strip()
    problem = order_id_problem(value, case_id=case.pk) if value else None
    return render(request, "cases/case/_order_id_check.html", {"value": value, "problem": problem})


@require_POST
@login_required
def test_buy_create(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_for_work(request, pk)
    storefronts = [link.storefront for link in CaseStorefront.objects.filter(case=case).select_related("storefront")]
    form = new_test_buy_form(case, storefronts, request.POST)
    actor = Actor.of_user(request.user)

    def record(data: dict[str, Any]) -> TestBuy:
        # One test buy, whole or not at all: what arrived is checked against the order.
        with transaction.atomic():
            test_buy = test_buy_record(
                case=case,
                storefront=data["storefront"],
                order_id=data["order_id"],
                order_date=data["order_date"],
                price_paid=data["price_paid"],
                currency=data["currency"],
                actor=actor,
            )
            arrival = {name: data[name] for name in _ARRIVAL_FIELDS}
            if arrival["received_date"] or arrival["verdict"] != TestBuyVerdict.PENDING or arrival["comparison_notes"]:
                test_buy = test_buy_update(test_buy=test_buy, actor=actor, **arrival)
            return test_buy

    recorded = submit(form, record)
    if recorded is None:
        return render_page(request, case, bound={"test_buy": form})
    messages.success(request, _("The test buy %(order)s is recorded.") % {"order": recorded.order_id})
    return redirect(case_url(case, "test-buys"))


@require_POST
@login_required
def test_buy_edit(request: HttpRequest, case_pk: int, pk: int) -> HttpResponse:
    test_buy = _record_for_work(request, TestBuy, case_pk, pk)
    form = TestBuyUpdateForm(request.POST, auto_id=f"tb{test_buy.pk}-%s")
    actor = Actor.of_user(request.user)
    if submit(form, lambda data: test_buy_update(test_buy=test_buy, actor=actor, **data)) is None:
        return render_page(request, case_visible(request, case_pk), bound={f"test_buy:{test_buy.pk}": form})
    messages.success(request, _("The test buy %(order)s is saved.") % {"order": test_buy.order_id})
    return redirect(case_url(test_buy.case, "test-buys"))


@require_POST
@login_required
def warning_send(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a letter the user has sent to one of the case's storefronts: the text as sent, the channel."""
    case = case_for_work(request, pk)
    storefront_id = request.POST.get("storefront", "")
    link = (
        CaseStorefront.objects.filter(case=case, storefront_id=storefront_id).select_related("storefront").first()
        if is_row_id(storefront_id)
        else None
    )
    if link is None:
        raise Http404("No such storefront on this case")
    form = WarningForm(request.POST, auto_id=f"sf{link.storefront_id}-%s")
    actor = Actor.of_user(request.user)
    sent = submit(
        form,
        lambda data: warning_record(
            case=case,
            storefront=link.storefront,
            text=data["text"],
            channel=data["channel"],
            language=data["language"],
            sent_at=data["sent_at"],
            actor=actor,
        ),
    )
    if sent is None:
        return render_page(request, case, bound={f"warning:{link.storefront_id}": form})
    messages.success(request, _("The warning is recorded as sent."))
    return redirect(case_url(case, f"storefront-{link.storefront_id}"))


@require_POST
@login_required
def warning_reply(request: HttpRequest, case_pk: int, pk: int) -> HttpResponse:
    warning = _record_for_work(request, Warning, case_pk, pk)
    form = ReplyForm(request.POST, auto_id=f"reply{warning.pk}-%s")
    actor = Actor.of_user(request.user)
    if submit(form, lambda data: warning_record_reply(warning=warning, reply=data["reply"], actor=actor)) is None:
        return render_page(request, case_visible(request, case_pk), bound={f"reply:{warning.pk}": form})
    messages.success(request, _("The reply is recorded."))
    return redirect(case_url(warning.case, f"storefront-{warning.storefront_id}"))


@require_POST
@login_required
def submission_create(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_for_work(request, pk)
    form = new_submission_form(case, request.POST)
    actor = Actor.of_user(request.user)
    recorded = submit(
        form,
        lambda data: submission_record(
            case=case,
            channel=data["channel"],
            submitted_on=data["submitted_on"],
            amazon_ref=data["amazon_ref"],
            asins=data["asins"],
            ip_right=data["ip_right"],
            actor=actor,
        ),
    )
    if recorded is None:
        return render_page(request, case, bound={"submission": form})
    messages.success(request, _("The report to Amazon is recorded."))
    return redirect(case_url(case, "submissions"))


@require_POST
@login_required
def submission_outcome(request: HttpRequest, case_pk: int, pk: int) -> HttpResponse:
    submission = _record_for_work(request, Submission, case_pk, pk)
    form = OutcomeForm(request.POST, auto_id=f"sub{submission.pk}-%s")
    actor = Actor.of_user(request.user)
    saved = submit(
        form,
        lambda data: submission_set_outcome(
            submission=submission,
            outcome=data["outcome"],
            reason=data["outcome_reason"],
            outcome_on=data["outcome_on"],
            amazon_ref=data["amazon_ref"],
            actor=actor,
        ),
    )
    if saved is None:
        return render_page(request, case_visible(request, case_pk), bound={f"outcome:{submission.pk}": form})
    messages.success(request, _("The outcome is saved."))
    return redirect(case_url(submission.case, "submissions"))
