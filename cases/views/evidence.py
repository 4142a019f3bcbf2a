"""The evidence side of a case page: gallery and uploads, page captures, dossiers, and their downloads.

Each panel is a partial the case page includes and htmx fetches alone (to refresh it, or
to poll it while a job runs). Every form also works as a plain POST: success redirects
back to the case; errors show on a page of their own, next to the fields, typed values kept.
"""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.api.views.dossiers import dossier_bundle_response, dossier_pdf_response
from cases.models import Case, Dossier, DossierStatus, Evidence, EvidenceKind, JobStatus, Storefront
from cases.selectors.evidence import case_captures, case_dossiers, evidence_gallery
from cases.services.captures import capture_request
from cases.services.dossiers import dossier_request
from cases.services.evidence import evidence_ingest, evidence_withdraw
from cases.views.brands import refused
from cases.views.forms import AccessibleForm, NamesSelect, isolate, submit
from evidence.models import Rendition, RenditionKind
from evidence.services import Actor, evidence_storage

logger = logging.getLogger(__name__)

# Multipart framing around the file; anything larger than the file limit plus this is refused unread.
MULTIPART_OVERHEAD = 64 * 1024
# Thumbnails are derived from immutable bytes, so a browser may keep them; "private": they are a team's.
THUMBNAIL_MAX_AGE = 7 * 24 * 3600
# Fired on <body> when the gallery should be fetched again (an upload, a finished capture).
EVIDENCE_CHANGED = "evidence-changed"


class StorefrontChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Storefront) -> str:
        return f"{isolate(obj.name or obj.seller_id)} ({obj.marketplace})"


class EvidenceUploadForm(AccessibleForm):
    file = forms.FileField(label=gettext_lazy("File"), allow_empty_file=True)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=EvidenceKind.choices, initial=EvidenceKind.SCREENSHOT)
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 2})
    )
    source_url = forms.CharField(
        label=gettext_lazy("Source address"),
        required=False,
        max_length=2048,
        widget=forms.URLInput(),
        help_text=gettext_lazy("The page the file shows, if any (http or https)."),
    )
    captured_at = forms.DateTimeField(
        label=gettext_lazy("Captured at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=gettext_lazy("In your time zone. Leave empty for now."),
    )
    storefront = StorefrontChoiceField(
        label=gettext_lazy("Storefront"),
        queryset=Storefront.objects.none(),
        required=False,
        empty_label=gettext_lazy("None"),
        widget=NamesSelect,
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "evidence-%s")
        super().__init__(*args, **kwargs)
        storefront = self.fields["storefront"]
        assert isinstance(storefront, forms.ModelChoiceField)
        storefront.queryset = Storefront.objects.filter(case_links__case=case).order_by("name", "pk")


class CaptureForm(AccessibleForm):
    url = forms.CharField(
        label=gettext_lazy("Capture this address (listing, offers page, storefront, seller profile)"),
        max_length=2048,
        widget=forms.URLInput(attrs={"size": 60}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "capture-%s")
        super().__init__(*args, **kwargs)


class WithdrawForm(AccessibleForm):
    reason = forms.CharField(
        label=gettext_lazy("Why is it withdrawn?"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


def panels_context(*, case: Case) -> dict[str, Any]:
    """What the case page's evidence, capture and dossier panels show."""
    return {
        **_gallery_context(case),
        **_upload_context(case),
        **_captures_context(case),
        **_dossier_context(case),
        "capture_form": CaptureForm(),
    }


def _gallery_context(case: Case, *, withdrawing: tuple[int, WithdrawForm] | None = None) -> dict[str, Any]:
    """The gallery; ``withdrawing`` is a refused withdrawal, shown with its errors under its item."""
    items = list(evidence_gallery(case=case))
    for item in items:
        # Each item has its own withdraw form, so their controls get ids of their own.
        if withdrawing is not None and withdrawing[0] == item.pk:
            item.withdraw_form = withdrawing[1]  # type: ignore[attr-defined]
        else:
            item.withdraw_form = WithdrawForm(auto_id=f"withdraw-{item.pk}-%s")  # type: ignore[attr-defined]
    return {"evidence": items}


def _upload_context(case: Case, form: EvidenceUploadForm | None = None) -> dict[str, Any]:
    return {
        "evidence_upload_form": form if form is not None else EvidenceUploadForm(case=case),
        "evidence_max_bytes": settings.EVIDENCE_MAX_BYTES,
        "evidence_too_large": _too_large_message(),
    }


def _captures_context(case: Case) -> dict[str, Any]:
    captures = case_captures(case=case)
    return {
        "captures": captures,
        "capturing": any(c.status in (JobStatus.PENDING, JobStatus.RUNNING) for c in captures),
    }


def _dossier_context(case: Case) -> dict[str, Any]:
    dossiers = case_dossiers(case=case)
    return {
        "dossiers": dossiers,
        "building": [d for d in dossiers if d.status in (DossierStatus.QUEUED, DossierStatus.RUNNING)],
        "latest_dossier": next((d for d in dossiers if d.status == DossierStatus.DONE), None),
    }


def _visible_case(request: HttpRequest, pk: int) -> Case:
    case = Case.objects.visible_to(request.user).filter(pk=pk).first()
    if case is None:
        raise Http404("No such case")
    return case


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _back_to_case(case: Case, anchor: str) -> HttpResponse:
    return redirect(f"{reverse('cases:case_detail', args=[case.pk])}#{anchor}")


def _form_page(
    request: HttpRequest, case: Case, *, title: str, partial: str, status: int, **context: Any
) -> HttpResponse:
    """A form of a panel on a page of its own: where a plain POST's errors are shown."""
    return render(
        request,
        "cases/case/_evidence_form_page.html",
        {"case": case, "title": title, "partial": partial, **context},
        status=status,
    )


# --- Evidence: gallery, thumbnails, downloads, uploads, withdrawal ---------------------------


@require_GET
@login_required
def evidence_gallery_view(request: HttpRequest, pk: int) -> HttpResponse:
    case = _visible_case(request, pk)
    return render(request, "cases/case/_evidence_gallery.html", {"case": case, **_gallery_context(case)})


@require_GET
@login_required
def evidence_thumbnail(request: HttpRequest, case_pk: int, pk: int) -> FileResponse:
    visible = Evidence.objects.visible_to(request.user).filter(case=case_pk, pk=pk)
    blob_id = visible.values_list("blob_id", flat=True).first()
    if blob_id is None:
        raise Http404("No such evidence")
    thumbnails = Rendition.objects.filter(source_id=blob_id, kind=RenditionKind.THUMBNAIL, index=0)
    thumbnail = thumbnails.select_related("blob").first()
    if thumbnail is None:
        raise Http404("No thumbnail (yet)")
    try:
        handle = evidence_storage().open(thumbnail.blob.storage_name, "rb")
    except FileNotFoundError:
        logger.error("thumbnail file missing for blob %s (run verify_evidence)", thumbnail.blob_id)
        raise Http404("The stored thumbnail is missing.") from None
    # Inline is safe here: a thumbnail is a JPEG this server encoded, never the uploaded bytes.
    response = FileResponse(handle, content_type="image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = f"private, max-age={THUMBNAIL_MAX_AGE}"
    return response


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


@require_http_methods(["GET", "POST"])
@login_required
def evidence_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Store an uploaded file as evidence: the plain form, or one file per request from the upload script."""
    case = _visible_case(request, pk)
    status = 400
    if request.method == "GET":
        form = EvidenceUploadForm(case=case)
        status = 200
    elif _declared_length(request) > settings.EVIDENCE_MAX_BYTES + MULTIPART_OVERHEAD:
        # Refused before the body is read: a huge upload is not spooled to disk only to be dropped.
        form = EvidenceUploadForm({}, case=case)
        form.errors.clear()
        form.add_error("file", _too_large_message())
        status = 413
    else:
        form = EvidenceUploadForm(request.POST, request.FILES, case=case)
        actor = Actor.of_user(request.user)
        item = submit(
            form,
            lambda data: evidence_ingest(
                case=case,
                file=data["file"],
                kind=data["kind"],
                original_name=data["file"].name or "",
                source_url=data["source_url"],
                captured_at=data["captured_at"],
                description=data["description"],
                storefront=data["storefront"],
                actor=actor,
            ),
        )
        if item is not None:
            return _uploaded(request, case, item)
    if _wants_json(request):
        return JsonResponse({"errors": _errors_of(form)}, status=status)
    return _form_page(
        request,
        case,
        title=_("Add evidence"),
        partial="cases/case/_evidence_upload.html",
        status=status,
        **_upload_context(case, form),
    )


def _too_large_message() -> str:
    return _("The file is larger than the limit of %(size)s.") % {"size": filesizeformat(settings.EVIDENCE_MAX_BYTES)}


def _errors_of(form: forms.BaseForm) -> dict[str, list[str]]:
    """Errors by field name; the form's own (not a field's) under ""."""
    return {
        ("" if name == NON_FIELD_ERRORS else name): [str(error) for error in errors]
        for name, errors in form.errors.items()
    }


def _uploaded(request: HttpRequest, case: Case, item: Evidence) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            {
                "id": item.pk,
                "label": f"E{item.pk}",
                "sha256": item.sha256,
                "name": item.original_name,
                "size": item.blob.size,
                "mime_type": item.blob.mime_type,
                "download_url": reverse("cases:evidence_download", args=[case.pk, item.pk]),
            },
            status=201,
        )
    messages.success(
        request,
        _("Stored as E%(number)s, SHA-256 %(sha256)s.") % {"number": item.pk, "sha256": item.sha256},
    )
    return _back_to_case(case, "evidence")


@require_POST
@login_required
def evidence_withdraw_view(request: HttpRequest, case_pk: int, pk: int) -> HttpResponse:
    item = Evidence.objects.visible_to(request.user).select_related("case").filter(case=case_pk, pk=pk).first()
    if item is None:
        raise Http404("No such evidence")
    case = item.case
    form = WithdrawForm(request.POST, auto_id=f"withdraw-{item.pk}-%s")
    done = submit(
        form, lambda data: evidence_withdraw(evidence=item, reason=data["reason"], actor=Actor.of_user(request.user))
    )
    if _is_htmx(request):
        context = _gallery_context(case, withdrawing=None if done else (item.pk, form))
        return render(request, "cases/case/_evidence_gallery.html", {"case": case, **context})
    if done is not None:
        messages.success(request, _("E%(number)s is withdrawn; its file and hash are kept.") % {"number": item.pk})
        return _back_to_case(case, f"E{item.pk}")
    item.withdraw_form = form  # type: ignore[attr-defined]
    return _form_page(
        request,
        case,
        title=_("Withdraw E%(number)s") % {"number": item.pk},
        partial="cases/case/_evidence_withdraw.html",
        status=400,
        item=item,
    )


# --- Page captures ------------------------------------------------------------------------


@require_POST
@login_required
def capture_request_view(request: HttpRequest, pk: int) -> HttpResponse:
    case = _visible_case(request, pk)
    form = CaptureForm(request.POST)
    done = submit(form, lambda data: capture_request(case=case, url=data["url"], actor=Actor.of_user(request.user)))
    if _is_htmx(request):
        context = {"case": case, "capture_form": CaptureForm() if done else form, **_captures_context(case)}
        return render(request, "cases/case/_evidence_captures.html", context)
    if done is not None:
        messages.success(request, _("The page is being captured."))
        return _back_to_case(case, "captures")
    return _form_page(
        request,
        case,
        title=_("Capture a page"),
        partial="cases/case/_evidence_captures.html",
        status=400,
        capture_form=form,
        **_captures_context(case),
    )


@require_GET
@login_required
def capture_jobs(request: HttpRequest, pk: int) -> HttpResponse:
    """The capture jobs list; polled while one is pending or running."""
    case = _visible_case(request, pk)
    context = {"case": case, **_captures_context(case)}
    response = render(request, "cases/case/_evidence_capture_jobs.html", context)
    if _is_htmx(request) and not context["capturing"]:
        # The poll that sees the last job finish: its screenshot and archive are new evidence.
        response["HX-Trigger"] = EVIDENCE_CHANGED
    return response


# --- Dossiers -------------------------------------------------------------------------------


@require_POST
@login_required
def dossier_build(request: HttpRequest, pk: int) -> HttpResponse:
    case = _visible_case(request, pk)
    try:
        dossier: Dossier | None = dossier_request(case=case, actor=Actor.of_user(request.user))
    except PermissionDenied:
        dossier = None
    error = "" if dossier is not None else _("Your role in this team does not allow this.")
    if _is_htmx(request):
        return render(
            request, "cases/case/_dossier.html", {"case": case, "dossier_error": error, **_dossier_context(case)}
        )
    if dossier is None:
        # Refused with 403, as every write a role does not allow (htmx above keeps 200: it swaps no errors).
        return refused(request, back=reverse("cases:case_detail", args=[case.pk]), message=error)
    messages.success(request, _("Dossier v%(version)s is being built.") % {"version": dossier.version})
    return _back_to_case(case, "dossier")


@require_GET
@login_required
def dossier_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The dossier panel alone; polled while a build is queued or running."""
    case = _visible_case(request, pk)
    return render(request, "cases/case/_dossier.html", {"case": case, **_dossier_context(case)})


@require_GET
@login_required
def dossier_file(request: HttpRequest, case_pk: int, pk: int, kind: str) -> HttpResponseBase:
    dossier = Dossier.objects.visible_to(request.user).select_related("case", "pdf").filter(case=case_pk, pk=pk).first()
    if dossier is None or dossier.pdf is None or kind not in ("pdf", "bundle"):
        raise Http404("No such dossier")
    return dossier_bundle_response(dossier) if kind == "bundle" else dossier_pdf_response(dossier)


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:  # a malformed header: the body's real size is checked as it is read
        return 0
