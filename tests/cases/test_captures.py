"""Page captures in real headless Chromium against a local site."""

import dataclasses
import hashlib

import pytest

from cases.models import Capture, Evidence, OperatorLink, Storefront
from cases.services.captures import capture_request
from evidence import netguard
from evidence.amazon import MARKETPLACES
from evidence.models import AuditEvent
from evidence.services import Actor, evidence_storage
from tests.factories import BrandFactory, CaseFactory, attach, manager_of
from tests.support.site import local_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    with local_site() as running:
        yield running


@pytest.fixture
def public_loopback(settings, monkeypatch):
    """Here 127.0.0.1 stands for a public host; 127.0.0.2 and every private range stay refused."""
    settings.ALLOW_PRIVATE_URLS = False
    real = netguard._blocked
    monkeypatch.setattr(netguard, "_blocked", lambda address: False if str(address) == "127.0.0.1" else real(address))


@pytest.fixture
def case(personas):
    return CaseFactory(brand=BrandFactory(team=personas.team), asin="B0C1HJ4K2L")


def run(case, url, django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        capture = capture_request(case=case, url=url, actor=manager_of(case.team), **kwargs)
    return Capture.objects.get(pk=capture.pk)


def test_a_capture_stores_screenshot_and_archive_with_their_hashes(
    api, case, site, public_loopback, django_capture_on_commit_callbacks
):
    site.html("/dp/B0C1HJ4K2L", "<title>Desk lamp 台灯</title><h1>Sold by 深圳市好又多贸易有限公司</h1>")
    with django_capture_on_commit_callbacks(execute=True):
        queued = api.agent.post(
            f"/api/v1/cases/{case.pk}/captures/", {"url": site.url("/dp/B0C1HJ4K2L")}, format="json"
        )
    assert queued.status_code == 202, queued.content
    job = api.viewer.get(queued["Location"]).json()
    assert (job["status"], job["http_status"], job["error"]) == ("done", 200, "")
    assert job["browser_version"].startswith("Chromium ")
    shot, archive = Evidence.objects.get(pk=job["screenshot"]), Evidence.objects.get(pk=job["archive"])
    assert (shot.kind, shot.blob.mime_type, shot.sha256) == ("screenshot", "image/png", job["screenshot_sha256"])
    assert archive.kind == "page_capture"
    with evidence_storage().open(archive.blob.storage_name, "rb") as stored:
        data = stored.read()
    assert hashlib.sha256(data).hexdigest() == job["archive_sha256"]
    assert "Snapshot-Content-Location: " + site.url("/dp/B0C1HJ4K2L") in data.decode()
    assert shot.source_url == site.url("/dp/B0C1HJ4K2L")
    assert shot.captured_by_job == "page_capture"
    assert api.outsider.get(queued["Location"]).status_code == 404


def test_requests_to_private_addresses_are_refused_whatever_asks_for_them(
    case, site, public_loopback, django_capture_on_commit_callbacks
):
    secret = "http://127.0.0.2:{port}/secret"
    site.html("/secret", "metadata credentials")
    site.pages["/go"] = (302, {"Location": secret.format(port=site.port)}, b"")
    site.html(
        "/hostile",
        f"""<title>Offers</title>
        <img src="{secret.format(port=site.port)}.png">
        <script src="http://[::ffff:127.0.0.2]:{site.port}/secret.js"></script>
        <iframe src="{site.url("/go")}"></iframe>
        <script>fetch("{secret.format(port=site.port)}?x").catch(() => {{}});
                new Image().src = "http://169.254.169.254/latest/meta-data/";</script>
        <p>Offer list</p>""",
    )
    capture = run(case, site.url("/hostile"), django_capture_on_commit_callbacks)
    assert capture.status == "done", capture.error
    assert site.addresses() == {"127.0.0.1"}, site.hits
    refused = AuditEvent.objects.get(action="capture.done").after["refused_requests"]
    assert refused
    assert all("not allowed" in line for line in refused)


def test_a_redirect_to_a_private_address_fails_the_capture(
    case, site, public_loopback, django_capture_on_commit_callbacks
):
    site.pages["/go"] = (302, {"Location": f"http://127.0.0.2:{site.port}/secret"}, b"")
    capture = run(case, site.url("/go"), django_capture_on_commit_callbacks)
    assert (capture.status, capture.error_code) == ("failed", "refused_url")
    assert site.addresses() == {"127.0.0.1"}
    assert not Evidence.objects.exists()


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "javascript:alert(1)", "http://127.0.0.2/", "http://[::1]/", "http://169.254.169.254/"],
)
def test_unsafe_addresses_are_refused_before_anything_is_queued(case, public_loopback, url):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        capture_request(case=case, url=url, actor=manager_of(case.team))
    assert not Capture.objects.exists()


def test_a_robot_check_is_recorded_as_such_not_stored_as_proof(
    case, site, public_loopback, django_capture_on_commit_callbacks
):
    site.html(
        "/sp",
        """<title>Amazon.com</title><form action="/errors/validateCaptcha">
        <h4>Enter the characters you see below</h4></form>""",
    )
    capture = run(case, site.url("/sp"), django_capture_on_commit_callbacks)
    assert (capture.status, capture.error_code) == ("failed", "robot_check")
    assert not Evidence.objects.exists()


def test_a_seller_profile_capture_fills_the_storefront_and_links_operators(
    case, site, public_loopback, django_capture_on_commit_callbacks, monkeypatch
):
    # The local site stands in for amazon.com, the only host whose profile pages are read.
    us = dataclasses.replace(MARKETPLACES["US"], domain="127.0.0.1")
    monkeypatch.setattr("cases.services.captures.MARKETPLACES", {**MARKETPLACES, "US": us})
    known = attach(case, 1)
    from cases import services

    services.storefront_update(
        storefront=known, actor=manager_of(case.team), business_name="Shenzhen Haoyouduo Trading Co., Ltd."
    )
    newcomer = attach(case, 2)
    site.html(
        "/sp?seller=A0000000000002",
        """<html><body><div id="page-section-detail-seller-info">
        <h3>Detailed Seller Information</h3>
        <div><span class="a-text-bold">Business Name:</span><span>Shenzhen Haoyouduo Trading Co., Ltd.</span></div>
        <div><span class="a-text-bold">Business Address:</span></div>
        <div class="indent-left"><span>Longgang District</span></div>
        <div class="indent-left"><span>Shenzhen</span></div>
        <div class="indent-left"><span>CN</span></div>
        </div></body></html>""",
    )
    capture = run(
        case,
        site.url("/sp?seller=A0000000000002"),
        django_capture_on_commit_callbacks,
        kind="seller_profile",
        storefront=newcomer,
    )
    assert capture.status == "done", capture.error
    newcomer = Storefront.objects.get(pk=newcomer.pk)
    assert newcomer.business_name == "Shenzhen Haoyouduo Trading Co., Ltd."
    assert "Shenzhen" in newcomer.business_address
    link = OperatorLink.objects.get(storefront=newcomer)
    assert link.reason == "business_name"
    assert OperatorLink.objects.get(storefront=known).group_id == link.group_id


def test_viewers_cannot_request_captures(case, personas):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        capture_request(case=case, url="https://www.amazon.com/dp/B0C1HJ4K2L", actor=Actor.of_user(personas.viewer))


def test_a_profile_page_from_elsewhere_changes_nothing(case, site, public_loopback, django_capture_on_commit_callbacks):
    storefront = attach(case, 2)
    site.html(
        "/fake-profile",
        '<div id="page-section-detail-seller-info"><span>Business Name:</span><span>Forged Ltd</span></div>',
    )
    capture = run(
        case,
        site.url("/fake-profile"),
        django_capture_on_commit_callbacks,
        kind="seller_profile",
        storefront=storefront,
    )
    assert capture.status == "done"
    assert Storefront.objects.get(pk=storefront.pk).business_name == ""
