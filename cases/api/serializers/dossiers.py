"""Dossier jobs of a case."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.models import Dossier


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
