"""Load test: 50 concurrent API clients for 60 seconds on a realistic mix, against
gunicorn, PostgreSQL, Redis and a Celery worker, with production settings (DEBUG=false).

The mix, by weight (reads dominate, as in a team's day):

    list cases 30 | search cases 20 | read a case 32 | upload a 2 MB screenshot 8 |
    transition a case 8 | request a dossier 2

Each client has its own user (an agent of the one team) and API token, and owns a
disjoint share of the cases for transitions and dossiers, so that the clients never
refuse each other's writes; reads and uploads go to any case. Uploads are unique PNGs
(a 2 MB image with a nonce chunk), sent with an ``Idempotency-Key``.

Baseline, in the same run and with the same client harness and gunicorn set-up: the
trivial WSGI app of bench/api.py (bench/baseline_wsgi.py: one page of case rows with
``.values()`` and ``json.dumps``), loaded by the same number of clients, before the mix.
Read latencies are printed as ratios to it.

Afterwards every acknowledged upload (201 with a SHA-256) is checked: its evidence row
exists with that hash, and the stored file, read back through the evidence storage,
hashes to it. Then ``verify_evidence`` and ``verify_audit`` run over the database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/load.py [--clients 50] [--seconds 60] [--workers 4] [--cases 2000]

The database (``--database-url``, by default casemanager_bench_load on DATABASE_URL's
server) is dropped and created again on every run; evidence goes to a temporary folder
that is removed afterwards. Redis is used as REDIS_URL names it (broker, rate limits);
tasks still queued there are purged first.
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import http.client
import io
import json
import os
import random
import secrets
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api import _free_port, _serve, seed_hijackers  # noqa: E402

BENCH_DB = "casemanager_bench_load"
WEIGHTS = {"list": 30, "search": 20, "read": 32, "upload": 8, "transition": 8, "dossier": 2}
READS = ("list", "search", "read")
EXPECTED = {"list": 200, "search": 200, "read": 200, "upload": 201, "transition": 200, "dossier": 202}
# The workflow a client walks its own cases along, round and round.
NEXT_STATUS = {
    "new": "investigating",
    "investigating": "warned",
    "warned": "test_buy",
    "test_buy": "reported",
    "reported": "resolved",
    "resolved": "reopened",
    "reopened": "investigating",
}
SEED_STATUSES = ["new", "investigating", "warned", "test_buy", "reported"]
NAMES = ["深圳市好运来贸易有限公司", "株式会社さくら商事", "YiWu Best Deals Store", "广州市星光电子商行"]
SEARCHES = ["好运来", "さくら", "Best Deals", "星光", "HJ-2026-0", "Listing 1", "B00000012"]
LISTS = ["?page_size=50", "?status=investigating&page_size=50", "?ordering=-updated_at&page_size=50"]


def _database_url(explicit: str) -> str:
    """The bench database, dropped and created afresh (never the project's own database)."""
    base = explicit or os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        sys.exit("bench/load.py needs DATABASE_URL (or --database-url) pointing at a PostgreSQL server")
    parts = urlsplit(base)
    name = parts.path.lstrip("/") if explicit else BENCH_DB
    if name in ("", "postgres", "template0", "template1", "casemanager"):
        sys.exit(f"refusing to drop the database {name!r}: name a bench database")
    import psycopg

    admin = urlunsplit(parts._replace(path="/postgres")).replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def _environment(database_url: str, var_dir: Path) -> dict[str, str]:
    """Production settings with throw-away secrets, shared by this process, gunicorn and the worker."""
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url.startswith("redis://"):
        sys.exit("bench/load.py needs REDIS_URL")
    from cryptography.fernet import Fernet

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "casemanager.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "AUDIT_KEY": secrets.token_urlsafe(32),
        "CREDENTIALS_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on loopback: no TLS proxy in front to redirect to.
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "VAR_DIR": str(var_dir),
        "API_RATE": "1000000/min",
        "LOG_LEVEL": "WARNING",
    }


def _png(width: int, height: int, noise_rows: int, seed: int) -> bytes:
    """A screenshot-like PNG: flat page colour with a band of noise (photos, text) that keeps it large."""
    from PIL import Image

    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), (245, 245, 245))
    band = Image.frombytes("RGB", (width, noise_rows), rng.randbytes(width * noise_rows * 3))
    image.paste(band, (0, height // 4))
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def _with_nonce(png: bytes, nonce: bytes) -> bytes:
    """The same image with a tEXt chunk before IEND, so every upload has its own hash."""
    data = b"bench\x00" + nonce
    chunk = struct.pack(">I", len(data)) + b"tEXt" + data + struct.pack(">I", zlib.crc32(b"tEXt" + data))
    return png[:-12] + chunk + png[-12:]


def _seed(cases: int, clients: int) -> tuple[int, list[tuple[int, str]], list[str]]:
    """One team (2,000 cases with storefronts, sightings and evidence by default) and an
    agent with a token per client. Bulk inserts: scaffolding, not the writes measured;
    the evidence files are real, stored through ``blob_ingest``, so verify_evidence holds."""

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from cases.models import Brand, Case, Evidence, Membership, Team
    from cases.services.tokens import api_token_create
    from evidence.services import Actor, blob_ingest

    call_command("migrate", verbosity=0)
    print(f"seeding {cases} cases …", flush=True)
    team = Team.objects.create(name="Bench", slug="bench")
    users = [
        get_user_model().objects.create_user(f"agent{n:02d}", password=secrets.token_urlsafe()) for n in range(clients)
    ]
    Membership.objects.bulk_create([Membership(team=team, user=user, role="agent") for user in users])
    brand = Brand.objects.create(team=team, name="Bench brand")
    blobs = []
    for n in range(100):
        with blob_ingest(source=io.BytesIO(_png(800, 500, 60, n))) as blob:
            blobs.append(blob)
    now = timezone.now()
    batch = 500
    for start in range(0, cases, batch):
        created = Case.objects.bulk_create(
            [
                Case(
                    team=team,
                    brand=brand,
                    reference=f"HJ-2026-{n + 1:05d}",
                    asin=f"B0{n:08d}",
                    marketplace="US",
                    title=f"Listing {n}",
                    status=SEED_STATUSES[n % len(SEED_STATUSES)],
                    status_changed_at=now,
                    external_refs=[f"JIRA-{n}"],
                )
                for n in range(start, min(start + batch, cases))
            ]
        )
        seed_hijackers(created, team=team, names=NAMES, sightings=10, now=now)
        Evidence.objects.bulk_create(
            [
                Evidence(
                    case=c,
                    blob=blobs[(c.pk * 3 + e) % len(blobs)],
                    kind="screenshot",
                    captured_at=now,
                    captured_by=users[c.pk % clients],
                )
                for c in created
                for e in range(3)
            ]
        )
    tokens = [api_token_create(user=user, name="load", actor=Actor.of_user(user))[1] for user in users]
    owned = list(Case.objects.filter(team=team).order_by("pk").values_list("pk", "status"))
    return team.pk, owned, tokens


@dataclass
class Results:
    latencies: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    uploads: list[tuple[int, str, str]] = field(default_factory=list)  # evidence ID, answered hash, sent hash
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client(threading.Thread):
    """One API client: a keep-alive connection (re-opened when the server closes it), its
    token, its own cases for writes, and a random walk through the mix until the deadline."""

    def __init__(
        self,
        n: int,
        port: int,
        token: str,
        own: list[tuple[int, str]],
        all_ids: list[int],
        png: bytes,
        deadline: float,
        results: Results,
        ops: dict[str, int],
    ) -> None:
        super().__init__(daemon=True)
        self.port, self.deadline, self.results, self.png = port, deadline, results, png
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.status = dict(own)  # of the cases this client moves along
        self.own = list(self.status)
        self.all_ids = all_ids
        self.rng = random.Random(n)
        self.names, self.weights = list(ops), list(ops.values())
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def run(self) -> None:
        while time.monotonic() < self.deadline:
            op = self.rng.choices(self.names, self.weights)[0]
            getattr(self, f"_{op}")(op)

    def _request(self, op: str, method: str, path: str, body: bytes | None = None, **headers: str) -> Any:
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=body, headers={**self.headers, **headers})
            response = self.connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()
            with self.results.lock:
                self.results.errors[f"{op} {type(error).__name__}"] += 1
            return None
        elapsed = (time.perf_counter() - started) * 1000
        with self.results.lock:
            self.results.latencies[op].append(elapsed)
            if response.status != EXPECTED.get(op, 200):
                self.results.errors[f"{op} {response.status}"] += 1
                if sum(self.results.errors.values()) <= 5:
                    print(f"  {op} {method} {path} -> {response.status}: {payload[:300]!r}", flush=True)
                return None
        return json.loads(payload) if op == "upload" else payload

    def _baseline(self, op: str) -> None:
        self._request(op, "GET", "/baseline/cases")

    def _list(self, op: str) -> None:
        self._request(op, "GET", "/api/v1/cases/" + self.rng.choice(LISTS))

    def _search(self, op: str) -> None:
        self._request(op, "GET", "/api/v1/cases/?q=" + quote(self.rng.choice(SEARCHES)))

    def _read(self, op: str) -> None:
        self._request(op, "GET", f"/api/v1/cases/{self.rng.choice(self.all_ids)}/")

    def _upload(self, op: str) -> None:
        content = _with_nonce(self.png, uuid.uuid4().bytes)
        boundary = uuid.uuid4().hex
        body = b"".join(
            [
                f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nscreenshot\r\n'.encode(),
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="offers.png"\r\n'.encode(),
                b"Content-Type: image/png\r\n\r\n",
                content,
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        answer = self._request(
            op,
            "POST",
            f"/api/v1/cases/{self.rng.choice(self.all_ids)}/evidence/",
            body,
            **{"Content-Type": f"multipart/form-data; boundary={boundary}", "Idempotency-Key": uuid.uuid4().hex},
        )
        if answer is not None:
            with self.results.lock:
                self.results.uploads.append((answer["id"], answer["sha256"], hashlib.sha256(content).hexdigest()))

    def _transition(self, op: str) -> None:
        pk = self.rng.choice(self.own)
        target = NEXT_STATUS[self.status[pk]]
        body = json.dumps({"status": target, "note": "load bench"}).encode()
        path = f"/api/v1/cases/{pk}/transition/"
        if self._request(op, "POST", path, body, **{"Content-Type": "application/json"}) is not None:
            self.status[pk] = target

    def _dossier(self, op: str) -> None:
        self._request(op, "POST", f"/api/v1/cases/{self.rng.choice(self.own)}/dossiers/", b"")


def _run(
    port: int, tokens: list[str], owned: list[tuple[int, str]], png: bytes, seconds: float, ops: dict[str, int]
) -> tuple[Results, float]:
    results = Results()
    all_ids = [pk for pk, _ in owned]
    clients = len(tokens)
    started = time.monotonic()
    threads = [
        Client(n, port, token, owned[n::clients], all_ids, png, started + seconds, results, ops)
        for n, token in enumerate(tokens)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.monotonic() - started


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _lost_writes(uploads: list[tuple[int, str, str]]) -> int:
    """Acknowledged uploads whose row is missing, whose hash differs, or whose stored bytes do not hash to it."""
    from cases.models import Evidence
    from evidence.services import evidence_storage

    rows = {
        item.pk: item for item in Evidence.objects.filter(pk__in=[pk for pk, _, _ in uploads]).select_related("blob")
    }
    lost = 0
    for pk, answered, sent in uploads:
        item = rows.get(pk)
        if item is None or answered != sent or item.blob_id != sent:
            lost += 1
            continue
        try:
            with evidence_storage().open(item.blob.storage_name, "rb") as stored:
                lost += hashlib.file_digest(stored, "sha256").hexdigest() != sent
        except OSError:
            lost += 1
    return lost


def _manage(command: str, env: dict[str, str]) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "manage.py", command], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    lines = (done.stdout + done.stderr).strip().splitlines()
    return done.returncode, lines[-1] if lines else ""


def _wait_up(port: int, path: str, headers: dict[str, str]) -> None:
    """Until every gunicorn worker has loaded Django: a few requests answered in a row."""
    deadline = time.monotonic() + 60
    answered = 0
    while answered < 20:
        if time.monotonic() > deadline:
            sys.exit(f"port {port} does not answer {path}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", path, headers=headers)
            answered += connection.getresponse().status == 200
            connection.close()
        except OSError:
            time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--baseline-seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (each server)")
    parser.add_argument("--celery-concurrency", type=int, default=2)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--database-url", default="", help="a bench database, dropped and created again")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="casemanager-bench-load-"))
    atexit.register(shutil.rmtree, var_dir, True)  # also when the run fails half-way
    (var_dir / "static").mkdir()  # the static files' folder, which WhiteNoise expects to exist
    env = _environment(_database_url(args.database_url), var_dir)
    os.environ.update(env)
    import django

    django.setup()
    from casemanager.celery import app

    # Tasks a previous run left queued name rows of the database just dropped, and would load the worker.
    app.control.purge()
    team_id, owned, tokens = _seed(args.cases, args.clients)
    png = _png(1920, 1400, 360, 0)
    env["BENCH_TEAM_ID"] = str(team_id)

    api_port, base_port = _free_port(), _free_port()
    processes = [
        _serve("casemanager.wsgi", api_port, env, workers=args.workers, timeout=120),
        _serve("bench.baseline_wsgi:application", base_port, env, workers=args.workers, timeout=120),
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "casemanager",
                "worker",
                f"--concurrency={args.celery_concurrency}",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    try:
        _wait_up(api_port, "/api/v1/cases/?page_size=50", {"Authorization": f"Bearer {tokens[0]}"})
        _wait_up(base_port, "/baseline/cases", {})
        print(f"baseline: {args.clients} clients for {args.baseline_seconds:.0f} s …", flush=True)
        base, base_s = _run(base_port, [""] * args.clients, owned, png, args.baseline_seconds, {"baseline": 1})
        print(f"mix: {args.clients} clients for {args.seconds:.0f} s …", flush=True)
        load_before = os.getloadavg()[0]
        mix, mix_s = _run(api_port, tokens, owned, png, args.seconds, WEIGHTS)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait()

    from cases.models import Dossier

    lost = _lost_writes(mix.uploads)
    evidence_status, evidence_line = _manage("verify_evidence", env)
    audit_status, audit_line = _manage("verify_audit", env)
    dossiers = Counter(Dossier.objects.values_list("status", flat=True))

    baseline = base.latencies["baseline"]
    reads = [ms for op in READS for ms in mix.latencies[op]]
    total = sum(len(values) for values in mix.latencies.values())
    errors = sum(mix.errors.values())
    print(
        f"{args.clients} clients, {args.cases} cases, gunicorn {args.workers} sync workers, "
        f"Celery worker ({args.celery_concurrency} processes), PostgreSQL, Redis, DEBUG=false; "
        f"{os.cpu_count()} cores, load average before the mix {load_before:.1f}"
    )
    print(f"mix weights: {', '.join(f'{op} {w}' for op, w in WEIGHTS.items())}")
    print(f"{'':22}{'count':>7}{'per s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    rows = [("baseline (trivial)", baseline, base_s)]
    rows += [(op, mix.latencies[op], mix_s) for op in WEIGHTS]
    rows += [("all reads", reads, mix_s)]
    for name, values, seconds in rows:
        print(
            f"{name:22}{len(values):7d}{len(values) / seconds:8.1f}{_percentile(values, 0.5):9.1f}"
            f"{_percentile(values, 0.95):9.1f}{_percentile(values, 0.99):9.1f}"
        )
    read_p95 = _percentile(reads, 0.95)
    p50_ratio = _percentile(reads, 0.5) / _percentile(baseline, 0.5)
    p95_ratio = read_p95 / _percentile(baseline, 0.95)
    rate_ratio = (len(reads) / mix_s) / (len(baseline) / base_s)
    print(f"reads against the baseline: p50 x{p50_ratio:.2f}, p95 x{p95_ratio:.2f}, reads per second x{rate_ratio:.2f}")
    print(f"throughput: {total / mix_s:.1f} requests/s ({total} in {mix_s:.1f} s)")
    print(f"errors: {errors} {dict(mix.errors) or ''}  (baseline: {sum(base.errors.values())})")
    print(f"uploads acknowledged: {len(mix.uploads)}; lost or changed: {lost}")
    print(f"dossiers by status when the worker stopped: {dict(dossiers)}")
    print(f"verify_evidence: exit {evidence_status} ({evidence_line})")
    print(f"verify_audit: exit {audit_status} ({audit_line})")
    print(
        json.dumps(
            {
                "errors": errors,
                "lost_writes": lost,
                "read_p95_ms": round(read_p95, 1),
                "ops_per_s": round(total / mix_s, 1),
                "read_p95_ratio": round(p95_ratio, 2),
                "read_p50_ratio": round(p50_ratio, 2),
                "uploads": len(mix.uploads),
                "verify_evidence": evidence_status,
                "verify_audit": audit_status,
            }
        )
    )


if __name__ == "__main__":
    main()
