"""Cases, their workflow, their storefronts and sightings, and their activity."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.api.serializers._common import IdField
from cases.api.serializers.catalog import StorefrontSerializer
from cases.models import (
    Case,
    CasePriority,
    CaseStatus,
    CaseStorefront,
    Condition,
    Fulfillment,
    InfringementLocation,
)
from cases.workflow import allowed_transitions
from evidence.models import AuditEvent

# --- Output -----------------------------------------------------------------------------------


def _iso(value: dt.datetime | None, zone: dt.tzinfo) -> str | None:
    """A datetime as DRF renders it: in the current time zone, ISO 8601, UTC as Z."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


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


class CaseStorefrontSerializer(serializers.ModelSerializer[CaseStorefront]):
    storefront = StorefrontSerializer(read_only=True)

    class Meta:
        model = CaseStorefront
        fields = ["id", "case", "storefront", "state", "first_seen", "last_seen", "attached_at"]
        read_only_fields = fields


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


# --- Input ------------------------------------------------------------------------------------


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


class SightingInputSerializer(serializers.Serializer[Any]):
    storefront = IdField(required=False, help_text="Storefront ID; or give seller_id")
    seller_id = serializers.CharField(max_length=40, required=False)
    seen_at = serializers.DateTimeField(required=False)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True)
    condition = serializers.ChoiceField(choices=Condition.choices, required=False)
    fulfillment = serializers.ChoiceField(choices=Fulfillment.choices, required=False)
    buy_box = serializers.BooleanField(required=False, allow_null=True, default=None)
