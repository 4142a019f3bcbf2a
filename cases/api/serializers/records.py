"""Evidence, test buys, warnings and submissions of a case."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cases.api.serializers._common import IdField
from cases.models import (
    Evidence,
    EvidenceKind,
    Submission,
    SubmissionChannel,
    SubmissionOutcome,
    TestBuy,
    TestBuyVerdict,
    Warning,
    WarningChannel,
)
from cases.models.letters import LetterKind, LetterLanguage

# --- Output -----------------------------------------------------------------------------------


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


# --- Input ------------------------------------------------------------------------------------


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


class WarningDraftSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=LetterKind.choices)
    language = serializers.ChoiceField(choices=LetterLanguage.choices)
    text = serializers.CharField()
    storefronts = serializers.ListField(child=serializers.CharField(), help_text="Seller IDs the letter names")
