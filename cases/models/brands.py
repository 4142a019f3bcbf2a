from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models.scoping import TeamScoped, TeamScopedQuerySet
from cases.models.teams import Team
from evidence.amazon import MARKETPLACE_CHOICES, validate_seller_id
from evidence.models import Blob


class Brand(TeamScoped):
    team_path = "team"

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="brands")
    name = models.CharField(max_length=200)
    # Who signs the complaint: the rights owner's legal name and how Amazon reaches them.
    rights_owner = models.CharField(max_length=200, blank=True)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=50, blank=True)
    contact_address = models.TextField(blank=True)
    # Amazon's own retail offers are the brand's distribution when it sells to Amazon.
    amazon_is_authorized = models.BooleanField(
        _("Amazon is an authorized seller"), default=True, help_text=_("Never treat Amazon's own offers as hijackers")
    )
    capture_new_hijackers = models.BooleanField(
        default=True, help_text=_("Capture a new hijacker's storefront and the listing's offers when detected")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="brand_name_unique_in_team")]

    def __str__(self) -> str:
        return self.name


class AuthorizedSeller(TeamScoped):
    """A seller the brand allows on its listings; never reported as a hijacker."""

    team_path = "brand__team"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="authorized_sellers")
    marketplace = models.CharField(max_length=2, choices=MARKETPLACE_CHOICES)
    seller_id = models.CharField(max_length=16, validators=[validate_seller_id])
    name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        ordering = ["marketplace", "seller_id"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "marketplace", "seller_id"], name="authorized_seller_unique")
        ]

    def __str__(self) -> str:
        return f"{self.seller_id} ({self.marketplace})"


class IPRightKind(models.TextChoices):
    TRADEMARK = "trademark", _("Trademark")
    COPYRIGHT = "copyright", _("Copyright")
    PATENT = "patent", _("Patent")
    DESIGN_RIGHT = "design_right", _("Design right")


class IPRightStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    PENDING = "pending", _("Pending")


class IPRight(TeamScoped):
    team_path = "brand__team"

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="ip_rights")
    kind = models.CharField(max_length=16, choices=IPRightKind.choices)
    registration_number = models.CharField(max_length=100, blank=True)
    office = models.CharField(max_length=100, blank=True, help_text=_("Registering office or jurisdiction, e.g. USPTO"))
    mark_text = models.CharField(max_length=200, blank=True)
    classes = models.CharField(max_length=100, blank=True, help_text=_("Nice classes, e.g. 9, 25"))
    registration_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=IPRightStatus.choices, default=IPRightStatus.REGISTERED)
    certificate = models.ForeignKey(Blob, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    certificate_name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        ordering = ["brand", "kind", "registration_number"]
        verbose_name = _("IP right")

    def __str__(self) -> str:
        label = self.mark_text or self.get_kind_display()
        return f"{label} {self.registration_number}".strip()
