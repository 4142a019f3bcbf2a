"""Seller-profile parsing time on hostile markup, against a real profile page of the same size.

The parser reads pages the app fetched from the web, so a page built to be slow must not
be: each hostile shape of 10 MB is timed against 10 MB of repeated real profile pages,
in the same run. A ratio near 1 means no shape costs more than ordinary text.

    .venv/bin/python bench/sellerprofile.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evidence.sellerprofile import parse_seller_profile  # noqa: E402

SIZE = 10 * 1024 * 1024
SAMPLE = (ROOT / "tests" / "evidence" / "samples" / "seller_profile_us.html").read_text(encoding="utf-8")
SHAPES = {
    "divs": "<div>",
    "open-tags": "<a ",
    "end-tags": "</a>",
    "rows": '<div class="indent-left"><span class="a-text-bold">x</span></div>',
    "cdata": "<![CDATA[",
    "entities": "&amp;",
    "lists": "<ul><li>",
}


def best_of(doc: str, rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        parse_seller_profile(doc)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    baseline = best_of((SAMPLE * (SIZE // len(SAMPLE) + 1))[:SIZE])
    print(f"baseline: 10 MB of real profile pages in {baseline * 1000:.0f} ms")
    worst_ratio = 0.0
    figures: dict[str, float] = {"baseline_ms": round(baseline * 1000, 1)}
    for name, unit in SHAPES.items():
        seconds = best_of((unit * (SIZE // len(unit) + 1))[:SIZE])
        ratio = seconds / baseline
        worst_ratio = max(worst_ratio, ratio)
        figures[f"{name}_ms"] = round(seconds * 1000, 1)
        print(f"{name:10s} {seconds * 1000:8.0f} ms  ratio {ratio:5.2f}")
    figures["worst_ratio"] = round(worst_ratio, 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
