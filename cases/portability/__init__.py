"""Moving one case between installations: a ZIP of its rows, its audit trail and its files.

The ZIP holds ``manifest.json`` and ``blobs/<sha256>`` for every file a row refers to
(evidence, dossier PDFs, IP-right certificates). Renditions are not exported: the
target makes them again from the originals.

Users do not travel: a username on another installation may be someone else. Who
captured, requested or wrote something is kept as text (``imported: alice``), and the
manifest itself, with the source's audit rows as they were recorded, is attached to the
imported case as a document: those rows are sealed with the source's ``AUDIT_KEY`` and
cannot be re-chained under the target's.
"""

from cases.portability.exporting import ExportResult, case_export
from cases.portability.format import MANIFEST, PortabilityError
from cases.portability.importing import case_import

__all__ = ["MANIFEST", "ExportResult", "PortabilityError", "case_export", "case_import"]
