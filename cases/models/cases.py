from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models.brands import Brand
from cases.models.scoping import TeamScoped, TeamScopedQuerySet
from cases.models.teams import Team
from evidence.amazon import (
    MARKETPLACE_CHOICES,
    seller_profile_url,
    storefront_url,
    validate_asin,
    validate_seller_id,
)


class CaseStatus(models.TextChoices):
    NEW = "new", _("New")
    INVESTIGATING = "investigating", _("Investigating")
    WARNED = "warned", _("Warned")
    TEST_BUY = "test_buy", _("Test buy")
    REPORTED = "reported", _("Reported")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")


FINISHED_STATUSES = (CaseStatus.RESOLVED, CaseStatus.CLOSED)


class CasePriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class InfringementLocation(models.TextChoices):
    """Where the infringement is, as Amazon's report forms ask."""

    PRODUCT = "product", _("Product")
    PACKAGING = "packaging", _("Packaging")
    DETAIL_PAGE_IMAGE = "detail_page_image", _("Detail page image")
    DETAIL_PAGE_TEXT = "detail_page_text", _("Detail page text")


class CaseSequence(models.Model):
    """Per team and year, the last number handed out in case references (HJ-2026-0042)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "year"], name="case_sequence_unique")]


class Case(TeamScoped):
    """One hijacked listing: an ASIN in one marketplace."""

    team_path = "team"

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="cases")
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="cases")
    reference = models.CharField(max_length=20, editable=False)
    asin = models.CharField(_("ASIN"), max_length=10, validators=[validate_asin])
    marketplace = models.CharField(max_length=2, choices=MARKETPLACE_CHOICES)
    title = models.CharField(max_length=300, blank=True)
    priority = models.CharField(max_length=8, choices=CasePriority.choices, default=CasePriority.NORMAL)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="assigned_cases"
    )
    external_refs = models.JSONField(default=list, blank=True, help_text=_("Ticket references in other tools"))
    infringement_locations = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Where the infringement is: product, packaging, detail page image or text"),
    )
    status = models.CharField(max_length=16, choices=CaseStatus.choices, default=CaseStatus.NEW)
    closed_reason = models.TextField(blank=True)
    # Set by a re-check that found every hijacker gone; the team decides whether to resolve.
    resolution_suggested_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "reference"], name="case_reference_unique_in_team"),
            models.UniqueConstraint(
                fields=["team", "asin", "marketplace"],
                condition=~Q(status__in=["resolved", "closed"]),
                name="one_open_case_per_listing",
            ),
        ]
        indexes = [
            # The case list's order: its first page is an index range, not a sort of every case.
            models.Index(fields=["team", "-created_at", "-id"], name="case_team_created_idx"),
            # "Recently changed" on the case list (and the API's ordering by updated_at).
            models.Index(fields=["team", "-updated_at", "-id"], name="case_team_updated_idx"),
            models.Index(fields=["team", "status"], name="case_team_status_idx"),
            models.Index(fields=["asin"], name="case_asin_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.asin} ({self.marketplace})"


class Storefront(TeamScoped):
    """A seller account as one team knows it."""

    team_path = "team"

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="storefronts")
    marketplace = models.CharField(max_length=2, choices=MARKETPLACE_CHOICES)
    seller_id = models.CharField(_("seller ID"), max_length=16, validators=[validate_seller_id])
    name = models.CharField(max_length=300, blank=True)
    # From the seller profile page; they feed operator linking.
    business_name = models.CharField(max_length=300, blank=True)
    business_address = models.TextField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        ordering = ["marketplace", "seller_id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "marketplace", "seller_id"], name="storefront_unique_in_team")
        ]

    def __str__(self) -> str:
        return f"{self.name or self.seller_id} ({self.marketplace})"

    @property
    def storefront_url(self) -> str:
        return storefront_url(self.marketplace, self.seller_id)

    @property
    def profile_url(self) -> str:
        return seller_profile_url(self.marketplace, self.seller_id)


class OperatorGroup(TeamScoped):
    """Storefronts we believe one operator runs."""

    team_path = "team"

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="operator_groups")
    name = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OperatorLinkReason(models.TextChoices):
    BUSINESS_NAME = "business_name", _("Same business name")
    ADDRESS = "address", _("Same business address")
    PHONE = "phone", _("Same phone number")
    ROTATION = "rotation", _("Take turns on the same ASINs")
    MANUAL = "manual", _("Linked by a team member")


class OperatorLink(TeamScoped):
    """Why a storefront belongs to an operator group."""

    team_path = "group__team"

    group = models.ForeignKey(OperatorGroup, on_delete=models.CASCADE, related_name="links")
    storefront = models.ForeignKey(Storefront, on_delete=models.CASCADE, related_name="operator_links")
    reason = models.CharField(max_length=16, choices=OperatorLinkReason.choices)
    detail = models.TextField(blank=True)
    evidence = models.ForeignKey(
        "cases.Evidence", on_delete=models.PROTECT, null=True, blank=True, related_name="operator_links"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        ordering = ["group", "storefront"]
        constraints = [models.UniqueConstraint(fields=["group", "storefront", "reason"], name="operator_link_unique")]

    def __str__(self) -> str:
        return f"{self.storefront} in {self.group}: {self.get_reason_display()}"


class PresenceState(models.TextChoices):
    ACTIVE = "active", _("Selling")
    GONE = "gone", _("Gone")


class CaseStorefront(TeamScoped):
    """A storefront hijacking the case's listing, with when it was seen there."""

    team_path = "case__team"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="case_storefronts")
    storefront = models.ForeignKey(Storefront, on_delete=models.PROTECT, related_name="case_links")
    state = models.CharField(max_length=8, choices=PresenceState.choices, default=PresenceState.ACTIVE)
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    # The latest sighting's terms: an offer seen again on the same terms only extends last_seen.
    last_sighting = models.ForeignKey(
        "Sighting", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    attached_at = models.DateTimeField(auto_now_add=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        ordering = ["attached_at", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "storefront"], name="case_storefront_unique")]

    def __str__(self) -> str:
        return f"{self.storefront} on {self.case}"


class Condition(models.TextChoices):
    NEW = "new", _("New")
    USED = "used", _("Used")
    COLLECTIBLE = "collectible", _("Collectible")
    REFURBISHED = "refurbished", _("Refurbished")
    UNKNOWN = "unknown", _("Unknown")


class Fulfillment(models.TextChoices):
    FBA = "FBA", _("Fulfilled by Amazon")
    FBM = "FBM", _("Fulfilled by merchant")
    UNKNOWN = "unknown", _("Unknown")


class SightingSource(models.TextChoices):
    MANUAL = "manual", _("Entered by hand")
    API_POLL = "api_poll", _("SP-API poll")
    NOTIFICATION = "notification", _("ANY_OFFER_CHANGED notification")
    CAPTURE = "capture", _("Page capture")


class Sighting(TeamScoped):
    """A storefront seen offering the case's ASIN at one moment."""

    team_path = "case__team"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="sightings")
    storefront = models.ForeignKey(Storefront, on_delete=models.PROTECT, related_name="sightings")
    seen_at = models.DateTimeField()
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    condition = models.CharField(max_length=12, choices=Condition.choices, default=Condition.NEW)
    fulfillment = models.CharField(max_length=8, choices=Fulfillment.choices, default=Fulfillment.UNKNOWN)
    buy_box = models.BooleanField(null=True, blank=True, help_text=_("Empty when the source did not say"))
    source = models.CharField(max_length=16, choices=SightingSource.choices, default=SightingSource.MANUAL)
    # As Amazon reported them with the offer; empty when the source did not say.
    ships_from = models.CharField(max_length=100, blank=True)
    feedback_count = models.PositiveIntegerField(null=True, blank=True)
    feedback_positive_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-seen_at", "-id"]
        indexes = [models.Index(fields=["case", "seen_at"], name="sighting_case_seen_idx")]

    def __str__(self) -> str:
        return f"{self.storefront} on {self.case.asin} at {self.seen_at:%Y-%m-%d %H:%M}"
