"""The evidence disk fills up or turns read-only during uploads: a clear error, no row
without a file, no file without a row, and uploads work again once there is room."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from PIL import Image

from cases.models import Evidence
from evidence.models import Blob
from tests.conftest import _in_ci
from tests.factories import BrandFactory, CaseFactory
from tests.faults.conftest import bearer, signed_in

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def noise_png(side: int) -> bytes:
    """A PNG that does not compress: its size on disk is about 3 bytes a pixel."""
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, format="PNG", compress_level=0)
    return out.getvalue()


@pytest.fixture
def small_disk(tmp_path: Path, settings: Any) -> Iterator[Path]:
    """Evidence on a file system of its own, 12 MB, that the test can fill and make read-only."""
    root = tmp_path / "small-disk"
    root.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(root)], capture_output=True, text=True, check=False
    )
    if mounted.returncode != 0:
        reason = f"a full disk is simulated with a small tmpfs, which needs root (CAP_SYS_ADMIN): {mounted.stderr}"
        if _in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        (root / ".staging").mkdir()
        settings.EVIDENCE_ROOT = root
        settings.FILE_UPLOAD_TEMP_DIR = root / ".staging"
        settings.STORAGES = {
            **settings.STORAGES,
            "evidence": {"BACKEND": "evidence.storage.AtomicFileSystemStorage", "OPTIONS": {"location": root}},
        }
        yield root
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)


@pytest.fixture
def stack(small_disk: Path, stack: Any) -> Any:
    """The deployment, started after its evidence folder moved onto the small disk."""
    return stack


def fill(disk: Path) -> Path:
    """Take every free byte of the disk (dd stops with "No space left on device")."""
    filler = disk / "filler"
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True, check=False)
    assert shutil.disk_usage(disk).free < 65536
    return filler


def leftovers(disk: Path) -> list[str]:
    """Files that are neither stored evidence nor the filler: partial writes, staged uploads."""
    found = []
    for path in disk.rglob("*"):
        if path.is_file() and path.name != "filler" and not (len(path.name) == 64 and "sha256" in path.parts):
            found.append(str(path.relative_to(disk)))
    return found


def test_a_full_or_read_only_evidence_disk_refuses_uploads_cleanly_and_recovers(personas, settings, small_disk, stack):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    personas.agent.password = make_password("pw")
    personas.agent.save(update_fields=["password"])
    case: Any = CaseFactory(brand=BrandFactory(team=personas.team))
    headers = bearer(personas.agent)
    stack.serve()
    url = f"{stack.url}/api/v1/cases/{case.pk}/evidence/"

    def upload(data: bytes, name: str = "shot.png") -> requests.Response:
        return requests.post(
            url, headers=headers, files={"file": (name, data, "image/png")}, data={"kind": "screenshot"}, timeout=60
        )

    assert upload(noise_png(900)).status_code == 201  # 2.4 MB: spooled to disk by Django first
    filler = fill(small_disk)

    # Both ways in: a large upload fails while Django spools it, a small one when it is stored.
    for data in (noise_png(900), noise_png(500)):
        refused = upload(data)
        assert refused.status_code == 507, refused.text[:300]
        assert refused.json()["error"]["code"] == "storage_full"
        assert int(refused.headers["Retry-After"]) > 0
    browser = signed_in(stack, "agent", "pw")
    page = browser.post(
        f"{stack.url}/cases/{case.pk}/evidence/upload",
        files={"file": ("small.png", noise_png(300), "image/png")},
        data={"kind": "screenshot", "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        timeout=60,
    )
    assert page.status_code == 400
    assert "The evidence store is full; nothing was stored." in page.text
    # Work that stores no file goes on.
    renamed = requests.patch(
        f"{stack.url}/api/v1/cases/{case.pk}/", headers=headers, json={"title": "Still writable"}, timeout=30
    )
    assert renamed.status_code == 200
    assert leftovers(small_disk) == []

    # A disk that fails (here: turns read-only) is "unavailable", not "full".
    filler.unlink()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        refused = upload(noise_png(500))
        assert refused.status_code == 503, refused.text[:300]
        assert refused.json()["error"]["code"] == "unavailable"
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)

    # With room again, uploads work without a restart.
    assert upload(noise_png(900)).status_code == 201
    assert leftovers(small_disk) == []
    assert Evidence.objects.filter(case=case).count() == 2
    assert Blob.objects.filter(mime_type="image/png").count() == 2
    call_command("verify_evidence")
    call_command("verify_audit")
