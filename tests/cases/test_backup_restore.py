"""The backup and restore procedure of docs/operations.md, run for real against PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from cases.models import Case, Comment, Dossier, Evidence, Sighting
from evidence.models import AuditEvent, Blob

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]

_COUNTS = """
import json
from cases.models import Case, Comment, Dossier, Evidence, Sighting
from evidence.models import AuditEvent, Blob
print(json.dumps({
    "cases": Case.objects.count(),
    "sightings": Sighting.objects.count(),
    "evidence": Evidence.objects.count(),
    "comments": Comment.objects.count(),
    "dossiers": Dossier.objects.count(),
    "blobs": Blob.objects.count(),
    "audit": AuditEvent.objects.count(),
}))
"""


def _pg_env() -> tuple[list[str], dict[str, str]]:
    db = connection.settings_dict
    args = ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"]]
    env = {**os.environ}
    if db["PASSWORD"]:
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, (command, done.stdout, done.stderr)
    return done


def test_a_dump_and_a_copy_of_the_evidence_restore_to_a_deployment_that_verifies(settings: Any, tmp_path: Path):
    call_command("demo")
    expected = {
        "cases": Case.objects.count(),
        "sightings": Sighting.objects.count(),
        "evidence": Evidence.objects.count(),
        "comments": Comment.objects.count(),
        "dossiers": Dossier.objects.count(),
        "blobs": Blob.objects.count(),
        "audit": AuditEvent.objects.count(),
    }
    assert expected["evidence"] > 0
    assert expected["audit"] > 0
    pg, env = _pg_env()
    db = connection.settings_dict

    # Backup, in the documented order: the database first, then the evidence.
    dump = tmp_path / "casemanager.dump"
    _run(["pg_dump", *pg, "-Fc", "-f", str(dump), db["NAME"]], env)
    evidence_copy = tmp_path / "evidence-backup"
    shutil.copytree(settings.EVIDENCE_ROOT, evidence_copy, ignore=shutil.ignore_patterns(".staging"))

    restored = f"restore_{uuid.uuid4().hex[:12]}"
    _run(["createdb", *pg, restored], env)
    try:
        _run(["pg_restore", *pg, "--no-owner", "-d", restored, str(dump)], env)
        site = {key: value for key, value in env.items() if key not in {"REDIS_URL", "EVIDENCE_STORAGE", "VAR_DIR"}} | {
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{restored}",
            "EVIDENCE_ROOT": str(evidence_copy),
            "VAR_DIR": str(tmp_path / "var"),
            # The same keys as the backed-up deployment: the audit chain verifies only with its key.
            "AUDIT_KEY": settings.AUDIT_KEY,
        }
        _run([sys.executable, "manage.py", "migrate", "-v0"], site)
        evidence_check = _run([sys.executable, "manage.py", "verify_evidence"], site)
        audit_check = _run([sys.executable, "manage.py", "verify_audit"], site)
        found = json.loads(_run([sys.executable, "manage.py", "shell", "-c", _COUNTS], site).stdout.splitlines()[-1])
    finally:
        _run(["dropdb", *pg, "--if-exists", restored], env)
    assert "match their SHA-256" in evidence_check.stdout
    assert "audit chains verify" in audit_check.stdout
    assert found == expected
