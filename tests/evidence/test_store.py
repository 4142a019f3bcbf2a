import hashlib
import io
import os
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from evidence.errors import StorageUnavailable
from evidence.models import Blob
from evidence.selectors import blob_orphans, blob_verify
from evidence.services import blob_ingest, evidence_storage
from tests.factories import png_bytes

pytestmark = pytest.mark.django_db(transaction=True)


def stored_files(settings) -> list[Path]:
    return sorted(p for p in Path(settings.EVIDENCE_ROOT).rglob("*") if p.is_file() and ".staging" not in p.parts)


def test_stream_is_stored_under_its_sha256_with_sniffed_type(settings):
    data = png_bytes()
    with blob_ingest(source=io.BytesIO(data)) as blob:
        pass
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert blob.size == len(data)
    assert blob.mime_type == "image/png"
    with evidence_storage().open(blob.storage_name) as stored:
        assert stored.read() == data
    assert stored_files(settings) == [Path(settings.EVIDENCE_ROOT) / blob.storage_name]


def test_type_comes_from_the_bytes_not_the_name():
    with blob_ingest(source=io.BytesIO(b"<html><script>alert(1)</script></html>")) as blob:
        pass
    assert blob.mime_type == "text/html"


def test_file_on_disk_is_moved_in_and_hashed_once(settings):
    source = Path(settings.EVIDENCE_ROOT) / ".staging" / "upload.bin"
    data = os.urandom(3 * 1024 * 1024 + 17)
    source.write_bytes(data)
    with blob_ingest(source=source) as blob:
        pass
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert not source.exists(), "the file is consumed: nobody else can change the stored bytes through it"
    assert blob_verify(blob) is None
    assert stored_files(settings) == [Path(settings.EVIDENCE_ROOT) / blob.storage_name]
    assert list((Path(settings.EVIDENCE_ROOT) / ".staging").iterdir()) == []


def test_stored_bytes_do_not_share_the_uploaded_files_inode(settings):
    source = Path(settings.EVIDENCE_ROOT) / ".staging" / "upload.bin"
    source.write_bytes(b"%PDF-1.4 original")
    with open(source, "r+b") as still_open:
        with blob_ingest(source=source) as blob:
            pass
        stored = Path(settings.EVIDENCE_ROOT) / blob.storage_name
        assert stored.stat().st_nlink == 1
        assert stored.stat().st_mode & 0o777 == 0o440
        still_open.seek(0)
        assert still_open.read() == b"%PDF-1.4 original"
    assert blob_verify(blob) is None


def test_publish_failing_half_way_leaves_no_file(settings, monkeypatch):
    def chmod_fails(path, mode):
        raise PermissionError("chmod refused")

    monkeypatch.setattr("evidence.storage.os.chmod", chmod_fails)
    with pytest.raises(PermissionError), blob_ingest(source=io.BytesIO(png_bytes(color="orange"))):
        pass
    monkeypatch.undo()
    assert Blob.objects.count() == 0
    assert stored_files(settings) == []


def test_ingest_refuses_to_nest_in_a_callers_transaction():
    # A rollback of an outer transaction after the block would leave the file without its row.
    with (
        pytest.raises(RuntimeError, match="durable"),
        transaction.atomic(),
        blob_ingest(source=io.BytesIO(b"%PDF-1.4 nested")),
    ):
        pass
    assert Blob.objects.count() == 0


def test_same_bytes_twice_store_one_file(settings):
    data = png_bytes(color="blue")
    with blob_ingest(source=io.BytesIO(data)) as first:
        pass
    with blob_ingest(source=io.BytesIO(data)) as second:
        pass
    assert first.pk == second.pk
    assert Blob.objects.count() == 1
    assert len(stored_files(settings)) == 1


def test_empty_file_is_refused():
    with pytest.raises(ValidationError) as error, blob_ingest(source=io.BytesIO(b"")):
        pass
    assert "file" in error.value.message_dict
    assert Blob.objects.count() == 0


def test_oversized_file_is_refused_and_nothing_is_left(settings):
    with pytest.raises(ValidationError) as error, blob_ingest(source=io.BytesIO(b"x" * 2000), max_bytes=1000):
        pass
    assert "larger than the limit" in error.value.message_dict["file"][0]
    assert Blob.objects.count() == 0
    assert stored_files(settings) == []
    assert list((Path(settings.EVIDENCE_ROOT) / ".staging").iterdir()) == []


def test_failure_after_storing_removes_file_and_row(settings):
    with pytest.raises(RuntimeError), blob_ingest(source=io.BytesIO(png_bytes(color="green"))):
        raise RuntimeError("the caller's row failed")
    assert Blob.objects.count() == 0
    assert stored_files(settings) == []


def test_failure_keeps_a_file_another_row_already_owns(settings):
    data = png_bytes(color="yellow")
    with blob_ingest(source=io.BytesIO(data)):
        pass
    with pytest.raises(RuntimeError), blob_ingest(source=io.BytesIO(data)):
        raise RuntimeError("second upload fails")
    assert Blob.objects.count() == 1
    assert len(stored_files(settings)) == 1


def test_storage_failure_leaves_no_row(monkeypatch, settings):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("evidence.storage.AtomicFileSystemStorage._save", disk_full)
    with (
        pytest.raises(StorageUnavailable, match="full") as refused,
        blob_ingest(source=io.BytesIO(png_bytes(color="black"))),
    ):
        pass
    assert refused.value.full
    assert Blob.objects.count() == 0
    assert stored_files(settings) == []


def test_stored_files_are_read_only(settings):
    with blob_ingest(source=io.BytesIO(png_bytes(color="white"))) as blob:
        pass
    path = Path(settings.EVIDENCE_ROOT) / blob.storage_name
    assert path.stat().st_mode & 0o222 == 0


def test_verify_finds_changed_and_missing_bytes(settings):
    with blob_ingest(source=io.BytesIO(png_bytes(color="purple"))) as blob:
        pass
    path = Path(settings.EVIDENCE_ROOT) / blob.storage_name
    path.chmod(0o644)
    path.write_bytes(b"tampered")
    problem = blob_verify(blob)
    assert problem is not None
    assert problem.problem == "changed"
    path.unlink()
    problem = blob_verify(blob)
    assert problem is not None
    assert problem.problem == "missing"


def test_orphans_are_found_only_when_old(settings):
    with blob_ingest(source=io.BytesIO(png_bytes(color="cyan"))) as blob:
        pass
    Blob.objects.filter(pk=blob.pk).delete()
    assert list(blob_orphans()) == []
    path = Path(settings.EVIDENCE_ROOT) / blob.storage_name
    os.utime(path, (path.stat().st_atime - 3600, path.stat().st_mtime - 3600))
    assert list(blob_orphans()) == [blob.storage_name]
