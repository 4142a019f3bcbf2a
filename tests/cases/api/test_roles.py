"""The API's role matrix, exhaustive by construction.

Every route of the API URLconf and every method it answers must have a row in MATRIX
(a new endpoint fails ``test_every_route_and_method_is_in_the_matrix`` until it is
pinned here). For each row:

- the manager, the agent and the viewer of another team get 404 for anything naming a
  row of the first team, list only their own rows, and change nothing of the first team
  (no audit row, no row added, changed or removed);
- the first team's viewer reads, and gets 403 on every write, which changes nothing;
- the first team's agent and manager get what their level allows, 403 above it.

A canary string sits in every row of the first team that has a name: no answer to the
other team may contain it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.urls import URLPattern, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from cases import services
from cases.api.urls import urlpatterns
from cases.models import Dossier, Role
from cases.models.scoping import TeamScoped
from cases.services.captures import capture_request
from cases.services.dossiers import dossier_request
from cases.services.watch import sp_api_credentials_set, watch_add
from evidence.models import AuditEvent
from evidence.services import Actor
from tests.cases.api.test_collection import ASIN, notification
from tests.conftest import client_for
from tests.factories import BrandFactory, CaseFactory, MemberFactory, add_evidence, attach, png_bytes

pytestmark = pytest.mark.django_db

CANARY = "Kanarienvogel"
READ, AGENT, MANAGER, ANYONE = "read", "agent", "manager", "anyone"
# What another team's request names: a row of the first team (404), nothing (a list of its
# own rows), or its own team (a create that lands there, if its role allows it).
ROW, LIST, OWN = "row", "list", "own"
RANK = {"viewer": 0, "agent": 1, "manager": 2}
NEEDED = {ANYONE: 0, READ: 0, AGENT: 1, MANAGER: 2}


@dataclass(frozen=True)
class Call:
    level: str
    scope: str = ROW
    pk: str | None = None  # which row of the world the route's ``pk`` names
    body: Callable[[dict[str, Any]], Any] | None = None
    query: Callable[[dict[str, Any]], str] | None = None
    runs_jobs: bool = False  # the work it queues after commit must run for the check to mean anything


def _today() -> str:
    return timezone.localdate().isoformat()


def _upload(w: dict[str, Any]) -> dict[str, Any]:
    out = io.BytesIO(png_bytes(color=(1, 2, 3)))
    out.name = "shot.png"
    return {"file": out, "kind": "screenshot"}


SP_API = {
    "selling_partner_id": "A3TH9S8BH6GOGM",
    "region": "na",
    "client_id": "amzn1.application-oa2-client.abc",
    "client_secret": "amzn1.oa2-cs.v1.other",
    "refresh_token": "Atzr|other",
}

MATRIX: dict[tuple[str, str], Call] = {
    ("api-schema", "get"): Call(ANYONE, LIST),
    ("api-docs", "get"): Call(ANYONE, LIST),
    ("api-brands", "get"): Call(READ, LIST),
    ("api-brands", "post"): Call(MANAGER, OWN, body=lambda w: {"name": "Another"}),
    ("api-brand", "get"): Call(READ, pk="brand"),
    ("api-brand", "patch"): Call(MANAGER, pk="brand", body=lambda w: {"contact_name": "Dana"}),
    ("api-ip-rights", "get"): Call(READ),
    ("api-ip-rights", "post"): Call(MANAGER, body=lambda w: {"kind": "patent"}),
    ("api-cases", "get"): Call(READ, LIST),
    # The body names the first team's brand.
    ("api-cases", "post"): Call(
        AGENT, body=lambda w: {"brand": w["brand"].pk, "asin": "B0ROLE0001", "marketplace": "FR"}
    ),
    ("api-case", "get"): Call(READ, pk="case"),
    ("api-case", "patch"): Call(AGENT, pk="case", body=lambda w: {"title": "renamed"}),
    ("api-case-transition", "post"): Call(AGENT, pk="case", body=lambda w: {"status": "investigating"}),
    ("api-case-storefronts", "get"): Call(READ),
    ("api-case-storefronts", "post"): Call(AGENT, body=lambda w: {"seller_id": "A1ROLESELLER001"}),
    ("api-case-sightings", "get"): Call(READ),
    ("api-case-sightings", "post"): Call(AGENT, body=lambda w: {"storefront": w["storefront"].pk}),
    ("api-case-activity", "get"): Call(READ),
    ("api-case-evidence", "get"): Call(READ),
    ("api-case-evidence", "post"): Call(AGENT, body=_upload),
    ("api-case-test-buys", "get"): Call(READ),
    ("api-case-test-buys", "post"): Call(
        AGENT,
        body=lambda w: {"storefront": w["storefront"].pk, "order_id": "113-1234567-1234567", "order_date": _today()},
    ),
    ("api-case-warnings", "get"): Call(READ),
    ("api-case-warnings", "post"): Call(
        AGENT, body=lambda w: {"storefront": w["storefront"].pk, "text": "Please stop.", "channel": "email"}
    ),
    ("api-case-warning-draft", "get"): Call(READ, query=lambda w: f"?storefront={w['storefront'].pk}"),
    ("api-warning-templates", "get"): Call(READ, LIST),
    ("api-warning-templates", "post"): Call(
        MANAGER, OWN, body=lambda w: {"kind": "first_warning", "language": "en", "body": "Stop selling $asin."}
    ),
    ("api-case-submissions", "get"): Call(READ),
    ("api-case-submissions", "post"): Call(
        AGENT, body=lambda w: {"channel": "seller_support", "submitted_on": _today()}
    ),
    ("api-storefronts", "get"): Call(READ, LIST),
    ("api-storefront", "get"): Call(READ, pk="storefront"),
    ("api-storefront", "patch"): Call(AGENT, pk="storefront", body=lambda w: {"phone": "+86 1"}),
    ("api-evidence", "get"): Call(READ, pk="evidence"),
    ("api-evidence-download", "get"): Call(READ, pk="evidence"),
    ("api-evidence-withdraw", "post"): Call(AGENT, pk="evidence", body=lambda w: {"reason": "duplicate"}),
    ("api-case-dossiers", "get"): Call(READ),
    ("api-case-dossiers", "post"): Call(AGENT),
    ("api-dossier", "get"): Call(READ, pk="dossier"),
    ("api-dossier-pdf", "get"): Call(READ, pk="dossier"),
    ("api-dossier-bundle", "get"): Call(READ, pk="dossier"),
    ("api-test-buy", "get"): Call(READ, pk="test_buy"),
    ("api-test-buy", "patch"): Call(AGENT, pk="test_buy", body=lambda w: {"comparison_notes": "x"}),
    ("api-submission", "get"): Call(READ, pk="submission"),
    ("api-submission", "patch"): Call(AGENT, pk="submission", body=lambda w: {"outcome": "accepted"}),
    # Endpoint addresses and delivery logs are the managers' business, as on the web page.
    ("api-webhooks", "get"): Call(READ, LIST),
    ("api-webhooks", "post"): Call(
        MANAGER, OWN, body=lambda w: {"url": "http://127.0.0.1:9/y", "events": ["case.created"]}
    ),
    ("api-webhook", "get"): Call(MANAGER, pk="endpoint"),
    ("api-webhook", "patch"): Call(MANAGER, pk="endpoint", body=lambda w: {"description": "Jira"}),
    ("api-webhook", "delete"): Call(MANAGER, pk="endpoint"),
    ("api-webhook-deliveries", "get"): Call(MANAGER, pk="endpoint"),
    ("api-delivery-redeliver", "post"): Call(MANAGER, pk="delivery"),
    ("api-brand-watch", "get"): Call(READ),
    ("api-brand-watch", "post"): Call(MANAGER, body=lambda w: {"asin": "B0ROLE0002", "marketplace": "US"}),
    ("api-brand-watch-item", "patch"): Call(MANAGER, pk="watch", body=lambda w: {"interval_minutes": 240}),
    ("api-brand-watch-item", "delete"): Call(MANAGER, pk="watch"),
    ("api-brand-sp-api", "get"): Call(READ),
    ("api-brand-sp-api", "put"): Call(MANAGER, body=lambda w: SP_API),
    ("api-brand-sp-api", "delete"): Call(MANAGER),
    ("api-case-captures", "get"): Call(READ),
    ("api-case-captures", "post"): Call(AGENT, body=lambda w: {"url": "http://127.0.0.1:9/listing"}),
    ("api-capture", "get"): Call(READ, pk="capture"),
    # The notification names the first team's watched ASIN; only the poster's teams are matched.
    ("api-sp-api-notifications", "post"): Call(
        AGENT, OWN, body=lambda w: notification("A0000000000077"), runs_jobs=True
    ),
}

WRITES = {"post", "put", "patch", "delete"}
# Which row of the world a route's ``case_pk`` or ``brand_pk`` names.
OWNERS = {"case_pk": "case", "brand_pk": "brand"}


def allowed_methods(pattern: URLPattern) -> set[str]:
    """The methods a route answers, besides HEAD and OPTIONS (which only describe GET and the route)."""
    callback: Any = pattern.callback
    actions = getattr(callback, "actions", None)
    if actions is not None:
        return set(actions) - {"head", "options"}
    view = getattr(callback, "cls", None) or getattr(getattr(callback, "view_class", None), "__mro__", [None])[0]
    if view is None:  # a plain function view: the API's docs page
        return {"get"}
    return {m for m in view.http_method_names if hasattr(view, m)} - {"head", "options"}


def routes() -> set[tuple[str, str]]:
    return {(p.name, m) for p in urlpatterns if isinstance(p, URLPattern) for m in allowed_methods(p) if p.name}


def test_every_route_and_method_is_in_the_matrix():
    assert routes() == set(MATRIX), {
        "missing from MATRIX": sorted(routes() - set(MATRIX)),
        "no such route": sorted(set(MATRIX) - routes()),
    }


@dataclass
class Team:
    team: Any
    manager: Any
    agent: Any
    viewer: Any


def _world(team: Any, manager_user: Any, tag: str) -> dict[str, Any]:
    """One team's rows, every one an endpoint can name; named rows carry ``tag``."""
    manager = Actor.of_user(manager_user)
    brand = BrandFactory(team=team, name=f"{tag} brand")
    case = CaseFactory(brand=brand, asin=ASIN, title=f"{tag} lamp")
    storefront = attach(case, 77, name=f"{tag} store")
    evidence = add_evidence(case, description=f"{tag} screenshot")
    test_buy = services.test_buy_record(
        case=case, storefront=storefront, order_id="112-1234567-1234567", order_date=timezone.localdate(), actor=manager
    )
    submission = services.submission_record(
        case=case, channel="report_infringement", submitted_on=timezone.localdate(), actor=manager
    )
    services.warning_template_set(team=team, kind="first_warning", language="en", body=f"{tag} $asin", actor=manager)
    endpoint, _ = services.webhooks.webhook_endpoint_create(
        team=team, url=f"http://127.0.0.1:9/{tag}", events=["case.updated"], description=tag, actor=manager
    )
    services.case_update(case=case, title=f"{tag} desk lamp", actor=manager)  # queues a delivery
    dossier = dossier_request(case=case, actor=manager)
    # The PDF is not rendered here (slow); any stored blob stands for it.
    Dossier.objects.filter(pk=dossier.pk).update(pdf=evidence.blob, status="done")
    sp_api_credentials_set(brand=brand, actor=manager, **{**SP_API, "client_id": f"{tag}-client"})
    return {
        "brand": brand,
        "case": case,
        "storefront": storefront,
        "evidence": evidence,
        "test_buy": test_buy,
        "submission": submission,
        "endpoint": endpoint,
        "delivery": endpoint.deliveries.get(),
        "dossier": dossier,
        "watch": watch_add(brand=brand, asin=case.asin, marketplace="US", actor=manager),
        "capture": capture_request(case=case, url=f"http://127.0.0.1:9/{tag}", actor=manager),
    }


@pytest.fixture
def world(personas, settings) -> dict[str, Any]:
    settings.ALLOW_PRIVATE_URLS = True
    return _world(personas.team, personas.manager, CANARY)


@pytest.fixture
def other(personas, settings) -> Team:
    """Another team with a member of each role, and rows of its own."""
    settings.ALLOW_PRIVATE_URLS = True
    team = personas.outsider_team
    other = Team(
        team=team,
        manager=personas.outsider,
        agent=MemberFactory(team=team, role=Role.AGENT, username="other-agent"),
        viewer=MemberFactory(team=team, role=Role.VIEWER, username="other-viewer"),
    )
    _world(team, other.manager, "Elsewhere")
    return other


def url_of(name: str, call: Call, w: dict[str, Any]) -> str:
    pattern = next(p for p in urlpatterns if isinstance(p, URLPattern) and p.name == name)
    kwargs = {}
    for arg in pattern.pattern.converters:
        kwargs[arg] = w[call.pk if arg == "pk" else OWNERS[arg]].pk
    assert ("pk" in kwargs) == (call.pk is not None), name
    return reverse(name, kwargs=kwargs) + (call.query(w) if call.query else "")


def send(client: APIClient, method: str, url: str, call: Call, w: dict[str, Any], capture: Any) -> Any:
    body = call.body(w) if call.body else None
    multipart = isinstance(body, dict) and any(hasattr(v, "read") for v in body.values())
    with capture(execute=call.runs_jobs):
        return getattr(client, method)(url, body, format="multipart" if multipart else "json")


def state_of(team: Any) -> dict[str, Any]:
    """Every row of the team, and its audit trail: what no refused request may change."""
    rows: dict[str, Any] = {}
    for model in apps.get_models():
        if issubclass(model, TeamScoped):
            found = model.objects.filter(**{model.team_path: team.pk}).order_by("pk").values()
            rows[model._meta.label] = list(found)
    rows["audit"] = AuditEvent.objects.filter(chain=f"team:{team.pk}").count()
    return rows


def text_of(response: Any) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


CASES = sorted(MATRIX)


def _id(entry: tuple[str, str]) -> str:
    return f"{entry[1].upper()} {entry[0]}"


@pytest.mark.parametrize("entry", CASES, ids=_id)
def test_another_team_gets_nothing_of_the_first(entry, world, other, personas, django_capture_on_commit_callbacks):
    name, method = entry
    call = MATRIX[entry]
    url = url_of(name, call, world)
    for role in ("manager", "agent", "viewer"):
        client = client_for(getattr(other, role))
        before, audit = state_of(personas.team), AuditEvent.objects.count()
        response = send(client, method, url, call, world, django_capture_on_commit_callbacks)
        seen = (role, method, url, response.status_code)
        assert state_of(personas.team) == before, seen
        assert CANARY not in text_of(response), seen
        if call.scope == ROW:
            assert response.status_code == 404, seen
            assert AuditEvent.objects.count() == audit, seen
        elif call.scope == LIST:
            assert response.status_code == 200, seen
        elif RANK[role] >= RANK[call.level]:
            assert response.status_code < 300, seen
        else:
            assert response.status_code == 403, seen


@pytest.mark.parametrize("role", ["viewer", "agent", "manager"])
@pytest.mark.parametrize("entry", CASES, ids=_id)
def test_the_team_gets_what_its_role_allows(entry, role, world, personas, django_capture_on_commit_callbacks):
    name, method = entry
    call = MATRIX[entry]
    url = url_of(name, call, world)
    before = state_of(personas.team)
    response = send(client_for(getattr(personas, role)), method, url, call, world, django_capture_on_commit_callbacks)
    seen = (role, method, url, response.status_code, text_of(response)[:300])
    if RANK[role] >= NEEDED[call.level]:
        assert response.status_code < 300, seen
        if method in WRITES:
            assert state_of(personas.team) != before, seen
    else:
        assert response.status_code == 403, seen
        assert state_of(personas.team) == before, seen
    if method not in WRITES:
        assert state_of(personas.team) == before, seen


def test_lists_show_another_team_its_own_rows(world, other):
    for url in "/api/v1/cases/", "/api/v1/brands/", "/api/v1/storefronts/", "/api/v1/warning-templates/":
        assert "Elsewhere" in text_of(client_for(other.viewer).get(url)), url
    webhooks = client_for(other.manager).get("/api/v1/webhooks/").json()["results"]
    assert [hook["description"] for hook in webhooks] == ["Elsewhere"]


@pytest.mark.parametrize("role", ["viewer", "agent"])
def test_webhook_addresses_are_listed_to_managers_only(world, personas, role):
    assert client_for(getattr(personas, role)).get("/api/v1/webhooks/").json()["results"] == []
    assert [
        hook["description"] for hook in client_for(personas.manager).get("/api/v1/webhooks/").json()["results"]
    ] == [CANARY]


def test_schema_validates_as_openapi_3(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert "openapi: 3" in out.read_text()


@pytest.mark.parametrize("name", sorted({name for name, _ in CASES}))
def test_head_and_options_tell_another_team_nothing(name, world, other):
    """HEAD answers as GET does; OPTIONS describes the route alike for the first team's row and for none."""
    call = next(MATRIX[entry] for entry in CASES if entry[0] == name)
    client = client_for(other.manager)
    url = url_of(name, call, world)
    nothing = url_of(name, call, {key: SimpleNamespace(pk=10**12) for key in world})
    options = client.options(url)
    assert options.status_code in {200, 405}, options.status_code
    assert CANARY not in text_of(options)
    assert (options.status_code, text_of(options)) == (
        client.options(nothing).status_code,
        text_of(client.options(nothing)),
    )
    if (name, "get") in MATRIX:
        assert client.head(url).status_code == (404 if MATRIX[name, "get"].scope == ROW else 200)
