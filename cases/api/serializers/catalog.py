"""Brands with their IP rights, warning templates, and storefronts."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.api.serializers._common import IdField
from cases.models import Brand, IPRight, IPRightKind, IPRightStatus, OperatorLink, Sighting, Storefront
from cases.models.letters import LetterKind, LetterLanguage
from cases.selectors import operator_links_of

# --- Output -----------------------------------------------------------------------------------


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


# --- Input ------------------------------------------------------------------------------------


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


class StorefrontUpdateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=300, required=False, allow_blank=True)
    business_name = serializers.CharField(max_length=300, required=False, allow_blank=True)
    business_address = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=50, required=False, allow_blank=True)


class WarningTemplateSerializer(serializers.Serializer[Any]):
    team = IdField(required=False, help_text="Needed when you manage several teams")
    kind = serializers.ChoiceField(choices=LetterKind.choices)
    language = serializers.ChoiceField(choices=LetterLanguage.choices)
    body = serializers.CharField(max_length=20000, help_text="Placeholders: $asin, $brand, $storefront_list, …")
    is_default = serializers.BooleanField(read_only=True)
