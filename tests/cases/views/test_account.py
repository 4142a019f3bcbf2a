import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.factories import BrandFactory, CaseFactory

pytestmark = pytest.mark.django_db


def test_language_chosen_in_the_switcher_is_remembered_for_the_person(client, personas):
    client.force_login(personas.agent)
    assert "Cases" in client.get(reverse("cases:case_list")).content.decode()
    client.post(reverse("cases:language_switch"), {"language": "zh-hans", "next": "/cases/"})
    assert "案件" in client.get(reverse("cases:case_list")).content.decode()
    # Another browser (no cookie), the same person: still Chinese, whatever the browser asks.
    other = type(client)()
    other.force_login(personas.agent)
    page = other.get(reverse("cases:case_list"), headers={"accept-language": "en"}).content.decode()
    assert "案件" in page


def test_browser_language_chooses_until_the_person_picks(client, personas):
    client.force_login(personas.viewer)
    page = client.get(reverse("cases:case_list"), headers={"accept-language": "zh-CN,zh;q=0.9"}).content.decode()
    assert "案件" in page


def test_time_zone_is_stored_and_used_for_times_shown(client, personas):
    case = CaseFactory(brand=BrandFactory(team=personas.team))
    client.force_login(personas.agent)
    response = client.post(reverse("cases:preferences"), {"language": "", "time_zone": "Asia/Shanghai"})
    assert response.status_code == 302
    assert personas.agent.preferences.time_zone == "Asia/Shanghai"
    shown = timezone.localtime(case.created_at, timezone=__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    page = client.get(reverse("cases:case_detail", args=[case.pk])).content.decode()
    assert shown.strftime("%Y-%m-%d %H:%M") in page


def test_an_unknown_time_zone_is_refused_next_to_the_field_and_kept(client, personas):
    client.force_login(personas.agent)
    response = client.post(reverse("cases:preferences"), {"language": "", "time_zone": "Mars/Olympus"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="pref-tz-error"' in page
    assert 'value="Mars/Olympus"' in page


def test_sign_in_is_refused_after_repeated_failures(client, personas, settings):
    settings.LOGIN_ATTEMPTS_PER_ACCOUNT = 3
    personas.agent.set_password("right-password-123")
    personas.agent.save()
    for _ in range(3):
        assert client.post(reverse("login"), {"username": "agent", "password": "wrong"}).status_code == 200
    refused = client.post(reverse("login"), {"username": "agent", "password": "right-password-123"})
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.content.decode()
    # Another account from the same address is not locked by this one's failures.
    personas.viewer.set_password("viewer-password-123")
    personas.viewer.save()
    assert client.post(reverse("login"), {"username": "viewer", "password": "viewer-password-123"}).status_code == 302


def test_password_reset_mails_a_link_to_the_configured_site(client, personas, settings):
    settings.SITE_URL = "https://cm.example.com"
    personas.agent.email = "agent@example.com"
    personas.agent.save()
    response = client.post(reverse("password_reset"), {"email": "agent@example.com"}, headers={"host": "localhost"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "https://cm.example.com/accounts/reset/" in mail.outbox[0].body


def test_pages_carry_a_content_security_policy_without_inline_script(client, personas):
    client.force_login(personas.agent)
    policy = client.get(reverse("cases:case_list"))["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    docs = client.get(reverse("api-docs")).content.decode()
    assert "<script>" not in docs  # the API docs load their start-up script from a URL


def test_the_admin_sign_in_shares_the_limit(client, personas, settings):
    settings.LOGIN_ATTEMPTS_PER_ACCOUNT = 3
    personas.manager.is_staff = personas.manager.is_superuser = True
    personas.manager.set_password("right-password-123")
    personas.manager.save()
    for _ in range(5):
        client.post("/admin/login/", {"username": "manager", "password": "wrong"})
    client.post("/admin/login/", {"username": "manager", "password": "right-password-123"})
    assert "_auth_user_id" not in client.session


def test_compatibility_forms_of_a_username_share_its_limit(client, personas, settings):
    settings.LOGIN_ATTEMPTS_PER_ACCOUNT = 2
    personas.agent.set_password("right-password-123")
    personas.agent.save()
    for name in ("agent", "\uff41gent"):  # the second is a full-width "a"
        client.post(reverse("login"), {"username": name, "password": "wrong"})
    answer = client.post(reverse("login"), {"username": "agen\uff54", "password": "right-password-123"})
    assert answer.status_code == 429


def test_a_refused_sign_in_does_not_check_the_password(client, personas, settings, monkeypatch):
    settings.LOGIN_ATTEMPTS_PER_ACCOUNT = 1
    client.post(reverse("login"), {"username": "agent", "password": "wrong"})
    checked = []
    monkeypatch.setattr("django.contrib.auth.hashers.check_password", lambda *a, **k: checked.append(1))
    monkeypatch.setattr("django.contrib.auth.base_user.check_password", lambda *a, **k: checked.append(1))
    assert client.post(reverse("login"), {"username": "agent", "password": "x"}).status_code == 429
    assert checked == []


def test_password_reset_requests_are_limited_per_mailbox(client, personas):
    personas.agent.email = "agent@example.com"
    personas.agent.save()
    for _ in range(3):
        assert client.post(reverse("password_reset"), {"email": "agent@example.com"}).status_code == 302
    refused = client.post(reverse("password_reset"), {"email": "AGENT@example.com"})
    assert refused.status_code == 429
    assert "Too many reset requests" in refused.content.decode()
    assert len(mail.outbox) == 3
