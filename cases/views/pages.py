"""The web pages of the foundation: the case list, a case, evidence downloads, tokens and webhooks."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases import letters, selectors
from cases.api.views.dossiers import dossier_bundle_response, dossier_pdf_response
from cases.models import (
    ApiToken,
    Case,
    CaseStatus,
    Dossier,
    DossierStatus,
    Evidence,
    JobStatus,
    Role,
    Storefront,
    Team,
    WarningChannel,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from cases.models.letters import LetterKind, LetterLanguage
from cases.services.captures import capture_request
from cases.services.dossiers import dossier_request
from cases.services.records import warning_record
from cases.services.tokens import api_token_create, api_token_revoke
from cases.services.webhooks import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
    webhook_redeliver,
)
from evidence.services import Actor, evidence_storage

logger = logging.getLogger(__name__)


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


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's own API tokens: create (the secret is shown once), list, revoke."""
    new_token = ""
    error = ""
    if request.method == "POST":
        actor = Actor.of_user(request.user)
        if "revoke" in request.POST:
            revoke = request.POST.get("revoke", "")
            token = ApiToken.objects.visible_to(request.user).filter(pk=revoke).first() if revoke.isdigit() else None
            if token is None:
                raise Http404("No such token")
            api_token_revoke(token=token, actor=actor)
            messages.success(request, _("Token revoked."))
            return redirect("cases:api_tokens")
        try:
            _token, new_token = api_token_create(user=request.user, name=request.POST.get("name", ""), actor=actor)
        except ValidationError as invalid:
            error = " ".join(invalid.message_dict.get("name", invalid.messages))
    tokens = ApiToken.objects.visible_to(request.user)
    return render(
        request,
        "cases/api_tokens.html",
        {"tokens": tokens, "new_token": new_token, "error": error, "name": request.POST.get("name", "")},
    )


@login_required
def webhooks(request: HttpRequest) -> HttpResponse:
    """Managers' webhook endpoints: register (secret shown once), pause, delete, delivery log, redeliver."""
    actor = Actor.of_user(request.user)
    user: Any = request.user
    managed = Team.objects.visible_to(user).filter(memberships__user=user, memberships__role=Role.MANAGER)
    # Delivery logs and endpoint addresses are the managers' business.
    endpoints = WebhookEndpoint.objects.visible_to(request.user).filter(team__in=managed).select_related("team")
    form: dict[str, Any] = {"url": "", "events": [], "team": "", "description": ""}
    errors: dict[str, list[str]] = {}
    secret = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "create":
                form = {
                    "url": request.POST.get("url", ""),
                    "events": request.POST.getlist("events"),
                    "team": request.POST.get("team", ""),
                    "description": request.POST.get("description", ""),
                }
                team = managed.filter(pk=form["team"]).first() if str(form["team"]).isdigit() else None
                if team is None:
                    raise ValidationError({"team": [_("Choose one of the teams you manage.")]})
                _endpoint, secret = webhook_endpoint_create(
                    team=team, url=form["url"], events=form["events"], description=form["description"], actor=actor
                )
                form = {"url": "", "events": [], "team": "", "description": ""}
            elif action in {"toggle", "delete"}:
                endpoint = _visible_or_404(endpoints, request.POST.get("endpoint", ""))
                if action == "toggle":
                    webhook_endpoint_update(endpoint=endpoint, is_active=not endpoint.is_active, actor=actor)
                else:
                    webhook_endpoint_delete(endpoint=endpoint, actor=actor)
                return redirect("cases:webhooks")
            elif action == "redeliver":
                deliveries = WebhookDelivery.objects.visible_to(request.user).select_related("endpoint")
                webhook_redeliver(delivery=_visible_or_404(deliveries, request.POST.get("delivery", "")), actor=actor)
                messages.success(request, _("The event is being sent again."))
                return redirect("cases:webhooks")
        except ValidationError as invalid:
            errors = invalid.message_dict
        except PermissionDenied:
            raise Http404("Only managers of the team can do this.") from None
    recent = {endpoint.pk: list(endpoint.deliveries.all()[:20]) for endpoint in endpoints}
    return render(
        request,
        "cases/webhooks.html",
        {
            "endpoints": [(endpoint, recent[endpoint.pk]) for endpoint in endpoints],
            "managed": managed,
            "events": WebhookEvent.choices,
            "form": form,
            "errors": errors,
            "secret": secret,
        },
    )


def _visible_or_404(queryset: Any, pk: str) -> Any:
    item = queryset.filter(pk=pk).first() if pk.isdigit() else None
    if item is None:
        raise Http404("Not found")
    return item


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
