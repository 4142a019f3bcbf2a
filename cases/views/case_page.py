"""A case's page: its header and workflow, storefronts, records, comments and activity.

Every form on the page posts to its own view. A refused form is shown again on the whole
page, in place of its blank copy, with the errors next to its fields and what was typed kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases import letters, selectors
from cases.models import (
    Case,
    CaseStatus,
    CaseStorefront,
    Role,
    Sighting,
    Submission,
    TestBuy,
    Warning,
)
from cases.models.letters import LetterKind, LetterLanguage
from cases.services._common import role_of
from cases.services.cases import case_transition, case_update
from cases.services.comments import comment_post
from cases.views import evidence
from cases.views.case_forms import (
    CaseEditForm,
    CommentForm,
    OutcomeForm,
    ReplyForm,
    SubmissionForm,
    TestBuyForm,
    TestBuyUpdateForm,
    TransitionForm,
    WarningForm,
)
from cases.views.forms import submit
from cases.workflow import allowed_transitions
from evidence.services import Actor

# Sightings shown in a storefront's table; the rest are behind "show all".
RECENT_SIGHTINGS = 10
ACTIVITY_SHOWN = 100


def case_visible(request: HttpRequest, pk: int) -> Case:
    """The case if the user's teams include it; 404 otherwise, so another team's cases stay unknown."""
    try:
        return selectors.case_get(user=request.user, pk=pk)
    except Case.DoesNotExist:
        raise Http404("No such case") from None


def can_work(request: HttpRequest, case: Case) -> bool:
    role = role_of(request.user, case.team_id)
    return role is not None and role.includes(Role.AGENT)


def case_for_work(request: HttpRequest, pk: int) -> Case:
    """The case, for a change by an agent or manager; a viewer is refused (403) before any form is read."""
    case = case_visible(request, pk)
    if not can_work(request, case):
        raise PermissionDenied(_("Viewers can read a case but not change it."))
    return case


def case_url(case: Case, section: str = "") -> str:
    url = reverse("cases:case_detail", args=[case.pk])
    return f"{url}#{section}" if section else url


def team_workers(case: Case) -> list[Any]:
    """The people a case may be assigned to: the team's active agents and managers."""
    return list(
        get_user_model()
        .objects.filter(
            memberships__team_id=case.team_id,
            memberships__role__in=[Role.AGENT, Role.MANAGER],
            is_active=True,
        )
        .order_by("username")
    )


@dataclass
class StorefrontPanel:
    """One storefront on the case, with the warnings sent to it and the forms to send the next."""

    link: CaseStorefront
    warnings: list[tuple[Warning, forms.Form | None]]
    warning_form: forms.Form | None
    drafted: bool

    @property
    def sightings(self) -> list[Sighting]:
        return list(getattr(self.link.storefront, "case_sightings", []))

    @property
    def recent(self) -> list[Sighting]:
        return self.sightings[:RECENT_SIGHTINGS]

    @property
    def older(self) -> list[Sighting]:
        return self.sightings[RECENT_SIGHTINGS:]

    @property
    def not_shown(self) -> int:
        return int(getattr(self.link, "sighting_count", 0)) - len(self.sightings)


def _draft(request: HttpRequest, case: Case, links: list[CaseStorefront]) -> dict[str, Any] | None:
    """The letter asked for with ?draft=<storefront>&kind=&language=, filled from the case."""
    wanted = request.GET.get("draft", "")
    kind = request.GET.get("kind", LetterKind.FIRST_WARNING)
    language = request.GET.get("language", LetterLanguage.ENGLISH)
    link = next((link for link in links if str(link.storefront_id) == wanted), None)
    if link is None or kind not in LetterKind.values or language not in LetterLanguage.values:
        return None
    drafted = letters.draft(case=case, storefront=link.storefront, kind=kind, language=language)
    return {**drafted, "storefront_id": link.storefront_id}


def _storefront_panel(
    link: CaseStorefront, *, work: bool, bound: dict[str, forms.Form], draft: dict[str, Any] | None
) -> StorefrontPanel:
    storefront = link.storefront
    sent: list[Warning] = list(getattr(storefront, "case_warnings", []))
    if not work:
        return StorefrontPanel(link, [(w, None) for w in sent], None, drafted=False)
    warnings = [
        (w, bound.get(f"reply:{w.pk}") or (None if w.reply else ReplyForm(auto_id=f"reply{w.pk}-%s"))) for w in sent
    ]
    drafted = draft is not None and draft["storefront_id"] == storefront.pk
    form = bound.get(f"warning:{storefront.pk}")
    if form is None:
        initial: dict[str, Any] = {"storefront": storefront.pk, "language": LetterLanguage.ENGLISH}
        if draft is not None and drafted:
            initial.update(language=draft["language"], text=draft["text"])
        form = WarningForm(initial=initial, auto_id=f"sf{storefront.pk}-%s")
    return StorefrontPanel(link, warnings, form, drafted=drafted)


def _test_buy_form(test_buy: TestBuy) -> TestBuyUpdateForm:
    fields = ("received_date", "verdict", "comparison_notes", "price_paid", "currency")
    return TestBuyUpdateForm(initial={f: getattr(test_buy, f) for f in fields}, auto_id=f"tb{test_buy.pk}-%s")


def _outcome_form(submission: Submission) -> OutcomeForm:
    initial = {
        "outcome": submission.outcome,
        "outcome_reason": submission.outcome_reason,
        "outcome_on": submission.outcome_on,
        "amazon_ref": submission.amazon_ref,
    }
    return OutcomeForm(initial=initial, auto_id=f"sub{submission.pk}-%s")


def render_page(request: HttpRequest, case: Case, *, bound: dict[str, forms.Form] | None = None) -> HttpResponse:
    """The case page; ``bound`` holds refused forms by the key of the blank form each replaces."""
    bound = bound or {}
    work = can_work(request, case)
    links = list(selectors.case_storefronts(case=case))
    draft = _draft(request, case, links) if work else None
    test_buys = list(case.test_buys.select_related("storefront").prefetch_related("photos"))
    submissions = list(case.submissions.select_related("ip_right"))
    context: dict[str, Any] = {
        "case": case,
        "can_work": work,
        "panels": [_storefront_panel(link, work=work, bound=bound, draft=draft) for link in links],
        "test_buys": [
            (tb, (bound.get(f"test_buy:{tb.pk}") or _test_buy_form(tb)) if work else None) for tb in test_buys
        ],
        "submissions": [
            (sub, (bound.get(f"outcome:{sub.pk}") or _outcome_form(sub)) if work else None) for sub in submissions
        ],
        "comments": list(selectors.case_comments(case=case)),
        "activity": list(selectors.case_activity(case=case)[:ACTIVITY_SHOWN]),
        "activity_limit": ACTIVITY_SHOWN,
        "letter_kinds": LetterKind.choices,
        "letter_languages": LetterLanguage.choices,
    }
    if work:
        allowed = allowed_transitions(case.status)
        context.update(
            steps=[status for status in allowed if status != CaseStatus.CLOSED],
            can_close=CaseStatus.CLOSED in allowed,
            transition_form=bound.get("transition") or TransitionForm(auto_id="close-%s"),
            edit_form=bound.get("edit") or _edit_form(case),
            test_buy_form=bound.get("test_buy") or new_test_buy_form(case, [link.storefront for link in links]),
            submission_form=bound.get("submission") or new_submission_form(case),
            comment_form=bound.get("comment") or CommentForm(auto_id="comment-%s"),
            draft=draft,
        )
    context.update(evidence.panels_context(case=case))
    return render(request, "cases/case_detail.html", context)


def _edit_form(case: Case, data: Any = None) -> CaseEditForm:
    initial = {"title": case.title, "priority": case.priority, "assignee": case.assignee_id}
    return CaseEditForm(data, initial=initial, people=team_workers(case), auto_id="edit-%s")


def new_test_buy_form(case: Case, storefronts: list[Any], data: Any = None) -> TestBuyForm:
    form = TestBuyForm(data, storefronts=storefronts, auto_id="new-tb-%s")
    form.fields["order_id"].widget.attrs.update(
        {
            "hx-get": reverse("cases:order_id_check", args=[case.pk]),
            "hx-trigger": "keyup changed delay:300ms, change",
            "hx-target": "#new-tb-order-id-check",
            "hx-sync": "this:replace",
        }
    )
    return form


def new_submission_form(case: Case, data: Any = None) -> SubmissionForm:
    initial = {"asins": case.asin, "submitted_on": timezone.localdate()}
    return SubmissionForm(data, initial=initial, ip_rights=list(case.brand.ip_rights.all()), auto_id="new-sub-%s")


@require_GET
@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_page(request, case_visible(request, pk))


@require_POST
@login_required
def case_transition_view(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_for_work(request, pk)
    form = TransitionForm(request.POST, auto_id="close-%s")
    actor = Actor.of_user(request.user)
    moved = submit(
        form, lambda data: case_transition(case=case, status=data["status"], reason=data["reason"], actor=actor)
    )
    if moved is None:
        return render_page(request, case, bound={"transition": form})
    messages.success(request, _("The case is now “%(status)s”.") % {"status": moved.get_status_display()})
    return redirect(case_url(moved))


@require_POST
@login_required
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_for_work(request, pk)
    form = _edit_form(case, request.POST)
    actor = Actor.of_user(request.user)
    changed = submit(form, lambda data: case_update(case=case, actor=actor, **data))
    if changed is None:
        return render_page(request, case, bound={"edit": form})
    messages.success(request, _("The case is saved."))
    return redirect(case_url(changed))


@require_POST
@login_required
def comment_create(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_for_work(request, pk)
    form = CommentForm(request.POST, auto_id="comment-%s")
    actor = Actor.of_user(request.user)
    posted = submit(form, lambda data: comment_post(case=case, body=data["body"], actor=actor))
    if posted is None:
        return render_page(request, case, bound={"comment": form})
    messages.success(request, _("Your comment is posted."))
    return redirect(case_url(case, f"comment-{posted.pk}"))
