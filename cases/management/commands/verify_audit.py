from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cases.models import Team
from cases.services._common import team_chain
from evidence.selectors import audit_verify_all


class Command(BaseCommand):
    help = "Check every audit chain (one per team); exit 1 naming the first broken link of each broken chain."

    def handle(self, *args: Any, **options: Any) -> None:
        chains = broken = 0
        expected = {team_chain(pk) for pk in Team.objects.values_list("pk", flat=True)}
        for head, problem in audit_verify_all(expected=expected):
            chains += 1
            if problem is not None:
                broken += 1
                self.stderr.write(f"BROKEN {problem}")
            elif options["verbosity"] > 1:
                self.stdout.write(f"ok {head.key}: {head.seq} rows")
        if broken:
            raise CommandError(f"{broken} of {chains} audit chains are broken", returncode=1)
        self.stdout.write(f"All {chains} audit chains verify.")
