"""PostgreSQL restarted under load: requests in flight fail cleanly (503, JSON) or succeed;
nothing is half-written, no file is left without its row; the app recovers by itself."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import eventually
from tests.factories import png_bytes
from tests.support.stack import PrivatePostgres, PrivateRedis, Stack, production_environment

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker]
CLIENTS = 6
OK = {"upload": 201, "list": 200, "read": 200, "dossier": 202}

SEED = """
import json
from cases.services.tokens import api_token_create
from evidence.services import Actor
from tests.factories import BrandFactory, CaseFactory, MemberFactory, TeamFactory, UserFactory, attach
from cases.models import Role
manager = UserFactory(username="manager")
team = TeamFactory(creator=manager)
agent = MemberFactory(team=team, role=Role.AGENT, username="agent")
case = CaseFactory(brand=BrandFactory(team=team))
attach(case, 1, name="深圳市好运来贸易有限公司")
_, token = api_token_create(user=agent, name="load", actor=Actor.of_user(agent))
print(json.dumps({"case": case.pk, "token": token}))
"""

STATE = """
import json
from cases.models import Dossier, Evidence
from evidence.models import AuditEvent, Blob
added = set(AuditEvent.objects.filter(action="evidence.added").values_list("subject_id", flat=True))
print(json.dumps({
    "evidence": {e.pk: e.blob_id for e in Evidence.objects.all()},
    "unaudited": [e.pk for e in Evidence.objects.all() if str(e.pk) not in added],
    "blobs": list(Blob.objects.values_list("sha256", flat=True)),
    "dossiers": dict(Dossier.objects.values_list("pk", "status")),
}))
"""


@pytest.fixture
def restartable_stack(tmp_path: Path, private_redis: PrivateRedis, var_dir: Path) -> Iterator[tuple[Stack, Any]]:
    """The deployment on a PostgreSQL of its own, migrated and seeded, that the test restarts."""
    database = PrivatePostgres()
    try:
        database.start()
        database.create_database()
        evidence = tmp_path / "deployment-evidence"
        (evidence / ".staging").mkdir(parents=True)
        environment = production_environment(
            database_url=database.url, redis_url=private_redis.url, evidence_root=evidence
        )
        deployment = Stack({**environment, "VAR_DIR": str(var_dir)})
        for command in (("migrate", "--noinput"), ("shell", "-c", SEED)):
            result = deployment.manage(*command)
            assert result.returncode == 0, result.stderr
        deployment.seed = json.loads(result.stdout.strip().splitlines()[-1])
        try:
            yield deployment, database
        finally:
            deployment.stop()
    finally:
        database.remove()


class Load:
    """Clients that keep uploading, listing, reading and requesting dossiers until told to stop."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.headers = {"Authorization": f"Bearer {stack.seed['token']}"}
        self.case = stack.seed["case"]
        self.results: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.client, args=(n,)) for n in range(CLIENTS)]

    def client(self, number: int) -> None:
        session = requests.Session()
        rng = random.Random(number)  # noqa: S311 (test data, not secrets)
        api = f"{self.stack.url}/api/v1"
        while not self.stopping.is_set():
            operation = rng.choice(["upload", "upload", "list", "read", "dossier"])
            try:
                if operation == "upload":
                    color = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
                    data = png_bytes(width=rng.randrange(40, 400), height=rng.randrange(40, 400), color=color)
                    response = session.post(
                        f"{api}/cases/{self.case}/evidence/",
                        headers=self.headers,
                        files={"file": ("shot.png", data, "image/png")},
                        data={"kind": "screenshot"},
                        timeout=60,
                    )
                elif operation == "dossier" and rng.random() < 0.2:
                    response = session.post(f"{api}/cases/{self.case}/dossiers/", headers=self.headers, timeout=60)
                elif operation == "read":
                    response = session.get(f"{api}/cases/{self.case}/", headers=self.headers, timeout=60)
                else:
                    operation = "list"
                    response = session.get(f"{api}/cases/?search=好运来", headers=self.headers, timeout=60)
                outcome = {"op": operation, "status": response.status_code, "body": _json(response)}
            except requests.RequestException as error:
                outcome = {"op": operation, "status": None, "body": repr(error)}
            with self.lock:
                self.results.append(outcome)

    def succeeded(self) -> int:
        with self.lock:
            return sum(r["status"] == OK[r["op"]] for r in self.results)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=120)


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:300]


def test_postgres_restarted_under_load_loses_nothing_and_recovers(restartable_stack):
    stack, database = restartable_stack
    stack.serve(processes=2)
    stack.worker()
    with Load(stack) as load:
        eventually(lambda: load.succeeded() >= 20, timeout=120, what="the load to get going")
        database.restart()
        restarted_at = len(load.results)
        eventually(
            lambda: sum(r["status"] == OK[r["op"]] for r in load.results[restarted_at:]) >= 20,
            timeout=120,
            what="requests to succeed again after the restart",
        )
    results = load.results

    # Every answer is a success or a clean "unavailable"; gunicorn never dropped a connection.
    unclean = [r for r in results if r["status"] != OK[r["op"]] and r["status"] != 503]
    assert unclean == []
    for refused in (r for r in results if r["status"] == 503):
        assert refused["body"]["error"]["code"] == "unavailable"

    # Dossiers that were accepted are built, by the worker's retries or the sweeper.
    accepted = {r["body"]["id"] for r in results if r["op"] == "dossier" and r["status"] == 202}

    def state() -> dict[str, Any]:
        result = stack.manage("shell", "-c", STATE)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])

    seen: dict[str, Any] = {}

    def built() -> bool:
        seen.update(state()["dossiers"])
        return all(seen.get(str(pk)) == "done" for pk in accepted)

    try:
        eventually(built, timeout=180, what="every accepted dossier to be built")
    except pytest.fail.Exception:
        pytest.fail(f"accepted dossiers not built: { {pk: seen.get(str(pk)) for pk in accepted} }")
    final = state()

    # Every acknowledged upload is there with its hash; every row has its audit row and its file;
    # every stored file has its row.
    acknowledged = {r["body"]["id"]: r["body"]["sha256"] for r in results if r["op"] == "upload" and r["status"] == 201}
    assert {int(pk): sha for pk, sha in final["evidence"].items() if int(pk) in acknowledged} == acknowledged
    assert final["unaudited"] == []
    stored = {path.name for path in Path(stack.env["EVIDENCE_ROOT"], "sha256").rglob("*") if path.is_file()}
    assert stored == set(final["blobs"])
    assert list(Path(stack.env["EVIDENCE_ROOT"], ".staging").iterdir()) == []
    for command in ("verify_evidence", "verify_audit"):
        result = stack.manage(command)
        assert result.returncode == 0, result.stdout + result.stderr
