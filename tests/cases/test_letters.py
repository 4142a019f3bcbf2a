import pytest
from django.urls import reverse

from cases import letters, services
from cases.models import Warning
from evidence.services import Actor
from tests.factories import BrandFactory, CaseFactory, attach, manager_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(personas):
    brand = BrandFactory(team=personas.team, name="Lumora")
    actor = manager_of(personas.team)
    services.brand_update(brand=brand, rights_owner="Lumora Lighting Co., Ltd.", contact_name="Dana", actor=actor)
    services.ip_right_create(
        brand=brand, kind="trademark", registration_number="6123456", office="USPTO", mark_text="LUMORA", actor=actor
    )
    return CaseFactory(brand=brand, asin="B0C1HJ4K2L")


def test_first_warning_is_filled_in_english_and_chinese(case):
    storefront = attach(case, 1, name="深圳市好运来贸易有限公司")
    english = letters.draft(case=case, storefront=storefront, kind="first_warning", language="en")["text"]
    assert "ASIN B0C1HJ4K2L (amazon.com)" in english
    assert "registered with USPTO under number 6123456" in english
    assert storefront.seller_id in english
    assert "$" not in english
    chinese = letters.draft(case=case, storefront=storefront, kind="first_warning", language="zh-hans")["text"]
    assert "深圳市好运来贸易有限公司 您好" in chinese
    assert "注册号 6123456" in chinese


def test_multi_account_letter_lists_the_operators_storefronts(case, personas):
    a, b, c = attach(case, 1, name="Store A"), attach(case, 2, name="店铺B"), attach(case, 3, name="Unrelated")
    services.operator_link(storefronts=[a, b], reason="phone", actor=Actor.of_user(personas.agent))
    draft = letters.draft(case=case, storefront=a, kind="multi_account", language="en")
    assert draft["storefronts"] == [a.seller_id, b.seller_id]
    assert "店铺B" in draft["text"]
    assert c.seller_id not in draft["text"]


def test_missing_facts_show_in_brackets(personas):
    case = CaseFactory(brand=BrandFactory(team=personas.team))
    text = letters.draft(case=case, storefront=attach(case, 1), kind="first_warning", language="en")["text"]
    assert "[registration number]" in text
    assert "[rights owner]" in text


def test_teams_edit_their_own_wording(api, case, personas):
    storefront = attach(case, 1)
    assert (
        api.agent.post(
            "/api/v1/warning-templates/", {"kind": "first_warning", "language": "en", "body": "x"}, format="json"
        ).status_code
        == 403
    )
    response = api.manager.post(
        "/api/v1/warning-templates/",
        {"kind": "first_warning", "language": "en", "body": "Dear $storefront_name, please leave $asin."},
        format="json",
    )
    assert response.status_code == 201
    draft = api.agent.get(f"/api/v1/cases/{case.pk}/warnings/draft/", {"storefront": storefront.pk}).json()
    assert draft["text"] == f"Dear {storefront.name}, please leave B0C1HJ4K2L."
    listed = api.viewer.get("/api/v1/warning-templates/").json()
    assert sum(1 for row in listed if not row["is_default"]) == 1
    assert len(listed) == 4
    assert (
        api.outsider.get(f"/api/v1/cases/{case.pk}/warnings/draft/", {"storefront": storefront.pk}).status_code == 404
    )


def test_draft_copy_and_mark_sent_from_the_case_page(client, case, personas):
    storefront = attach(case, 1, name="株式会社さくら商事")
    client.force_login(personas.agent)
    page = client.get(
        reverse("cases:case_detail", args=[case.pk]),
        {"draft": storefront.pk, "kind": "first_warning", "language": "zh-hans"},
    ).content.decode()
    assert "株式会社さくら商事 您好" in page
    sent = {"storefront": storefront.pk, "text": "请停止跟卖。", "channel": "ask_a_question", "language": "zh-hans"}
    client.post(reverse("cases:warning_send", args=[case.pk]), sent)
    client.post(reverse("cases:warning_send", args=[case.pk]), sent)
    assert Warning.objects.count() == 1, "a second letter within the quiet period is refused"


def test_letters_cite_the_registered_mark_not_a_pending_one(personas):
    brand = BrandFactory(team=personas.team, name="Lumora")
    actor = manager_of(personas.team)
    services.ip_right_create(brand=brand, kind="trademark", status="pending", actor=actor)
    services.ip_right_create(brand=brand, kind="trademark", registration_number="6123456", office="USPTO", actor=actor)
    case = CaseFactory(brand=brand)
    text = letters.draft(case=case, storefront=attach(case, 1), kind="first_warning", language="en")["text"]
    assert "6123456" in text


def test_team_wording_with_unknown_placeholders_is_refused(api):
    response = api.manager.post(
        "/api/v1/warning-templates/",
        {"kind": "first_warning", "language": "en", "body": "Hello $storefrontname, stop selling $asin."},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]["fields"]["body"][0]
    assert error["code"] == "invalid_template"
    assert "$storefrontname" in error["message"]
    assert (
        api.manager.post(
            "/api/v1/warning-templates/",
            {"kind": "first_warning", "language": "en", "body": "It costs $$5: $asin"},
            format="json",
        ).status_code
        == 201
    )


def test_draft_without_a_storefront_is_a_field_error(api, case):
    response = api.agent.get(f"/api/v1/cases/{case.pk}/warnings/draft/")
    assert response.status_code == 400
    assert "storefront" in response.json()["error"]["fields"]
