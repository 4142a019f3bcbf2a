"""Every page and action of the web app, tried by people who must not get through.

The manager, the agent and the viewer of another team get 404 from every address that
names one of this team's rows, whether they read or write; a viewer of the team reads,
but every page that needs a role refuses the viewer's POST and changes nothing.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.urls import URLPattern, reverse
from django.utils import timezone

from cases import services
from cases.models import Dossier, Role
from cases.services.dossiers import dossier_request
from cases.urls import urlpatterns
from evidence.models import AuditEvent
from evidence.services import Actor
from tests.factories import BrandFactory, CaseFactory, MemberFactory, add_evidence, attach, png_bytes

pytestmark = pytest.mark.django_db

# Pages about the person themselves, or lists already limited to the person's teams.
NOT_TEAM_ROWS = {
    "dashboard",
    "home",
    "case_list",
    "notifications",
    "brand_list",
    "preferences",
    "language_switch",
    "api_tokens",
    "webhooks",
    "team_settings",
    "team_invitations",
    "invitation_accept",
}


@pytest.fixture
def rows(personas: Any) -> dict[str, int]:
    manager = Actor.of_user(personas.manager)
    brand = BrandFactory(team=personas.team)
    right = services.ip_right_create(
        brand=brand,
        kind="trademark",
        actor=manager,
        registration_number="6123456",
        certificate=io.BytesIO(png_bytes()),
        certificate_name="certificate.png",
    )
    case = CaseFactory(brand=brand)
    storefront = attach(case, 1, name="Shop")
    evidence = add_evidence(case)
    test_buy = services.test_buy_record(
        case=case,
        storefront=storefront,
        order_id="111-1234567-1234567",
        order_date=timezone.localdate(),
        actor=manager,
    )
    warning = services.warning_record(
        case=case, storefront=storefront, text="Please stop.", channel="ask_a_question", actor=manager
    )
    submission = services.submission_record(
        case=case, channel="report_infringement", submitted_on=timezone.localdate(), actor=manager
    )
    dossier: Dossier = dossier_request(case=case, actor=manager)
    return {
        "case": case.pk,
        "brand": brand.pk,
        "right": right.pk,
        "storefront": storefront.pk,
        "evidence": evidence.pk,
        "test_buy": test_buy.pk,
        "warning": warning.pk,
        "submission": submission.pk,
        "dossier": dossier.pk,
    }


def _kwargs(pattern: URLPattern, rows: dict[str, int]) -> dict[str, Any]:
    route = str(pattern.pattern)
    first = route.split("/")[0]
    owner = {"cases": "case", "brands": "brand", "storefronts": "storefront"}[first]
    second = {
        "evidence": "evidence",
        "test-buys": "test_buy",
        "warnings": "warning",
        "submissions": "submission",
        "dossiers": "dossier",
    }
    kwargs: dict[str, Any] = {}
    for name in pattern.pattern.converters:
        if name == "case_pk":
            kwargs[name] = rows["case"]
        elif name == "right_pk":
            kwargs[name] = rows["right"]
        elif name == "kind":
            kwargs[name] = "pdf"
        elif name == "pk" and "case_pk" in pattern.pattern.converters:
            kwargs[name] = rows[second[route.split("/")[2]]]
        else:
            kwargs[name] = rows[owner]
    return kwargs


TEAM_PAGES = [p for p in urlpatterns if isinstance(p, URLPattern) and p.name not in NOT_TEAM_ROWS]


def test_every_address_naming_a_team_row_is_listed():
    assert all(p.pattern.converters for p in TEAM_PAGES)
    assert {p.name for p in urlpatterns if p.pattern.converters} - {p.name for p in TEAM_PAGES} == {"invitation_accept"}


@pytest.fixture
def other_team(personas: Any) -> dict[str, Any]:
    """The other team's manager, agent and viewer."""
    team = personas.outsider_team
    return {
        "manager": personas.outsider,
        "agent": MemberFactory(team=team, role=Role.AGENT, username="other-agent"),
        "viewer": MemberFactory(team=team, role=Role.VIEWER, username="other-viewer"),
    }


@pytest.mark.parametrize("role", ["manager", "agent", "viewer"])
@pytest.mark.parametrize("pattern", TEAM_PAGES, ids=lambda p: p.name)
def test_another_team_gets_not_found_reading_and_writing(client, personas, rows, other_team, pattern, role, settings):
    settings.ALLOW_PRIVATE_URLS = True
    url = reverse(f"cases:{pattern.name}", kwargs=_kwargs(pattern, rows))
    before = AuditEvent.objects.count()
    client.force_login(other_team[role])
    # 405 says only that the address takes no GET, the same for every row and none.
    assert client.get(url).status_code in {404, 405}
    assert client.post(url, _valid_post(pattern.name, personas, rows)).status_code in {404, 405}
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("pattern", TEAM_PAGES, ids=lambda p: p.name)
def test_a_viewer_reads_but_cannot_write(client, personas, rows, pattern):
    url = reverse(f"cases:{pattern.name}", kwargs=_kwargs(pattern, rows))
    before = AuditEvent.objects.count()
    client.force_login(personas.viewer)
    answer = client.post(
        url,
        {"status": "closed", "reason": "x", "body": "x", "text": "x", "name": "x", "kind": "screenshot"},
        headers={"accept": "text/html"},
    )
    assert answer.status_code < 500
    assert AuditEvent.objects.count() == before, (pattern.name, answer.status_code)


# What a viewer's POST with valid input gets from each page that needs a role. Forms that
# put a refused permission next to their fields answer 400 with the reason; the brand's
# watch list answers 404 to anyone but its managers, as the API does for webhooks.
VIEWER_POST = {
    "case_list": 403,
    "case_transition": 403,
    "case_edit": 403,
    "comment_create": 403,
    "evidence_upload": 400,
    "evidence_withdraw": 400,
    "capture_request": 400,
    "dossier_build": 403,
    "test_buy_create": 403,
    "test_buy_edit": 403,
    "warning_send": 403,
    "warning_reply": 403,
    "submission_create": 403,
    "submission_outcome": 403,
    "brand_list": 403,
    "brand_settings": 403,
    "brand_letters": 403,
    "ip_right_add": 403,
    "ip_right_edit": 403,
    "brand_watch": 404,
    "team_settings": 403,
    "team_invitations": 403,
    # Only the teams one manages can be chosen: the form says so.
    "webhooks": 200,
}
# Pages about the person themselves: any member may post to them.
OWN_PAGES = {"preferences", "language_switch", "api_tokens", "notifications", "invitation_accept"}


def _valid_post(name: str, personas: Any, rows: dict[str, int]) -> dict[str, Any]:
    """Input close enough to valid that the role, not the input, is what stops the viewer."""
    upload = io.BytesIO(png_bytes())
    upload.name = "shot.png"
    today = timezone.localdate().isoformat()
    return {
        "status": "investigating",
        "reason": "duplicate screenshot",
        "body": "Please stop selling $asin.",
        "text": "Please stop.",
        "name": "New brand",
        "kind": "first_warning" if name == "brand_letters" else "screenshot",
        "language": "en",
        "team": personas.team.pk,
        "url": "http://127.0.0.1:9/listing",
        "events": "case.created",
        "email": "new@example.com",
        "role": "agent",
        "file": upload,
        "storefront": rows["storefront"],
        "order_id": "114-1234567-1234567",
        "order_date": today,
        "channel": "email",
        "submitted_on": today,
        "outcome": "accepted",
        "title": "Renamed",
        "priority": "high",
        "registration_number": "6123457",
        "asin": "B0WATCH001",
        "marketplace": "US",
        "action": "create" if name == "webhooks" else "add",
    }


def test_every_page_taking_posts_is_classified(client, personas, rows, settings):
    settings.ALLOW_PRIVATE_URLS = True
    client.force_login(personas.viewer)
    taking_posts = set()
    for pattern in urlpatterns:
        kwargs = _kwargs(pattern, rows) if pattern in TEAM_PAGES else {}
        if pattern.name == "invitation_accept":
            kwargs = {"key": "none"}
        if client.post(reverse(f"cases:{pattern.name}", kwargs=kwargs)).status_code != 405:
            taking_posts.add(pattern.name)
    assert taking_posts == set(VIEWER_POST) | OWN_PAGES


@pytest.mark.parametrize("name", sorted(VIEWER_POST))
def test_a_viewer_is_refused_on_every_page_needing_a_role(client, personas, rows, name, settings):
    settings.ALLOW_PRIVATE_URLS = True
    pattern = next(p for p in urlpatterns if p.name == name)
    url = reverse(f"cases:{name}", kwargs=_kwargs(pattern, rows) if pattern in TEAM_PAGES else {})
    before = AuditEvent.objects.count()
    client.force_login(personas.viewer)
    answer = client.post(url, _valid_post(name, personas, rows), headers={"accept": "text/html"})
    assert answer.status_code == VIEWER_POST[name], answer.status_code
    assert AuditEvent.objects.count() == before
    if answer.status_code == 400:
        assert "does not allow" in answer.content.decode()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("api_tokens", {"revoke": "²"}),
        ("webhooks", {"action": "delete", "endpoint": "²"}),
        ("team_invitations", {"action": "revoke", "invitation": "١٢"}),
    ],
)
def test_digits_of_other_scripts_are_not_row_ids(client, personas, name, data):
    client.force_login(personas.manager)
    assert client.post(reverse(f"cases:{name}"), data).status_code == 404
