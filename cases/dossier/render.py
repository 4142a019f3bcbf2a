"""Turns a dossier's content into a PDF in a separate, limited process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from evidence.models import Rendition
from evidence.services import evidence_storage

STYLESHEET = Path(settings.BASE_DIR) / "static" / "dossier" / "dossier.css"


class RenderError(Exception):
    """The renderer failed, ran out of time or of memory; the message says which."""


@dataclass(frozen=True)
class Rendered:
    pdf: Path
    pages: int
    refused: list[str]


def _local_path(name: str, workdir: Path) -> str:
    """A file the renderer can read: the stored file itself, or a copy for remote storage."""
    storage = evidence_storage()
    try:
        return str(storage.path(name))
    except NotImplementedError:
        target = workdir / name.replace("/", "_")
        with storage.open(name, "rb") as source, open(target, "wb") as out:
            shutil.copyfileobj(source, out)
        return str(target)


@contextmanager
def render_pdf(context: dict[str, Any], tiles: list[Rendition]) -> Iterator[Rendered]:
    """Render the dossier template; yields the PDF, which is deleted after the block."""
    html = render_to_string("dossier/dossier.html", context)
    with tempfile.TemporaryDirectory(prefix="dossier-") as tmp:
        workdir = Path(tmp)
        manifest = {"cm-file:dossier.css": {"path": str(STYLESHEET), "type": "text/css"}}
        for tile in tiles:
            manifest[f"cm-file:{tile.blob_id}"] = {
                "path": _local_path(tile.blob.storage_name, workdir),
                "type": tile.blob.mime_type,
            }
        (workdir / "page.html").write_text(html, encoding="utf-8")
        (workdir / "manifest.json").write_text(json.dumps(manifest))
        try:
            finished = subprocess.run(  # noqa: S603 - our own module, a path we created
                [
                    sys.executable,
                    "-m",
                    "cases.dossier.pdfworker",
                    str(workdir),
                    str(settings.DOSSIER_MEMORY_LIMIT_MB),
                    str(max(1, int(settings.DOSSIER_TIME_LIMIT_SECONDS))),
                ],
                cwd=settings.BASE_DIR,
                capture_output=True,
                text=True,
                timeout=settings.DOSSIER_TIME_LIMIT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise RenderError(f"rendering took longer than {settings.DOSSIER_TIME_LIMIT_SECONDS} s") from None
        if finished.returncode != 0:
            tail = finished.stderr.strip().splitlines()[-1:] or ["no output"]
            if "MemoryError" in finished.stderr or finished.returncode < 0:
                raise RenderError(f"rendering ran out of its {settings.DOSSIER_MEMORY_LIMIT_MB} MB: {tail[0]}")
            raise RenderError(f"rendering failed: {tail[0]}")
        result = json.loads((workdir / "result.json").read_text())
        yield Rendered(workdir / "out.pdf", int(result["pages"]), list(result["refused"]))
