"""API read performance on 10,000 cases, over a real HTTP server (gunicorn) and PostgreSQL.

Loads 10,000 cases (3 storefronts, 20 sightings and 5 evidence items each) into a
separate database, then times the case list (100 per page), case detail and search. The
baseline, served by the same gunicorn set-up in the same run (bench/baseline_wsgi.py),
fetches the same 100 rows with ``.values()`` and serialises them with ``json.dumps``.
Queries per request are counted in-process on the same code path.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/api.py [--cases 10000] [--requests 200]

The bench database (casemanager_bench) is created and filled once and reused.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = "casemanager_bench"


def _bench_database_url() -> str:
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        sys.exit("bench/api.py needs DATABASE_URL pointing at a PostgreSQL server (any database on it)")
    parts = urlsplit(base)
    admin = urlunsplit(parts._replace(path="/postgres"))
    import psycopg

    with psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{BENCH_DB}"')
    return urlunsplit(parts._replace(path=f"/{BENCH_DB}"))


def _setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casemanager.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _load(cases: int) -> tuple[int, int]:
    """Fill the bench database once (bulk inserts: this is scaffolding, not product writes)."""
    import hashlib

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from cases.models import Brand, Case, Evidence, Membership, Team
    from evidence.models import Blob

    team = Team.objects.filter(slug="bench").first()
    user = get_user_model().objects.filter(username="bench").first()
    if team is not None and Case.objects.filter(team=team).count() >= cases:
        return team.pk, user.pk  # type: ignore[union-attr]
    print(f"loading {cases} cases (once) …", flush=True)
    team = Team.objects.create(name="Bench", slug="bench")
    user = get_user_model().objects.create_user("bench", password=secrets.token_urlsafe())
    Membership.objects.create(team=team, user=user, role="manager")
    brand = Brand.objects.create(team=team, name="Bench brand")
    now = timezone.now()
    names = ["深圳市好运来贸易有限公司", "株式会社さくら商事", "YiWu Best Deals Store"]
    batch = 1000
    for start in range(0, cases, batch):
        rows = [
            Case(
                team=team,
                brand=brand,
                reference=f"HJ-2026-{n + 1:05d}",
                asin=f"B0{n:08d}",
                marketplace="US",
                title=f"Listing {n}",
                status_changed_at=now,
                external_refs=[f"JIRA-{n}"],
            )
            for n in range(start, min(start + batch, cases))
        ]
        created = Case.objects.bulk_create(rows)
        seed_hijackers(created, team=team, names=names, sightings=20, now=now)
        blobs = Blob.objects.bulk_create(
            [
                Blob(sha256=hashlib.sha256(f"{c.pk}-{e}".encode()).hexdigest(), size=1000, mime_type="image/png")
                for c in created
                for e in range(5)
            ]
        )
        Evidence.objects.bulk_create(
            [
                Evidence(case=c, blob=blobs[i * 5 + e], kind="screenshot", captured_at=now, captured_by=user)
                for i, c in enumerate(created)
                for e in range(5)
            ]
        )
        print(f"  {min(start + batch, cases)} cases", flush=True)
    return team.pk, user.pk


def seed_hijackers(created: list[Any], *, team: Any, names: list[str], sightings: int, now: Any) -> None:
    """Three storefronts on each case, and ``sightings`` sightings spread over them (shared with load.py)."""
    import datetime as dt
    from decimal import Decimal

    from cases.models import CaseStorefront, Sighting, Storefront

    fronts = Storefront.objects.bulk_create(
        [
            Storefront(team=team, marketplace="US", seller_id=f"A{c.pk:09d}{k:04d}", name=f"{names[k]} {c.pk}")
            for c in created
            for k in range(3)
        ]
    )
    CaseStorefront.objects.bulk_create(
        [
            CaseStorefront(case=c, storefront=fronts[i * 3 + k], first_seen=now, last_seen=now)
            for i, c in enumerate(created)
            for k in range(3)
        ]
    )
    Sighting.objects.bulk_create(
        [
            Sighting(
                case=c,
                storefront=fronts[i * 3 + s % 3],
                seen_at=now - dt.timedelta(hours=s),
                price=Decimal("19.99"),
                currency="USD",
                fulfillment="FBA",
                buy_box=s == 0,
            )
            for i, c in enumerate(created)
            for s in range(sightings)
        ],
        batch_size=5000,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(app: str, port: int, env: dict[str, str], workers: int = 1, timeout: int = 30) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            str(timeout),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    sys.exit(f"{app} did not start")


class Client:
    """One keep-alive connection; ``get`` returns the milliseconds a request took."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = headers

    def get(self, path: str) -> float:
        started = time.perf_counter()
        self.connection.request("GET", path, headers=self.headers)
        response = self.connection.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            sys.exit(f"GET {path} answered {response.status}: {body[:300]!r}")
        return elapsed


def _time(port: int, paths: list[str], headers: dict[str, str]) -> list[float]:
    client = Client(port, headers)
    return [client.get(path) for path in paths]


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    database_url = _bench_database_url()
    _setup_django(database_url)
    team_id, user_id = _load(args.cases)

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from cases.models import Case
    from cases.services.tokens import api_token_create
    from evidence.services import Actor

    user = get_user_model().objects.get(pk=user_id)
    _, token = api_token_create(user=user, name="bench", actor=Actor.system("bench"))
    headers = {"Authorization": f"Bearer {token}", "Connection": "keep-alive"}
    case_ids = list(Case.objects.filter(team_id=team_id).values_list("pk", flat=True)[: args.requests])
    list_path = "/api/v1/cases/?page_size=100"
    search_terms = ["好运来", "さくら", "B000001234", "Listing 77", "JIRA"]

    # Queries per request, on the same code path, in-process.
    client = APIClient(HTTP_HOST="127.0.0.1")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.get(list_path)
    query_counts = {}
    for name, path in [
        ("list", list_path),
        ("detail", f"/api/v1/cases/{case_ids[0]}/"),
        ("search", "/api/v1/cases/?q=好运来"),
    ]:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        query_counts[name] = len(captured)

    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "AUDIT_KEY": os.environ.get("AUDIT_KEY", f"audit:{secrets.token_urlsafe(16)}"),
        # Production settings refuse to start without it since SP-API secrets are sealed.
        "CREDENTIALS_KEY": os.environ.get("CREDENTIALS_KEY") or Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "API_RATE": "1000000/min",
        "BENCH_TEAM_ID": str(team_id),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    }
    api_port, base_port = _free_port(), _free_port()
    api_server = _serve("casemanager.wsgi", api_port, env)
    base_server = _serve("bench.baseline_wsgi:application", base_port, env)
    try:
        # Warm both servers' workers and connection pools, then measure.
        _time(api_port, [list_path] * 10, headers)
        _time(base_port, ["/baseline/cases"] * 10, {})
        # Alternate baseline and list requests, so load that drifts during the run hits both alike.
        base_client, api_client = Client(base_port, {}), Client(api_port, headers)
        baseline, listed = [], []
        for _ in range(args.requests):
            baseline.append(base_client.get("/baseline/cases"))
            listed.append(api_client.get(list_path))
        detail = _time(api_port, [f"/api/v1/cases/{pk}/" for pk in case_ids], headers)
        searches = [f"/api/v1/cases/?q={search_terms[i % len(search_terms)]}" for i in range(args.requests)]
        from urllib.parse import quote

        searched = _time(api_port, [quote(p, safe="/?=&") for p in searches], headers)
    finally:
        api_server.terminate()
        base_server.terminate()
        api_server.wait()
        base_server.wait()

    ratio = statistics.median(listed) / statistics.median(baseline)
    print(f"{args.cases} cases; {args.requests} requests each; gunicorn (1 worker each), PostgreSQL, keep-alive")
    print(f"{'':24}{'median ms':>10}{'p95 ms':>10}{'queries':>9}")
    for name, values, queries in [
        ("baseline (.values+json)", baseline, 1),
        ("case list (100/page)", listed, query_counts["list"]),
        ("case detail", detail, query_counts["detail"]),
        ("search", searched, query_counts["search"]),
    ]:
        print(f"{name:24}{statistics.median(values):10.1f}{_p95(values):10.1f}{queries:9d}")
    print(f"list / baseline ratio: {ratio:.2f} (target at most 3)")
    print(
        json.dumps(
            {
                "list_ratio": round(ratio, 2),
                "list_queries": query_counts["list"],
                "list_p95_ms": round(_p95(listed), 1),
                "detail_p95_ms": round(_p95(detail), 1),
                "search_p95_ms": round(_p95(searched), 1),
            }
        )
    )


if __name__ == "__main__":
    main()
