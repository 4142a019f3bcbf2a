from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cases.models import Evidence, IPRight
from evidence.selectors import blob_verify_all


class Command(BaseCommand):
    help = "Re-hash every stored file; exit 1 naming each evidence item whose bytes are missing or changed."

    def handle(self, *args: Any, **options: Any) -> None:
        checked = bad = 0
        for blob, problem in blob_verify_all():
            checked += 1
            if problem is None:
                continue
            bad += 1
            self.stderr.write(f"{problem.problem.upper()} sha256 {blob.sha256}: {problem.detail}")
            items = Evidence.objects.filter(blob=blob).select_related("case")
            for item in items:
                self.stderr.write(f"  evidence #{item.pk} of case {item.case.reference} ({item.original_name})")
            for right in IPRight.objects.filter(certificate=blob):
                self.stderr.write(f"  certificate of IP right #{right.pk} ({right})")
        if bad:
            raise CommandError(f"{bad} of {checked} stored files are missing or changed", returncode=1)
        self.stdout.write(f"All {checked} stored files match their SHA-256.")
