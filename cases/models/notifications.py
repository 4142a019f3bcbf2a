"""What a team member is told: in the app, and by e-mail."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models.cases import Case
from cases.models.scoping import TeamScoped, TeamScopedQuerySet
from cases.models.teams import Team


class NotificationKind(models.TextChoices):
    NEW_HIJACKER = "new_hijacker", _("New hijacker")
    HIJACKERS_GONE = "hijackers_gone", _("Hijackers gone")
    ASSIGNED = "assigned", _("Case assigned to you")
    MENTIONED = "mentioned", _("You were mentioned")
    DOSSIER_READY = "dossier_ready", _("Dossier ready")


class Notification(TeamScoped):
    team_path = "team"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="notification_inbox_idx")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}: {self.message[:40]}"
