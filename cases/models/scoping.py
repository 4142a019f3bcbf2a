"""The one path by which a user's querysets are limited to their teams."""

from __future__ import annotations

from typing import Any, ClassVar, Self, TypeVar

from django.db import models

_M = TypeVar("_M", bound=models.Model)


class TeamScopedQuerySet(models.QuerySet[_M]):
    def visible_to(self, user: Any) -> Self:
        """Rows of the teams ``user`` belongs to (all rows for superusers, none for anyone else)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if getattr(user, "is_superuser", False):
            return self
        from cases.models.teams import Membership

        team_path: str = self.model.team_path  # type: ignore[attr-defined]
        # The team IDs are read first (one small query) rather than as a subquery: with
        # constants, PostgreSQL reads a list's first page straight from an index.
        team_ids = list(Membership.objects.filter(user=user).values_list("team_id", flat=True))
        return self.filter(**{f"{team_path}__in": team_ids})


class TeamScoped(models.Model):
    """Base for every model a user can read: it names the path from the row to its team."""

    team_path: ClassVar[str]

    class Meta:
        abstract = True
