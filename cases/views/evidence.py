"""The evidence side of a case page: gallery, page captures, dossiers, and their downloads."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases import selectors
from cases.api.views.dossiers import dossier_bundle_response, dossier_pdf_response
from cases.models import Case, Dossier, DossierStatus, Evidence, JobStatus
from cases.services.captures import capture_request
from cases.services.dossiers import dossier_request
from evidence.services import Actor, evidence_storage

logger = logging.getLogger(__name__)


def panels_context(*, case: Case) -> dict[str, Any]:
    """What the case page's evidence, capture and dossier panels show."""
    dossiers = list(case.dossiers.select_related("requested_by"))
    captures = list(case.captures.select_related("requested_by")[:20])
    return {
        "evidence": selectors.case_evidence(case=case),
        "dossiers": dossiers,
        "building": any(d.status in (DossierStatus.QUEUED, DossierStatus.RUNNING) for d in dossiers),
        "captures": captures,
        "capturing": any(c.status in (JobStatus.PENDING, JobStatus.RUNNING) for c in captures),
    }


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
