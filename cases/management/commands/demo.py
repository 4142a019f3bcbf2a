"""Load a demo team with cases, storefronts, sightings, screenshots and a test buy. Safe to run twice."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from cases import services
from cases.models import (
    Case,
    CaseStorefront,
    EvidenceKind,
    Fulfillment,
    IPRightKind,
    Role,
    SightingSource,
    SubmissionChannel,
    SubmissionOutcome,
    Team,
    TestBuyVerdict,
    WarningChannel,
)
from cases.services.watch import watch_add
from evidence.amazon import listing_url
from evidence.services import Actor

User = get_user_model()

HIJACKERS_US = [
    ("A1SZHAOYUNLAI01", "深圳市好运来贸易有限公司", Decimal("18.99"), Fulfillment.FBM),
    ("A2YIWUBESTDEAL7", "YiWu Best Deals Store", Decimal("16.49"), Fulfillment.FBA),
]
HIJACKER_JP = ("A3SAKURASHOJI9J", "株式会社さくら商事", Decimal("2480"), Fulfillment.FBM)


class Command(BaseCommand):
    help = "Load demo data: team 'demo' (login demo/demo) and a separate team (login outsider/outsider)."

    def handle(self, *args: Any, **options: Any) -> None:
        demo_user = _user("demo", "demo", "Dana Demo")
        outsider = _user("outsider", "outsider", "Olly Outsider")
        if Team.objects.filter(slug="demo").exists():
            self.stdout.write("Demo data is already loaded.")
        else:
            _load_demo(demo_user)
            _load_outsider(outsider)
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write("Sign in as demo / demo (manager of the demo team).")
        self.stdout.write("The user outsider / outsider belongs to another team and sees none of it.")


def _user(username: str, password: str, full_name: str) -> Any:
    user = User.objects.filter(username=username).first()
    if user is None:
        first, last = full_name.split(" ", 1)
        user = User.objects.create_user(username=username, password=password, first_name=first, last_name=last)
    elif not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


def _screenshot(title: str, lines: list[str], height: int = 1600) -> io.BytesIO:
    """A stand-in for a listing screenshot, drawn so the demo needs no network."""
    image = Image.new("RGB", (1280, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=28)
    small = ImageFont.load_default(size=22)
    draw.rectangle((0, 0, 1280, 70), fill="#232f3e")
    draw.text((24, 18), "amazon (demo capture)", fill="white", font=font)
    draw.text((24, 100), title, fill="black", font=font)
    for index, line in enumerate(lines):
        top = 170 + index * 90
        draw.rectangle((24, top, 1256, top + 70), outline="#d5d9d9", width=2)
        draw.text((40, top + 22), line, fill="#0f1111", font=small)
    out = io.BytesIO()
    image.save(out, format="PNG")
    out.seek(0)
    return out


def _load_demo(user: Any) -> None:
    actor = Actor.of_user(user)
    now = timezone.now()
    team = services.team_create(name="Demo Brand Protection", slug="demo", actor=actor)
    # Colleagues to assign cases to and to @mention; they sign in with their username as password.
    for username, full_name, role in (("liwei", "Wei Li", Role.AGENT), ("sam", "Sam Viewer", Role.VIEWER)):
        services.membership_set(team=team, user=_user(username, username, full_name), role=role, actor=actor)
    brand = services.brand_create(
        team=team,
        name="Lumora",
        actor=actor,
        rights_owner="Lumora Lighting Co., Ltd.",
        contact_name="Dana Demo",
        contact_email="brand-protection@lumora.example",
        contact_phone="+1 415 555 0100",
        contact_address="100 Market Street, San Francisco, CA 94105, USA",
    )
    services.ip_right_create(
        brand=brand,
        kind=IPRightKind.TRADEMARK,
        actor=actor,
        registration_number="6123456",
        office="USPTO",
        mark_text="LUMORA",
        classes="11",
        registration_date=dt.date(2021, 8, 17),
    )
    services.authorized_seller_add(
        brand=brand, marketplace="US", seller_id="A9LUMORAOFFICL1", actor=actor, name="Lumora Official"
    )
    # Watched, but with no SP-API access in the demo: the watch list shows them never checked.
    for asin, marketplace in (("B0C1HJ4K2L", "US"), ("B0C1HJ4K2M", "US"), ("B0C7DESK01", "JP")):
        watch_add(brand=brand, asin=asin, marketplace=marketplace, actor=actor)

    lamp = services.case_open(
        brand=brand,
        asin="B0C1HJ4K2L",
        marketplace="US",
        actor=actor,
        title="Lumora LED desk lamp",
        priority="high",
        assignee=user,
        external_refs=["BP-101"],
    )
    services.case_transition(case=lamp, status="investigating", actor=actor, note="Two unknown sellers on the listing")
    services.case_update(case=lamp, infringement_locations=["product", "packaging"], actor=actor)
    for day in range(5, 0, -1):
        for index, (seller_id, name, price, fulfillment) in enumerate(HIJACKERS_US):
            link = services.storefront_attach(case=lamp, seller_id=seller_id, name=name, actor=actor)
            services.sighting_record(
                case=lamp,
                storefront=link.storefront,
                actor=actor,
                seen_at=now - dt.timedelta(days=day, hours=index * 3),
                price=price - Decimal(day) / 10,
                currency="USD",
                fulfillment=fulfillment,
                buy_box=(index == 1 and day < 3),
                source=SightingSource.MANUAL,
            )
    storefronts = [link.storefront for link in lamp.case_storefronts.select_related("storefront")]
    for storefront in storefronts:
        services.evidence_ingest(
            case=lamp,
            file=_screenshot(f"Offers on {lamp.asin}", [f"Seller {storefront.seller_id}", "Price, delivery, Buy Box"]),
            kind=EvidenceKind.SCREENSHOT,
            actor=actor,
            original_name=f"offers-{storefront.seller_id}.png",
            source_url=listing_url("US", lamp.asin),
            captured_at=now - dt.timedelta(days=4),
            storefront=storefront,
            description="Offer listing showing the seller on our ASIN",
        )
    services.warning_record(
        case=lamp,
        storefront=storefronts[0],
        actor=actor,
        channel=WarningChannel.ASK_A_QUESTION,
        language="zh-hans",
        sent_at=now - dt.timedelta(days=3),
        text="您好，我们注意到贵店正在我们的ASIN B0C1HJ4K2L上跟卖。LUMORA是我们的注册商标（USPTO 6123456）。请停止销售，否则我们将向亚马逊投诉侵权。",
    )
    services.case_transition(case=lamp, status="warned", actor=actor)
    test_buy = services.test_buy_record(
        case=lamp,
        storefront=storefronts[1],
        order_id="112-3456789-1234567",
        order_date=(now - dt.timedelta(days=3)).date(),
        price_paid=Decimal("16.29"),
        currency="USD",
        actor=actor,
    )
    photo = services.evidence_ingest(
        case=lamp,
        file=_screenshot(
            "Test buy 112-3456789-1234567: what arrived",
            ["No LUMORA logo on the base", "Plug without UL mark", "Box print blurred"],
            height=900,
        ),
        kind=EvidenceKind.TEST_BUY_PHOTO,
        actor=actor,
        original_name="test-buy-unboxing.png",
        storefront=storefronts[1],
        captured_at=now - dt.timedelta(days=1),
        description="Unboxing of the test buy",
    )
    services.test_buy_update(
        test_buy=test_buy,
        actor=actor,
        received_date=(now - dt.timedelta(days=1)).date(),
        verdict=TestBuyVerdict.COUNTERFEIT,
        comparison_notes="No LUMORA mark on the base; power plug lacks the UL mark; packaging print is blurred.",
    )
    services.test_buy_add_photo(test_buy=test_buy, evidence=photo, actor=actor)
    services.case_transition(case=lamp, status="test_buy", actor=actor)
    services.operator_link(
        storefronts=storefronts,
        reason="rotation",
        actor=actor,
        detail="The two storefronts took turns on B0C1HJ4K2L over five days.",
    )

    bottle = services.case_open(
        brand=brand,
        asin="B0C7ZQ9P1X",
        marketplace="JP",
        actor=actor,
        title="Lumora travel bottle (JP)",
    )
    seller_id, name, price, fulfillment = HIJACKER_JP
    link = services.storefront_attach(case=bottle, seller_id=seller_id, name=name, actor=actor)
    for day in (3, 2, 1):
        services.sighting_record(
            case=bottle,
            storefront=link.storefront,
            actor=actor,
            seen_at=now - dt.timedelta(days=day),
            price=price,
            currency="JPY",
            fulfillment=fulfillment,
            buy_box=False,
        )
    services.evidence_ingest(
        case=bottle,
        file=_screenshot(f"Offers on {bottle.asin} (amazon.co.jp)", [f"Seller {seller_id}"]),
        kind=EvidenceKind.SCREENSHOT,
        actor=actor,
        original_name="offers-jp.png",
        source_url=listing_url("JP", bottle.asin),
        captured_at=now - dt.timedelta(days=2),
        storefront=link.storefront,
    )
    services.submission_record(
        case=lamp,
        channel=SubmissionChannel.REPORT_INFRINGEMENT,
        submitted_on=now.date(),
        actor=actor,
        ip_right=brand.ip_rights.first(),
    )
    services.case_transition(case=lamp, status="reported", actor=actor, note="Report Infringement form filed")
    _load_history(brand, user)


# Six months of finished cases, so the dashboard's trends have something to show.
HISTORY = [
    # (months ago, ASIN, seller ID, storefront name, days to report, days to removal, Amazon's answer)
    (5, "B0C1HIST01", "A4HISTSELLER01", "东莞市明亮电器", 6, 15, SubmissionOutcome.ACCEPTED),
    (5, "B0C1HIST02", "A4HISTSELLER02", "Bright Home Deals", 9, None, SubmissionOutcome.REJECTED),
    (4, "B0C1HIST03", "A4HISTSELLER03", "义乌优选百货", 4, 11, SubmissionOutcome.ACCEPTED),
    (3, "B0C1HIST04", "A4HISTSELLER04", "LuxLite Outlet", 5, 9, SubmissionOutcome.ACCEPTED),
    (3, "B0C1HIST05", "A4HISTSELLER05", "深圳光速科技", 3, 8, SubmissionOutcome.ACCEPTED),
    (2, "B0C1HIST06", "A4HISTSELLER06", "Lamp & Co Store", 7, 12, SubmissionOutcome.ACCEPTED),
    (2, "B0C1HIST07", "A4HISTSELLER07", "广州照明批发", 2, None, SubmissionOutcome.REJECTED),
    (1, "B0C1HIST08", "A4HISTSELLER08", "DeskGlow Direct", 3, 6, SubmissionOutcome.ACCEPTED),
    (1, "B0C1HIST09", "A4HISTSELLER09", "杭州家居好物", 2, 5, SubmissionOutcome.ACCEPTED),
]


def _load_history(brand: Any, user: Any) -> None:
    """Cases worked in earlier months. Their times are moved back after the fact (demo only)."""
    actor = Actor.of_user(user)
    today = timezone.now()
    for months, asin, seller_id, name, to_report, to_removal, outcome in HISTORY:
        opened = today - dt.timedelta(days=30 * months + 10)
        case = services.case_open(brand=brand, asin=asin, marketplace="US", actor=actor, title="Lumora desk lamp")
        link = services.storefront_attach(case=case, seller_id=seller_id, name=name, actor=actor)
        services.sighting_record(
            case=case, storefront=link.storefront, actor=actor, seen_at=opened, price=Decimal("17.99"), currency="USD"
        )
        reported = (opened + dt.timedelta(days=to_report)).date()
        submission = services.submission_record(
            case=case,
            channel=SubmissionChannel.REPORT_INFRINGEMENT,
            submitted_on=reported,
            actor=actor,
            ip_right=brand.ip_rights.first(),
        )
        services.case_transition(case=case, status="reported", actor=actor)
        answered = reported + dt.timedelta(days=2)
        services.submission_set_outcome(
            submission=submission, outcome=outcome, actor=actor, outcome_on=answered, reason="Demo history"
        )
        if to_removal is None:
            services.case_transition(case=case, status="closed", actor=actor, reason="Amazon rejected the report")
            finished = opened + dt.timedelta(days=to_report + 3)
        else:
            services.case_transition(case=case, status="resolved", actor=actor)
            finished = opened + dt.timedelta(days=to_removal)
        Case.objects.filter(pk=case.pk).update(created_at=opened, status_changed_at=finished)
        CaseStorefront.objects.filter(pk=link.pk).update(first_seen=opened, attached_at=opened)


def _load_outsider(user: Any) -> None:
    actor = Actor.of_user(user)
    team = services.team_create(name="Other Agency", slug="other-agency", actor=actor)
    brand = services.brand_create(
        team=team, name="Northwind Outdoor", actor=actor, rights_owner="Northwind Outdoor GmbH"
    )
    case = services.case_open(brand=brand, asin="B09XYZ1234", marketplace="DE", actor=actor, title="Northwind tent")
    services.storefront_attach(case=case, seller_id="A7OTHERSELLER01", name="Other Seller", actor=actor)
