from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.models import Case, DossierStatus
from cases.services.dossiers import dossier_build, dossier_request
from evidence.services import Actor, blob_copy_to


class Command(BaseCommand):
    help = "Build a new dossier version for the case with reference CASE_REF and write its PDF to FILE."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("reference", metavar="CASE_REF")
        parser.add_argument("-o", "--output", required=True, metavar="FILE.pdf")
        parser.add_argument("--team", help="Team slug, when several teams use the reference")

    def handle(self, *args: Any, **options: Any) -> None:
        cases = Case.objects.filter(reference=options["reference"])
        if options["team"]:
            cases = cases.filter(team__slug=options["team"])
        found = list(cases.select_related("team")[:2])
        if not found:
            raise CommandError(f"No case {options['reference']}")
        if len(found) > 1:
            raise CommandError(f"Several teams have a case {options['reference']}: add --team SLUG")
        dossier = dossier_request(case=found[0], actor=Actor.system("manage.py build_dossier"))
        # Built here, in this process; a worker that receives the queued message finds it claimed.
        dossier_build(dossier_id=dossier.pk)
        dossier.refresh_from_db()
        if dossier.status != DossierStatus.DONE or dossier.pdf is None:
            raise CommandError(f"The dossier failed: {dossier.error or dossier.status}")
        with open(Path(options["output"]), "wb") as out:
            blob_copy_to(dossier.pdf, out)
        self.stdout.write(
            f"Wrote {options['output']}: dossier v{dossier.version} of {found[0].reference}, "
            f"{dossier.pages} pages, SHA-256 {dossier.pdf_id}"
        )
