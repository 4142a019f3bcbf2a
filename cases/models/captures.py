"""Collection jobs kept as rows: page captures and the re-checks after a report."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models.cases import Case, Storefront
from cases.models.records import Evidence, Submission
from cases.models.scoping import TeamScoped, TeamScopedQuerySet


class JobStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class CaptureKind(models.TextChoices):
    LISTING = "listing", _("Listing")
    OFFERS = "offers", _("Offers page")
    STOREFRONT = "storefront", _("Storefront")
    SELLER_PROFILE = "seller_profile", _("Seller profile")
    OTHER = "other", _("Other page")


class Capture(TeamScoped):
    """One page captured in headless Chromium: a screenshot and an MHTML archive as evidence."""

    team_path = "case__team"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="captures")
    storefront = models.ForeignKey(Storefront, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    url = models.URLField(max_length=2048)
    kind = models.CharField(max_length=16, choices=CaptureKind.choices, default=CaptureKind.OTHER)
    status = models.CharField(max_length=8, choices=JobStatus.choices, default=JobStatus.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    # A machine-readable reason when it failed: robot_check, refused_url, http_error, timeout...
    error_code = models.CharField(max_length=32, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_by_job = models.CharField(max_length=100, blank=True)
    final_url = models.URLField(max_length=2048, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    browser_version = models.CharField(max_length=100, blank=True)
    captured_at = models.DateTimeField(null=True, blank=True)
    screenshot = models.ForeignKey(Evidence, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    archive = models.ForeignKey(Evidence, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="capture_status_idx")]

    def __str__(self) -> str:
        return f"capture {self.pk} of {self.url[:60]} ({self.status})"


class Recheck(TeamScoped):
    """A scheduled look, after a report was filed, at whether the case's hijackers are gone."""

    team_path = "case__team"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="rechecks")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="rechecks")
    due_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=JobStatus.choices, default=JobStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    still_present = models.JSONField(default=list, blank=True, help_text=_("Seller IDs still offering the listing"))
    gone = models.JSONField(default=list, blank=True, help_text=_("Seller IDs no longer offering it"))
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["status", "due_at"], name="recheck_due_idx")]

    def __str__(self) -> str:
        return f"re-check of {self.case_id} due {self.due_at:%Y-%m-%d}"
