"""Built complaint packets: each dossier is a job row, then a kept, versioned PDF."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models.cases import Case
from cases.models.records import Evidence
from cases.models.scoping import TeamScoped, TeamScopedQuerySet
from evidence.models import Blob


class DossierStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Dossier(TeamScoped):
    """One build of a case's PDF dossier. Rebuilding makes a new version; old ones stay."""

    team_path = "case__team"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="dossiers")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=DossierStatus.choices, default=DossierStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text=_("Percent done"))
    stage = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_by_job = models.CharField(max_length=100, blank=True)
    pdf = models.ForeignKey(Blob, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    pages = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["case", "version"], name="dossier_version_unique")]
        indexes = [models.Index(fields=["status", "created_at"], name="dossier_status_idx")]

    def __str__(self) -> str:
        return f"{self.case.reference} dossier v{self.version} ({self.status})"

    @property
    def sha256(self) -> str | None:
        return self.pdf_id

    @property
    def file_name(self) -> str:
        return f"{self.case.reference}-dossier-v{self.version}.pdf"


class DossierExhibit(models.Model):
    """Which evidence a dossier included, under which exhibit number."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="exhibits")
    number = models.PositiveIntegerField()
    evidence = models.ForeignKey(Evidence, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    label = models.CharField(max_length=200)
    file_name = models.CharField(max_length=255)
    source_url = models.URLField(max_length=2048, blank=True)
    captured_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["dossier", "number"]
        constraints = [models.UniqueConstraint(fields=["dossier", "number"], name="dossier_exhibit_unique")]

    def __str__(self) -> str:
        return f"Exhibit {self.number} of {self.dossier_id}"
