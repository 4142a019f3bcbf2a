"""The web pages of the foundation: the case list, a case, and evidence downloads."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cases import selectors
from cases.models import Case, CaseStatus, Evidence
from evidence.services import evidence_storage


@require_GET
@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "")
    status = request.GET.get("status", "")
    if status not in CaseStatus.values:
        status = ""
    cases = selectors.case_list(user=request.user, search=search, status=status)
    page = Paginator(cases, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "cases/case_list.html",
        {"page": page, "search": search, "status": status, "statuses": CaseStatus.choices},
    )


@require_GET
@login_required
def case_detail(request: HttpRequest, reference: str) -> HttpResponse:
    try:
        case = selectors.case_get(user=request.user, reference=reference)
    except Case.DoesNotExist:
        raise Http404("No such case") from None
    context = {
        "case": case,
        "storefronts": selectors.case_storefronts(case=case),
        "evidence": selectors.case_evidence(case=case),
        "test_buys": case.test_buys.select_related("storefront").prefetch_related("photos"),
        "warnings": case.warnings.select_related("storefront"),
        "submissions": case.submissions.select_related("ip_right"),
        "activity": selectors.case_activity(case=case)[:100],
    }
    return render(request, "cases/case_detail.html", context)


@require_GET
@login_required
def evidence_download(request: HttpRequest, reference: str, pk: int) -> FileResponse:
    item = (
        Evidence.objects.visible_to(request.user)
        .select_related("blob", "case")
        .filter(case__reference=reference, pk=pk)
        .first()
    )
    if item is None:
        raise Http404("No such evidence")
    handle = evidence_storage().open(item.blob.storage_name, "rb")
    # Stored files are never rendered from our origin: always a download, with the sniffed type.
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"{item.case.reference}-E{item.pk}-{item.blob_id[:12]}",
        content_type=item.blob.mime_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
