"""Team members' discussion of a case."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cases.models.cases import Case
from cases.models.scoping import TeamScoped, TeamScopedQuerySet


class Comment(TeamScoped):
    """A note on a case; ``@username`` mentions notify those members of the team."""

    team_path = "case__team"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"comment {self.pk} on case {self.case_id}"
