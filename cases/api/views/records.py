"""Evidence, test buys, warnings and submissions of a case."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from cases import letters, services
from cases.api import serializers as s
from cases.api.base import ApiViewSet, CursorPage, validated
from cases.api.errors import PayloadTooLarge
from cases.api.views.cases import IDEMPOTENCY_KEY, IF_MATCH, actor_of
from cases.models import Case, Evidence, Storefront, Submission, TestBuy, Warning
from cases.models.letters import LetterKind, LetterLanguage
from cases.views.evidence import MULTIPART_OVERHEAD, evidence_file_response


class CaseChildViewSet(ApiViewSet):
    filter_backends: list[Any] = []

    def case(self, case_pk: str) -> Case:
        case: Case = self.get_visible(self.visible(Case), case_pk)
        return case

    def storefront(self, pk: Any) -> Storefront:
        storefront: Storefront = self.get_visible(self.visible(Storefront), pk)
        return storefront


class _OldestFirst(CursorPage):
    ordering = ("captured_at", "id")


class CaseEvidenceViewSet(CaseChildViewSet):
    """Evidence files of a case: listed, and uploaded with their SHA-256 computed on arrival."""

    serializer_class = s.EvidenceSerializer
    pagination_class = _OldestFirst
    parser_classes = [MultiPartParser]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if request.method == "POST":
            length = int(request.META.get("CONTENT_LENGTH") or 0)
            if length > settings.EVIDENCE_MAX_BYTES + MULTIPART_OVERHEAD:
                raise PayloadTooLarge(
                    _("The upload is larger than the limit of %(max)s bytes.") % {"max": settings.EVIDENCE_MAX_BYTES}
                )
        super().initial(request, *args, **kwargs)

    @extend_schema(summary="Evidence of the case", responses=s.EvidenceSerializer(many=True))
    def list(self, request: Request, case_pk: str) -> Response:
        items = Evidence.objects.filter(case=self.case(case_pk)).select_related("blob", "captured_by", "withdrawn_by")
        return self.page(items, s.EvidenceSerializer)

    @extend_schema(
        summary="Upload evidence (multipart)",
        request={"multipart/form-data": s.EvidenceUploadSerializer},
        responses={201: s.EvidenceSerializer, 413: OpenApiResponse(description="The file is over the limit")},
        parameters=[IDEMPOTENCY_KEY],
    )
    def create(self, request: Request, case_pk: str) -> Response:
        data = validated(s.EvidenceUploadSerializer, request.data)
        case = self.case(case_pk)
        storefront = self.storefront(data["storefront"]) if data.get("storefront") else None
        upload = data["file"]
        item = services.evidence_ingest(
            case=case,
            file=upload,
            kind=data["kind"],
            original_name=upload.name or "",
            source_url=data.get("source_url", ""),
            captured_at=data.get("captured_at"),
            description=data.get("description", ""),
            storefront=storefront,
            actor=actor_of(request),
        )
        item = Evidence.objects.select_related("blob", "captured_by").get(pk=item.pk)
        return self.respond(
            s.EvidenceSerializer(item).data, status=201, headers={"Location": f"/api/v1/evidence/{item.pk}/"}
        )


class EvidenceViewSet(ApiViewSet):
    """One evidence item: read it, download its bytes, withdraw it."""

    serializer_class = s.EvidenceSerializer
    filter_backends: list[Any] = []

    def item(self, pk: str) -> Evidence:
        items = self.visible(Evidence).select_related("blob", "case", "captured_by", "withdrawn_by")
        item: Evidence = self.get_visible(items, pk)
        return item

    @extend_schema(summary="Read an evidence item", responses=s.EvidenceSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return self.respond(s.EvidenceSerializer(self.item(pk)).data)

    @extend_schema(
        summary="Download the stored bytes",
        # Served with the MIME type recorded at upload (image/png, application/pdf, …).
        responses={(200, "*/*"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str) -> FileResponse:
        return evidence_file_response(self.item(pk))

    @extend_schema(
        summary="Withdraw the item from dossiers (the file is kept)",
        request=s.WithdrawSerializer,
        responses=s.EvidenceSerializer,
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        data = validated(s.WithdrawSerializer, request.data)
        services.evidence_withdraw(evidence=self.item(pk), reason=data["reason"], actor=actor_of(request))
        return self.respond(s.EvidenceSerializer(self.item(pk)).data)


class CaseTestBuyViewSet(CaseChildViewSet):
    serializer_class = s.TestBuySerializer

    @extend_schema(summary="Test buys of the case", responses=s.TestBuySerializer(many=True))
    def list(self, request: Request, case_pk: str) -> Response:
        buys = TestBuy.objects.filter(case=self.case(case_pk)).prefetch_related("photos")
        return Response(s.TestBuySerializer(buys, many=True).data)

    @extend_schema(
        summary="Record a test-buy order",
        request=s.TestBuyInputSerializer,
        responses={201: s.TestBuySerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    def create(self, request: Request, case_pk: str) -> Response:
        data = validated(s.TestBuyInputSerializer, request.data)
        data["storefront"] = self.storefront(data["storefront"])
        test_buy = services.test_buy_record(case=self.case(case_pk), actor=actor_of(request), **data)
        return self.respond(s.TestBuySerializer(test_buy).data, status=201)


class TestBuyViewSet(ApiViewSet):
    __test__ = False
    serializer_class = s.TestBuySerializer
    filter_backends: list[Any] = []

    @extend_schema(summary="Read a test buy", responses=s.TestBuySerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return self.respond(s.TestBuySerializer(self.get_visible(self.visible(TestBuy), pk)).data)

    @extend_schema(
        summary="Record what arrived: received date, verdict, comparison notes, photos",
        request=s.TestBuyUpdateSerializer,
        responses=s.TestBuySerializer,
        parameters=[IF_MATCH],
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        data = validated(s.TestBuyUpdateSerializer, request.data)
        photo_ids = data.pop("photos", [])
        actor = actor_of(request)
        # One transaction: a bad photo leaves the verdict and notes as they were.
        with transaction.atomic():
            test_buy: TestBuy = self.locked(self.visible(TestBuy), pk, shape=s.TestBuySerializer)
            photos = []
            for photo_id in photo_ids:
                photo = self.visible(Evidence).filter(pk=photo_id, case=test_buy.case_id).first()
                if photo is None:
                    missing = _("No evidence %(id)s on this case.") % {"id": photo_id}
                    raise exceptions.ValidationError({"photos": [missing]})
                photos.append(photo)
            test_buy = services.test_buy_update(test_buy=test_buy, actor=actor, **data)
            for photo in photos:
                services.test_buy_add_photo(test_buy=test_buy, evidence=photo, actor=actor)
        return self.respond(s.TestBuySerializer(TestBuy.objects.get(pk=test_buy.pk)).data)


class CaseWarningViewSet(CaseChildViewSet):
    serializer_class = s.WarningSerializer

    @extend_schema(summary="Warnings sent on the case", responses=s.WarningSerializer(many=True))
    def list(self, request: Request, case_pk: str) -> Response:
        return Response(s.WarningSerializer(Warning.objects.filter(case=self.case(case_pk)), many=True).data)

    @extend_schema(
        summary="Record a warning you sent (one per storefront per quiet period)",
        request=s.WarningInputSerializer,
        responses={201: s.WarningSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    def create(self, request: Request, case_pk: str) -> Response:
        data = validated(s.WarningInputSerializer, request.data)
        data["storefront"] = self.storefront(data["storefront"])
        warning = services.warning_record(case=self.case(case_pk), actor=actor_of(request), **data)
        return self.respond(s.WarningSerializer(warning).data, status=201)


class WarningDraftViewSet(CaseChildViewSet):
    serializer_class = s.WarningDraftSerializer

    @extend_schema(
        summary="A warning letter filled from the case, to copy and send; record it when sent",
        parameters=[
            OpenApiParameter("storefront", int, required=True),
            OpenApiParameter("kind", str, enum=LetterKind.values, default=LetterKind.FIRST_WARNING),
            OpenApiParameter("language", str, enum=LetterLanguage.values, default=LetterLanguage.ENGLISH),
        ],
        responses=s.WarningDraftSerializer,
    )
    def retrieve(self, request: Request, case_pk: str) -> Response:
        case = self.case(case_pk)
        kind = request.query_params.get("kind", LetterKind.FIRST_WARNING)
        language = request.query_params.get("language", LetterLanguage.ENGLISH)
        errors = {}
        if kind not in LetterKind.values:
            errors["kind"] = [_("Choose one of %(choices)s.") % {"choices": ", ".join(LetterKind.values)}]
        if language not in LetterLanguage.values:
            errors["language"] = [_("Choose one of %(choices)s.") % {"choices": ", ".join(LetterLanguage.values)}]
        if not request.query_params.get("storefront"):
            errors["storefront"] = [_("Give the storefront's ID.")]
        if errors:
            raise exceptions.ValidationError(errors)
        storefront = self.storefront(request.query_params.get("storefront", ""))
        return self.respond(letters.draft(case=case, storefront=storefront, kind=kind, language=language))


class CaseSubmissionViewSet(CaseChildViewSet):
    serializer_class = s.SubmissionSerializer

    @extend_schema(summary="Reports filed with Amazon", responses=s.SubmissionSerializer(many=True))
    def list(self, request: Request, case_pk: str) -> Response:
        return Response(s.SubmissionSerializer(Submission.objects.filter(case=self.case(case_pk)), many=True).data)

    @extend_schema(
        summary="Record a report filed with Amazon",
        request=s.SubmissionInputSerializer,
        responses={201: s.SubmissionSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    def create(self, request: Request, case_pk: str) -> Response:
        data = validated(s.SubmissionInputSerializer, request.data)
        case = self.case(case_pk)
        if data.get("ip_right") is not None:
            data["ip_right"] = self.get_visible(case.brand.ip_rights.all(), data["ip_right"])
        submission = services.submission_record(case=case, actor=actor_of(request), **data)
        return self.respond(s.SubmissionSerializer(submission).data, status=201)


class SubmissionViewSet(ApiViewSet):
    serializer_class = s.SubmissionSerializer
    filter_backends: list[Any] = []

    @extend_schema(summary="Read a submission", responses=s.SubmissionSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return self.respond(s.SubmissionSerializer(self.get_visible(self.visible(Submission), pk)).data)

    @extend_schema(
        summary="Record Amazon's answer",
        request=s.SubmissionOutcomeSerializer,
        responses=s.SubmissionSerializer,
        parameters=[IF_MATCH],
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        data = validated(s.SubmissionOutcomeSerializer, request.data)
        with transaction.atomic():
            submission: Submission = self.locked(self.visible(Submission), pk, shape=s.SubmissionSerializer)
            submission = services.submission_set_outcome(
                submission=submission,
                outcome=data["outcome"],
                reason=data.get("outcome_reason", ""),
                outcome_on=data.get("outcome_on"),
                amazon_ref=data.get("amazon_ref"),
                actor=actor_of(request),
            )
        return self.respond(s.SubmissionSerializer(submission).data)
