import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import Case, CaseStatus, CaseStorefront, Storefront
from evidence.models import AuditEvent
from tests.factories import BrandFactory, CaseFactory, attach, manager_of, seller_id

pytestmark = pytest.mark.django_db

URL = reverse("cases:case_list")


@pytest.fixture
def brand(personas):
    return BrandFactory(team=personas.team, name="Lumen")


@pytest.fixture
def case(brand):
    case = CaseFactory(brand=brand, title="Desk lamp", asin="B0C1HJ4K2L")
    attach(case, 1, name="深圳市好运来贸易有限公司")
    return case


def references(response):
    """The case references listed in the table, in order."""
    return re.findall(r'<a href="/cases/\d+/">([^<]+)</a>', response.content.decode())


def get(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200
    return response


def test_the_list_needs_sign_in(client, case):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


@pytest.mark.parametrize(
    "term",
    ["好运来", seller_id(1), seller_id(1).lower(), "b0c1hj4k2l", "Desk", "lamp"],
)
def test_search_by_storefront_name_seller_id_asin_and_title(client, personas, case, term):
    CaseFactory(brand=case.brand, title="Something else")
    client.force_login(personas.viewer)
    assert references(get(client, q=term)) == [case.reference]


def test_search_by_reference(client, personas, case):
    other = CaseFactory(brand=case.brand)
    client.force_login(personas.viewer)
    assert references(get(client, q=other.reference.lower())) == [other.reference]
    assert references(get(client, q="nothing-like-it")) == []


def test_filter_by_several_statuses(client, personas, brand):
    actor = manager_of(personas.team)
    new, warned, closed = (CaseFactory(brand=brand) for _ in range(3))
    services.case_transition(case=warned, status=CaseStatus.WARNED, actor=actor)
    services.case_transition(case=closed, status=CaseStatus.CLOSED, reason="Duplicate", actor=actor)
    client.force_login(personas.viewer)
    listed = references(get(client, status=["new", "warned"]))
    assert sorted(listed) == sorted([new.reference, warned.reference])
    assert references(get(client, status="closed")) == [closed.reference]


def test_filter_by_brand_marketplace_and_priority(client, personas, brand):
    other_brand = BrandFactory(team=personas.team, name="Other")
    lamp = CaseFactory(brand=brand, priority="urgent")
    german = CaseFactory(brand=brand, marketplace="DE")
    elsewhere = CaseFactory(brand=other_brand, priority="low")
    client.force_login(personas.viewer)
    assert sorted(references(get(client, brand=brand.pk))) == sorted([lamp.reference, german.reference])
    assert references(get(client, marketplace="DE")) == [german.reference]
    assert sorted(references(get(client, priority=["urgent", "low"]))) == sorted([lamp.reference, elsewhere.reference])
    assert references(get(client, brand=brand.pk, priority="low")) == []


def test_filter_by_assignee_me_nobody_or_a_person(client, personas, brand):
    mine = CaseFactory(brand=brand, assignee=personas.agent)
    managers = CaseFactory(brand=brand, assignee=personas.manager)
    nobodys = CaseFactory(brand=brand)
    client.force_login(personas.agent)
    assert references(get(client, assignee="me")) == [mine.reference]
    assert references(get(client, assignee="none")) == [nobodys.reference]
    assert references(get(client, assignee=personas.manager.pk)) == [managers.reference]


def test_filter_choices_come_from_the_users_teams_only(client, personas, brand):
    BrandFactory(team=personas.outsider_team, name="Outsider brand")
    client.force_login(personas.agent)
    page = get(client).content.decode()
    assert "Lumen" in page
    assert "Outsider brand" not in page
    assert f'value="{personas.outsider.pk}" dir="auto">outsider<' not in page
    assert f'<option value="{personas.manager.pk}" dir="auto">manager</option>' in page
    # An outsider's brand given by hand is not a choice: the filter is refused, not applied.
    outsider_brand = BrandFactory(team=personas.outsider_team)
    refused = get(client, brand=outsider_brand.pk).content.decode()
    assert 'aria-invalid="true"' in refused


def test_a_bad_filter_value_is_shown_and_the_others_still_apply(client, personas, brand):
    urgent = CaseFactory(brand=brand, priority="urgent")
    CaseFactory(brand=brand)
    client.force_login(personas.viewer)
    response = get(client, priority="urgent", marketplace="XX", sort="nonsense")
    assert references(response) == [urgent.reference]
    assert 'aria-invalid="true"' in response.content.decode()


def test_sorting_by_column_headers(client, personas, brand):
    actor = manager_of(personas.team)
    b = CaseFactory(brand=brand, asin="B000000002", priority="low")
    a = CaseFactory(brand=brand, asin="B000000001", priority="urgent")
    c = CaseFactory(brand=brand, asin="B000000003", priority="high")
    services.case_transition(case=a, status=CaseStatus.REPORTED, actor=actor)
    services.case_update(case=b, title="Changed last", actor=actor)
    client.force_login(personas.viewer)
    assert references(get(client)) == [c.reference, a.reference, b.reference]  # newest first
    assert references(get(client, sort="created")) == [b.reference, a.reference, c.reference]
    assert references(get(client, sort="asin")) == [a.reference, b.reference, c.reference]
    assert references(get(client, sort="-asin")) == [c.reference, b.reference, a.reference]
    assert references(get(client, sort="-priority")) == [a.reference, c.reference, b.reference]
    assert references(get(client, sort="status")) == [b.reference, c.reference, a.reference]
    assert references(get(client, sort="-updated"))[0] == b.reference
    assert references(get(client, sort="reference")) == [b.reference, a.reference, c.reference]


def test_column_headers_say_how_the_list_is_sorted_and_keep_the_filters(client, personas, case):
    client.force_login(personas.viewer)
    page = get(client, sort="asin", status="new").content.decode()
    assert re.search(r'<th scope="col" aria-sort="ascending">\s*<a href="\?sort=-asin&amp;status=new">', page)
    assert page.count("aria-sort=") == 1
    assert '<a href="?sort=-priority&amp;status=new">Priority' in page, "the most urgent first on a first click"
    page = get(client, sort="-asin").content.decode()
    assert 'aria-sort="descending"' in page
    assert '<option value="-asin" selected>ASIN, reversed</option>' in page


def test_pages_of_fifty_and_page_links_keep_the_filters(client, personas, brand):
    _bulk_cases(brand, 120)
    client.force_login(personas.viewer)
    filters = {"status": ["new", "investigating"], "sort": "reference"}
    first = get(client, **filters)
    assert len(references(first)) == 50
    html = first.content.decode()
    assert 'href="?status=new&amp;status=investigating&amp;sort=reference&amp;page=2" rel="next"' in html
    assert 'href="?status=new&amp;status=investigating&amp;sort=reference&amp;page=3">Last' in html
    third = get(client, **filters, page=3)
    assert len(references(third)) == 20
    assert references(third)[-1] == "HJ-2026-00119"
    html = third.content.decode()
    assert 'href="?status=new&amp;status=investigating&amp;sort=reference&amp;page=2" rel="prev"' in html
    assert "Page 3 of 3" in html


def test_hostile_storefront_and_title_are_shown_as_text(client, personas, brand):
    case = CaseFactory(brand=brand, title="<img src=x onerror=alert(1)>")
    attach(case, 2, name="<script>alert(1)</script>")
    client.force_login(personas.viewer)
    html = get(client).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert '<li lang="und" dir="auto">&lt;script&gt;' in html


def test_hijackers_selling_and_seen(client, personas, case):
    attach(case, 2, name="Second store")
    link = CaseStorefront.objects.get(case=case, storefront__name="Second store")
    services.case_storefront_mark_gone(link=link, actor=manager_of(personas.team))
    client.force_login(personas.viewer)
    html = get(client).content.decode()
    assert "1 selling" in html
    assert "(2 seen)" in html
    assert '<li lang="und" dir="auto">深圳市好运来贸易有限公司</li>' in html
    assert "Second store" not in html, "a storefront gone is counted, not named"


def test_an_outsider_sees_none_of_the_teams_cases(client, personas, case):
    client.force_login(personas.outsider)
    response = get(client)
    assert case.reference not in response.content.decode()
    assert references(get(client, q="好运来")) == []
    assert "No cases yet." in response.content.decode()


def test_empty_states(client, personas, case):
    client.force_login(personas.viewer)
    html = get(client, q="nothing-like-it").content.decode()
    assert "No cases match these filters." in html
    assert "Clear filters" in html


def test_viewers_see_no_checkboxes_and_cannot_change_cases(client, personas, case):
    client.force_login(personas.viewer)
    html = get(client).content.decode()
    assert 'name="cases"' not in html
    assert "case_list.js" not in html
    response = client.post(URL, {"action": "assign", "cases": [case.pk], "assignee": personas.agent.pk})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.assignee is None


def test_agents_get_checkboxes_with_labels_and_a_select_all(client, personas, case):
    client.force_login(personas.agent)
    html = get(client).content.decode()
    assert f'<input type="checkbox" name="cases" value="{case.pk}" id="pick-{case.pk}">' in html
    assert f'<span class="visually-hidden">Tick {case.reference}</span>' in html
    assert 'data-select-all="cases"> Select all on this page</label>' in html
    assert "js/case_list.js" in html
    assert "onclick" not in html


def test_bulk_assign_and_unassign_return_to_the_same_view(client, personas, brand):
    one, two = CaseFactory(brand=brand), CaseFactory(brand=brand)
    client.force_login(personas.agent)
    url = f"{URL}?status=new&sort=asin"
    response = client.post(url, {"action": "assign", "cases": [one.pk, two.pk], "assignee": personas.agent.pk})
    assert response.status_code == 302
    assert response["Location"] == url
    assert set(Case.objects.values_list("assignee", flat=True)) == {personas.agent.pk}
    assert AuditEvent.objects.filter(action="case.updated").count() == 2
    page = client.get(response["Location"]).content.decode()
    assert "2 cases assigned to agent." in page
    client.post(url, {"action": "assign", "cases": [one.pk], "assignee": "none"})
    one.refresh_from_db()
    assert one.assignee is None
    assert "1 case unassigned." in client.get(url).content.decode()


def test_bulk_status_change_reports_the_cases_that_cannot_move(client, personas, brand):
    actor = manager_of(personas.team)
    fresh = CaseFactory(brand=brand)
    reported = CaseFactory(brand=brand)
    services.case_transition(case=reported, status=CaseStatus.REPORTED, actor=actor)
    client.force_login(personas.agent)
    response = client.post(
        URL, {"action": "transition", "cases": [fresh.pk, reported.pk], "status": "resolved"}, follow=True
    )
    html = response.content.decode()
    assert "1 case moved to Resolved." in html
    assert "1 case was not changed:" in html
    assert f"{fresh.reference}: A new case cannot move to resolved" in html
    assert Case.objects.get(pk=reported.pk).status == CaseStatus.RESOLVED
    assert Case.objects.get(pk=fresh.pk).status == CaseStatus.NEW


def test_bulk_close_needs_a_reason_shown_next_to_the_field(client, personas, brand):
    one, two = CaseFactory(brand=brand), CaseFactory(brand=brand)
    client.force_login(personas.agent)
    response = client.post(URL, {"action": "transition", "cases": [one.pk, two.pk], "status": "closed"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<p class="field-error" id="bulk-reason_error">Say why the cases are closed.</p>' in html
    assert f'value="{one.pk}" id="pick-{one.pk}" checked>' in html, "the ticked cases stay ticked"
    assert '<option value="closed" selected>' in html
    assert set(Case.objects.values_list("status", flat=True)) == {CaseStatus.NEW}
    client.post(URL, {"action": "transition", "cases": [one.pk, two.pk], "status": "closed", "reason": "Gone"})
    assert set(Case.objects.values_list("closed_reason", flat=True)) == {"Gone"}


def test_bulk_needs_a_choice_and_a_ticked_case(client, personas, case):
    client.force_login(personas.agent)
    html = client.post(URL, {"action": "assign", "cases": [case.pk]}).content.decode()
    assert "Choose who gets the cases, or nobody." in html
    html = client.post(URL, {"action": "assign", "assignee": "none"}).content.decode()
    assert "Select at least one case." in html
    html = client.post(URL, {"action": "assign", "assignee": "none", "cases": ["x"]}).content.decode()
    assert "Tick cases in the list." in html


def test_another_teams_case_ids_are_ignored(client, personas, case):
    theirs = CaseFactory(brand=BrandFactory(team=personas.outsider_team))
    client.force_login(personas.agent)
    client.post(URL, {"action": "assign", "cases": [case.pk, theirs.pk], "assignee": personas.agent.pk})
    case.refresh_from_db()
    theirs.refresh_from_db()
    assert case.assignee == personas.agent
    assert theirs.assignee is None
    html = client.post(URL, {"action": "assign", "cases": [theirs.pk], "assignee": "none"}).content.decode()
    assert "Select at least one case." in html
    client.force_login(personas.outsider)
    response = client.post(URL, {"action": "transition", "cases": [case.pk], "status": "closed", "reason": "x"})
    assert "Select at least one case." in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.NEW


def test_a_person_of_another_team_is_not_an_assignee_choice(client, personas, case):
    client.force_login(personas.agent)
    html = client.post(URL, {"action": "assign", "cases": [case.pk], "assignee": personas.outsider.pk}).content
    assert "Select a valid choice" in html.decode()
    case.refresh_from_db()
    assert case.assignee is None


def test_case_list_queries_do_not_grow_with_rows(client, personas, brand):
    client.force_login(personas.agent)

    def count_queries(**params):
        with CaptureQueriesContext(connection) as queries:
            get(client, **params)
        return len(queries)

    first = CaseFactory(brand=brand, assignee=personas.agent)
    attach(first, 1)
    one = count_queries()
    for n in range(29):
        case = CaseFactory(brand=brand, assignee=personas.manager if n % 2 else personas.agent)
        attach(case, n + 2, name=f"店铺 {n}")
        attach(case, n + 100)
    assert count_queries() == one
    assert count_queries(status=["new", "warned"], sort="-priority", q="店铺") == one
    # session, user; memberships (teams, rows); brands (teams, rows); cases (teams, count,
    # page); the page's hijacker counts and names; unread notifications (teams, count)
    assert one <= 13


def _bulk_cases(brand, n):
    """``n`` cases written in one statement, numbered HJ-2026-00000 up; every 4th assigned."""
    now = timezone.now()
    manager = manager_of(brand.team).user
    return Case.objects.bulk_create(
        Case(
            team_id=brand.team_id,
            brand=brand,
            reference=f"HJ-2026-{i:05d}",
            asin=f"B{i:09d}",
            marketplace="US",
            title=f"Listing {i}",
            priority=("low", "normal", "high", "urgent")[i % 4],
            assignee=manager if i % 4 == 0 else None,
            status=CaseStatus.NEW if i % 3 else CaseStatus.INVESTIGATING,
            status_changed_at=now - dt.timedelta(minutes=i),
        )
        for i in range(n)
    )


def test_ten_thousand_cases_keep_the_same_small_number_of_queries(client, personas, brand):
    cases = _bulk_cases(brand, 10_000)
    storefronts = Storefront.objects.bulk_create(
        Storefront(team=personas.team, marketplace="US", seller_id=seller_id(i), name=f"好运来 {i}") for i in range(20)
    )
    if cases[0].pk is None:  # backends that do not return IDs from a bulk insert
        cases = list(Case.objects.order_by("pk"))
    CaseStorefront.objects.bulk_create(
        CaseStorefront(case=case, storefront=storefronts[i % 20]) for i, case in enumerate(cases[::5])
    )
    client.force_login(personas.agent)

    def page(**params):
        with CaptureQueriesContext(connection) as queries:
            response = get(client, **params)
        return len(queries), references(response)

    first_count, first = page()
    assert len(first) == 50
    sorted_count, listed = page(status="new", priority=["urgent", "high"], assignee="none", sort="-priority", page=3)
    assert sorted_count == first_count
    assert len(listed) == 50
    assert all(Case.objects.get(reference=ref, team=personas.team).priority == "urgent" for ref in listed)
    searched_count, found = page(q="好运来 7", sort="asin")
    assert searched_count == first_count
    assert 0 < len(found) <= 50
