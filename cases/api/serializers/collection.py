"""API shapes of evidence collection: watch lists, SP-API access, captures, notifications."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from cases.models import Capture, CaptureKind, SpApiCredential, SpApiRegion, WatchItem
from evidence.amazon import MARKETPLACE_CHOICES


class WatchItemSerializer(serializers.ModelSerializer[WatchItem]):
    class Meta:
        model = WatchItem
        fields = [
            "id",
            "brand",
            "asin",
            "marketplace",
            "interval_minutes",
            "next_check_at",
            "last_checked_at",
            "last_offer_count",
            "last_error",
            "created_at",
        ]
        read_only_fields = fields


class WatchItemInputSerializer(serializers.Serializer[Any]):
    asin = serializers.CharField(max_length=20)
    marketplace = serializers.ChoiceField(choices=MARKETPLACE_CHOICES)
    interval_minutes = serializers.IntegerField(
        min_value=5, max_value=7 * 24 * 60, required=False, help_text=f"Default {settings.WATCH_INTERVAL_MINUTES}"
    )


class WatchItemUpdateSerializer(serializers.Serializer[Any]):
    interval_minutes = serializers.IntegerField(min_value=5, max_value=7 * 24 * 60)


class SpApiCredentialSerializer(serializers.ModelSerializer[SpApiCredential]):
    """What is shown of stored credentials: never the secrets."""

    class Meta:
        model = SpApiCredential
        fields = ["brand", "selling_partner_id", "region", "client_id", "last_error", "created_at", "updated_at"]
        read_only_fields = fields


class SpApiCredentialInputSerializer(serializers.Serializer[Any]):
    selling_partner_id = serializers.CharField(max_length=16)
    region = serializers.ChoiceField(choices=SpApiRegion.choices)
    client_id = serializers.CharField(max_length=200)
    client_secret = serializers.CharField(max_length=4000, write_only=True)
    refresh_token = serializers.CharField(max_length=4000, write_only=True)


class CaptureSerializer(serializers.ModelSerializer[Capture]):
    screenshot_sha256 = serializers.CharField(source="screenshot.blob_id", read_only=True, allow_null=True)
    archive_sha256 = serializers.CharField(source="archive.blob_id", read_only=True, allow_null=True)
    requested_by = serializers.SerializerMethodField()
    # Blank until the page has loaded: a URLField would promise a URI.
    final_url = serializers.CharField(read_only=True)

    class Meta:
        model = Capture
        fields = [
            "id",
            "case",
            "storefront",
            "url",
            "kind",
            "status",
            "progress",
            "error_code",
            "error",
            "attempts",
            "requested_by",
            "final_url",
            "http_status",
            "browser_version",
            "captured_at",
            "screenshot",
            "screenshot_sha256",
            "archive",
            "archive_sha256",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_requested_by(self, capture: Capture) -> str:
        return capture.requested_by.get_username() if capture.requested_by else f"job {capture.requested_by_job}"


class CaptureInputSerializer(serializers.Serializer[Any]):
    url = serializers.CharField(max_length=2048)
    kind = serializers.ChoiceField(choices=CaptureKind.choices, required=False)
    storefront = serializers.IntegerField(required=False, min_value=1, help_text="The storefront the page shows")


class NotificationAcceptedSerializer(serializers.Serializer[Any]):
    accepted = serializers.IntegerField(help_text="Notifications stored for processing")
    duplicates = serializers.IntegerField(help_text="Notifications already received (by NotificationId)")
