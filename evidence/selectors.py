"""Reads of the evidence layer: verifying stored bytes and the custody chain."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.utils import timezone

from evidence.models import AuditChain, AuditEvent, Blob, Rendition, RenditionKind
from evidence.renditions import IMAGE_TYPES
from evidence.services import CHUNK_SIZE, GENESIS_HASH, audit_fields, audit_hash, evidence_storage


@dataclass(frozen=True)
class BlobProblem:
    sha256: str
    problem: str  # "missing" or "changed"
    detail: str


def blob_verify(blob: Blob) -> BlobProblem | None:
    storage = evidence_storage()
    try:
        source = storage.open(blob.storage_name, "rb")
    except FileNotFoundError:
        return BlobProblem(blob.sha256, "missing", "no file in evidence storage")
    digest = hashlib.sha256()
    size = 0
    with source:
        while chunk := source.read(CHUNK_SIZE):
            digest.update(chunk)
            size += len(chunk)
    if digest.hexdigest() != blob.sha256 or size != blob.size:
        return BlobProblem(blob.sha256, "changed", f"now {size} bytes with SHA-256 {digest.hexdigest()}")
    return None


def blob_verify_all() -> Iterator[tuple[Blob, BlobProblem | None]]:
    for blob in Blob.objects.order_by("created_at", "sha256").iterator(chunk_size=500):
        yield blob, blob_verify(blob)


def blobs_without_renditions(*, limit: int = 200) -> list[str]:
    """Images stored in the last day, more than two minutes ago, that have no thumbnail yet:
    their renditions message was lost (the broker was down) or its worker died."""
    now = timezone.now()
    derived = Rendition.objects.values("blob_id")
    with_thumbnail = Rendition.objects.filter(kind=RenditionKind.THUMBNAIL).values("source_id")
    pending = (
        Blob.objects.filter(
            mime_type__in=IMAGE_TYPES,
            created_at__lt=now - dt.timedelta(minutes=2),
            created_at__gte=now - dt.timedelta(days=1),
        )
        .exclude(sha256__in=derived)
        .exclude(sha256__in=with_thumbnail)
    )
    # Newest first: an image that can never be rendered (it is logged) drops behind new ones.
    return list(pending.order_by("-created_at").values_list("sha256", flat=True)[:limit])


def blob_orphans(*, older_than: dt.timedelta = dt.timedelta(minutes=10)) -> Iterator[str]:
    """Stored files no row refers to (left by a crash between storing and committing).

    Files younger than ``older_than`` are skipped: their upload may still be committing.
    """
    storage = evidence_storage()
    if not storage.exists("sha256"):
        return
    cutoff = timezone.now() - older_than
    for first in storage.listdir("sha256")[0]:
        for second in storage.listdir(f"sha256/{first}")[0]:
            folder = f"sha256/{first}/{second}"
            names = [n for n in storage.listdir(folder)[1] if len(n) == 64]
            known = set(Blob.objects.filter(sha256__in=names).values_list("sha256", flat=True))
            for name in sorted(set(names) - known):
                if storage.get_modified_time(f"{folder}/{name}") < cutoff:
                    yield f"{folder}/{name}"


@dataclass(frozen=True)
class ChainBreak:
    chain: str
    seq: int
    event_id: int | None
    problem: str

    def __str__(self) -> str:
        row = f"row id {self.event_id}" if self.event_id is not None else "no row"
        return f"chain {self.chain}, seq {self.seq} ({row}): {self.problem}"


def audit_verify_chain(head: AuditChain) -> ChainBreak | None:
    """The first broken link of one chain, or None when every row is as written."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    events = AuditEvent.objects.filter(chain=head.key).order_by("seq").iterator(chunk_size=2000)
    for event in events:
        if event.seq != expected_seq:
            return ChainBreak(head.key, expected_seq, None, f"row missing (next row has seq {event.seq})")
        if event.prev_hash != expected_prev:
            return ChainBreak(head.key, event.seq, event.pk, "previous-hash link does not match: row replaced")
        if audit_hash(prev_hash=event.prev_hash, fields=audit_fields(event)) != event.hash:
            return ChainBreak(head.key, event.seq, event.pk, "content does not match its hash: row changed")
        expected_prev = event.hash
        expected_seq += 1
    if head.seq != expected_seq - 1 or head.head_hash != expected_prev:
        return ChainBreak(
            head.key, expected_seq, None, f"rows after seq {expected_seq - 1} removed (head is {head.seq})"
        )
    return None


def audit_verify_all(*, expected: Iterable[str] = ()) -> Iterator[tuple[AuditChain, ChainBreak | None]]:
    """Verify every chain; ``expected`` names chains that must exist (one per team, say)."""
    known = set(AuditChain.objects.values_list("key", flat=True))
    for key in sorted(set(expected) - known):
        yield AuditChain(key=key, seq=0, head_hash=""), ChainBreak(key, 0, None, "whole chain removed")
    for head in AuditChain.objects.order_by("key"):
        yield head, audit_verify_chain(head)
    orphaned = AuditEvent.objects.exclude(chain__in=known).values_list("chain", flat=True).distinct()
    for chain in orphaned:
        yield AuditChain(key=chain, seq=0, head_hash=""), ChainBreak(chain, 0, None, "chain head removed")
