"""A brand's IP rights: add, edit, attach the registration certificate, download it."""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms.models import model_to_dict
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET

from cases.models import Brand, IPRight, IPRightKind, IPRightStatus
from cases.services.brands import IP_RIGHT_FIELDS, ip_right_attach_certificate, ip_right_create, ip_right_update
from cases.views.brands import brand_or_404, is_manager, managers_only
from cases.views.forms import AccessibleForm, submit
from evidence.services import Actor, evidence_storage

logger = logging.getLogger(__name__)

_CERTIFICATE_HELP = _l("A PDF or an image of the registration certificate. It is stored under its SHA-256 hash.")


def _certificate_field(*, required: bool) -> forms.FileField:
    return forms.FileField(
        label=_l("Certificate"),
        required=required,
        help_text=_CERTIFICATE_HELP,
        widget=forms.FileInput(attrs={"accept": "application/pdf,image/*"}),
    )


class IPRightForm(AccessibleForm):
    kind = forms.ChoiceField(label=_l("Kind"), choices=IPRightKind.choices)
    mark_text = forms.CharField(label=_l("Mark"), max_length=200, required=False)
    registration_number = forms.CharField(label=_l("Registration number"), max_length=100, required=False)
    office = forms.CharField(
        label=_l("Office"),
        max_length=100,
        required=False,
        help_text=_l("Registering office or jurisdiction, e.g. USPTO"),
    )
    classes = forms.CharField(
        label=_l("Classes"), max_length=100, required=False, help_text=_l("Nice classes, e.g. 9, 25")
    )
    registration_date = forms.DateField(
        label=_l("Registration date"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    status = forms.ChoiceField(label=_l("Status"), choices=IPRightStatus.choices, initial=IPRightStatus.REGISTERED)


class NewIPRightForm(IPRightForm):
    certificate = _certificate_field(required=False)


class CertificateForm(AccessibleForm):
    certificate = _certificate_field(required=True)


def _right_or_404(request: HttpRequest, brand: Brand, pk: int) -> IPRight:
    right = IPRight.objects.visible_to(request.user).select_related("certificate").filter(brand=brand, pk=pk).first()
    if right is None:
        raise Http404("No such IP right")
    right.brand = brand
    return right


@login_required
def ip_right_add(request: HttpRequest, pk: int) -> HttpResponse:
    brand = brand_or_404(request, pk)
    if not is_manager(request.user, brand.team_id):
        return managers_only(request, brand)
    form = NewIPRightForm()
    if request.method == "POST":
        form = NewIPRightForm(request.POST, request.FILES)
        actor = Actor.of_user(request.user)

        def create(data: dict[str, Any]) -> IPRight:
            details = {name: data[name] for name in IP_RIGHT_FIELDS if name != "kind"}
            certificate = data["certificate"]
            return ip_right_create(
                brand=brand,
                kind=data["kind"],
                actor=actor,
                certificate=certificate,
                certificate_name=certificate.name if certificate else "",
                **details,
            )

        if submit(form, create) is not None:
            messages.success(request, _("The IP right is added."))
            return redirect("cases:brand_settings", pk=brand.pk)
    return render(
        request,
        "cases/brand/ip_right.html",
        {"brand": brand, "right": None, "form": form, "max_upload": settings.EVIDENCE_MAX_BYTES},
    )


@login_required
def ip_right_edit(request: HttpRequest, pk: int, right_pk: int) -> HttpResponse:
    brand = brand_or_404(request, pk)
    right = _right_or_404(request, brand, right_pk)
    if not is_manager(request.user, brand.team_id):
        return managers_only(request, brand)
    form = IPRightForm(prefix="right", initial=model_to_dict(right, fields=IP_RIGHT_FIELDS))
    certificate = CertificateForm(prefix="file")
    if request.method == "POST":
        actor = Actor.of_user(request.user)
        if request.POST.get("action") == "certificate":
            certificate = CertificateForm(request.POST, request.FILES, prefix="file")
            attached = submit(
                certificate,
                lambda data: ip_right_attach_certificate(
                    right=right, certificate=data["certificate"], certificate_name=data["certificate"].name, actor=actor
                ),
            )
            if attached is not None:
                messages.success(request, _("The certificate is stored."))
                return redirect("cases:ip_right_edit", pk=brand.pk, right_pk=right.pk)
        else:
            form = IPRightForm(request.POST, prefix="right")
            if submit(form, lambda data: ip_right_update(right=right, actor=actor, **data)) is not None:
                messages.success(request, _("The IP right is saved."))
                return redirect("cases:brand_settings", pk=brand.pk)
    return render(
        request,
        "cases/brand/ip_right.html",
        {
            "brand": brand,
            "right": right,
            "form": form,
            "certificate_form": certificate,
            "max_upload": settings.EVIDENCE_MAX_BYTES,
        },
    )


@require_GET
@login_required
def ip_right_certificate(request: HttpRequest, pk: int, right_pk: int) -> FileResponse:
    """The certificate as a download: never rendered from our origin, whatever it contains."""
    right = IPRight.objects.visible_to(request.user).select_related("certificate").filter(brand=pk, pk=right_pk).first()
    if right is None or right.certificate is None:
        raise Http404("No such certificate")
    blob = right.certificate
    try:
        handle = evidence_storage().open(blob.storage_name, "rb")
    except FileNotFoundError:
        logger.error("certificate file missing for blob %s (run verify_evidence)", blob.sha256)
        raise Http404("The stored file is missing; an operator has been told.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=right.certificate_name or f"certificate-{blob.sha256[:12]}",
        content_type=blob.mime_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response
