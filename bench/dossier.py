"""Dossier build time, peak memory and PDF size against a naive WeasyPrint baseline.

A case with 50 full-page screenshots (1920 x 5000 px) and 10 photos, in a throw-away
embedded installation. Evidence is ingested first (which prepares the print tiles, as
uploads do); then, each in its own process so that peak memory is measured alike:

* ours: ``manage.py build_dossier`` (the real job: rows, renderer subprocess, storage);
* baseline: the original images one per page in a bare HTML document, rendered by
  WeasyPrint with its default settings.

    .venv/bin/python bench/dossier.py [--screenshots 50] [--photos 10]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASELINE = """
import sys
from pathlib import Path
from weasyprint import HTML
images = Path(sys.argv[1]).read_text().split()
html = "<html><body>" + "".join(
    f'<div style="page-break-after: always"><img src="file://{path}"></div>' for path in images
) + "</body></html>"
HTML(string=html).write_pdf(sys.argv[2])
"""


def _screenshot(index: int, width: int = 1920, height: int = 5000) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    rng = random.Random(index)
    for y in range(0, height, 40):
        draw.text(
            (30, y + 8),
            f"Offer {index}-{y}: seller A{rng.randrange(10**12):012d} price ${rng.randrange(999)}.99",
            fill="black",
        )
        if y % 400 == 0:
            draw.rectangle((1200, y, 1880, y + 300), fill=(rng.randrange(256), rng.randrange(256), 200))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _photo(index: int) -> bytes:
    from PIL import Image

    rng = random.Random(1000 + index)
    image = Image.effect_noise((4000, 3000), 40).convert("RGB")
    image.paste((rng.randrange(256), 120, 90), (500, 500, 3500, 2500))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=88)
    return out.getvalue()


_MEASURE = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, capture_output=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a command in a fresh wrapper; return its seconds and its peak RSS in MB (children included)."""
    started = time.perf_counter()
    measured = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    return elapsed, int(measured.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--screenshots", type=int, default=50)
    parser.add_argument("--photos", type=int, default=10)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-dossier-") as tmp:
        workdir = Path(tmp)
        env = {**os.environ, "VAR_DIR": str(workdir / "var"), "DJANGO_SETTINGS_MODULE": "casemanager.settings"}
        for name in ("DATABASE_URL", "REDIS_URL"):
            env.pop(name, None)
        os.environ.update({k: v for k, v in env.items() if k in {"VAR_DIR", "DJANGO_SETTINGS_MODULE"}})
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("REDIS_URL", None)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from cases import services
        from evidence.services import Actor

        actor = Actor.system("bench")
        team = services.team_create(name="Bench", actor=actor)
        brand = services.brand_create(team=team, name="Lumora", rights_owner="Lumora Lighting Co., Ltd.", actor=actor)
        case = services.case_open(brand=brand, asin="B0BENCHDOS", marketplace="US", actor=actor)
        services.storefront_attach(case=case, seller_id="A1SZHAOYUNLAI01", name="深圳市好运来贸易有限公司", actor=actor)

        originals: list[Path] = []
        print(f"generating and ingesting {args.screenshots} screenshots and {args.photos} photos …", flush=True)
        started = time.perf_counter()
        for index in range(args.screenshots + args.photos):
            is_shot = index < args.screenshots
            data = _screenshot(index) if is_shot else _photo(index)
            path = workdir / f"original-{index:03d}.{'png' if is_shot else 'jpg'}"
            path.write_bytes(data)
            originals.append(path)
            services.evidence_ingest(
                case=case,
                file=io.BytesIO(data),
                kind="screenshot" if is_shot else "test_buy_photo",
                actor=actor,
                original_name=path.name,
            )
        ingest_s = time.perf_counter() - started
        original_mb = sum(p.stat().st_size for p in originals) / 2**20

        ours_pdf = workdir / "ours.pdf"
        ours_s, ours_mb = _run([sys.executable, "manage.py", "build_dossier", case.reference, "-o", str(ours_pdf)], env)
        (workdir / "images.txt").write_text("\n".join(str(p) for p in originals))
        base_pdf = workdir / "baseline.pdf"
        base_s, base_mb = _run([sys.executable, "-c", BASELINE, str(workdir / "images.txt"), str(base_pdf)], env)

        from cases.models import Dossier

        pages = Dossier.objects.get(case=case).pages or 0
        ours_size, base_size = ours_pdf.stat().st_size / 2**20, base_pdf.stat().st_size / 2**20
        print(f"{args.screenshots} screenshots 1920x5000 + {args.photos} photos 4000x3000 ({original_mb:.0f} MB)")
        print(f"ingest with print tiles: {ingest_s:.1f} s (at upload time, not in the build)")
        print(f"{'':10}{'build s':>9}{'peak MB':>9}{'PDF MB':>9}")
        print(f"{'ours':10}{ours_s:9.1f}{ours_mb:9.0f}{ours_size:9.1f}   {pages} pages, every screenshot whole")
        print(f"{'baseline':10}{base_s:9.1f}{base_mb:9.0f}{base_size:9.1f}   one page per image, tall ones clipped")
        print(f"time ratio {ours_s / base_s:.2f} (target 0.35), size ratio {ours_size / base_size:.2f} (target 0.5)")
        print(
            json.dumps(
                {
                    "time_ratio": round(ours_s / base_s, 3),
                    "size_ratio": round(ours_size / base_size, 3),
                    "peak_mb": round(ours_mb),
                    "pages": pages,
                }
            )
        )


if __name__ == "__main__":
    main()
