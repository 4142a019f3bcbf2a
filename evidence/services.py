"""Writes of the evidence layer: storing blobs and appending to the custody log."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar

import magic
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db import InterfaceError, OperationalError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from evidence.errors import StorageUnavailable, field_error
from evidence.models import ActorKind, AuditChain, AuditEvent, Blob, blob_storage_name

logger = logging.getLogger(__name__)
T = TypeVar("T")

CHUNK_SIZE = 1024 * 1024
SNIFF_BYTES = 8192
GENESIS_HASH = "0" * 64


def evidence_storage() -> Storage:
    return storages["evidence"]


def staging_dir() -> Path:
    path = Path(settings.EVIDENCE_ROOT) / ".staging"
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- Actors and the custody log ---------------------------------------------------------


class _UserLike(Protocol):
    pk: Any

    def get_username(self) -> str: ...


@dataclass(frozen=True)
class Actor:
    """Who made a change: a signed-in user or a named background job."""

    kind: str
    id: int | None
    name: str
    user: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def of_user(cls, user: _UserLike) -> Actor:
        return cls(kind=ActorKind.USER, id=int(user.pk), name=user.get_username(), user=user)

    @classmethod
    def job(cls, name: str) -> Actor:
        return cls(kind=ActorKind.JOB, id=None, name=name)

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(kind=ActorKind.SYSTEM, id=None, name=name)

    @property
    def is_user(self) -> bool:
        return self.kind == ActorKind.USER


def jsonable(value: Any) -> Any:
    """A JSON value that survives a database round trip unchanged (so hashes stay stable)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk if isinstance(value.pk, int) else str(value.pk)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)


def audit_hash(*, prev_hash: str, fields: dict[str, Any]) -> str:
    """HMAC-SHA256 keyed by AUDIT_KEY: without the key, a rewritten chain cannot be re-hashed."""
    canonical = json.dumps(
        {**fields, "prev_hash": prev_hash}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hmac.new(settings.AUDIT_KEY.encode(), canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def audit_fields(event: AuditEvent) -> dict[str, Any]:
    """The fields an audit hash covers, read back from a row."""
    return {
        "chain": event.chain,
        "seq": event.seq,
        "created_at": jsonable(event.created_at),
        "actor_kind": event.actor_kind,
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "action": event.action,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "ref": event.ref,
        "before": event.before,
        "after": event.after,
    }


@dataclass(frozen=True)
class AuditEntry:
    """One row to append to a chain (see ``audit_record_many``)."""

    actor: Actor
    action: str
    subject: models.Model
    ref: str = ""
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


def audit_record(
    *,
    actor: Actor,
    action: str,
    subject: models.Model,
    chain: str,
    ref: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one row to ``chain``; must run inside the transaction of the change."""
    entry = AuditEntry(actor=actor, action=action, subject=subject, ref=ref, before=before, after=after)
    return audit_record_many(chain=chain, entries=[entry])[0]


def audit_record_many(*, chain: str, entries: list[AuditEntry]) -> list[AuditEvent]:
    """Append rows to ``chain`` in order, with one lock of its head and one insert.

    Must run inside the transaction of the changes. The head stays locked until that
    transaction ends: callers that write many rows collect them and append them last.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    if not entries:
        return []
    head, _created = AuditChain.objects.select_for_update().get_or_create(
        key=chain, defaults={"seq": 0, "head_hash": GENESIS_HASH}
    )
    now = timezone.now()
    events = []
    for entry in entries:
        event = AuditEvent(
            chain=chain,
            seq=head.seq + 1,
            created_at=now,
            actor_kind=entry.actor.kind,
            actor_id=entry.actor.id,
            actor_name=entry.actor.name,
            action=entry.action,
            subject_type=entry.subject._meta.label_lower,
            subject_id=str(entry.subject.pk),
            ref=entry.ref,
            before=jsonable(entry.before) if entry.before is not None else None,
            after=jsonable(entry.after) if entry.after is not None else None,
            prev_hash=head.head_hash,
        )
        event.hash = audit_hash(prev_hash=head.head_hash, fields=audit_fields(event))
        head.seq, head.head_hash = event.seq, event.hash
        events.append(event)
    AuditEvent.objects.bulk_create(events)
    head.save(update_fields=["seq", "head_hash"])
    return events


# --- Blobs ----------------------------------------------------------------------------------


@dataclass
class StagedBlob:
    """Bytes in the private staging folder, hashed; only this process knows the name."""

    sha256: str
    size: int
    mime_type: str
    path: Path

    def cleanup(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def _too_large(max_bytes: int) -> ValidationError:
    return field_error(
        "file", _("The file is larger than the limit of %(max)s bytes.") % {"max": max_bytes}, "file_too_large"
    )


def _empty() -> ValidationError:
    return field_error("file", _("The file is empty."), "empty_file")


def _staging_name() -> Path:
    return staging_dir() / f"{uuid.uuid4().hex}.part"


def _stage_stream(source: IO[bytes], max_bytes: int) -> StagedBlob:
    """Copy a stream into the staging area, hashing and sniffing it on the way (one read)."""
    digest = hashlib.sha256()
    head = b""
    size = 0
    path = _staging_name()
    try:
        with open(path, "xb") as out:
            while chunk := source.read(CHUNK_SIZE):
                size += len(chunk)
                if size > max_bytes:
                    raise _too_large(max_bytes)
                if len(head) < SNIFF_BYTES:
                    head += chunk[: SNIFF_BYTES - len(head)]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise _empty()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return StagedBlob(digest.hexdigest(), size, _sniff(head), path)


def _adopt(path: Path, max_bytes: int) -> StagedBlob | None:
    """Take over a file already on the staging file system by renaming it, then hash it once.

    After the rename only this process knows the name, so the bytes hashed are the bytes
    stored. Flushing to disk runs alongside the hashing (both release the GIL). Returns
    None when the file is on another file system and must be copied instead.
    """
    size = path.stat().st_size
    if size > max_bytes:
        raise _too_large(max_bytes)
    if size == 0:
        raise _empty()
    staged_path = _staging_name()
    try:
        os.rename(path, staged_path)
    except OSError:
        return None
    try:
        digest = hashlib.sha256()
        buffer = bytearray(CHUNK_SIZE)
        view = memoryview(buffer)
        with ThreadPoolExecutor(max_workers=1) as pool, open(staged_path, "rb", buffering=0) as source:
            flushed = pool.submit(_fsync_file, staged_path) if settings.EVIDENCE_FSYNC else None
            read = source.readinto(buffer)
            head = bytes(view[: min(read, SNIFF_BYTES)])
            while read:
                digest.update(view[:read])
                read = source.readinto(buffer)
            if flushed is not None:
                flushed.result()
    except BaseException:
        staged_path.unlink(missing_ok=True)
        raise
    return StagedBlob(digest.hexdigest(), size, _sniff(head), staged_path)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sniff(head: bytes) -> str:
    return str(magic.from_buffer(head, mime=True)) or "application/octet-stream"


def _stage(source: IO[bytes] | Path, max_bytes: int) -> StagedBlob:
    """Stage ``source``. A ``Path`` or an upload's temporary file is consumed (moved in)."""
    path: Path | None = None
    temporary_file_path = getattr(source, "temporary_file_path", None)
    if isinstance(source, Path):
        path = source
    elif callable(temporary_file_path):
        path = Path(temporary_file_path())
    if path is not None:
        adopted = _adopt(path, max_bytes)
        if adopted is not None:
            return adopted
        with open(path, "rb") as handle:
            return _stage_stream(handle, max_bytes)
    assert not isinstance(source, Path)
    if hasattr(source, "seek"):
        source.seek(0)
    return _stage_stream(source, max_bytes)


class _StagedContent(File):
    """A staged file that a local storage can link instead of copying."""

    def __init__(self, handle: IO[bytes], staged: StagedBlob) -> None:
        super().__init__(handle, name=staged.path.name)
        self._staged_path = staged.path

    def temporary_file_path(self) -> str:
        return str(self._staged_path)


def _publish(staged: StagedBlob) -> None:
    """Put the staged bytes under their content address."""
    name = blob_storage_name(staged.sha256)
    with open(staged.path, "rb") as handle:
        stored_name = evidence_storage().save(name, _StagedContent(handle, staged))
    if stored_name != name:
        raise RuntimeError(f"evidence storage renamed {name} to {stored_name}")


@contextlib.contextmanager
def blob_ingest(
    *, source: IO[bytes] | Path, max_bytes: int | None = None, accept: Callable[[StagedBlob], None] | None = None
) -> Iterator[Blob]:
    """Store bytes under their SHA-256 and yield the ``Blob`` inside a transaction.

    The caller writes the rows that reference the blob inside the ``with`` block. If
    anything in it fails, the transaction rolls back and a file this call published is
    removed again, so there is never a row without a file nor a file without a row. The
    transaction is durable (never nested in the caller's), because a rollback of an
    outer transaction after this block would leave the file without its row.

    ``source`` is read once. A ``Path`` or an upload's temporary file is consumed: moved
    into the staging area (no copy) and hashed there; a stream is copied while hashed.
    ``accept`` sees the staged bytes before anything is kept and may refuse them by raising.
    """
    with blobs_ingest(sources=[source], max_bytes=max_bytes, accept=accept) as blobs:
        yield blobs[0]


@contextlib.contextmanager
def blobs_ingest(
    *,
    sources: list[IO[bytes] | Path],
    max_bytes: int | None = None,
    accept: Callable[[StagedBlob], None] | None = None,
) -> Iterator[list[Blob]]:
    """``blob_ingest`` for files that belong together (a capture's screenshot and archive):
    one transaction stores all of them or none."""
    limit = max_bytes if max_bytes is not None else settings.EVIDENCE_MAX_BYTES
    staged_all: list[StagedBlob] = []
    published: list[StagedBlob] = []
    try:
        for source in sources:
            with _storage_errors():
                staged_all.append(_stage(source, limit))
            if accept is not None:
                accept(staged_all[-1])
        with transaction.atomic(durable=True):
            blobs = []
            for staged in staged_all:
                blob, created = Blob.objects.get_or_create(
                    sha256=staged.sha256, defaults={"size": staged.size, "mime_type": staged.mime_type}
                )
                if created or not evidence_storage().exists(blob.storage_name):
                    # Noted first: a publish that fails half-way must be cleaned up too.
                    if created:
                        published.append(staged)
                    with _storage_errors():
                        _publish(staged)
                blobs.append(blob)
            yield blobs
    except BaseException:
        waits: tuple[float, ...] = DATABASE_WAITS
        for staged in published:
            if not _discard_unreferenced(staged, waits=waits):
                waits = ()  # the database did not come back: no more waiting for it
        raise
    finally:
        for staged in staged_all:
            staged.cleanup()


@contextlib.contextmanager
def _storage_errors() -> Iterator[None]:
    try:
        yield
    except OSError as error:
        if error.errno in StorageUnavailable.ERRNOS:
            raise StorageUnavailable(error) from error
        raise


# Waits between tries of a clean-up while the database is unreachable (it may be restarting).
DATABASE_WAITS = (0.5, 1.0, 2.0, 4.0, 8.0)


def when_database_answers(call: Callable[[], T], *, waits: tuple[float, ...] = DATABASE_WAITS) -> T:
    """Run ``call``, again on a new connection after each wait while the database is unreachable.

    For clean-ups of a request that has already failed, which should happen even though the
    database went away for a moment; the last error is raised when it never comes back.
    """
    for wait in waits:
        try:
            return call()
        except (OperationalError, InterfaceError):
            connection.close()
            time.sleep(wait)
    return call()


def _discard_unreferenced(staged: StagedBlob, *, waits: tuple[float, ...]) -> bool:
    """Remove a published file whose row was rolled back, unless another upload owns it now.

    Inserting a placeholder row waits for any concurrent upload of the same bytes to
    commit or roll back; only when ours is the sole claim is the file deleted. That
    also settles a commit whose outcome was lost with the connection: if it did commit,
    the row is there and the file stays. So when the database is what failed, the
    request (already failed) waits a little for it to come back rather than leave an orphan.
    """

    def discard() -> None:
        with transaction.atomic():
            _blob, created = Blob.objects.get_or_create(
                sha256=staged.sha256, defaults={"size": staged.size, "mime_type": staged.mime_type}
            )
            if created:
                evidence_storage().delete(blob_storage_name(staged.sha256))
                transaction.set_rollback(True)

    try:
        when_database_answers(discard, waits=waits)
    except Exception:
        logger.exception("could not discard unreferenced file %s (verify_evidence --orphans lists it)", staged.sha256)
        return False
    return True


def blob_copy_to(blob: Blob, destination: IO[bytes]) -> None:
    with evidence_storage().open(blob.storage_name, "rb") as source:
        shutil.copyfileobj(source, destination, CHUNK_SIZE)
