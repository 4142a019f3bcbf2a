"""Evidence ingest throughput against plain hashlib over the same bytes, in the same run.

Ingests one 200 MB file and 500 screenshots through ``evidence_ingest`` (hash, sniff,
publish into the store, rows and audit) into a throw-away SQLite database and evidence
folder, unless BENCH_DATABASE_URL names another database. The large file is ingested
the way an upload arrives: Django has already spooled it to a temporary file next to
the store. Prints absolute figures, ratios to the baseline, and one JSON line last.

    .venv/bin/python bench/ingest.py [--size-mb 200] [--screenshots 500]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHUNK = 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


def _setup(workdir: Path) -> None:
    os.environ["VAR_DIR"] = str(workdir)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casemanager.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """Samples resident memory while a block runs; ``growth`` is its peak above the start."""

    def __enter__(self) -> PeakRss:
        self.start = _rss_bytes()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, _rss_bytes())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.start) / 2**20


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as source:
        while read := source.readinto(buffer):
            digest.update(view[:read])
    return digest.hexdigest()


def _write_random(path: Path, size: int) -> None:
    with open(path, "wb") as out:
        remaining = size
        while remaining:
            block = os.urandom(min(CHUNK, remaining))
            out.write(block)
            remaining -= len(block)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--screenshots", type=int, default=500)
    parser.add_argument("--screenshot-kb", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(
        prefix="bench-ingest-", dir=ROOT / "var" if (ROOT / "var").exists() else None
    ) as tmp:
        workdir = Path(tmp)
        _setup(workdir)
        from django.conf import settings

        from cases import services
        from evidence.services import Actor, staging_dir

        actor = Actor.system("bench")
        team = services.team_create(name="Bench", actor=actor)
        brand = services.brand_create(team=team, name="Bench brand", actor=actor)
        case = services.case_open(brand=brand, asin="B0BENCH001", marketplace="US", actor=actor)
        size = args.size_mb * 2**20

        # --- One large file -------------------------------------------------------------
        baseline_s, ingest_s, stream_s, growth = [], [], [], []
        for attempt in range(args.repeat):
            upload = staging_dir() / f"upload-{attempt}.tmp"
            _write_random(upload, size)
            started = time.perf_counter()
            expected = _hash_file(upload)
            baseline_s.append(time.perf_counter() - started)
            with PeakRss() as memory:
                started = time.perf_counter()
                item = services.evidence_ingest(case=case, file=upload, kind="document", actor=actor)
                ingest_s.append(time.perf_counter() - started)
            growth.append(memory.growth_mb)
            assert item.blob_id == expected, "ingested hash differs from hashlib's"
            # The same bytes again as a plain stream (no temporary file to link): one copy while hashing.
            upload.write_bytes(b"")  # free the page cache pressure of the old copy
            _write_random(upload, size)
            with open(upload, "rb") as stream:
                started = time.perf_counter()
                services.evidence_ingest(case=case, file=stream, kind="document", actor=actor)
                stream_s.append(time.perf_counter() - started)
            upload.unlink()

        mb = size / 2**20
        baseline = statistics.median(baseline_s)
        ours = statistics.median(ingest_s)
        streamed = statistics.median(stream_s)
        print(f"large file: {mb:.0f} MB, median of {args.repeat}, fsync={settings.EVIDENCE_FSYNC}")
        print(f"  hashlib baseline      {mb / baseline:8.0f} MB/s  ({baseline * 1000:.0f} ms)")
        print(f"  evidence_ingest       {mb / ours:8.0f} MB/s  ({ours * 1000:.0f} ms)  ratio {baseline / ours:.2f}")
        print(
            f"  ingest from a stream  {mb / streamed:8.0f} MB/s  ({streamed * 1000:.0f} ms)"
            f"  ratio {baseline / streamed:.2f}"
        )
        print(f"  peak memory growth    {max(growth):8.1f} MB")

        # --- Many screenshots -------------------------------------------------------------
        shots = [PNG_SIGNATURE + os.urandom(args.screenshot_kb * 1024) for _ in range(args.screenshots)]
        shot_mb = sum(len(s) for s in shots) / 2**20
        started = time.perf_counter()
        for shot in shots:
            hashlib.sha256(shot).hexdigest()
        shots_baseline = time.perf_counter() - started
        started = time.perf_counter()
        for index, shot in enumerate(shots):
            services.evidence_ingest(
                case=case, file=io.BytesIO(shot), kind="screenshot", actor=actor, original_name=f"shot-{index}.png"
            )
        shots_s = time.perf_counter() - started
        print(f"screenshots: {args.screenshots} x {args.screenshot_kb} KB ({shot_mb:.0f} MB)")
        print(f"  hashlib baseline      {shot_mb / shots_baseline:8.0f} MB/s")
        print(
            f"  evidence_ingest       {shot_mb / shots_s:8.0f} MB/s  {args.screenshots / shots_s:.0f} items/s"
            f"  ({shots_s * 1000 / args.screenshots:.1f} ms each, rows and audit included)"
        )

        figures = {
            "ingest_ratio": round(baseline / ours, 3),
            "peak_growth_mb": round(max(growth), 1),
            "stream_ratio": round(baseline / streamed, 3),
            "ingest_mb_s": round(mb / ours, 1),
            "screenshots_per_s": round(args.screenshots / shots_s, 1),
        }
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
