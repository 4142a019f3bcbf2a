from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models.scoping import TeamScoped, TeamScopedQuerySet
from cases.models.teams import Team


class LetterKind(models.TextChoices):
    FIRST_WARNING = "first_warning", _("First warning to a storefront")
    MULTI_ACCOUNT = "multi_account", _("Letter to one operator of several storefronts")


class LetterLanguage(models.TextChoices):
    ENGLISH = "en", _("English")
    CHINESE = "zh-hans", _("简体中文")


class WarningTemplate(TeamScoped):
    """A team's own wording of a warning letter; the built-in text is used when there is none."""

    team_path = "team"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="warning_templates")
    kind = models.CharField(max_length=16, choices=LetterKind.choices)
    language = models.CharField(max_length=10, choices=LetterLanguage.choices)
    body = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "language"]
        constraints = [models.UniqueConstraint(fields=["team", "kind", "language"], name="warning_template_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.language})"
