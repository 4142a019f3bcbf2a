"""Reads of the case page's evidence panels."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from cases.models import Capture, Case, Dossier, Evidence
from evidence.models import Rendition, RenditionKind


def evidence_gallery(*, case: Case) -> QuerySet[Evidence]:
    """The case's evidence with who captured and withdrew it, and each image's thumbnail (if made yet)."""
    thumbnails = Rendition.objects.filter(kind=RenditionKind.THUMBNAIL, index=0).only(
        "id", "source_id", "width", "height"
    )
    return (
        Evidence.objects.filter(case=case)
        .select_related("blob", "captured_by", "storefront", "withdrawn_by")
        .prefetch_related(Prefetch("blob__renditions", queryset=thumbnails, to_attr="thumbnails"))
    )


def case_captures(*, case: Case, limit: int = 20) -> list[Capture]:
    return list(Capture.objects.filter(case=case).select_related("requested_by")[:limit])


def case_dossiers(*, case: Case) -> list[Dossier]:
    return list(Dossier.objects.filter(case=case).select_related("requested_by"))
