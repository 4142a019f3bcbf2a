"""Hostile text in every field a page shows: escaped, and right-to-left marks kept but isolated.

A storefront named ``\u202eevil`` must not reverse the seller ID or the buttons beside it: every
user-provided text sits in an element with ``dir="auto"`` (which isolates it) or in ``<bdi>``.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import (
    Capture,
    Notification,
    OperatorGroup,
    OperatorLink,
    Sighting,
    Team,
    WebhookDelivery,
    WebhookEndpoint,
)
from cases.services.comments import comment_post
from cases.services.tokens import api_token_create
from tests.cases.hostile_world import World, build_world

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
RLO = "\u202e"
# Short enough for every free-text field (phone numbers take 50 characters).
HOSTILE = f"{SCRIPT}{RLO}evil\u202c"

# Fields set from outside data (Amazon's offers, a captured page, a webhook receiver) or by an
# administrator, rather than through the API or the web forms: seeded here and shown escaped.
SHOWN_FROM_OUTSIDE: dict[str, str] = {
    "Team.name": "named by an administrator in the admin",
    "Sighting.ships_from": "as Amazon reports the offer",
    "Capture.final_url": "where the captured page redirected",
    "Capture.error": "why the capture failed, quoting the page",
    "WebhookDelivery.response_excerpt": "the start of the receiver's answer",
    "Notification.message": "built from storefront names and case titles",
    "OperatorGroup.name": "named after a linked storefront",
    "OperatorGroup.notes": "notes on the group",
    "OperatorLink.detail": "the business name, address or phone two storefronts share",
    "Invitation.email": "an e-mail address the form validates",
}

VOID = {"br", "img", "input", "meta", "link", "hr", "source", "wbr", "col", "area", "base", "embed", "track"}


class BidiCheck(HTMLParser):
    """Collects text holding a right-to-left override that no ancestor isolates."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.loose: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.stack.append((tag, tag == "bdi" or dict(attrs).get("dir") == "auto"))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        parent = self.stack[-1][0] if self.stack else ""
        if RLO in data and parent not in {"textarea", "title"} and not any(iso for _, iso in self.stack):
            self.loose.append(f"<{parent}>{data[:60]}")


def seed(world: World) -> None:
    """The hostile text in every field some page shows."""
    actor = world.actor
    Team.objects.filter(pk=world.personas.team.pk).update(name=HOSTILE)
    services.brand_update(
        brand=world.brand,
        actor=actor,
        name=HOSTILE,
        rights_owner=HOSTILE,
        contact_name=HOSTILE,
        contact_phone=HOSTILE,
        contact_address=HOSTILE,
    )
    services.case_update(case=world.case, title=HOSTILE, external_refs=[HOSTILE], actor=actor)
    services.storefront_update(
        storefront=world.storefront,
        actor=actor,
        name=HOSTILE,
        business_name=HOSTILE,
        business_address=HOSTILE,
        phone=HOSTILE,
    )
    Sighting.objects.filter(case=world.case).update(ships_from=HOSTILE)
    services.sighting_record(case=world.case, storefront=world.storefront, actor=actor, seen_at=timezone.now())
    Sighting.objects.filter(case=world.case).update(ships_from=HOSTILE)
    group = OperatorGroup.objects.create(team=world.personas.team, name=HOSTILE, notes=HOSTILE)
    other = world.fresh_storefront()
    for storefront in (world.storefront, other):
        OperatorLink.objects.create(group=group, storefront=storefront, reason="manual", detail=HOSTILE)
    api_token_create(user=world.personas.manager, name=HOSTILE, actor=actor)
    comment_post(case=world.case, body=HOSTILE, actor=actor)
    services.test_buy_update(test_buy=world.test_buy, comparison_notes=HOSTILE, actor=actor)
    warning = services.warning_record(case=world.case, storefront=other, text=HOSTILE, channel="email", actor=actor)
    services.warning_record_reply(warning=warning, reply=HOSTILE, actor=actor)
    services.submission_set_outcome(
        submission=world.submission, outcome="rejected", reason=HOSTILE, amazon_ref=HOSTILE, actor=actor
    )
    item = world.fresh_evidence()
    services.evidence_withdraw(evidence=item, reason=HOSTILE, actor=actor)
    services.ip_right_create(brand=world.brand, kind="trademark", mark_text=HOSTILE, office=HOSTILE, actor=actor)
    services.warning_template_set(
        team=world.personas.team, kind="first_warning", language="en", body=HOSTILE, actor=actor
    )
    Capture.objects.create(
        case=world.case, url="https://www.amazon.com/dp/B0C1HJ4K2L", final_url="javascript:alert(1)", error=HOSTILE
    )
    endpoint = WebhookEndpoint.objects.create(
        team=world.personas.team, url="https://hooks.example.com/x", description=HOSTILE, secret="s", events=[]
    )
    WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="case.created", payload={}, response_excerpt=HOSTILE, error=HOSTILE
    )
    Notification.objects.create(
        team=world.personas.team, user=world.personas.manager, kind="new_hijacker", case=world.case, message=HOSTILE
    )


@pytest.fixture
def world(personas, api):
    world = build_world(personas, api)
    seed(world)
    return world


def pages(world: World) -> list[str]:
    case, brand = world.case, world.brand
    return [
        reverse("cases:dashboard"),
        reverse("cases:case_list"),
        reverse("cases:case_list") + "?q=evil",
        reverse("cases:case_detail", args=[case.pk]),
        reverse("cases:evidence_gallery", args=[case.pk]),
        reverse("cases:capture_jobs", args=[case.pk]),
        reverse("cases:storefront_detail", args=[world.storefront.pk]),
        reverse("cases:notifications"),
        reverse("cases:brand_list"),
        reverse("cases:brand_settings", args=[brand.pk]),
        reverse("cases:brand_letters", args=[brand.pk]),
        reverse("cases:brand_watch", args=[brand.pk]),
        reverse("cases:webhooks"),
        reverse("cases:team_settings"),
        reverse("cases:api_tokens"),
    ]


def test_every_page_shows_hostile_text_escaped(world):
    for url in pages(world):
        response = world.web.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert SCRIPT not in html, url
        assert ESCAPED in html, url
        assert 'href="javascript:' not in html.lower(), url
        assert RLO in html, f"{url}: right-to-left marks are kept"


def test_every_page_isolates_right_to_left_text(world):
    loose = []
    for url in pages(world):
        checker = BidiCheck()
        checker.feed(world.web.get(url).content.decode())
        loose += [(url, text) for text in checker.loose]
    assert not loose, "\n".join(f"{url}: {text!r}" for url, text in loose)
