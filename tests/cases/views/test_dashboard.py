import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import Case
from cases.services.accounts import preferences_set
from evidence.services import Actor
from tests.factories import BrandFactory, CaseFactory, UserFactory, attach, manager_of, sight

pytestmark = pytest.mark.django_db


@pytest.fixture
def brand(personas):
    return BrandFactory(team=personas.team)


def transition(case, *statuses, reason=""):
    for status in statuses:
        case = services.case_transition(case=case, status=status, reason=reason, actor=manager_of(case.team))
    return case


def report(case, *, days_ago=0, outcome="", amazon_ref=""):
    submission = services.submission_record(
        case=case,
        channel="report_a_violation",
        submitted_on=timezone.localdate() - dt.timedelta(days=days_ago),
        amazon_ref=amazon_ref,
        actor=manager_of(case.team),
    )
    if outcome:
        submission = services.submission_set_outcome(
            submission=submission, outcome=outcome, reason="Not enough evidence", actor=manager_of(case.team)
        )
    return submission


def backdate(case, **delta):
    Case.objects.filter(pk=case.pk).update(created_at=timezone.now() - dt.timedelta(**delta))


def dashboard(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("cases:dashboard"), params)
    assert response.status_code == 200
    return response


def test_the_start_page_is_the_dashboard_and_needs_sign_in(client, personas):
    assert reverse("cases:home") == reverse("cases:dashboard") == "/"
    response = client.get("/")
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
    assert dashboard(client, personas.viewer).templates[0].name == "cases/dashboard.html"


def test_open_cases_are_counted_by_status_and_priority_and_link_to_the_list(client, personas, brand):
    CaseFactory(brand=brand)
    CaseFactory(brand=brand, priority="urgent")
    transition(CaseFactory(brand=brand), "investigating")
    transition(CaseFactory(brand=brand, priority="urgent"), "closed", reason="Duplicate")
    response = dashboard(client, personas.viewer)
    counts = response.context["counts"]
    assert counts.total == 3
    assert {t.value: t.count for t in counts.by_status} == {
        "new": 2,
        "investigating": 1,
        "warned": 0,
        "test_buy": 0,
        "reported": 0,
        "reopened": 0,
    }
    assert {t.value: t.count for t in counts.by_priority} == {"urgent": 1, "high": 0, "normal": 2, "low": 0}
    html = response.content.decode()
    assert 'href="/cases/?status=investigating"' in html
    assert 'href="/cases/?priority=urgent"' in html


def test_new_hijackers_of_the_last_day_are_listed_with_their_case(client, personas, brand):
    case = CaseFactory(brand=brand)
    fresh = attach(case, 1, name="深圳市好运来贸易有限公司")
    sight(case, fresh, days_ago=0.1)
    old = attach(case, 2, name="Old hand")
    sight(case, old, days_ago=3)
    response = dashboard(client, personas.viewer)
    assert [link.storefront for link in response.context["new_hijackers"]] == [fresh]
    html = response.content.decode()
    assert (
        f'href="{reverse("cases:storefront_detail", args=[fresh.pk])}" lang="und" dir="auto">深圳市好运来贸易有限公司'
        in html
    )
    assert reverse("cases:case_detail", args=[case.pk]) in html
    assert "Old hand" not in html
    today = timezone.localdate().strftime("%m-%d")
    rows = response.context["hijackers_chart"].rows
    assert len(rows) == 30
    assert rows[-1] == [today, "1"]
    assert rows[-4] == [(timezone.localdate() - dt.timedelta(days=3)).strftime("%m-%d"), "1"]


def test_cases_waiting_on_the_user_are_theirs_and_open_the_most_urgent_first(client, personas, brand):
    normal = CaseFactory(brand=brand, assignee=personas.agent, title="Normal one")
    urgent = CaseFactory(brand=brand, assignee=personas.agent, priority="urgent")
    transition(CaseFactory(brand=brand, assignee=personas.agent), "closed", reason="Gone")
    resolved = CaseFactory(brand=brand, assignee=personas.agent)
    transition(resolved, "reported", "resolved")
    CaseFactory(brand=brand, assignee=personas.manager)
    response = dashboard(client, personas.agent)
    assert response.context["waiting_on_me"] == [urgent, normal]
    assert f'href="/cases/?assignee={personas.agent.pk}"' in response.content.decode()
    assert dashboard(client, personas.viewer).context["waiting_on_me"] == []


def test_reports_awaiting_an_answer_oldest_first_with_their_age(client, personas, brand):
    case = CaseFactory(brand=brand)
    recent = report(case, days_ago=1, amazon_ref="REF-RECENT")
    oldest = report(case, days_ago=12, amazon_ref="REF-OLDEST")
    report(case, days_ago=20, outcome="accepted")
    response = dashboard(client, personas.viewer)
    rows = response.context["awaiting"]
    assert [(row.submission, row.age_days) for row in rows] == [(oldest, 12), (recent, 1)]
    assert response.context["more_awaiting"] is False
    html = response.content.decode()
    assert html.index("REF-OLDEST") < html.index("REF-RECENT")
    assert "12 days" in html
    assert "1 day<" in html


def test_time_to_report_and_to_removal_are_monthly_medians(client, personas, brand):
    month = timezone.localdate().strftime("%Y-%m")
    fast = CaseFactory(brand=brand)
    backdate(fast, days=2)
    report(fast)
    slow = CaseFactory(brand=brand)
    backdate(slow, days=10)
    report(slow)
    transition(slow, "reported", "resolved")
    unreported = CaseFactory(brand=brand)
    backdate(unreported, days=40)
    chart = dashboard(client, personas.viewer).context["speed_chart"]
    assert chart.headers[0] == "Month"
    assert len(chart.rows) == 6
    assert chart.rows[-1] == [month, "6", "10"], "median of 2 and 10 days to report; 10 days to removal"
    assert all(row[1:] == ["—", "—"] for row in chart.rows[:-1])


def test_acceptance_rate_per_month_against_project_zero(client, personas, brand):
    case = CaseFactory(brand=brand)
    for outcome in ("accepted", "accepted", "accepted", "rejected"):
        report(case, outcome=outcome)
    report(case)
    response = dashboard(client, personas.viewer)
    chart = response.context["acceptance_chart"]
    assert chart.rows[-1] == [timezone.localdate().strftime("%Y-%m"), "3", "4", "75%"]
    assert chart.rows[0][1:] == ["0", "0", "—"]
    html = response.content.decode()
    assert "Project Zero asks for 90%" in html
    assert 'role="img"' in html


def test_a_member_of_several_teams_picks_one(client, personas, brand):
    CaseFactory(brand=brand, priority="low")
    other_brand = BrandFactory(team=personas.outsider_team)
    CaseFactory(brand=other_brand, priority="high")
    services.membership_set(
        team=personas.outsider_team, user=personas.viewer, role="viewer", actor=Actor.of_user(personas.outsider)
    )
    default = dashboard(client, personas.viewer)
    assert default.context["team"] == personas.outsider_team, "the first team by name"
    html = default.content.decode()
    assert f'<option value="{personas.team.pk}" lang="und" dir="auto">' in html
    assert "data-autosubmit" in html
    chosen = dashboard(client, personas.viewer, team=personas.team.pk)
    assert chosen.context["team"] == personas.team
    assert {t.value: t.count for t in chosen.context["counts"].by_priority}["low"] == 1
    assert {t.value: t.count for t in default.context["counts"].by_priority}["high"] == 1


def test_outsider_sees_nothing_of_the_team(client, personas, brand):
    case = CaseFactory(brand=brand, title="Secret lamp")
    sight(case, attach(case, 1, name="Secret storefront"))
    report(case, amazon_ref="SECRET-REF")
    client.force_login(personas.outsider)
    assert client.get(reverse("cases:dashboard"), {"team": personas.team.pk}).status_code == 404
    assert client.get(reverse("cases:dashboard"), {"team": "x"}).status_code == 404
    html = client.get(reverse("cases:dashboard")).content.decode()
    for secret in (case.reference, "Secret storefront", "SECRET-REF"):
        assert secret not in html


def test_a_user_without_a_team_is_told_so(client, db):
    response = dashboard(client, UserFactory(username="loner"))
    assert response.context["team"] is None
    assert "not in a team" in response.content.decode()


def test_hijacker_data_is_escaped(client, personas, brand):
    case = CaseFactory(brand=brand, title="<img src=x onerror=alert(1)>", assignee=personas.agent)
    sight(case, attach(case, 1, name="<script>alert(1)</script>"))
    report(case, amazon_ref="<b>ref</b>")
    services.membership_set(
        team=services.team_create(name="<i>Team</i>", actor=Actor.of_user(personas.outsider)),
        user=personas.agent,
        role="viewer",
        actor=Actor.of_user(personas.outsider),
    )
    html = dashboard(client, personas.agent, team=personas.team.pk).content.decode()
    assert "&lt;i&gt;Team&lt;/i&gt;" in html
    assert "<i>Team" not in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "&lt;b&gt;ref&lt;/b&gt;" in html


def test_dashboard_queries_do_not_grow_with_cases(client, personas, brand):
    client.force_login(personas.agent)

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("cases:dashboard")).status_code == 200
        return len(queries)

    def add_case(n):
        case = CaseFactory(brand=brand, assignee=personas.agent, priority="high" if n % 2 else "normal")
        sight(case, attach(case, n, name=f"Store {n}"), days_ago=n % 3)
        report(case, days_ago=n % 5, outcome="accepted" if n % 3 else "")
        if n % 4 == 0:
            transition(case, "reported", "resolved")

    add_case(1)
    few = count_queries()
    for n in range(2, 31):
        add_case(n)
    assert count_queries() == few
    # session, user, teams (memberships, teams), 8 team-scoped reads of two queries each, unread notifications (2)
    print("QUERIES", few)
    assert few <= 22


def test_days_are_the_users_own(client, personas, brand):
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    preferences_set(user=personas.viewer, time_zone="Asia/Shanghai")
    local_today = timezone.now().astimezone(shanghai).date()
    # Just after midnight in Shanghai is still the day before in UTC.
    just_after_midnight = dt.datetime.combine(local_today, dt.time(0, 1), tzinfo=shanghai)
    case = CaseFactory(brand=brand)
    services.sighting_record(
        case=case, storefront=attach(case, 1), seen_at=just_after_midnight, actor=manager_of(case.team)
    )
    response = dashboard(client, personas.viewer)
    assert response.context["hijackers_chart"].rows[-1] == [local_today.strftime("%m-%d"), "1"]
    assert f"{local_today:%Y-%m-%d} 00:01" in response.content.decode()
