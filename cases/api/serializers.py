"""How the API shows objects (the same shapes go into webhook bodies), and what it accepts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.api.base import MAX_ID
from cases.models import (
    Brand,
    Case,
    CasePriority,
    CaseStatus,
    CaseStorefront,
    Condition,
    Dossier,
    Evidence,
    EvidenceKind,
    Fulfillment,
    InfringementLocation,
    IPRight,
    IPRightKind,
    IPRightStatus,
    OperatorLink,
    Sighting,
    Storefront,
    Submission,
    SubmissionChannel,
    SubmissionOutcome,
    TestBuy,
    TestBuyVerdict,
    Warning,
    WarningChannel,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from cases.models.letters import LetterKind, LetterLanguage
from cases.selectors import operator_links_of
from cases.workflow import allowed_transitions
from evidence.models import AuditEvent

# --- Output -----------------------------------------------------------------------------------


def _iso(value: dt.datetime | None, zone: dt.tzinfo) -> str | None:
    """A datetime as DRF renders it: in the current time zone, ISO 8601, UTC as Z."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class BrandSerializer(serializers.ModelSerializer[Brand]):
    class Meta:
        model = Brand
        fields = [
            "id",
            "team",
            "name",
            "rights_owner",
            "contact_name",
            "contact_email",
            "contact_phone",
            "contact_address",
            "amazon_is_authorized",
            "capture_new_hijackers",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "team", "created_at", "updated_at"]


class IPRightSerializer(serializers.ModelSerializer[IPRight]):
    certificate_sha256 = serializers.CharField(source="certificate_id", read_only=True, allow_null=True)

    class Meta:
        model = IPRight
        fields = [
            "id",
            "brand",
            "kind",
            "registration_number",
            "office",
            "mark_text",
            "classes",
            "registration_date",
            "status",
            "certificate_sha256",
            "certificate_name",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class UserRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)


# What a case list reads per row (see CaseSerializer.to_representation).
CASE_ROW = (
    "id",
    "reference",
    "team_id",
    "brand_id",
    "brand__name",
    "asin",
    "marketplace",
    "title",
    "priority",
    "assignee_id",
    "assignee__username",
    "external_refs",
    "infringement_locations",
    "status",
    "closed_reason",
    "status_changed_at",
    "storefront_count",
    "evidence_count",
    "created_at",
    "updated_at",
)


def case_row(case: Case) -> dict[str, Any]:
    """A case instance as the row ``CASE_ROW`` would read (counts queried if not annotated)."""
    row = {name: getattr(case, name) for name in CASE_ROW if "__" not in name and not name.endswith("_count")}
    row["brand__name"] = case.brand.name
    row["assignee__username"] = case.assignee.get_username() if case.assignee is not None else None
    counts = getattr(case, "storefront_count", None), getattr(case, "evidence_count", None)
    row["storefront_count"] = counts[0] if counts[0] is not None else case.case_storefronts.count()
    row["evidence_count"] = (
        counts[1] if counts[1] is not None else case.evidence.filter(withdrawn_at__isnull=True).count()
    )
    return row


def _open_days(status: str, created_at: dt.datetime, status_changed_at: dt.datetime) -> int:
    """Days the case has been open: until it was resolved or closed, else until now."""
    end = status_changed_at if status in (CaseStatus.RESOLVED, CaseStatus.CLOSED) else timezone.now()
    return max((end - created_at).days, 0)


class CaseSerializer(serializers.ModelSerializer[Case]):
    brand_name = serializers.CharField(source="brand.name", read_only=True)
    assignee = UserRefSerializer(read_only=True, allow_null=True)
    allowed_transitions = serializers.SerializerMethodField()
    storefront_count = serializers.SerializerMethodField()
    evidence_count = serializers.SerializerMethodField()
    open_days = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "reference",
            "team",
            "brand",
            "brand_name",
            "asin",
            "marketplace",
            "title",
            "priority",
            "assignee",
            "external_refs",
            "infringement_locations",
            "status",
            "closed_reason",
            "allowed_transitions",
            "status_changed_at",
            "storefront_count",
            "evidence_count",
            "open_days",
            "url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, case: Case | dict[str, Any]) -> dict[str, Any]:
        """The same dict DRF's field machinery builds, built directly, from a row or a case.

        Case lists are the API's hottest path: they read ``.values(*CASE_ROW)`` rows and
        skip both model instances and per-field dispatch. Tests check the result stays
        identical to ``generic_representation``.
        """
        row = case if isinstance(case, dict) else case_row(case)
        zone = timezone.get_current_timezone()
        status = row["status"]
        assignee_id = row["assignee_id"]
        return {
            "id": row["id"],
            "reference": row["reference"],
            "team": row["team_id"],
            "brand": row["brand_id"],
            "brand_name": row["brand__name"],
            "asin": row["asin"],
            "marketplace": row["marketplace"],
            "title": row["title"],
            "priority": row["priority"],
            "assignee": None if assignee_id is None else {"id": assignee_id, "username": row["assignee__username"]},
            "external_refs": row["external_refs"],
            "infringement_locations": row["infringement_locations"],
            "status": status,
            "closed_reason": row["closed_reason"],
            "allowed_transitions": [str(s) for s in allowed_transitions(status)],
            "status_changed_at": _iso(row["status_changed_at"], zone),
            "storefront_count": row["storefront_count"],
            "evidence_count": row["evidence_count"],
            "open_days": _open_days(status, row["created_at"], row["status_changed_at"]),
            "url": f"/api/v1/cases/{row['id']}/",
            "created_at": _iso(row["created_at"], zone),
            "updated_at": _iso(row["updated_at"], zone),
        }

    def generic_representation(self, case: Case) -> Any:
        return super().to_representation(case)

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=CaseStatus.choices)))
    def get_allowed_transitions(self, case: Case) -> list[str]:
        return [str(s) for s in allowed_transitions(case.status)]

    def get_storefront_count(self, case: Case) -> int:
        annotated = getattr(case, "storefront_count", None)
        return int(annotated) if annotated is not None else case.case_storefronts.count()

    def get_evidence_count(self, case: Case) -> int:
        annotated = getattr(case, "evidence_count", None)
        if annotated is not None:
            return int(annotated)
        return case.evidence.filter(withdrawn_at__isnull=True).count()

    def get_open_days(self, case: Case) -> int:
        return _open_days(case.status, case.created_at, case.status_changed_at)

    def get_url(self, case: Case) -> str:
        return f"/api/v1/cases/{case.pk}/"


class SightingSerializer(serializers.ModelSerializer[Sighting]):
    seller_id = serializers.CharField(source="storefront.seller_id", read_only=True)
    case_reference = serializers.CharField(source="case.reference", read_only=True)

    class Meta:
        model = Sighting
        fields = [
            "id",
            "case",
            "case_reference",
            "storefront",
            "seller_id",
            "seen_at",
            "price",
            "currency",
            "condition",
            "fulfillment",
            "buy_box",
            "source",
            "ships_from",
            "feedback_count",
            "feedback_positive_percent",
            "created_at",
        ]
        read_only_fields = fields


class StorefrontSerializer(serializers.ModelSerializer[Storefront]):
    storefront_url = serializers.CharField(read_only=True)
    profile_url = serializers.CharField(read_only=True)

    class Meta:
        model = Storefront
        fields = [
            "id",
            "team",
            "marketplace",
            "seller_id",
            "name",
            "business_name",
            "business_address",
            "phone",
            "storefront_url",
            "profile_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CaseStorefrontSerializer(serializers.ModelSerializer[CaseStorefront]):
    storefront = StorefrontSerializer(read_only=True)

    class Meta:
        model = CaseStorefront
        fields = ["id", "case", "storefront", "state", "first_seen", "last_seen", "attached_at"]
        read_only_fields = fields


class LinkedAccountSerializer(serializers.ModelSerializer[OperatorLink]):
    group_name = serializers.CharField(source="group.name", read_only=True)

    class Meta:
        model = OperatorLink
        fields = ["group", "group_name", "storefront", "reason", "detail", "evidence", "created_at"]
        read_only_fields = fields


class StorefrontDetailSerializer(StorefrontSerializer):
    cases = serializers.SerializerMethodField()
    sightings = serializers.SerializerMethodField()
    linked_accounts = serializers.SerializerMethodField()

    class Meta(StorefrontSerializer.Meta):
        fields = [*StorefrontSerializer.Meta.fields, "cases", "sightings", "linked_accounts"]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ListField(child=serializers.DictField(), help_text="Cases the storefront appears in")
    )
    def get_cases(self, storefront: Storefront) -> list[dict[str, Any]]:
        return [
            {
                "id": link.case_id,
                "reference": link.case.reference,
                "asin": link.case.asin,
                "status": link.case.status,
                "state": link.state,
                "first_seen": link.first_seen,
                "last_seen": link.last_seen,
            }
            for link in storefront.case_links.select_related("case").order_by("attached_at")
        ]

    @extend_schema_field(SightingSerializer(many=True))
    def get_sightings(self, storefront: Storefront) -> Any:
        recent = storefront.sightings.select_related("case", "storefront").order_by("-seen_at")[:200]
        return SightingSerializer(recent, many=True).data

    @extend_schema_field(LinkedAccountSerializer(many=True))
    def get_linked_accounts(self, storefront: Storefront) -> Any:
        return LinkedAccountSerializer(operator_links_of(storefront=storefront), many=True).data


class EvidenceSerializer(serializers.ModelSerializer[Evidence]):
    sha256 = serializers.CharField(source="blob_id", read_only=True)
    size = serializers.IntegerField(source="blob.size", read_only=True)
    mime_type = serializers.CharField(source="blob.mime_type", read_only=True)
    captured_by = serializers.CharField(source="captured_by_label", read_only=True)
    withdrawn_by = serializers.CharField(source="withdrawn_by.username", read_only=True, allow_null=True, default=None)
    # Blank when the file was not taken from a page: a URLField would promise a URI.
    source_url = serializers.CharField(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = [
            "id",
            "case",
            "kind",
            "sha256",
            "size",
            "mime_type",
            "original_name",
            "source_url",
            "captured_at",
            "captured_by",
            "description",
            "storefront",
            "created_at",
            "withdrawn_at",
            "withdrawn_by",
            "withdrawn_reason",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, item: Evidence) -> str:
        return f"/api/v1/evidence/{item.pk}/download/"


class TestBuySerializer(serializers.ModelSerializer[TestBuy]):
    __test__ = False
    photos: Any = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = TestBuy
        fields = [
            "id",
            "case",
            "storefront",
            "order_id",
            "order_date",
            "price_paid",
            "currency",
            "received_date",
            "verdict",
            "comparison_notes",
            "photos",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WarningSerializer(serializers.ModelSerializer[Warning]):
    class Meta:
        model = Warning
        fields = ["id", "case", "storefront", "language", "text", "channel", "sent_at", "reply", "replied_at"]
        read_only_fields = fields


class SubmissionSerializer(serializers.ModelSerializer[Submission]):
    class Meta:
        model = Submission
        fields = [
            "id",
            "case",
            "channel",
            "submitted_on",
            "amazon_ref",
            "asins",
            "ip_right",
            "outcome",
            "outcome_reason",
            "outcome_on",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class DossierSerializer(serializers.ModelSerializer[Dossier]):
    case_reference = serializers.CharField(source="case.reference", read_only=True)
    sha256 = serializers.CharField(source="pdf_id", read_only=True, allow_null=True)
    requested_by = serializers.SerializerMethodField()
    exhibits = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()
    bundle_url = serializers.SerializerMethodField()

    class Meta:
        model = Dossier
        fields = [
            "id",
            "case",
            "case_reference",
            "version",
            "status",
            "progress",
            "stage",
            "error",
            "requested_by",
            "sha256",
            "pages",
            "exhibits",
            "created_at",
            "started_at",
            "finished_at",
            "pdf_url",
            "bundle_url",
        ]
        read_only_fields = fields

    def get_requested_by(self, dossier: Dossier) -> str:
        return dossier.requested_by.get_username() if dossier.requested_by else f"job {dossier.requested_by_job}"

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_exhibits(self, dossier: Dossier) -> list[dict[str, Any]]:
        return [
            {"number": e.number, "evidence": e.evidence_id, "sha256": e.blob_id, "file_name": e.file_name}
            for e in dossier.exhibits.all()
        ]

    def get_pdf_url(self, dossier: Dossier) -> str | None:
        return f"/api/v1/dossiers/{dossier.pk}/pdf/" if dossier.pdf_id else None

    def get_bundle_url(self, dossier: Dossier) -> str | None:
        return f"/api/v1/dossiers/{dossier.pk}/bundle/" if dossier.pdf_id else None


class ActivitySerializer(serializers.ModelSerializer[AuditEvent]):
    actor = serializers.SerializerMethodField()
    subject = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = ["id", "created_at", "actor", "action", "subject", "before", "after", "hash"]
        read_only_fields = fields

    @extend_schema_field(serializers.DictField())
    def get_actor(self, event: AuditEvent) -> dict[str, Any]:
        return {"kind": event.actor_kind, "id": event.actor_id, "name": event.actor_name}

    def get_subject(self, event: AuditEvent) -> str:
        return f"{event.subject_type}:{event.subject_id}"


class WebhookEndpointSerializer(serializers.ModelSerializer[WebhookEndpoint]):
    class Meta:
        model = WebhookEndpoint
        fields = ["id", "team", "url", "description", "events", "is_active", "created_at", "updated_at"]
        read_only_fields = fields


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="Shown only in this response; store it now.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer[WebhookDelivery]):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "last_attempt_at",
            "response_status",
            "duration_ms",
            "response_excerpt",
            "error",
            "redelivery_of",
            "created_at",
            "payload",
        ]
        read_only_fields = fields


# --- Input ------------------------------------------------------------------------------------
# Input serializers only check shapes and types; the services check the rules.


def IdField(**kwargs: Any) -> serializers.IntegerField:
    """A row ID: a positive PostgreSQL bigint."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class BrandInputSerializer(serializers.Serializer[Any]):
    team = IdField(required=False, help_text="Needed when you belong to several teams")
    name = serializers.CharField(max_length=200)
    rights_owner = serializers.CharField(max_length=200, required=False, allow_blank=True)
    contact_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=50, required=False, allow_blank=True)
    contact_address = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    amazon_is_authorized = serializers.BooleanField(
        required=False, help_text="Amazon's own retail offers are never hijackers (default true)"
    )
    capture_new_hijackers = serializers.BooleanField(
        required=False, help_text="Capture a new hijacker's pages when detected (default true)"
    )


class BrandUpdateSerializer(BrandInputSerializer):
    name = serializers.CharField(max_length=200, required=False)


class IPRightInputSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=IPRightKind.choices)
    registration_number = serializers.CharField(max_length=100, required=False, allow_blank=True)
    office = serializers.CharField(max_length=100, required=False, allow_blank=True)
    mark_text = serializers.CharField(max_length=200, required=False, allow_blank=True)
    classes = serializers.CharField(max_length=100, required=False, allow_blank=True)
    registration_date = serializers.DateField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=IPRightStatus.choices, required=False)
    certificate = serializers.FileField(required=False, help_text="The registration certificate (PDF or image)")


class CaseCreateSerializer(serializers.Serializer[Any]):
    brand = IdField()
    asin = serializers.CharField(max_length=20)
    marketplace = serializers.CharField(max_length=20, help_text="Code such as US, DE, JP")
    title = serializers.CharField(max_length=300, required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=CasePriority.choices, required=False)
    assignee = IdField(required=False, allow_null=True, help_text="User ID")
    external_ref = serializers.CharField(max_length=200, required=False, allow_blank=True)
    external_refs = serializers.ListField(child=serializers.CharField(max_length=200), required=False, max_length=20)


class CaseUpdateSerializer(serializers.Serializer[Any]):
    title = serializers.CharField(max_length=300, required=False, allow_blank=True)
    infringement_locations = serializers.ListField(
        child=serializers.ChoiceField(choices=InfringementLocation.choices), required=False, max_length=4
    )
    priority = serializers.ChoiceField(choices=CasePriority.choices, required=False)
    assignee = IdField(required=False, allow_null=True, help_text="User ID, or null")
    external_refs = serializers.ListField(child=serializers.CharField(max_length=200), required=False, max_length=20)


class TransitionSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True, help_text="Required to close")


class StorefrontAttachSerializer(serializers.Serializer[Any]):
    seller_id = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=300, required=False, allow_blank=True)


class StorefrontUpdateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=300, required=False, allow_blank=True)
    business_name = serializers.CharField(max_length=300, required=False, allow_blank=True)
    business_address = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=50, required=False, allow_blank=True)


class SightingInputSerializer(serializers.Serializer[Any]):
    storefront = IdField(required=False, help_text="Storefront ID; or give seller_id")
    seller_id = serializers.CharField(max_length=40, required=False)
    seen_at = serializers.DateTimeField(required=False)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True)
    condition = serializers.ChoiceField(choices=Condition.choices, required=False)
    fulfillment = serializers.ChoiceField(choices=Fulfillment.choices, required=False)
    buy_box = serializers.BooleanField(required=False, allow_null=True, default=None)


class EvidenceUploadSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(allow_empty_file=True)
    kind = serializers.ChoiceField(choices=EvidenceKind.choices)
    source_url = serializers.CharField(max_length=2048, required=False, allow_blank=True)
    captured_at = serializers.DateTimeField(required=False)
    description = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    storefront = IdField(required=False, allow_null=True)


class WithdrawSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=5000)


class TestBuyInputSerializer(serializers.Serializer[Any]):
    __test__ = False
    storefront = IdField()
    order_id = serializers.CharField(max_length=40)
    order_date = serializers.DateField()
    price_paid = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True)


class TestBuyUpdateSerializer(serializers.Serializer[Any]):
    __test__ = False
    received_date = serializers.DateField(required=False, allow_null=True)
    verdict = serializers.ChoiceField(choices=TestBuyVerdict.choices, required=False)
    comparison_notes = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    photos = serializers.ListField(child=IdField(), required=False, max_length=100, help_text="Evidence IDs to add")


class WarningInputSerializer(serializers.Serializer[Any]):
    storefront = IdField()
    text = serializers.CharField(max_length=20000)
    channel = serializers.ChoiceField(choices=WarningChannel.choices)
    language = serializers.ChoiceField(choices=LetterLanguage.choices, required=False)
    sent_at = serializers.DateTimeField(required=False)


class SubmissionInputSerializer(serializers.Serializer[Any]):
    channel = serializers.ChoiceField(choices=SubmissionChannel.choices)
    submitted_on = serializers.DateField()
    amazon_ref = serializers.CharField(max_length=100, required=False, allow_blank=True)
    asins = serializers.ListField(child=serializers.CharField(max_length=20), required=False, max_length=200)
    ip_right = IdField(required=False, allow_null=True)


class SubmissionOutcomeSerializer(serializers.Serializer[Any]):
    outcome = serializers.ChoiceField(choices=SubmissionOutcome.choices)
    outcome_reason = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    outcome_on = serializers.DateField(required=False, allow_null=True)
    amazon_ref = serializers.CharField(max_length=100, required=False, allow_blank=True)


class WebhookInputSerializer(serializers.Serializer[Any]):
    team = IdField(required=False, help_text="Needed when you manage several teams")
    url = serializers.CharField(max_length=2000)
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices), min_length=1)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class WebhookUpdateSerializer(serializers.Serializer[Any]):
    url = serializers.CharField(max_length=2000, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices), min_length=1, required=False
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class WarningDraftSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=LetterKind.choices)
    language = serializers.ChoiceField(choices=LetterLanguage.choices)
    text = serializers.CharField()
    storefronts = serializers.ListField(child=serializers.CharField(), help_text="Seller IDs the letter names")


class WarningTemplateSerializer(serializers.Serializer[Any]):
    team = IdField(required=False, help_text="Needed when you manage several teams")
    kind = serializers.ChoiceField(choices=LetterKind.choices)
    language = serializers.ChoiceField(choices=LetterLanguage.choices)
    body = serializers.CharField(max_length=20000, help_text="Placeholders: $asin, $brand, $storefront_list, …")
    is_default = serializers.BooleanField(read_only=True)
