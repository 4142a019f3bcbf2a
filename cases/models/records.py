"""What the team did and collected on a case: evidence, test buys, warnings, submissions."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models.brands import IPRight
from cases.models.cases import Case, Storefront
from cases.models.scoping import TeamScoped, TeamScopedQuerySet
from evidence.amazon import validate_order_id
from evidence.models import Blob


class EvidenceKind(models.TextChoices):
    SCREENSHOT = "screenshot", _("Screenshot")
    PAGE_CAPTURE = "page_capture", _("Page capture")
    TEST_BUY_PHOTO = "test_buy_photo", _("Test-buy photo")
    INVOICE = "invoice", _("Invoice")
    DOCUMENT = "document", _("Document")
    OFFER_SNAPSHOT = "offer_snapshot", _("Offer snapshot")


class Evidence(TeamScoped):
    """A stored file attached to a case. Its bytes and hash never change; it can only be withdrawn."""

    team_path = "case__team"
    # The only fields a stored item may still change: its withdrawal.
    WITHDRAWAL_FIELDS = frozenset({"withdrawn_at", "withdrawn_by", "withdrawn_reason"})

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="evidence")
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="evidence_items")
    kind = models.CharField(max_length=16, choices=EvidenceKind.choices)
    original_name = models.CharField(max_length=255, blank=True, help_text=_("As uploaded; metadata only"))
    source_url = models.URLField(max_length=2048, blank=True)
    captured_at = models.DateTimeField()
    captured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    captured_by_job = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    storefront = models.ForeignKey(Storefront, on_delete=models.PROTECT, null=True, blank=True, related_name="evidence")
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawn_reason = models.TextField(blank=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        ordering = ["captured_at", "id"]
        verbose_name_plural = _("evidence")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.blob_id[:12]}… on {self.case_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        is_update = self.pk is not None and not kwargs.get("force_insert")
        if is_update and (update_fields is None or not set(update_fields) <= self.WITHDRAWAL_FIELDS):
            raise ValueError("Stored evidence is immutable; only its withdrawal can be recorded.")
        super().save(*args, **kwargs)

    @property
    def sha256(self) -> str:
        return self.blob_id

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def captured_by_label(self) -> str:
        if self.captured_by_id is not None and self.captured_by is not None:
            return self.captured_by.get_username()
        return f"job {self.captured_by_job}" if self.captured_by_job else ""


class TestBuyVerdict(models.TextChoices):
    PENDING = "pending", _("Awaiting delivery or inspection")
    COUNTERFEIT = "counterfeit", _("Counterfeit")
    GENUINE = "genuine", _("Genuine")
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    NOT_RECEIVED = "not_received", _("Not received")


class TestBuy(TeamScoped):
    __test__ = False  # not a pytest test class
    """An order placed with a hijacker to see what they really ship."""

    team_path = "case__team"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="test_buys")
    storefront = models.ForeignKey(Storefront, on_delete=models.PROTECT, related_name="test_buys")
    order_id = models.CharField(_("order ID"), max_length=19, validators=[validate_order_id])
    order_date = models.DateField()
    price_paid = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    received_date = models.DateField(null=True, blank=True)
    verdict = models.CharField(max_length=16, choices=TestBuyVerdict.choices, default=TestBuyVerdict.PENDING)
    comparison_notes = models.TextField(blank=True, help_text=_("How it differs from the genuine product"))
    photos = models.ManyToManyField(Evidence, blank=True, related_name="test_buys")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        ordering = ["order_date", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "order_id"], name="test_buy_order_unique_in_case")]

    def __str__(self) -> str:
        return f"Test buy {self.order_id}"


class WarningChannel(models.TextChoices):
    ASK_A_QUESTION = "ask_a_question", _("Storefront 'Ask a question'")
    BUYER_SELLER_MESSAGING = "buyer_seller_messaging", _("Buyer-Seller Messaging")
    EMAIL = "email", _("E-mail")
    OTHER = "other", _("Other")


class Warning(TeamScoped):
    """A letter sent to a storefront, and its reply."""

    team_path = "case__team"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="warnings")
    storefront = models.ForeignKey(Storefront, on_delete=models.PROTECT, related_name="warnings")
    language = models.CharField(max_length=10, default="en")
    text = models.TextField()
    channel = models.CharField(max_length=24, choices=WarningChannel.choices)
    sent_at = models.DateTimeField()
    reply = models.TextField(blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        ordering = ["sent_at", "id"]

    def __str__(self) -> str:
        return f"Warning to {self.storefront} on {self.sent_at:%Y-%m-%d}"


class SubmissionChannel(models.TextChoices):
    REPORT_A_VIOLATION = "report_a_violation", _("Brand Registry: Report a Violation")
    REPORT_INFRINGEMENT = "report_infringement", _("Report Infringement form")
    SELLER_SUPPORT = "seller_support", _("Seller Support")


class SubmissionOutcome(models.TextChoices):
    PENDING = "pending", _("Awaiting Amazon's answer")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class Submission(TeamScoped):
    """A report filed with Amazon, and what Amazon answered."""

    team_path = "case__team"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="submissions")
    channel = models.CharField(max_length=24, choices=SubmissionChannel.choices)
    submitted_on = models.DateField()
    amazon_ref = models.CharField(_("Amazon complaint or case ID"), max_length=100, blank=True)
    asins = models.JSONField(default=list)
    ip_right = models.ForeignKey(IPRight, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    outcome = models.CharField(max_length=16, choices=SubmissionOutcome.choices, default=SubmissionOutcome.PENDING)
    outcome_reason = models.TextField(blank=True)
    outcome_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        ordering = ["submitted_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.amazon_ref or self.submitted_on}"
