"""A case's page and the actions taken from it."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases import letters, selectors
from cases.models import (
    Case,
    Storefront,
    WarningChannel,
)
from cases.models.letters import LetterKind, LetterLanguage
from cases.services.records import warning_record
from cases.views import evidence
from evidence.services import Actor

logger = logging.getLogger(__name__)


@require_GET
@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        case = selectors.case_get(user=request.user, pk=pk)
    except Case.DoesNotExist:
        raise Http404("No such case") from None
    context: dict[str, Any] = {
        "case": case,
        "storefronts": selectors.case_storefronts(case=case),
        "test_buys": case.test_buys.select_related("storefront").prefetch_related("photos"),
        "warnings": case.warnings.select_related("storefront"),
        "submissions": case.submissions.select_related("ip_right"),
        "activity": selectors.case_activity(case=case)[:100],
    }
    draft_for = request.GET.get("draft", "")
    if draft_for.isdigit():
        storefront = Storefront.objects.visible_to(request.user).filter(pk=draft_for).first()
        kind = request.GET.get("kind", LetterKind.FIRST_WARNING)
        language = request.GET.get("language", LetterLanguage.ENGLISH)
        if storefront is not None and kind in LetterKind.values and language in LetterLanguage.values:
            context["draft"] = letters.draft(case=case, storefront=storefront, kind=kind, language=language)
            context["draft_storefront"] = storefront
    context["letter_kinds"] = LetterKind.choices
    context["letter_languages"] = LetterLanguage.choices
    context["channels"] = WarningChannel.choices
    context.update(evidence.panels_context(case=case))
    return render(request, "cases/case_detail.html", context)


@require_POST
@login_required
def warning_send(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a letter the user has sent (the text as sent, the channel)."""
    case = Case.objects.visible_to(request.user).filter(pk=pk).first()
    storefront_id = request.POST.get("storefront", "")
    storefront = (
        Storefront.objects.visible_to(request.user).filter(pk=storefront_id).first()
        if storefront_id.isdigit()
        else None
    )
    if case is None or storefront is None:
        raise Http404("No such case or storefront")
    try:
        warning_record(
            case=case,
            storefront=storefront,
            text=request.POST.get("text", ""),
            channel=request.POST.get("channel", ""),
            language=request.POST.get("language", "en"),
            actor=Actor.of_user(request.user),
        )
        messages.success(request, _("The warning is recorded as sent."))
    except ValidationError as invalid:
        messages.error(request, " ".join(m for ms in invalid.message_dict.values() for m in ms))
    except PermissionDenied:
        messages.error(request, _("Viewers cannot record warnings."))
    return redirect("cases:case_detail", pk=case.pk)
