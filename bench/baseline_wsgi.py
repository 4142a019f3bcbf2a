"""The baseline of bench/api.py: the same 100 case rows as the API's first page, fetched
with ``.values()`` and serialised with ``json.dumps``, served by gunicorn like the API."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casemanager.settings")
django.setup()

from django.core.serializers.json import DjangoJSONEncoder  # noqa: E402

from cases.models import Case  # noqa: E402

FIELDS = [
    "id",
    "reference",
    "team",
    "brand",
    "brand__name",
    "asin",
    "marketplace",
    "title",
    "priority",
    "assignee",
    "external_refs",
    "status",
    "closed_reason",
    "status_changed_at",
    "created_at",
    "updated_at",
]
TEAM_ID = int(os.environ["BENCH_TEAM_ID"])


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    rows = list(Case.objects.filter(team_id=TEAM_ID).order_by("-created_at", "-id").values(*FIELDS)[:100])
    body = json.dumps({"results": rows}, cls=DjangoJSONEncoder).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
