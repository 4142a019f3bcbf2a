from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.models import Case
from cases.portability import PortabilityError, case_export


class Command(BaseCommand):
    help = (
        "Write the case with reference CASE_REF, with its evidence, sightings, records, dossiers and "
        "audit rows, to a ZIP that import_case reads on another installation."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("reference", metavar="CASE_REF")
        parser.add_argument("-o", "--output", required=True, metavar="FILE.zip")
        parser.add_argument("--team", help="Team slug, when several teams use the reference")

    def handle(self, *args: Any, **options: Any) -> None:
        cases = Case.objects.filter(reference=options["reference"])
        if options["team"]:
            cases = cases.filter(team__slug=options["team"])
        found = list(cases.select_related("team", "brand")[:2])
        if not found:
            raise CommandError(f"No case {options['reference']}")
        if len(found) > 1:
            raise CommandError(f"Several teams have a case {options['reference']}: add --team SLUG")
        try:
            result = case_export(case=found[0], destination=Path(options["output"]))
        except PortabilityError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Wrote {result.path}: case {found[0].reference} of team {found[0].team.slug}, "
            f"{result.blobs} files ({result.blob_bytes} bytes, each checked against its SHA-256), "
            f"{result.audit_rows} audit rows"
        )
