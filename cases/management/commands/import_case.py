from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.models import Team
from cases.portability import PortabilityError, case_import
from evidence.services import Actor


class Command(BaseCommand):
    help = (
        "Import a case written by export_case into the team SLUG, as the team's manager USERNAME. "
        "Every file is checked against its SHA-256 first; on any failure nothing is written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", metavar="FILE.zip")
        parser.add_argument("--team", required=True, help="Slug of the team that receives the case")
        parser.add_argument(
            "--as", dest="username", required=True, help="A manager of that team, named in the audit trail"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        team = Team.objects.filter(slug=options["team"]).first()
        if team is None:
            raise CommandError(f"No team {options['team']}")
        user = get_user_model().objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {options['username']}")
        try:
            case = case_import(source=Path(options["archive"]), team=team, actor=Actor.of_user(user))
        except (PortabilityError, ValidationError, PermissionDenied) as error:
            raise CommandError(f"Nothing was imported: {_message(error)}") from None
        self.stdout.write(f"Imported case {case.reference} into team {team.slug}.")


def _message(error: Exception) -> str:
    if isinstance(error, ValidationError) and hasattr(error, "message_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)
