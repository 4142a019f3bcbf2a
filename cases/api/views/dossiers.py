"""Dossier jobs of a case, their PDFs and exhibit bundles."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cases.api import serializers as s
from cases.api.base import ApiViewSet
from cases.api.views.cases import IDEMPOTENCY_KEY, actor_of
from cases.dossier.bundle import bundle_stream
from cases.models import Case, Dossier
from cases.services.dossiers import dossier_request
from evidence.services import evidence_storage


def dossier_pdf_response(dossier: Dossier) -> FileResponse:
    if dossier.pdf is None:
        raise exceptions.NotFound(_("This dossier has no PDF (yet)."))
    response = FileResponse(
        evidence_storage().open(dossier.pdf.storage_name, "rb"),
        as_attachment=True,
        filename=dossier.file_name,
        content_type="application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def dossier_bundle_response(dossier: Dossier) -> StreamingHttpResponse:
    if dossier.pdf is None:
        raise exceptions.NotFound(_("This dossier has no PDF (yet)."))
    response = StreamingHttpResponse(bundle_stream(dossier), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{dossier.case.reference}-bundle-v{dossier.version}.zip"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


class CaseDossierViewSet(ApiViewSet):
    serializer_class = s.DossierSerializer
    filter_backends: list[Any] = []

    @extend_schema(summary="Dossier versions of the case, newest first", responses=s.DossierSerializer(many=True))
    def list(self, request: Request, case_pk: str) -> Response:
        case = self.get_visible(self.visible(Case), case_pk)
        dossiers = Dossier.objects.filter(case=case).select_related("case", "requested_by").prefetch_related("exhibits")
        return Response(s.DossierSerializer(dossiers, many=True).data)

    @extend_schema(
        summary="Build a new dossier version (a job: poll it until done)",
        request=None,
        responses={202: s.DossierSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    def create(self, request: Request, case_pk: str) -> Response:
        case = self.get_visible(self.visible(Case), case_pk)
        dossier = dossier_request(case=case, actor=actor_of(request))
        dossier.refresh_from_db()
        return self.respond(
            s.DossierSerializer(dossier).data,
            status=202,
            etag=False,
            headers={"Location": f"/api/v1/dossiers/{dossier.pk}/"},
        )


class DossierViewSet(ApiViewSet):
    serializer_class = s.DossierSerializer
    filter_backends: list[Any] = []

    def dossier(self, pk: str) -> Dossier:
        dossiers = self.visible(Dossier).select_related("case", "pdf", "requested_by")
        dossier: Dossier = self.get_visible(dossiers, pk)
        return dossier

    @extend_schema(summary="A dossier job: status, progress, error; hash and exhibits once done")
    def retrieve(self, request: Request, pk: str) -> Response:
        return self.respond(s.DossierSerializer(self.dossier(pk)).data)

    @extend_schema(summary="Download the PDF", responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, pk: str) -> FileResponse:
        return dossier_pdf_response(self.dossier(pk))

    @extend_schema(
        summary="Download the exhibit bundle: the PDF, every original, manifests and a README (streamed ZIP)",
        responses={(200, "application/zip"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"])
    def bundle(self, request: Request, pk: str) -> StreamingHttpResponse:
        return dossier_bundle_response(self.dossier(pk))
