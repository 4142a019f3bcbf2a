import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import (
    CaseStatus,
    Comment,
    Notification,
    NotificationKind,
    Submission,
    TestBuy,
    Warning,
)
from cases.services.accounts import preferences_set
from cases.services.comments import comment_post
from evidence.models import AuditEvent
from evidence.services import Actor
from tests.factories import BrandFactory, CaseFactory, attach, manager_of, sight

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def case(personas):
    case = CaseFactory(brand=BrandFactory(team=personas.team), asin="B0C1HJ4K2L", title="Desk lamp")
    sight(case, attach(case, 1, name="深圳市好运来贸易有限公司"))
    return case


def page_of(client, case, **params):
    response = client.get(reverse("cases:case_detail", args=[case.pk]), params)
    assert response.status_code == 200
    return response.content.decode()


def today():
    return timezone.localdate().isoformat()


def test_workflow_steps_and_closing_needs_a_reason(client, personas, case):
    client.force_login(personas.agent)
    url = reverse("cases:case_transition", args=[case.pk])
    html = page_of(client, case)
    assert 'name="status" value="investigating"' in html
    assert 'name="status" value="resolved"' not in html, "only the allowed next steps"
    assert client.post(url, {"status": "investigating"}).status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.INVESTIGATING

    refused = client.post(url, {"status": "closed", "reason": "  "})
    assert refused.status_code == 200
    html = refused.content.decode()
    assert '<p class="field-error" id="close-reason_error">Say why the case is closed.</p>' in html
    assert 'aria-describedby="close-reason_error"' in html
    case.refresh_from_db()
    assert case.status == CaseStatus.INVESTIGATING

    illegal = client.post(url, {"status": "new"}).content.decode()
    assert "cannot move to new" in illegal

    assert client.post(url, {"status": "closed", "reason": "Seller left"}).status_code == 302
    html = page_of(client, case)
    assert "Seller left" in html
    assert 'name="status" value="reopened"' in html
    assert "Close the case" not in html


def test_edit_and_assign_notifies_the_new_assignee(client, personas, case, django_capture_on_commit_callbacks):
    client.force_login(personas.agent)
    url = reverse("cases:case_edit", args=[case.pk])
    html = page_of(client, case)
    assert f'<option value="{personas.manager.pk}" dir="auto">manager</option>' in html
    assert f'<option value="{personas.viewer.pk}" dir="auto">' not in html, "viewers do not work cases"
    refused = client.post(url, {"title": "Lamp", "priority": "high", "assignee": personas.viewer.pk})
    assert 'id="edit-assignee_error"' in refused.content.decode()
    assert 'value="Lamp"' in refused.content.decode(), "what was typed is kept"
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(url, {"title": "Lamp", "priority": "high", "assignee": personas.manager.pk})
    assert answer.status_code == 302
    case.refresh_from_db()
    assert (case.title, case.priority, case.assignee) == ("Lamp", "high", personas.manager)
    note = Notification.objects.get()
    assert (note.user, note.kind) == (personas.manager, NotificationKind.ASSIGNED)
    client.post(url, {"title": "Lamp", "priority": "high", "assignee": personas.agent.pk})
    assert Notification.objects.count() == 1, "assigning oneself notifies nobody"


def test_order_id_is_checked_while_typed(client, personas, case):
    client.force_login(personas.agent)
    check = reverse("cases:order_id_check", args=[case.pk])
    html = page_of(client, case)
    assert f'hx-get="{check}"' in html
    assert 'hx-trigger="keyup changed delay:300ms, change"' in html
    assert 'inputmode="numeric"' in html
    assert 'pattern="\\d{3}-?\\d{7}-?\\d{7}"' in html
    bad = client.get(check, {"order_id": "12-34"}).content.decode()
    assert "has the form 123-1234567-1234567" in bad
    assert "looks right" in client.get(check, {"order_id": "111-1234567-1234567"}).content.decode()
    assert "looks right" in client.get(check, {"order_id": "11112345671234567"}).content.decode()
    assert client.get(check, {"order_id": ""}).content.decode().strip() == ""
    escaped = client.get(check, {"order_id": HOSTILE}).content.decode()
    assert HOSTILE not in escaped
    assert "&lt;script&gt;" in escaped


def test_test_buys_are_recorded_and_updated(client, personas, case):
    storefront = case.case_storefronts.get().storefront
    client.force_login(personas.agent)
    url = reverse("cases:test_buy_create", args=[case.pk])
    form = {
        "storefront": storefront.pk,
        "order_id": "111-1234567",
        "order_date": today(),
        "price_paid": "19.99",
        "currency": "usd",
        "verdict": "pending",
    }
    refused = client.post(url, form).content.decode()
    assert 'id="new-tb-order_id_error"' in refused
    assert 'value="111-1234567"' in refused
    verdict_without_parcel = client.post(url, {**form, "order_id": "11112345671234567", "verdict": "counterfeit"})
    assert "needs the date they were received" in verdict_without_parcel.content.decode()
    assert not TestBuy.objects.exists(), "the order is not kept when what arrived is refused"
    assert client.post(url, {**form, "order_id": "11112345671234567"}).status_code == 302
    test_buy = TestBuy.objects.get()
    assert (test_buy.order_id, test_buy.currency) == ("111-1234567-1234567", "USD")
    duplicate = client.get(reverse("cases:order_id_check", args=[case.pk]), {"order_id": "111-1234567-1234567"})
    assert "already recorded" in duplicate.content.decode()

    edit = reverse("cases:test_buy_edit", args=[case.pk, test_buy.pk])
    answer = client.post(
        edit,
        {"received_date": today(), "verdict": "counterfeit", "comparison_notes": "Wrong logo", "currency": "USD"},
    )
    assert answer.status_code == 302
    test_buy.refresh_from_db()
    assert (test_buy.verdict, test_buy.comparison_notes) == ("counterfeit", "Wrong logo")
    assert "Wrong logo" in page_of(client, case)


def test_warning_drafted_copied_sent_and_quiet_hours_refused(client, personas, case):
    storefront = case.case_storefronts.get().storefront
    client.force_login(personas.agent)
    html = page_of(client, case, draft=storefront.pk, kind="first_warning", language="en")
    assert "Hello 深圳市好运来贸易有限公司," in html
    assert f'data-copy="#sf{storefront.pk}-text"' in html
    assert f'id="sf{storefront.pk}-text"' in html
    url = reverse("cases:warning_send", args=[case.pk])
    letter = {"storefront": storefront.pk, "text": "Please leave.", "channel": "ask_a_question", "language": "en"}
    assert client.post(url, letter).status_code == 302
    again = client.post(url, {**letter, "text": "Second letter"})
    assert again.status_code == 200
    html = again.content.decode()
    assert "hours between warnings" in html
    assert "Second letter</textarea>" in html, "what was typed is kept"
    assert Warning.objects.count() == 1

    warning = Warning.objects.get()
    reply_url = reverse("cases:warning_reply", args=[case.pk, warning.pk])
    assert f'id="reply{warning.pk}-reply_error"' in client.post(reply_url, {"reply": " "}).content.decode()
    assert client.post(reply_url, {"reply": "我们已下架"}).status_code == 302
    warning.refresh_from_db()
    assert warning.reply == "我们已下架"
    assert "我们已下架" in page_of(client, case)
    other = attach(CaseFactory(brand=case.brand), 9)
    assert client.post(url, {**letter, "storefront": other.pk}).status_code == 404, "not on this case"


def test_reports_to_amazon_and_their_outcome(client, personas, case):
    client.force_login(personas.agent)
    url = reverse("cases:submission_create", args=[case.pk])
    html = page_of(client, case)
    assert 'value="B0C1HJ4K2L"' in html, "the case's ASIN is the default"
    form = {"channel": "report_a_violation", "submitted_on": today(), "amazon_ref": "CX-1", "asins": "nope"}
    assert 'id="new-sub-asins_error"' in client.post(url, form).content.decode()
    assert client.post(url, {**form, "asins": "B0C1HJ4K2L, b0c1hj4k2m"}).status_code == 302
    submission = Submission.objects.get()
    assert submission.asins == ["B0C1HJ4K2L", "B0C1HJ4K2M"]

    outcome = reverse("cases:submission_outcome", args=[case.pk, submission.pk])
    refused = client.post(outcome, {"outcome": "rejected", "outcome_reason": "", "amazon_ref": "CX-1"})
    assert f'id="sub{submission.pk}-outcome_reason_error"' in refused.content.decode()
    answer = client.post(outcome, {"outcome": "rejected", "outcome_reason": "Not enough proof", "amazon_ref": "CX-1"})
    assert answer.status_code == 302
    submission.refresh_from_db()
    assert (submission.outcome, submission.outcome_on) == ("rejected", timezone.localdate())
    assert "Not enough proof" in page_of(client, case)


def test_comments_notify_mentioned_team_members_only(client, personas, case):
    client.force_login(personas.agent)
    url = reverse("cases:comment_create", args=[case.pk])
    assert "This field is required." in client.post(url, {"body": ""}).content.decode()
    answer = client.post(url, {"body": "@manager please look; @outsider cannot.\nSecond line"})
    assert answer.status_code == 302
    comment = Comment.objects.get()
    assert list(comment.mentions.all()) == [personas.manager]
    assert [note.user for note in Notification.objects.filter(kind=NotificationKind.MENTIONED)] == [personas.manager]
    html = page_of(client, case)
    assert '<strong class="mention">@manager</strong> please look; @outsider cannot.<br>Second line' in html
    assert "commented" in html, "the activity trail names the action"


def test_activity_shows_who_did_what_in_words_in_the_readers_time_zone(client, personas, case):
    preferences_set(user=personas.viewer, time_zone="Asia/Tokyo")
    client.force_login(personas.viewer)
    html = page_of(client, case)
    opened = AuditEvent.objects.get(action="case.created", ref=f"case:{case.pk}").created_at
    tokyo = timezone.localtime(opened, zoneinfo.ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M")
    assert f"{tokyo}</time> <strong>manager</strong> opened the case" in html
    assert "added a storefront" in html
    assert "case.created" not in html


def test_viewers_see_no_forms_and_their_posts_are_refused(client, personas, case):
    storefront = case.case_storefronts.get().storefront
    warning = services.warning_record(
        case=case, storefront=storefront, text="Leave", channel="email", actor=manager_of(personas.team)
    )
    client.force_login(personas.viewer)
    html = page_of(client, case, draft=storefront.pk)
    for name in _post_urls(case, warning=warning):
        assert reverse(f"cases:{name[0]}", args=name[1]) not in html
    assert "<textarea" not in html
    for name, args, data in _posts(case, storefront, warning):
        assert client.post(reverse(f"cases:{name}", args=args), data).status_code == 403, name
    assert not Comment.objects.exists()
    assert not TestBuy.objects.exists()
    assert not Submission.objects.exists()
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW


def test_outsiders_get_404_from_every_endpoint(client, personas, case):
    storefront = case.case_storefronts.get().storefront
    actor = manager_of(personas.team)
    warning = services.warning_record(case=case, storefront=storefront, text="Leave", channel="email", actor=actor)
    test_buy = services.test_buy_record(
        case=case, storefront=storefront, order_id="111-1234567-1234567", order_date=timezone.localdate(), actor=actor
    )
    submission = services.submission_record(
        case=case, channel="report_a_violation", submitted_on=timezone.localdate(), actor=actor
    )
    client.force_login(personas.outsider)
    assert client.get(reverse("cases:case_detail", args=[case.pk])).status_code == 404
    check = client.get(reverse("cases:order_id_check", args=[case.pk]), {"order_id": "111-1234567-1234567"})
    assert check.status_code == 404
    for name, args, data in _posts(case, storefront, warning, test_buy=test_buy, submission=submission):
        assert client.post(reverse(f"cases:{name}", args=args), data).status_code == 404, name
    assert Comment.objects.count() == 0
    assert TestBuy.objects.count() == 1


def _post_urls(case, *, warning):
    return [
        ("case_transition", [case.pk]),
        ("case_edit", [case.pk]),
        ("comment_create", [case.pk]),
        ("test_buy_create", [case.pk]),
        ("warning_send", [case.pk]),
        ("warning_reply", [case.pk, warning.pk]),
        ("submission_create", [case.pk]),
    ]


def _posts(case, storefront, warning, *, test_buy=None, submission=None):
    posts = [
        ("case_transition", [case.pk], {"status": "investigating"}),
        ("case_edit", [case.pk], {"title": "x", "priority": "low"}),
        ("comment_create", [case.pk], {"body": "hello"}),
        (
            "test_buy_create",
            [case.pk],
            {"storefront": storefront.pk, "order_id": "111-1234567-7654321", "order_date": today()},
        ),
        ("warning_send", [case.pk], {"storefront": storefront.pk, "text": "x", "channel": "email", "language": "en"}),
        ("warning_reply", [case.pk, warning.pk], {"reply": "ok"}),
        ("submission_create", [case.pk], {"channel": "seller_support", "submitted_on": today(), "asins": "B0C1HJ4K2L"}),
    ]
    if test_buy is not None:
        posts.append(("test_buy_edit", [case.pk, test_buy.pk], {"verdict": "pending"}))
    if submission is not None:
        posts.append(("submission_outcome", [case.pk, submission.pk], {"outcome": "accepted"}))
    return posts


def test_hostile_names_and_comments_are_shown_as_text(client, personas, case):
    storefront = attach(case, 2, name=HOSTILE)
    sight(case, storefront)
    comment_post(case=case, body=f"{HOSTILE} @manager <b>bold</b> @{HOSTILE}", actor=Actor.of_user(personas.agent))
    client.force_login(personas.agent)
    html = page_of(client, case, draft=storefront.pk)
    assert HOSTILE not in html
    assert "<b>bold</b>" not in html
    assert '&lt;script&gt;alert(1)&lt;/script&gt; <strong class="mention">@manager</strong> &lt;b&gt;bold' in html
    assert '">&lt;script&gt;alert(1)&lt;/script&gt;</a></h3>' in html
    assert '">深圳市好运来贸易有限公司</a></h3>' in html


def test_sightings_beyond_the_latest_ten_are_behind_show_all(client, personas, case):
    storefront = case.case_storefronts.get().storefront
    for n in range(1, 12):
        sight(case, storefront, days_ago=n, price=f"{n}.50")
    client.force_login(personas.viewer)
    html = page_of(client, case)
    details = html.index("Show 2 older sightings")
    assert html.index("9.50 USD") < details < html.index("10.50 USD") < html.index("11.50 USD")


def test_case_page_queries_do_not_grow_with_rows(client, personas, case):
    client.force_login(personas.agent)
    actor = manager_of(personas.team)

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            page_of(client, case)
        return len(queries)

    first = case.case_storefronts.get().storefront
    services.warning_record(case=case, storefront=first, text="Leave", channel="email", actor=actor)
    services.test_buy_record(
        case=case, storefront=first, order_id="111-0000000-0000001", order_date=timezone.localdate(), actor=actor
    )
    services.submission_record(case=case, channel="seller_support", submitted_on=timezone.localdate(), actor=actor)
    comment_post(case=case, body="@agent hello", actor=Actor.of_user(personas.manager))
    elsewhere = attach(CaseFactory(brand=case.brand), 99)
    services.operator_link(storefronts=[first, elsewhere], reason="manual", actor=actor)
    few = count_queries()

    for n in range(2, 6):
        storefront = attach(case, n)
        for days in range(3):
            sight(case, storefront, days_ago=days + n / 10)
        services.warning_record(
            case=case,
            storefront=storefront,
            text="Leave",
            channel="email",
            actor=actor,
            sent_at=timezone.now() - dt.timedelta(minutes=n),
        )
        services.test_buy_record(
            case=case,
            storefront=storefront,
            order_id=f"111-0000000-000000{n}",
            order_date=timezone.localdate(),
            actor=actor,
        )
        services.submission_record(case=case, channel="seller_support", submitted_on=timezone.localdate(), actor=actor)
        comment_post(case=case, body=f"@manager note {n}", actor=Actor.of_user(personas.agent))
        services.operator_link(storefronts=[storefront, elsewhere], reason="phone", actor=actor)
    assert count_queries() == few
    # session, user; case (teams, case), role; storefronts with sightings, warnings, operator links (2);
    # test buys, photos; reports; comments, mentions; activity; people, IP rights; evidence panels (5); unread (2)
    assert few <= 25
