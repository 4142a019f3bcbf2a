import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import services
from cases.models import AuthorizedSeller, Brand, IPRight, WarningTemplate
from evidence.models import AuditEvent
from tests.factories import BrandFactory, manager_of, png_bytes

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"
PDF = b"%PDF-1.4\n% registration certificate\n"


@pytest.fixture
def brand(personas):
    return BrandFactory(team=personas.team, name="Lumora")


def certificate(data=PDF, name="cert.pdf"):
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def test_managers_add_a_brand_from_the_list(client, personas):
    client.force_login(personas.manager)
    page = client.get(reverse("cases:brand_list")).content.decode()
    assert "New brand" in page
    response = client.post(reverse("cases:brand_list"), {"team": personas.team.pk, "name": "Lumora"})
    brand = Brand.objects.get()
    assert response["Location"] == reverse("cases:brand_settings", args=[brand.pk])
    again = client.post(reverse("cases:brand_list"), {"team": personas.team.pk, "name": "Lumora"})
    assert 'aria-invalid="true"' in again.content.decode()
    assert Brand.objects.count() == 1


def test_others_cannot_add_brands(client, personas):
    client.force_login(personas.agent)
    assert "New brand" not in client.get(reverse("cases:brand_list")).content.decode()
    assert client.post(reverse("cases:brand_list"), {"team": personas.team.pk, "name": "X"}).status_code == 403
    client.force_login(personas.outsider)
    client.post(reverse("cases:brand_list"), {"team": personas.team.pk, "name": "X"})
    assert not Brand.objects.filter(team=personas.team).exists()


def test_brand_list_links_to_settings_and_watch(client, personas, brand):
    client.force_login(personas.viewer)
    page = client.get(reverse("cases:brand_list")).content.decode()
    assert reverse("cases:brand_settings", args=[brand.pk]) in page
    assert reverse("cases:brand_watch", args=[brand.pk]) in page


def test_manager_edits_the_details(client, personas, brand):
    client.force_login(personas.manager)
    url = reverse("cases:brand_settings", args=[brand.pk])
    form = {
        "action": "details",
        "brand-name": "Lumora",
        "brand-rights_owner": "Lumora GmbH",
        "brand-contact_email": "legal@lumora.example",
        "brand-capture_new_hijackers": "on",
    }
    assert client.post(url, form).status_code == 302
    brand.refresh_from_db()
    assert (brand.rights_owner, brand.amazon_is_authorized, brand.capture_new_hijackers) == ("Lumora GmbH", False, True)
    bad = client.post(url, {**form, "brand-contact_email": "not-an-address"}).content.decode()
    assert 'id="id_brand-contact_email_error"' in bad
    assert 'value="not-an-address"' in bad


def test_authorized_sellers_are_validated_next_to_the_field(client, personas, brand):
    client.force_login(personas.manager)
    url = reverse("cases:brand_settings", args=[brand.pk])
    bad = client.post(url, {"action": "add_seller", "seller-marketplace": "US", "seller-seller_id": "B123"})
    html = bad.content.decode()
    assert 'id="id_seller-seller_id_error"' in html
    assert "A seller ID is 12 to 16" in html
    assert 'value="B123"' in html
    good = {
        "action": "add_seller",
        "seller-marketplace": "DE",
        "seller-seller_id": "a2abcdefghijk1",
        "seller-name": HOSTILE,
    }
    assert client.post(url, good).status_code == 302
    seller = AuthorizedSeller.objects.get()
    assert seller.seller_id == "A2ABCDEFGHIJK1"
    duplicate = client.post(url, good).content.decode()
    assert 'id="id_seller-seller_id_error"' in duplicate
    page = client.get(url).content.decode()
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert client.post(url, {"action": "remove_seller", "seller": seller.pk}).status_code == 302
    assert not AuthorizedSeller.objects.exists()


def test_viewers_read_but_cannot_write(client, personas, brand):
    client.force_login(personas.viewer)
    url = reverse("cases:brand_settings", args=[brand.pk])
    page = client.get(url).content.decode()
    assert "Lumora" in page
    assert "Save details" not in page
    response = client.post(url, {"action": "details", "brand-name": "Renamed"})
    assert response.status_code == 403
    assert "Only managers" in response.content.decode()
    brand.refresh_from_db()
    assert brand.name == "Lumora"
    assert client.get(reverse("cases:ip_right_add", args=[brand.pk])).status_code == 403
    letters = reverse("cases:brand_letters", args=[brand.pk])
    assert client.post(letters, {"kind": "first_warning", "language": "en", "body": "Hi"}).status_code == 403
    assert not WarningTemplate.objects.exists()


def test_outsiders_get_404_everywhere(client, personas, brand):
    right = services.ip_right_create(
        brand=brand, kind="trademark", actor=manager_of(personas.team), certificate=io.BytesIO(PDF)
    )
    client.force_login(personas.outsider)
    for name, args in (
        ("cases:brand_settings", [brand.pk]),
        ("cases:brand_letters", [brand.pk]),
        ("cases:ip_right_add", [brand.pk]),
        ("cases:ip_right_edit", [brand.pk, right.pk]),
        ("cases:ip_right_certificate", [brand.pk, right.pk]),
    ):
        assert client.get(reverse(name, args=args)).status_code == 404, name
        assert client.post(reverse(name, args=args), {"action": "details"}).status_code in (404, 405), name
    assert "Lumora" not in client.get(reverse("cases:brand_list")).content.decode()


def test_hostile_brand_name_is_escaped(client, personas):
    brand = BrandFactory(team=personas.team, name=HOSTILE)
    client.force_login(personas.viewer)
    for url in (
        reverse("cases:brand_list"),
        reverse("cases:brand_settings", args=[brand.pk]),
        reverse("cases:brand_letters", args=[brand.pk]),
    ):
        html = client.get(url).content.decode()
        assert HOSTILE not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


def test_ip_right_with_certificate_is_stored_by_hash_and_downloaded_by_the_team_only(client, personas, brand):
    client.force_login(personas.manager)
    response = client.post(
        reverse("cases:ip_right_add", args=[brand.pk]),
        {
            "kind": "trademark",
            "mark_text": "LUMORA",
            "registration_number": "123",
            "status": "registered",
            "certificate": certificate(),
        },
    )
    assert response.status_code == 302
    right = IPRight.objects.select_related("certificate").get()
    digest = hashlib.sha256(PDF).hexdigest()
    assert (right.certificate.sha256, right.certificate_name) == (digest, "cert.pdf")
    assert digest in client.get(reverse("cases:brand_settings", args=[brand.pk])).content.decode()
    url = reverse("cases:ip_right_certificate", args=[brand.pk, right.pk])
    client.force_login(personas.viewer)
    download = client.get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Type"] == "application/pdf"
    client.force_login(personas.outsider)
    assert client.get(url).status_code == 404


def test_certificate_is_a_pdf_or_an_image_within_the_size_limit(client, personas, brand, settings):
    client.force_login(personas.manager)
    add = reverse("cases:ip_right_add", args=[brand.pk])
    html = client.post(
        add, {"kind": "trademark", "status": "registered", "certificate": certificate(b"<html>hi</html>", "x.html")}
    ).content.decode()
    assert 'id="id_certificate_error"' in html
    assert not IPRight.objects.exists()
    settings.EVIDENCE_MAX_BYTES = 10
    html = client.post(
        add, {"kind": "trademark", "status": "registered", "certificate": certificate()}
    ).content.decode()
    assert "larger than the limit" in html
    assert not IPRight.objects.exists()


def test_certificate_is_attached_later_and_audited(client, personas, brand):
    client.force_login(personas.manager)
    right = services.ip_right_create(brand=brand, kind="trademark", actor=manager_of(personas.team))
    edit = reverse("cases:ip_right_edit", args=[brand.pk, right.pk])
    image = png_bytes()
    upload = SimpleUploadedFile("scan.png", image, content_type="image/png")
    assert client.post(edit, {"action": "certificate", "file-certificate": upload}).status_code == 302
    right.refresh_from_db()
    assert right.certificate_id == hashlib.sha256(image).hexdigest()
    event = AuditEvent.objects.get(action="ip_right.certificate_attached")
    assert event.after["certificate"] == right.certificate_id
    missing = client.post(edit, {"action": "certificate"}).content.decode()
    assert 'id="id_file-certificate_error"' in missing
    changed = client.post(
        edit, {"action": "details", "right-kind": "trademark", "right-office": "EUIPO", "right-status": "pending"}
    )
    assert changed.status_code == 302
    right.refresh_from_db()
    assert (right.office, right.status) == ("EUIPO", "pending")


def test_letters_show_the_built_in_text_until_the_team_sets_its_own(client, personas, brand):
    client.force_login(personas.manager)
    url = reverse("cases:brand_letters", args=[brand.pk])
    page = client.get(url, {"kind": "first_warning", "language": "en"}).content.decode()
    assert "We are contacting you about your offer on ASIN $asin" in page
    assert "Built-in text" in page
    bad = client.post(url, {"kind": "first_warning", "language": "en", "body": "Pay $money"}).content.decode()
    assert "Unknown placeholders $money" in bad
    assert "Pay $money" in bad
    saved = client.post(url, {"kind": "first_warning", "language": "zh-hans", "body": "您好 $storefront_name"})
    assert saved.status_code == 302
    assert WarningTemplate.objects.get(team=personas.team, language="zh-hans").body == "您好 $storefront_name"
    assert "您好 $storefront_name" in client.get(url, {"kind": "first_warning", "language": "zh-hans"}).content.decode()
    assert client.get(url, {"kind": "nonsense"}).status_code == 404


def test_brand_pages_queries_do_not_grow_with_rows(client, personas, brand):
    client.force_login(personas.viewer)
    actor = manager_of(personas.team)

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    settings_url = reverse("cases:brand_settings", args=[brand.pk])
    list_url = reverse("cases:brand_list")
    few = (count(settings_url), count(list_url))
    for n in range(5):
        services.ip_right_create(brand=brand, kind="trademark", actor=actor, certificate=io.BytesIO(PDF + bytes([n])))
        services.authorized_seller_add(brand=brand, marketplace="US", seller_id=f"A{n:013d}", actor=actor)
        BrandFactory(team=personas.team)
    assert (count(settings_url), count(list_url)) == few
