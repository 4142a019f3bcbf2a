"""What the product watches on its own: ASINs per brand, and the SP-API access to do it."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models.brands import Brand
from cases.models.scoping import TeamScoped, TeamScopedQuerySet
from evidence.amazon import MARKETPLACE_CHOICES, validate_asin, validate_seller_id


class SpApiRegion(models.TextChoices):
    NA = "na", _("North America")
    EU = "eu", _("Europe, Middle East, India")
    FE = "fe", _("Far East")


class SpApiCredential(TeamScoped):
    """A brand's Selling Partner API authorization. The secrets are sealed and never shown again."""

    team_path = "brand__team"

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="sp_api")
    selling_partner_id = models.CharField(
        "selling partner ID",
        max_length=16,
        validators=[validate_seller_id],
        help_text=_("The brand's own seller ID: its offers are authorized, and notifications name it"),
    )
    region = models.CharField(max_length=2, choices=SpApiRegion.choices)
    client_id = models.CharField(_("LWA client ID"), max_length=200)
    client_secret_sealed = models.TextField()
    refresh_token_sealed = models.TextField()
    last_error = models.TextField(blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("SP-API credential")
        indexes = [models.Index(fields=["selling_partner_id"], name="spapi_partner_idx")]

    def __str__(self) -> str:
        return f"SP-API of {self.brand} ({self.selling_partner_id})"


class WatchItem(TeamScoped):
    """An ASIN in one marketplace that the brand's offer sources check for hijackers."""

    team_path = "brand__team"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="watch_items")
    asin = models.CharField(_("ASIN"), max_length=10, validators=[validate_asin])
    marketplace = models.CharField(max_length=2, choices=MARKETPLACE_CHOICES)
    interval_minutes = models.PositiveIntegerField(default=60, validators=[MinValueValidator(5)])
    next_check_at = models.DateTimeField()
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_offer_count = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        ordering = ["marketplace", "asin"]
        constraints = [models.UniqueConstraint(fields=["brand", "asin", "marketplace"], name="watch_item_unique")]
        indexes = [
            models.Index(fields=["next_check_at"], name="watch_due_idx"),
            models.Index(fields=["asin", "marketplace"], name="watch_listing_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.asin} ({self.marketplace}) for {self.brand}"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Processed")
    IGNORED = "ignored", _("Ignored")
    FAILED = "failed", _("Failed")


class OfferNotification(models.Model):
    """An ANY_OFFER_CHANGED notification as received; its NotificationId makes it count once."""

    notification_id = models.CharField(max_length=100, unique=True)
    received_via = models.CharField(max_length=8, choices=[("sqs", "Amazon SQS"), ("https", "HTTPS endpoint")])
    # Set when it came through the HTTPS endpoint: only these teams' watch lists are matched
    # (those where the token's user works cases). From SQS, the subscriber's SellerId routes it.
    team_ids = models.JSONField(null=True, blank=True)
    # Kept until an HTTPS notification is processed (and when one could not be); SQS keeps its own copy.
    payload = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=NotificationStatus.choices, default=NotificationStatus.PENDING)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "received_at"], name="offer_notification_status_idx")]

    def __str__(self) -> str:
        return f"ANY_OFFER_CHANGED {self.notification_id} ({self.status})"
