"""Renders one dossier in a separate process: ``python -m cases.dossier.pdfworker WORKDIR``.

The parent writes ``WORKDIR/page.html`` and ``WORKDIR/manifest.json`` (the only URLs the
document may load, each mapped to a local file), starts this process with a time and an
address-space limit, and reads ``WORKDIR/out.pdf`` and ``WORKDIR/result.json``. The
process has no database and no network: it reads exactly the files it is given.
"""

from __future__ import annotations

import ctypes
import json
import resource
import signal
import sys
from pathlib import Path
from typing import Any


def _limit_self(memory_mb: int, seconds: int) -> None:
    """Bound this process before WeasyPrint loads, and die with the worker that started it."""
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))
    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


if __name__ == "__main__" and len(sys.argv) > 3:
    _limit_self(int(sys.argv[2]), int(sys.argv[3]))

from weasyprint import HTML  # noqa: E402  (imported once the limits hold)
from weasyprint.urls import URLFetcher, URLFetcherResponse  # noqa: E402


class ManifestFetcher(URLFetcher):
    """Serves the manifest's URLs from their files and refuses everything else.

    No ``file:``, no network, no redirects: a storefront name or note that smuggles in
    ``<img src="file:///etc/passwd">`` or ``url(http://169.254.169.254/)`` loads nothing.
    """

    def __init__(self, manifest: dict[str, dict[str, str]]) -> None:
        super().__init__(allowed_protocols=set(), allow_redirects=False)
        self.manifest = manifest
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        entry = self.manifest.get(url)
        if entry is None:
            self.refused.append(url)
            raise ValueError(f"not part of this dossier: {url[:200]}")
        body = Path(entry["path"]).read_bytes()
        return URLFetcherResponse(url, body, {"Content-Type": entry["type"]})


def main(workdir: Path) -> None:
    manifest = json.loads((workdir / "manifest.json").read_text())
    fetcher = ManifestFetcher(manifest)
    html = (workdir / "page.html").read_text(encoding="utf-8")
    document = HTML(string=html, base_url="cm-file:", url_fetcher=fetcher).render()
    document.write_pdf(workdir / "out.pdf")
    (workdir / "result.json").write_text(json.dumps({"pages": len(document.pages), "refused": fetcher.refused}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
