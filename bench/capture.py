"""Page capture time: our capture job against a bare Playwright screenshot loop.

20 local product pages (CJK text, a stylesheet, six images, a script), served on
loopback. In the same run, in the same Chromium:

* baseline: one Playwright page per URL, ``goto`` and a full-page screenshot;
* ours: ``capture_request`` and its job, as a person's request runs it in the embedded
  mode: every request through the checking proxy, a full-page screenshot, the MHTML
  archive, both hashed and stored as evidence with their custody rows.

Each side captures every page once to warm up, then three rounds; the best round counts.

    .venv/bin/python bench/capture.py [--pages 20]
"""

from __future__ import annotations

import argparse
import http.server
import io
import json
import os
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ROUNDS = 3


def _site(folder: Path, pages: int) -> None:
    from PIL import Image, ImageDraw

    for n in range(6):
        image = Image.new("RGB", (600, 400), (40 * n, 120, 200 - 20 * n))
        ImageDraw.Draw(image).text((20, 20), f"photo {n}", fill="white")
        out = io.BytesIO()
        image.save(out, format="PNG")
        (folder / f"photo{n}.png").write_bytes(out.getvalue())
    (folder / "style.css").write_text(
        "body{font-family:sans-serif;margin:2em} .offer{border:1px solid #ccc;padding:1em}"
    )
    (folder / "app.js").write_text("document.querySelectorAll('.offer').forEach((e,i)=>e.dataset.n=i)")
    for page in range(pages):
        offers = "".join(
            f'<div class="offer"><b>深圳市好运来贸易有限公司 {page}-{k}</b> — $1{k}.99 <i>FBA</i></div>'
            for k in range(30)
        )
        images = "".join(f'<img src="photo{n}.png" alt="">' for n in range(6))
        (folder / f"page{page}.html").write_text(
            f'<!doctype html><html><head><meta charset="utf-8"><title>Listing {page} 台灯</title>'
            f'<link rel="stylesheet" href="style.css"></head><body><h1>Desk lamp 台灯 {page}</h1>'
            f'{images}{offers}<script src="app.js"></script></body></html>',
            encoding="utf-8",
        )


def _serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, int]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, int(server.server_address[1])


def _baseline(urls: list[str], workdir: Path) -> float:
    from playwright.sync_api import sync_playwright

    from evidence.capture import _BROWSER_ARGS

    with sync_playwright() as playwright:
        sandbox = ["--no-sandbox"] if os.geteuid() == 0 else []
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=[*_BROWSER_ARGS, *sandbox])
        best = float("inf")
        for round_ in range(ROUNDS + 1):
            started = time.monotonic()
            for n, url in enumerate(urls):
                context = browser.new_context(viewport={"width": 1366, "height": 900})
                page = context.new_page()
                page.goto(url, wait_until="load")
                page.screenshot(path=workdir / f"baseline-{n}.png", full_page=True)
                context.close()
            if round_:  # the first round warms up
                best = min(best, time.monotonic() - started)
        browser.close()
    return best


def _ours(urls: list[str]) -> tuple[float, int]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction

    from cases import services
    from cases.models import Capture
    from cases.services.captures import capture_request
    from evidence.services import Actor

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench", password="unused-bench-password")  # noqa: S106
    actor = Actor.of_user(user)
    team = services.team_create(name="Bench", actor=actor)
    brand = services.brand_create(team=team, name="Bench brand", actor=actor)
    case = services.case_open(brand=brand, asin="B0BENCH001", marketplace="US", actor=actor)
    best = float("inf")
    for round_ in range(ROUNDS + 1):
        started = time.monotonic()
        for url in urls:
            with transaction.atomic():  # the job runs in-process when the request commits
                capture_request(case=case, url=url, actor=actor)
        if round_:
            best = min(best, time.monotonic() - started)
    done = Capture.objects.filter(status="done").count()
    return best, done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=20)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-capture-"))
    site = scratch / "site"
    site.mkdir()
    _site(site, args.pages)
    server, port = _serve(site)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "casemanager.settings",
            "DEBUG": "true",
            "VAR_DIR": str(scratch / "var"),
            "ALLOW_PRIVATE_URLS": "true",
            "LOG_LEVEL": "WARNING",
        }
    )
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    urls = [f"http://127.0.0.1:{port}/page{n}.html" for n in range(args.pages)]
    try:
        baseline = _baseline(urls, scratch)
        ours, done = _ours(urls)
    finally:
        server.shutdown()
    expected = args.pages * (ROUNDS + 1)
    if done != expected:
        sys.exit(f"only {done} of {expected} captures finished")
    print(f"bare Playwright (goto + full-page screenshot): {args.pages} pages in {baseline:.2f} s (baseline)")
    print(f"our capture job (proxy, screenshot, MHTML, evidence rows): {args.pages} pages in {ours:.2f} s")
    print(f"capture ratio: {ours / baseline:.2f}  (target <= 1.3); {ours / args.pages:.3f} s per page")
    print(json.dumps({"capture_ratio": round(ours / baseline, 3), "per_page_s": round(ours / args.pages, 3)}))


if __name__ == "__main__":
    main()
