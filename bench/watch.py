"""Offer-watch throughput and new-seller detection latency on the real stack.

2,000 ANY_OFFER_CHANGED notifications (20 offers each; 5% bring a new seller, 10% of
offers carry a new price) go through Amazon's delivery path: an SQS queue, read by the
``sqs_consume`` task on a Celery worker (2 processes), into PostgreSQL. In the same run,
on the same worker and broker, the baseline: 2,000 trivial Celery tasks (one Redis INCR
each). Both are timed from the first message sent to the last one done.

The queue is a small in-memory server speaking SQS's JSON protocol (bench/sqs_standin.py):
moto's server, which the tests use, takes milliseconds per message and would measure
itself. A warm-up (one notification per watched ASIN, untimed) puts the known hijackers
in place first, so the timed run sees the steady state: mostly known sellers.

For information, the same notifications are then POSTed one per request to the HTTPS
endpoint (as an EventBridge API destination or a relay sends them) on gunicorn.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/watch.py [--notifications 2000] [--asins 100]

Uses its own database (casemanager_bench_watch, recreated each run) and Redis database 9.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = "casemanager_bench_watch"
SUBSCRIBER = "A3TH9S8BH6GOGM"
AMAZON_US = "ATVPDKIKX0DER"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment() -> dict[str, str]:
    base = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not base.startswith(("postgres://", "postgresql://")) or not redis_url.startswith("redis://"):
        sys.exit("bench/watch.py needs DATABASE_URL (PostgreSQL) and REDIS_URL")
    parts = urlsplit(base)
    import psycopg

    admin = urlunsplit(parts._replace(path="/postgres")).replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{BENCH_DB}"')
    redis_parts = urlsplit(redis_url)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "casemanager.settings",
        "DEBUG": "true",
        "DATABASE_URL": urlunsplit(parts._replace(path=f"/{BENCH_DB}")),
        "REDIS_URL": urlunsplit(redis_parts._replace(path="/9")),
        "VAR_DIR": str(Path(tempfile.gettempdir()) / "casemanager-bench-watch"),
        "LOG_LEVEL": "WARNING",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
    }
    return env


def _setup(env: dict[str, str], asins: int) -> tuple[str, list[str], dict[str, list[str]]]:
    """Team, brand, SP-API seller, watch list, authorized sellers; returns a token and the sellers."""
    os.environ.update(env)
    import django

    django.setup()
    import redis
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from cases import services
    from cases.services.tokens import api_token_create
    from cases.services.watch import sp_api_credentials_set, watch_add
    from evidence.services import Actor

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench", password=uuid.uuid4().hex)
    actor = Actor.of_user(user)
    team = services.team_create(name="Bench", slug="bench", actor=actor)
    brand = services.brand_create(team=team, name="Bench brand", actor=actor)
    brand = services.brand_update(brand=brand, actor=actor, capture_new_hijackers=False)
    sp_api_credentials_set(
        brand=brand,
        selling_partner_id=SUBSCRIBER,
        region="na",
        client_id="amzn1.application-oa2-client.bench",
        client_secret="bench",  # noqa: S106 (a stand-in: nothing calls Amazon here)
        refresh_token="Atzr|bench",  # noqa: S106
        actor=actor,
    )
    watched = [f"B0{n:08d}" for n in range(asins)]
    hijackers: dict[str, list[str]] = {}
    for n, asin in enumerate(watched):
        watch_add(brand=brand, asin=asin, marketplace="US", actor=actor, interval_minutes=24 * 60)
        hijackers[asin] = [f"A{n:05d}H{k:07d}" for k in range(15)]
    for k in range(3):
        services.authorized_seller_add(brand=brand, marketplace="US", seller_id=f"AAUTHORIZED{k:04d}", actor=actor)
    _, raw = api_token_create(user=user, name="bench relay", actor=actor)
    return raw, watched, hijackers


def _notification(asin: str, sellers: list[tuple[str, float]]) -> dict:
    template = json.loads((ROOT / "tests/support/sp_api/AnyOfferChangedNotification.json").read_text())
    document = copy.deepcopy(template["examples"][0])
    document["NotificationMetadata"]["NotificationId"] = str(uuid.uuid4())
    body = document["Payload"]["AnyOfferChangedNotification"]
    body["SellerId"] = SUBSCRIBER
    body["OfferChangeTrigger"]["ASIN"] = asin
    body["OfferChangeTrigger"]["TimeOfOfferChange"] = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    offer = body["Offers"][0]
    offer.pop("IsBuyBoxWinner", None)
    body["Offers"] = [
        {**offer, "SellerId": seller, "ListingPrice": {"Amount": price, "CurrencyCode": "USD"}}
        for seller, price in sellers
    ]
    body["Summary"]["NumberOfOffers"] = [
        {"Condition": "new", "FulfillmentChannel": "Merchant", "OfferCount": len(sellers)}
    ]
    return document


def _offers(asin: str, hijackers: list[str], rng: random.Random, change: float) -> list[tuple[str, float]]:
    fixed = [(SUBSCRIBER, 24.99), (AMAZON_US, 24.99)] + [(f"AAUTHORIZED{k:04d}", 24.49) for k in range(3)]
    return fixed + [(seller, 19.99 if rng.random() > change else round(rng.uniform(9, 19), 2)) for seller in hijackers]


def _start(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait(check: Callable[[], object], timeout: float = 300.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {what}")
        time.sleep(0.01)


def _post_all(base: str, token: str, documents: list[dict], sent_at: dict[str, float], threads: int = 8) -> None:
    def post(document: dict) -> None:
        request = urllib.request.Request(
            f"{base}/api/v1/sp-api/notifications/",
            data=json.dumps(document).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        sent_at[document["NotificationMetadata"]["NotificationId"]] = time.time()
        with urllib.request.urlopen(request, timeout=60) as answer:
            if answer.status != 202:
                raise RuntimeError(f"HTTP {answer.status}")

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(post, documents))


def _workload(
    count: int, watched: list[str], hijackers: dict[str, list[str]], rng: random.Random
) -> tuple[list[dict], dict[str, str]]:
    """The timed notifications, and which of them bring a new seller (notification ID -> seller)."""
    documents, new_sellers = [], {}
    for n in range(count):
        asin = watched[n % len(watched)]
        sellers = _offers(asin, hijackers[asin], rng, 0.10)
        newcomer = ""
        if n % 20 == 10:  # 5%: one hijacker makes way for a seller never seen before
            newcomer = f"ANEW{rng.randrange(10**10):010d}"
            sellers[-1] = (newcomer, 17.5)
            hijackers[asin][-1] = newcomer
        document = _notification(asin, sellers)
        if newcomer:
            new_sellers[document["NotificationMetadata"]["NotificationId"]] = newcomer
        documents.append(document)
    return documents, new_sellers


def _latencies(new_sellers: dict[str, str], sent_at: dict[str, float]) -> list[float]:
    from django.db.models import Min

    from cases.models import Sighting

    first_seen = dict(
        Sighting.objects.filter(storefront__seller_id__in=new_sellers.values())
        .values("storefront__seller_id")
        .annotate(at=Min("created_at"))
        .values_list("storefront__seller_id", "at")
    )
    return sorted(first_seen[seller].timestamp() - sent_at[nid] for nid, seller in new_sellers.items())


def _pending() -> bool:
    from cases.models import OfferNotification

    return OfferNotification.objects.filter(status="pending").exists()


def _send_sqs(client: Any, url: str, documents: list[dict], sent_at: dict[str, float]) -> None:
    for start in range(0, len(documents), 10):
        chunk = documents[start : start + 10]
        now = time.time()
        for document in chunk:
            sent_at[document["NotificationMetadata"]["NotificationId"]] = now
        entries = [{"Id": str(i), "MessageBody": json.dumps(d)} for i, d in enumerate(chunk)]
        client.send_message_batch(QueueUrl=url, Entries=entries)


def _consuming(app: Any) -> bool:
    """Whether an ``sqs_consume`` task is still reading the queue (it stops 10 s after the last message)."""
    active = app.control.inspect(timeout=1.0).active() or {}
    return any(task["name"] == "cases.tasks.sqs_consume" for tasks in active.values() for task in tasks)


def _done_count() -> int:
    from cases.models import OfferNotification

    return OfferNotification.objects.exclude(status="pending").count()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notifications", type=int, default=2000)
    parser.add_argument("--asins", type=int, default=100)
    args = parser.parse_args()
    count = args.notifications
    from bench.sqs_standin import StandIn

    queue = StandIn()
    env = _environment()
    token, watched, hijackers = _setup(env, args.asins)
    import boto3
    import redis
    from django.db.models import Count

    from casemanager.celery import app
    from cases.models import OfferNotification, Sighting

    client = boto3.client("sqs", region_name="us-east-1", endpoint_url=queue.url)
    queue_url = client.create_queue(QueueName="any-offer-changed")["QueueUrl"]
    env = {**env, "SPAPI_SQS_QUEUE_URL": queue_url, "SPAPI_SQS_ENDPOINT_URL": queue.url}
    port = _free_port()
    worker_command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "casemanager",
        "worker",
        "--concurrency=2",
        "-Q",
        "celery,sqs",
    ]
    processes = [
        _start(
            [sys.executable, "-m", "gunicorn", "casemanager.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "4"],
            env,
        ),
        _start(
            [*worker_command, "--include=bench.noop", "--without-gossip", "--without-mingle", "--loglevel=WARNING"], env
        ),
    ]
    try:
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                urllib.request.urlopen(f"{base}/api/schema/", timeout=2)
                return bool(app.control.ping(timeout=0.5))
            except OSError:
                return False

        _wait(up, 60, "gunicorn and the worker")
        counter = redis.Redis.from_url(env["REDIS_URL"])
        # Baseline: trivial tasks, all sent, then all done.
        key = f"bench:{uuid.uuid4().hex}"
        started = time.monotonic()
        for _ in range(count):
            app.send_task("bench.noop", args=[key])
        _wait(lambda: int(counter.get(key) or 0) >= count, what="the trivial tasks")
        trivial_s = time.monotonic() - started
        trivial_rate = count / trivial_s

        rng = random.Random(7)
        consumers = lambda: [app.send_task("cases.tasks.sqs_consume") for _ in range(2)]  # noqa: E731
        consumers()
        warm = [_notification(asin, _offers(asin, hijackers[asin], rng, 0.0)) for asin in watched]
        _send_sqs(client, queue_url, warm, {})
        _wait(lambda: _done_count() >= len(warm), what="the warm-up")
        known = Sighting.objects.count()

        documents, new_sellers = _workload(count, watched, hijackers, rng)
        sent_at: dict[str, float] = {}
        _wait(lambda: not _consuming(app), what="the warm-up consumers to stop")
        consumers()
        started = time.monotonic()
        _send_sqs(client, queue_url, documents, sent_at)
        _wait(lambda: _done_count() >= len(warm) + count, what="the notifications")
        watch_s = time.monotonic() - started
        rate = count / watch_s
        latencies = _latencies(new_sellers, sent_at)
        p95 = latencies[int(0.95 * (len(latencies) - 1))]
        sightings = Sighting.objects.count() - known

        _wait(lambda: not _consuming(app), what="the consumers to stop")  # they would hold the worker
        documents, new_https = _workload(count, watched, hijackers, rng)
        https_sent: dict[str, float] = {}
        started = time.monotonic()
        _post_all(base, token, documents, https_sent)
        posted_s = time.monotonic() - started
        _wait(lambda: not _pending(), what="the HTTPS notifications")
        https_s = time.monotonic() - started
        https_latencies = _latencies(new_https, https_sent)
        statuses = dict(
            OfferNotification.objects.order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )

        print(f"trivial Celery tasks:  {count} in {trivial_s:.2f} s = {trivial_rate:.0f}/s (baseline)")
        print(
            f"notifications via SQS: {count} in {watch_s:.2f} s = {rate:.0f}/s "
            f"({count * 20} offers, {sightings} new sightings, {len(latencies)}/{len(new_sellers)} new sellers found)"
        )
        print(f"rate ratio (notifications / trivial tasks): {rate / trivial_rate:.2f}  (target >= 1.0)")
        print(
            f"new-seller detection latency: p50 {statistics.median(latencies):.3f} s, "
            f"p95 {p95:.3f} s, max {latencies[-1]:.3f} s  (target p95 < 2 s)"
        )
        print(
            f"notifications via HTTPS, one per request: {count} in {https_s:.2f} s = {count / https_s:.0f}/s, "
            f"all accepted after {posted_s:.2f} s, "
            f"detection p95 {https_latencies[int(0.95 * (len(https_latencies) - 1))]:.3f} s"
        )
        print(f"notification rows by status: {statuses}")
        figures = {"rate_ratio": round(rate / trivial_rate, 3), "notifications_per_s": round(rate, 1)}
        print(json.dumps({**figures, "detect_p95_s": round(p95, 3)}))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()  # a consumer still long-polling the queue
                process.wait()
        queue.close()


if __name__ == "__main__":
    main()
