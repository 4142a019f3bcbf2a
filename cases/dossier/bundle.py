"""The exhibit bundle: a ZIP streamed in pieces, so several GB never sit in memory."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator

from cases.models import Dossier
from evidence.services import CHUNK_SIZE, evidence_storage

README = """Exhibit bundle for {reference}, dossier version {version}

{pdf} is the dossier. Every exhibit-NNN file is the original evidence file exactly as it
was stored when captured; manifest.csv and manifest.json list each one with its SHA-256,
size, source URL and capture time (UTC), and the dossier prints the same values.

To verify, unpack the bundle and run:
  Linux or macOS:      sha256sum exhibit-*        (or: shasum -a 256 exhibit-*)
  Windows PowerShell:  Get-FileHash -Algorithm SHA256 exhibit-*
Each hash must equal the one in manifest.csv. The dossier's own SHA-256 is {pdf_sha256}.
"""


class _Sink(io.RawIOBase):
    """A write-only stream whose bytes are taken away as they come."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self._chunks = b"".join(self._chunks), []
        return data


def bundle_stream(dossier: Dossier) -> Iterator[bytes]:
    """Yield the ZIP piece by piece: README, manifests, the PDF, then every original."""
    assert dossier.pdf is not None
    exhibits = list(dossier.exhibits.select_related("blob", "evidence").order_by("number"))
    rows = [
        {
            "exhibit": e.number,
            "file": e.file_name,
            "sha256": e.blob_id,
            "size": e.blob.size,
            "mime_type": e.blob.mime_type,
            "label": e.label,
            "source_url": e.source_url,
            "captured_at": e.captured_at.isoformat() if e.captured_at else "",
        }
        for e in exhibits
    ]
    csv_text = io.StringIO()
    writer = csv.DictWriter(csv_text, fieldnames=list(rows[0]) if rows else ["exhibit"])
    writer.writeheader()
    writer.writerows(rows)
    sink = _Sink()
    storage = evidence_storage()
    with zipfile.ZipFile(sink, "w", allowZip64=True) as archive:
        text = {
            "README.txt": README.format(
                reference=dossier.case.reference,
                version=dossier.version,
                pdf=dossier.file_name,
                pdf_sha256=dossier.pdf_id,
            ),
            "manifest.json": json.dumps(
                {
                    "case": dossier.case.reference,
                    "dossier_version": dossier.version,
                    "dossier_sha256": dossier.pdf_id,
                    "exhibits": rows,
                },
                ensure_ascii=False,
                indent=2,
            ),
            "manifest.csv": csv_text.getvalue(),
        }
        for name, content in text.items():
            archive.writestr(name, content.encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED)
            yield sink.take()
        files = [(dossier.file_name, dossier.pdf.storage_name)] + [(e.file_name, e.blob.storage_name) for e in exhibits]
        for name, stored in files:
            with storage.open(stored, "rb") as source, archive.open(name, "w", force_zip64=True) as target:
                while chunk := source.read(CHUNK_SIZE):
                    target.write(chunk)
                    yield sink.take()
    yield sink.take()
