import datetime as dt
import subprocess

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import services
from cases.models import Case
from cases.workflow import allowed_transitions
from evidence.services import Actor
from tests.conftest import error_of
from tests.factories import BrandFactory, CaseFactory, attach, manager_of

pytestmark = pytest.mark.django_db


def open_body(brand, **extra):
    return {"brand": brand.pk, "asin": "B0NEWCASE1", "marketplace": "DE", **extra}


def test_agent_opens_a_case(api, brand, personas):
    response = api.agent.post(
        "/api/v1/cases/",
        open_body(brand, title="Lamp", priority="high", assignee=personas.agent.pk, external_ref="JIRA-7"),
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reference"].startswith("HJ-")
    assert body["marketplace"] == "DE"
    assert body["external_refs"] == ["JIRA-7"]
    assert body["assignee"] == {"id": personas.agent.pk, "username": "agent"}
    assert body["allowed_transitions"] == ["investigating", "warned", "test_buy", "reported", "closed"]
    assert response["Location"] == f"/api/v1/cases/{body['id']}/"
    assert response["ETag"]


def test_validation_errors_name_fields_with_codes(api, brand):
    response = api.agent.post("/api/v1/cases/", open_body(brand, asin="bad", marketplace="XX"), format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert error["fields"]["marketplace"][0]["code"] == "invalid_marketplace"
    response = api.agent.post("/api/v1/cases/", open_body(brand, asin="B0C1"), format="json")
    assert error_of(response)["fields"]["asin"][0]["code"] == "invalid_asin"
    response = api.agent.post("/api/v1/cases/", {"asin": "B0C1HJ4K2L"}, format="json")
    assert set(error_of(response)["fields"]) == {"brand", "marketplace"}
    assert not Case.objects.exists()


def test_roles_and_outsiders(api, brand, case):
    assert api.viewer.post("/api/v1/cases/", open_body(brand), format="json").status_code == 403
    assert api.viewer.get(f"/api/v1/cases/{case.pk}/").status_code == 200
    assert api.viewer.patch(f"/api/v1/cases/{case.pk}/", {"title": "x"}, format="json").status_code == 403
    for method, url, body in [
        ("get", f"/api/v1/cases/{case.pk}/", None),
        ("patch", f"/api/v1/cases/{case.pk}/", {"title": "x"}),
        ("post", f"/api/v1/cases/{case.pk}/transition/", {"status": "investigating"}),
        ("get", f"/api/v1/cases/{case.pk}/activity/", None),
        ("post", "/api/v1/cases/", open_body(brand)),
    ]:
        response = getattr(api.outsider, method)(url, body, format="json")
        assert response.status_code == 404, (method, url, response.status_code)
        assert error_of(response)["code"] == "not_found"
    assert api.outsider.get("/api/v1/cases/").json()["results"] == []
    case.refresh_from_db()
    assert case.title == "Desk lamp"


def test_a_service_error_speaks_the_language_the_request_asks_for(api, case, settings, tmp_path):
    """The message is translated when raised, in the request's language; its field and code do not change.

    A catalogue of one entry, put before the project's, stands in for the real translation.
    """
    msgid = "A %(current)s case cannot move to %(target)s; it can move to: %(allowed)s."
    msgstr = "%(current)s 状态的案件不能转为 %(target)s；可转为：%(allowed)s。"
    folder = tmp_path / "zh_Hans" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    header = 'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n'
    (folder / "django.po").write_text(
        f'{header}\n#, python-format\nmsgid "{msgid}"\nmsgstr "{msgstr}"\n', encoding="utf-8"
    )
    subprocess.run(["msgfmt", "-o", str(folder / "django.mo"), str(folder / "django.po")], check=True)
    settings.LOCALE_PATHS = [tmp_path, *settings.LOCALE_PATHS]  # resets Django's translation caches
    url = f"/api/v1/cases/{case.pk}/transition/"
    allowed = ", ".join(allowed_transitions(case.status))

    chinese = api.agent.post(url, {"status": "resolved"}, format="json", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    english = api.agent.post(url, {"status": "resolved"}, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert error_of(chinese)["fields"] == {
        "status": [
            {"code": "illegal_transition", "message": f"{case.status} 状态的案件不能转为 resolved；可转为：{allowed}。"}
        ]
    }
    assert error_of(english)["fields"]["status"][0]["message"] == (
        f"A {case.status} case cannot move to resolved; it can move to: {allowed}."
    )


def test_transition_and_illegal_transition(api, case):
    response = api.agent.post(f"/api/v1/cases/{case.pk}/transition/", {"status": "resolved"}, format="json")
    assert response.status_code == 400
    assert error_of(response)["fields"]["status"][0]["code"] == "illegal_transition"
    response = api.agent.post(f"/api/v1/cases/{case.pk}/transition/", {"status": "closed"}, format="json")
    assert error_of(response)["fields"]["reason"][0]["code"] == "required"
    response = api.agent.post(
        f"/api/v1/cases/{case.pk}/transition/", {"status": "reported", "note": "RAV 123"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "reported"
    activity = api.viewer.get(f"/api/v1/cases/{case.pk}/activity/").json()["results"]
    assert activity[0]["action"] == "case.status_changed"
    assert activity[0]["after"] == {"status": "reported", "note": "RAV 123"}
    assert activity[0]["actor"]["name"] == "agent"


def test_etag_and_if_match(api, case):
    read = api.agent.get(f"/api/v1/cases/{case.pk}/")
    etag = read["ETag"]
    assert api.agent.get(f"/api/v1/cases/{case.pk}/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    changed = api.agent.patch(f"/api/v1/cases/{case.pk}/", {"priority": "urgent"}, format="json", HTTP_IF_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    stale = api.agent.patch(f"/api/v1/cases/{case.pk}/", {"priority": "low"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert error_of(stale)["code"] == "precondition_failed"
    stale = api.agent.post(
        f"/api/v1/cases/{case.pk}/transition/", {"status": "investigating"}, format="json", HTTP_IF_MATCH=etag
    )
    assert stale.status_code == 412
    case.refresh_from_db()
    assert (case.priority, case.status) == ("urgent", "new")


def test_idempotency_key_replays_the_first_answer(api, brand):
    first = api.agent.post("/api/v1/cases/", open_body(brand), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.agent.post("/api/v1/cases/", open_body(brand), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Case.objects.count() == 1
    other = api.agent.post(
        "/api/v1/cases/", open_body(brand, asin="B0OTHER001"), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert other.status_code == 422
    assert error_of(other)["code"] == "idempotency_key_reused"
    assert Case.objects.count() == 1
    # Keys belong to their user: another user's same key is a new request.
    mine = api.manager.post(
        "/api/v1/cases/", open_body(brand, asin="B0OTHER002"), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert mine.status_code == 201


def test_a_refused_request_can_be_corrected_under_the_same_key(api, brand):
    bad = api.agent.post("/api/v1/cases/", open_body(brand, asin="bad"), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert bad.status_code == 400
    good = api.agent.post("/api/v1/cases/", open_body(brand), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert good.status_code == 201


@pytest.fixture
def many(personas, brand):
    actor = manager_of(personas.team)
    cases = []
    for n in range(7):
        case = CaseFactory(brand=brand, asin=f"B0LIST{n:04d}", title=f"Item {n}")
        cases.append(case)
    storefront = attach(cases[0], 1, name="深圳市好运来贸易有限公司")
    attach(cases[1], 2, name="株式会社さくら商事")
    services.test_buy_record(
        case=cases[0],
        storefront=storefront,
        order_id="112-1234567-1234567",
        order_date=timezone.localdate(),
        actor=actor,
    )
    services.case_transition(case=cases[2], status="warned", actor=actor)
    services.case_update(case=cases[3], priority="urgent", assignee=personas.agent, actor=actor)
    CaseFactory(brand=BrandFactory(team=personas.outsider_team), asin="B0LIST0000")
    return cases


def refs(response):
    return [c["asin"] for c in response.json()["results"]]


def test_filters_and_search(api, many, personas):
    get = api.viewer.get
    assert refs(get("/api/v1/cases/", {"status": "warned"})) == ["B0LIST0002"]
    assert set(refs(get("/api/v1/cases/", {"status": ["warned", "new"]}))) == {f"B0LIST{n:04d}" for n in range(7)}
    assert refs(get("/api/v1/cases/", {"asin": "b0list0004"})) == ["B0LIST0004"]
    assert refs(get("/api/v1/cases/", {"priority": "urgent"})) == ["B0LIST0003"]
    assert refs(get("/api/v1/cases/", {"assignee": personas.agent.pk})) == ["B0LIST0003"]
    assert refs(get("/api/v1/cases/", {"has_test_buy": "true"})) == ["B0LIST0000"]
    assert refs(get("/api/v1/cases/", {"storefront": "A0000000000002"})) == ["B0LIST0001"]
    assert refs(get("/api/v1/cases/", {"q": "好运来"})) == ["B0LIST0000"]
    assert refs(get("/api/v1/cases/", {"q": "さくら"})) == ["B0LIST0001"]
    assert refs(get("/api/v1/cases/", {"q": many[5].reference})) == ["B0LIST0005"]
    future = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    assert refs(get("/api/v1/cases/", {"created_after": future})) == []
    assert len(refs(get("/api/v1/cases/", {"created_before": future}))) == 7
    bad = get("/api/v1/cases/", {"status": "sleeping"})
    assert bad.status_code == 400
    assert "status" in error_of(bad)["fields"]


def test_counts_come_with_the_list(api, many):
    first = next(c for c in api.viewer.get("/api/v1/cases/").json()["results"] if c["asin"] == "B0LIST0000")
    assert first["storefront_count"] == 1
    assert first["evidence_count"] == 0
    assert first["open_days"] == 0


def test_cursor_pages_stay_correct_while_rows_are_inserted(api, many, brand):
    page = api.viewer.get("/api/v1/cases/", {"page_size": 3, "ordering": "created_at"}).json()
    seen = refs_of(page)
    CaseFactory(brand=brand, asin="B0LATE0001")
    while page["next"]:
        page = api.viewer.get(page["next"]).json()
        seen += refs_of(page)
    assert seen[:7] == [f"B0LIST{n:04d}" for n in range(7)]
    assert seen[7:] == ["B0LATE0001"]
    assert len(seen) == len(set(seen))


def refs_of(page):
    return [c["asin"] for c in page["results"]]


def test_list_queries_are_constant_in_page_size(api, many, brand):
    for n in range(20):
        attach(CaseFactory(brand=brand, asin=f"B0MORE{n:04d}"), 10 + n)

    def queries(page_size):
        with CaptureQueriesContext(connection) as captured:
            response = api.viewer.get("/api/v1/cases/", {"page_size": page_size})
        assert response.status_code == 200
        assert len(response.json()["results"]) == page_size
        return len(captured)

    queries(1)  # the token's first use of the minute records last_used_at
    small, large = queries(2), queries(25)
    assert small == large
    assert large <= 6


def test_assignee_must_be_in_the_team(api, case, personas):
    response = api.agent.patch(f"/api/v1/cases/{case.pk}/", {"assignee": personas.outsider.pk}, format="json")
    assert response.status_code == 400
    assert "assignee" in error_of(response)["fields"]
    response = api.agent.patch(f"/api/v1/cases/{case.pk}/", {"assignee": None}, format="json")
    assert response.status_code == 200


def test_services_errors_and_actor_are_the_same_through_the_api(api, case, personas):
    services.case_transition(case=case, status="closed", reason="dup", actor=Actor.of_user(personas.agent))
    response = api.agent.post(f"/api/v1/cases/{case.pk}/transition/", {"status": "warned"}, format="json")
    assert error_of(response)["fields"]["status"][0]["message"].startswith("A closed case cannot move to warned")


def test_ids_beyond_a_bigint_are_refused_not_crashed(api, case, brand):
    assert api.viewer.get("/api/v1/cases/", {"brand": "-1.9e93"}).status_code == 400
    assert api.viewer.get("/api/v1/cases/", {"assignee": str(2**70)}).status_code == 400
    assert api.viewer.get(f"/api/v1/cases/{2**70}/").status_code == 404
    assert api.viewer.get("/api/v1/cases/-3/").status_code == 404
    too_big = api.agent.post(
        "/api/v1/cases/", {"brand": 2**70, "asin": "B0C1HJ4K2L", "marketplace": "US"}, format="json"
    )
    assert "brand" in error_of(too_big)["fields"]


def test_the_fast_case_shape_is_drfs_shape(api, many, personas, settings):
    from cases.api.serializers import CaseSerializer
    from cases.selectors import with_counts

    for case in with_counts(Case.objects.select_related("brand", "assignee")):
        serializer = CaseSerializer(case)
        assert serializer.to_representation(case) == serializer.generic_representation(case)
    settings.TIME_ZONE = "Asia/Shanghai"
    case = with_counts(Case.objects.select_related("brand", "assignee")).first()
    assert CaseSerializer(case).data == CaseSerializer(case).generic_representation(case)


def test_errors_in_list_items_are_flat_dotted_fields(api, brand):
    response = api.agent.post("/api/v1/cases/", {**open_body(brand), "external_refs": ["ok", ""]}, format="json")
    fields = error_of(response)["fields"]
    assert fields == {"external_refs.1": [{"code": "blank", "message": "This field may not be blank."}]}


def test_a_refused_filter_is_a_documented_answer(api, case, conforms):
    answer = api.viewer.get("/api/v1/cases/", {"marketplace": "XX"})
    assert answer.status_code == 400
    conforms(answer)


@pytest.mark.parametrize(
    ("moment", "found"),
    [("2000-01-01T00:00:00+23:56", 1), ("9999-12-31T23:00:00-05:00", None), ("0001-01-01T00:00:00+01:00", None)],
)
def test_any_iso_offset_in_a_date_filter_is_compared_in_utc(api, case, moment, found):
    # PostgreSQL refuses offsets beyond ±15:59, which ISO 8601 allows.
    answer = api.viewer.get("/api/v1/cases/", {"created_after": moment})
    if found is None:
        assert answer.status_code == 400
        assert error_of(answer)["fields"]["created_after"][0]["code"] == "invalid"
    else:
        assert answer.status_code == 200
        assert len(answer.json()["results"]) == found


@pytest.mark.parametrize("size", ["AAA", "0", "-3", "0.5", "true", "null"])
def test_a_page_size_that_is_no_positive_integer_is_refused(api, case, conforms, size):
    answer = api.viewer.get("/api/v1/cases/", {"page_size": size})
    assert answer.status_code == 400
    assert list(error_of(answer)["fields"]) == ["page_size"]
    conforms(answer)


def test_a_page_size_beyond_the_maximum_is_not_refused(api, many):
    answer = api.viewer.get("/api/v1/cases/", {"page_size": 10_000})
    assert answer.status_code == 200
    assert len(answer.json()["results"]) == len(many)
