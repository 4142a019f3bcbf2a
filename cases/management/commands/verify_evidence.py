from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.models import Evidence, IPRight
from evidence.selectors import blob_orphans, blob_verify_all
from evidence.services import evidence_storage


class Command(BaseCommand):
    help = (
        "Re-hash every stored file; exit 1 naming each evidence item whose bytes are missing or changed, "
        "and each stored file no row refers to."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--delete-orphans", action="store_true", help="Delete stored files no row refers to (after reporting)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        checked = bad = 0
        for blob, problem in blob_verify_all():
            checked += 1
            if problem is None:
                continue
            bad += 1
            self.stderr.write(f"{problem.problem.upper()} sha256 {blob.sha256}: {problem.detail}")
            for item in Evidence.objects.filter(blob=blob).select_related("case"):
                self.stderr.write(f"  evidence #{item.pk} of case {item.case.reference} ({item.original_name})")
            for right in IPRight.objects.filter(certificate=blob):
                self.stderr.write(f"  certificate of IP right #{right.pk} ({right})")
        orphans = list(blob_orphans())
        for name in orphans:
            if options["delete_orphans"]:
                evidence_storage().delete(name)
                self.stdout.write(f"deleted orphan file {name}")
            else:
                self.stderr.write(f"ORPHAN {name}: stored file with no row (remove with --delete-orphans)")
        if bad or (orphans and not options["delete_orphans"]):
            raise CommandError(
                f"{bad} of {checked} stored files are missing or changed; {len(orphans)} orphan files", returncode=1
            )
        self.stdout.write(f"All {checked} stored files match their SHA-256.")
