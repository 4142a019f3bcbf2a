"""What goes into a dossier, gathered from the case into plain values the template shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Min
from django.utils import timezone

from cases.models import (
    Case,
    CaseStorefront,
    Dossier,
    Evidence,
    InfringementLocation,
    IPRight,
    Sighting,
    TestBuyVerdict,
)
from cases.selectors import operator_links_of, primary_ip_right
from cases.services.records import MAX_ASINS_PER_REPORT
from evidence.models import Blob, Rendition, RenditionKind

GOOD_FAITH = (
    "I have a good faith belief that the use of the described material in the manner complained of "
    "is not authorized by the intellectual property rights owner, its agent, or the law."
)
ACCURACY = (
    "I represent that the information in this notice is accurate and, under penalty of perjury, that I am "
    "the owner, or an agent authorized to act on behalf of the owner, of the intellectual property rights "
    "described above."
)


@dataclass
class FormField:
    label: str
    value: str | list[str]
    hint: str = ""

    @property
    def missing(self) -> bool:
        return not self.value

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)


@dataclass
class Exhibit:
    number: int
    title: str
    kind: str
    blob: Blob
    file_name: str
    source_url: str = ""
    captured_at: str = ""
    captured: dt.datetime | None = None
    captured_by: str = ""
    description: str = ""
    evidence: Evidence | None = None
    tiles: list[str] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return self.blob.sha256


def utc(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def _extension(mime_type: str) -> str:
    return {
        "image/png": ".png",
        "image/jpeg": ".jpg",
        "image/webp": ".webp",
        "image/gif": ".gif",
        "application/pdf": ".pdf",
        "text/html": ".html",
        "message/rfc822": ".mhtml",
        "multipart/related": ".mhtml",
        "application/json": ".json",
        "text/plain": ".txt",
    }.get(mime_type, ".bin")


def exhibits_of(case: Case) -> list[Exhibit]:
    """Every evidence item that is not withdrawn, then IP certificates; numbered from 1."""
    exhibits: list[Exhibit] = []
    items = (
        Evidence.objects.filter(case=case, withdrawn_at__isnull=True)
        .select_related("blob", "captured_by", "storefront")
        .order_by("captured_at", "id")
    )
    for item in items:
        number = len(exhibits) + 1
        exhibits.append(
            Exhibit(
                number=number,
                title=item.get_kind_display(),
                kind=item.kind,
                blob=item.blob,
                file_name=f"exhibit-{number:03d}{_extension(item.blob.mime_type)}",
                source_url=item.source_url,
                captured_at=utc(item.captured_at),
                captured=item.captured_at,
                captured_by=item.captured_by_label,
                description=item.description,
                evidence=item,
            )
        )
    for right in IPRight.objects.filter(brand=case.brand, certificate__isnull=False).select_related("certificate"):
        number = len(exhibits) + 1
        assert right.certificate is not None
        exhibits.append(
            Exhibit(
                number=number,
                title=f"Registration certificate: {right}",
                kind="certificate",
                blob=right.certificate,
                file_name=f"exhibit-{number:03d}{_extension(right.certificate.mime_type)}",
                captured_at=utc(right.created_at),
                captured=right.created_at,
                description=right.certificate_name,
            )
        )
    return exhibits


def attach_tiles(exhibits: list[Exhibit]) -> list[Rendition]:
    """Give image exhibits their print tiles; returns every tile the document may load."""
    by_source: dict[str, list[Rendition]] = {}
    tiles = Rendition.objects.filter(source__in=[e.blob for e in exhibits], kind=RenditionKind.PRINT_TILE).order_by(
        "source", "index"
    )
    for tile in tiles:
        by_source.setdefault(tile.source_id, []).append(tile)
    allowed: list[Rendition] = []
    for exhibit in exhibits:
        for tile in by_source.get(exhibit.sha256, []):
            exhibit.tiles.append(f"cm-file:{tile.blob_id}")
            allowed.append(tile)
    return allowed


def form_sheet(case: Case, storefronts: list[dict[str, Any]], test_buys: list[Any]) -> list[FormField]:
    """Every field Amazon's Report Infringement and Report a Violation forms ask, filled from the case."""
    brand = case.brand
    right = primary_ip_right(case.brand)
    locations = [
        str(InfringementLocation(value).label)
        for value in case.infringement_locations
        if value in InfringementLocation.values
    ]
    asins = sorted({case.asin, *(a for s in case.submissions.all() for a in s.asins)})
    return [
        FormField("Rights owner", brand.rights_owner, "Brand settings: rights owner"),
        FormField("Contact name (signatory)", brand.contact_name, "Brand settings: contact name"),
        FormField("Contact address", brand.contact_address, "Brand settings: contact address"),
        FormField("Contact phone", brand.contact_phone, "Brand settings: contact phone"),
        FormField("Contact e-mail", brand.contact_email, "Brand settings: contact e-mail"),
        FormField("Type of IP", right.get_kind_display() if right else "", "Add an IP right to the brand"),
        FormField("Registration number", right.registration_number if right else "", "IP right: registration number"),
        FormField("Registration office", right.office if right else "", "IP right: office or jurisdiction"),
        FormField("Mark or work", right.mark_text if right else "", "IP right: mark text"),
        FormField("Where the infringement is", locations, "Case: where the infringement is"),
        FormField("ASINs", asins),
        FormField(
            "Infringing sellers",
            [f"{s['seller_id']} — {s['name']} — {s['url']}" for s in storefronts],
            "Attach the offending storefronts",
        ),
        FormField(
            "Test-buy order IDs",
            [t.order_id for t in test_buys if t.verdict != TestBuyVerdict.PENDING],
            "Record a test buy and its verdict (needed for counterfeit claims)",
        ),
    ]


def asin_batches(asins: list[str]) -> list[list[str]]:
    return [asins[i : i + MAX_ASINS_PER_REPORT] for i in range(0, len(asins), MAX_ASINS_PER_REPORT)] or [[]]


def storefront_rows(case: Case) -> list[dict[str, Any]]:
    links = CaseStorefront.objects.filter(case=case).select_related("storefront").order_by("first_seen", "id")
    stats = {
        row["storefront_id"]: row
        for row in Sighting.objects.filter(case=case)
        .values("storefront_id")
        .annotate(low=Min("price"), high=Max("price"), count=Count("id"))
    }
    latest: dict[int, Sighting] = {}
    for sighting in Sighting.objects.filter(case=case).order_by("storefront_id", "-seen_at").distinct():
        latest.setdefault(sighting.storefront_id, sighting)
    rows = []
    for link in links:
        storefront = link.storefront
        stat: Any = stats.get(storefront.pk, {})
        last = latest.get(storefront.pk)
        linked = operator_links_of(storefront=storefront)
        rows.append(
            {
                "seller_id": storefront.seller_id,
                "name": storefront.name,
                "business_name": storefront.business_name,
                "business_address": storefront.business_address,
                "url": storefront.storefront_url,
                "first_seen": utc(link.first_seen),
                "last_seen": utc(link.last_seen),
                "state": link.get_state_display(),
                "sightings": stat.get("count", 0),
                "price_low": _money(stat.get("low")),
                "price_high": _money(stat.get("high")),
                "currency": last.currency if last else "",
                "fulfillment": last.get_fulfillment_display() if last else "",
                "buy_box": last.buy_box if last else None,
                "linked": [
                    {
                        "seller_id": other.storefront.seller_id,
                        "name": other.storefront.name,
                        "reason": other.get_reason_display(),
                        "detail": other.detail,
                    }
                    for other in linked
                ],
            }
        )
    return rows


def _money(value: Any) -> Decimal | None:
    """Aggregates come back with the database's full precision; prices show two decimals."""
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))


def timeline(case: Case) -> list[dict[str, str]]:
    """First and last sighting per storefront, warnings, test buys and reports, oldest first.

    Test buys and reports are known by date only: they sort at the start of their day
    and show without a time, rather than with an invented 00:00:00.
    """
    events: list[tuple[dt.datetime, str, str, bool]] = []
    for link in CaseStorefront.objects.filter(case=case).select_related("storefront"):
        name = link.storefront.name or link.storefront.seller_id
        if link.first_seen:
            events.append((link.first_seen, "Sighting", f"{name} ({link.storefront.seller_id}) first seen", False))
        if link.last_seen and link.last_seen != link.first_seen:
            events.append((link.last_seen, "Sighting", f"{name} ({link.storefront.seller_id}) last seen", False))
    for warning in case.warnings.select_related("storefront"):
        seller = warning.storefront.name or warning.storefront.seller_id
        events.append((warning.sent_at, "Warning", f"to {seller} via {warning.get_channel_display()}", False))
    for buy in case.test_buys.select_related("storefront"):
        seller = buy.storefront.name or buy.storefront.seller_id
        events.append((_day(buy.order_date), "Test buy", f"order {buy.order_id} from {seller}", True))
        if buy.received_date:
            received = f"order {buy.order_id} received: {buy.get_verdict_display()}"
            events.append((_day(buy.received_date), "Test buy", received, True))
    for submission in case.submissions.all():
        filed = f"{submission.get_channel_display()} {submission.amazon_ref}".strip()
        events.append((_day(submission.submitted_on), "Report", filed, True))
        if submission.outcome_on:
            answer = f"Amazon: {submission.get_outcome_display()} {submission.outcome_reason}".strip()
            events.append((_day(submission.outcome_on), "Report", answer, True))
    events.sort(key=lambda event: event[0])
    return [
        {"when": when.strftime("%Y-%m-%d") if date_only else utc(when), "what": what, "detail": detail}
        for when, what, detail, date_only in events
    ]


def _day(value: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(value, dt.time()), dt.UTC)


def dossier_context(dossier: Dossier, exhibits: list[Exhibit]) -> dict[str, Any]:
    case = dossier.case
    storefronts = storefront_rows(case)
    test_buys = list(case.test_buys.select_related("storefront").prefetch_related("photos"))
    exhibit_by_evidence = {e.evidence.pk: e for e in exhibits if e.evidence is not None}
    fields = form_sheet(case, storefronts, test_buys)
    asins = next(f for f in fields if f.label == "ASINs").value
    right = primary_ip_right(case.brand)
    return {
        "dossier": dossier,
        "case": case,
        "brand": case.brand,
        "generated": utc(timezone.now()),
        "summary": summary(case, storefronts, test_buys),
        "fields": fields,
        "missing": [f for f in fields if f.missing],
        "asin_batches": asin_batches(list(asins)),
        "max_asins": MAX_ASINS_PER_REPORT,
        "statements": [GOOD_FAITH, ACCURACY],
        "signatory": case.brand.contact_name,
        "rights": list(case.brand.ip_rights.all()),
        "primary_right": right,
        "storefronts": storefronts,
        "timeline": timeline(case),
        "test_buys": [
            {"buy": buy, "photos": [exhibit_by_evidence[p.pk] for p in buy.photos.all() if p.pk in exhibit_by_evidence]}
            for buy in test_buys
        ],
        "exhibits": exhibits,
    }


def summary(case: Case, storefronts: list[dict[str, Any]], test_buys: list[Any]) -> str:
    counterfeit = [t for t in test_buys if t.verdict == TestBuyVerdict.COUNTERFEIT]
    text = (
        f"{len(storefronts)} seller account(s) not authorized by {case.brand.name} offered ASIN {case.asin} "
        f"on {case.get_marketplace_display()}"
    )
    seen = [s["first_seen"] for s in storefronts if s["first_seen"]]
    if seen:
        text += f" from {min(seen)[:10]}"
    text += "."
    if counterfeit:
        orders = ", ".join(t.order_id for t in counterfeit)
        text += f" Test buys ({orders}) received goods that are not genuine {case.brand.name} products."
    return text
