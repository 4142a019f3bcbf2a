import pytest
from django.urls import reverse

from cases import services
from cases.models import WebhookDelivery
from evidence.services import Actor
from tests.factories import BrandFactory, CaseFactory, add_evidence, attach, sight

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(personas):
    case = CaseFactory(brand=BrandFactory(team=personas.team), title="Desk lamp")
    storefront = attach(case, 1, name="深圳市好运来贸易有限公司")
    sight(case, storefront)
    return case


def test_sign_in_with_demo_style_credentials(client, personas):
    response = client.post(reverse("login"), {"username": "agent", "password": "pw"})
    assert response.status_code == 302
    client.logout()
    response = client.post(reverse("login"), {"username": "agent", "password": "wrong"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_outsider_gets_404_for_another_teams_case(client, personas, case):
    client.force_login(personas.outsider)
    assert client.get(reverse("cases:case_detail", args=[case.pk])).status_code == 404
    assert case.reference not in client.get(reverse("cases:case_list")).content.decode()


def test_hijacker_data_is_escaped(client, personas, case):
    attach(case, 2, name="<script>alert(1)</script>")
    client.force_login(personas.viewer)
    html = client.get(reverse("cases:case_detail", args=[case.pk])).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "深圳市好运来贸易有限公司" in html


def test_a_member_of_two_teams_opens_cases_with_the_same_reference(client, personas, case):
    other = CaseFactory(brand=BrandFactory(team=personas.outsider_team))
    assert other.reference == case.reference
    services.membership_set(
        team=personas.outsider_team, user=personas.viewer, role="viewer", actor=Actor.of_user(personas.outsider)
    )
    client.force_login(personas.viewer)
    for each in (case, other):
        assert client.get(reverse("cases:case_detail", args=[each.pk])).status_code == 200


def test_evidence_downloads_as_attachment_with_sniffed_type(client, personas, case):
    page = b"<html><script>alert(1)</script></html>"
    item = add_evidence(case, data=page, original_name="listing.html", kind="page_capture")
    client.force_login(personas.viewer)
    response = client.get(reverse("cases:evidence_download", args=[case.pk, item.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == b"<html><script>alert(1)</script></html>"
    client.force_login(personas.outsider)
    assert client.get(reverse("cases:evidence_download", args=[case.pk, item.pk])).status_code == 404


def test_webhook_page_registers_logs_and_redelivers(
    client, personas, settings, receiver, django_capture_on_commit_callbacks
):
    settings.ALLOW_PRIVATE_URLS = True
    client.force_login(personas.manager)
    bad = client.post(
        reverse("cases:webhooks"),
        {"action": "create", "team": personas.team.pk, "url": "ftp://x", "events": ["case.created"]},
    )
    assert "Only" in bad.content.decode()
    assert 'value="ftp://x"' in bad.content.decode(), "what was typed is kept"
    created = client.post(
        reverse("cases:webhooks"),
        {"action": "create", "team": personas.team.pk, "url": receiver.url, "events": ["case.created"]},
    )
    assert "whsec_" in created.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        CaseFactory(brand=BrandFactory(team=personas.team))
    page = client.get(reverse("cases:webhooks")).content.decode()
    assert "case.created" in page
    assert "whsec_" not in page
    delivery = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("cases:webhooks"), {"action": "redeliver", "delivery": delivery.pk})
    assert len(receiver.requests) == 2
    client.force_login(personas.outsider)
    assert client.post(reverse("cases:webhooks"), {"action": "redeliver", "delivery": delivery.pk}).status_code == 404
    client.force_login(personas.agent)
    assert client.post(reverse("cases:webhooks"), {"action": "redeliver", "delivery": delivery.pk}).status_code == 404


def test_case_page_builds_and_serves_dossiers(client, personas, case, django_capture_on_commit_callbacks):
    client.force_login(personas.viewer)
    client.post(reverse("cases:dossier_build", args=[case.pk]))
    assert not case.dossiers.exists()
    client.force_login(personas.agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("cases:dossier_build", args=[case.pk]))
    dossier = case.dossiers.get()
    page = client.get(reverse("cases:case_detail", args=[case.pk])).content.decode()
    assert dossier.pdf_id in page
    pdf = client.get(reverse("cases:dossier_file", args=[case.pk, dossier.pk, "pdf"]))
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    client.force_login(personas.outsider)
    assert client.get(reverse("cases:dossier_file", args=[case.pk, dossier.pk, "bundle"])).status_code == 404


def test_chinese_follows_the_browser_until_the_user_picks(client, personas, case):
    client.force_login(personas.viewer)
    chinese = client.get(reverse("cases:case_list"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert "案件" in chinese
    assert "新建" in chinese, "status labels are translated too"
    assert 'lang="zh-hans"' in chinese
    client.post(reverse("set_language"), {"language": "en", "next": "/cases/"})
    english = client.get(reverse("cases:case_list"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "Cases" in english
    assert "案件" not in english


def test_every_interface_string_has_a_chinese_translation():
    import subprocess
    from pathlib import Path

    catalogue = Path(__file__).resolve().parents[3] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    entries = catalogue.read_text(encoding="utf-8").split("\n\n")[1:]
    untranslated = [entry for entry in entries if entry.rstrip().endswith('msgstr ""') and "msgid" in entry]
    assert untranslated == []
    compiled = subprocess.run(["msgfmt", "-o", "-", str(catalogue)], capture_output=True, check=True).stdout
    assert catalogue.with_suffix(".mo").read_bytes() == compiled, "run make messages to compile the catalogue"


def test_a_page_capture_is_requested_from_the_case_page(client, personas, case, django_capture_on_commit_callbacks):
    from cases.models import Capture

    client.force_login(personas.agent)
    url = reverse("cases:capture_request", args=[case.pk])
    answer = client.post(url, {"url": "http://169.254.169.254/latest/meta-data/"}, follow=True)
    assert "not allowed" in answer.content.decode()
    assert not Capture.objects.exists()
    client.force_login(personas.viewer)
    answer = client.post(url, {"url": "https://www.amazon.com/dp/B0C1HJ4K2L"}, follow=True)
    assert "Your role in this team does not allow this." in answer.content.decode()
    client.force_login(personas.outsider)
    assert client.post(url, {"url": "https://www.amazon.com/dp/B0C1HJ4K2L"}).status_code == 404
