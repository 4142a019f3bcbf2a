"""A case's page and the actions taken from it."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases import letters, selectors
from cases.api.views.dossiers import dossier_bundle_response, dossier_pdf_response
from cases.models import (
    Case,
    Dossier,
    DossierStatus,
    Evidence,
    JobStatus,
    Storefront,
    WarningChannel,
)
from cases.models.letters import LetterKind, LetterLanguage
from cases.services.captures import capture_request
from cases.services.dossiers import dossier_request
from cases.services.records import warning_record
from evidence.services import Actor, evidence_storage

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
        "evidence": selectors.case_evidence(case=case),
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
    dossiers = list(case.dossiers.select_related("requested_by"))
    working = (DossierStatus.QUEUED, DossierStatus.RUNNING)
    context["dossiers"] = dossiers
    context["building"] = any(d.status in working for d in dossiers)
    captures = list(case.captures.select_related("requested_by")[:20])
    context["captures"] = captures
    context["capturing"] = any(c.status in (JobStatus.PENDING, JobStatus.RUNNING) for c in captures)
    return render(request, "cases/case_detail.html", context)


@require_GET
@login_required
def evidence_download(request: HttpRequest, case_pk: int, pk: int) -> FileResponse:
    item = Evidence.objects.visible_to(request.user).select_related("blob", "case").filter(case=case_pk, pk=pk).first()
    if item is None:
        raise Http404("No such evidence")
    return evidence_file_response(item)


def evidence_file_response(item: Evidence) -> FileResponse:
    """Stored files are never rendered from our origin: always a download, with the sniffed type."""
    try:
        handle = evidence_storage().open(item.blob.storage_name, "rb")
    except FileNotFoundError:
        logger.error("evidence file missing for blob %s (run verify_evidence)", item.blob_id)
        raise Http404("The stored file is missing; an operator has been told.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"{item.case.reference}-E{item.pk}-{item.blob_id[:12]}",
        content_type=item.blob.mime_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@login_required
def dossier_build(request: HttpRequest, pk: int) -> HttpResponse:
    case = Case.objects.visible_to(request.user).filter(pk=pk).first()
    if case is None:
        raise Http404("No such case")
    try:
        dossier_request(case=case, actor=Actor.of_user(request.user))
    except PermissionDenied:
        messages.error(request, _("Viewers cannot build dossiers."))
    return redirect("cases:case_detail", pk=case.pk)


@require_GET
@login_required
def dossier_file(request: HttpRequest, case_pk: int, pk: int, kind: str) -> HttpResponseBase:
    dossier = Dossier.objects.visible_to(request.user).select_related("case", "pdf").filter(case=case_pk, pk=pk).first()
    if dossier is None or dossier.pdf is None:
        raise Http404("No such dossier")
    return dossier_bundle_response(dossier) if kind == "bundle" else dossier_pdf_response(dossier)


@require_POST
@login_required
def capture_request_view(request: HttpRequest, pk: int) -> HttpResponse:
    case = Case.objects.visible_to(request.user).filter(pk=pk).first()
    if case is None:
        raise Http404("No such case")
    try:
        capture_request(case=case, url=request.POST.get("url", ""), actor=Actor.of_user(request.user))
        messages.success(request, _("The page is being captured."))
    except ValidationError as invalid:
        messages.error(request, " ".join(m for ms in invalid.message_dict.values() for m in ms))
    except PermissionDenied:
        messages.error(request, _("Viewers cannot request captures."))
    return redirect("cases:case_detail", pk=case.pk)


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
