"""Local evidence storage whose files appear whole or not at all."""

from __future__ import annotations

import os
import uuid
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class AtomicFileSystemStorage(FileSystemStorage):
    """Stores content-addressed files: a name always holds the same bytes.

    A file is written under a temporary name, flushed to disk and renamed into place,
    so a crash or a full disk never leaves a partial file under a real name. An
    existing name is kept as it is, because by construction it already has the bytes.
    """

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return name

    def _save(self, name: str, content: Any) -> str:
        full_path = self.path(name)
        if os.path.exists(full_path):
            return name
        directory = os.path.dirname(full_path)
        os.makedirs(directory, exist_ok=True)
        if not (hasattr(content, "temporary_file_path") and self._link(content.temporary_file_path(), full_path)):
            self._write(content, full_path)
        os.chmod(full_path, 0o440)
        if settings.EVIDENCE_FSYNC:
            _fsync_path(directory)
        return name

    def _link(self, source: str, full_path: str) -> bool:
        """Publish a file staged on the same file system without copying its bytes."""
        if settings.EVIDENCE_FSYNC:
            _fsync_path(source)
        try:
            os.link(source, full_path)
        except FileExistsError:
            return True
        except OSError:
            return False
        return True

    def _write(self, content: Any, full_path: str) -> None:
        partial = f"{full_path}.{uuid.uuid4().hex}.part"
        try:
            with open(partial, "xb") as out:
                for chunk in content.chunks():
                    out.write(chunk)
                out.flush()
                if settings.EVIDENCE_FSYNC:
                    os.fsync(out.fileno())
            os.replace(partial, full_path)
        except BaseException:
            if os.path.exists(partial):
                os.unlink(partial)
            raise


def _fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
