"""The case page's evidence gallery, uploads, captures and dossier panel."""

import datetime as dt
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import Capture, Dossier, DossierStatus, Evidence, JobStatus
from cases.services.dossiers import dossier_request
from cases.services.evidence import evidence_withdraw
from evidence.models import AuditEvent, Blob
from evidence.services import Actor
from tests.factories import BrandFactory, CaseFactory, add_evidence, attach, manager_of, png_bytes

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
JSON = {"HTTP_ACCEPT": "application/json"}
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def case(personas):
    return CaseFactory(brand=BrandFactory(team=personas.team), title="Desk lamp")


def upload(client, case, data=None, name="shot.png", headers=None, **fields):
    body = {
        "file": SimpleUploadedFile(name, png_bytes() if data is None else data, content_type="image/png"),
        "kind": "screenshot",
        **fields,
    }
    return client.post(reverse("cases:evidence_upload", args=[case.pk]), body, **(headers or {}))


def with_images(case, django_capture_on_commit_callbacks, count=1):
    """Image evidence whose thumbnails are made (the task runs in-process after commit)."""
    with django_capture_on_commit_callbacks(execute=True):
        return [add_evidence(case, png_bytes(color=f"#{n:06x}"), original_name=f"shot{n}.png") for n in range(count)]


def gallery(client, case):
    return client.get(reverse("cases:evidence_gallery", args=[case.pk])).content.decode()


def test_form_upload_stores_the_file_with_its_hash_and_audit_row(client, personas, case):
    data = png_bytes(color="navy")
    client.force_login(personas.agent)
    response = upload(client, case, data, description="Offer page", source_url="https://www.amazon.com/dp/B0C1HJ4K2L")
    assert response.status_code == 302
    assert response["Location"].endswith(f"/cases/{case.pk}/#evidence")
    item = Evidence.objects.get()
    assert item.sha256 == hashlib.sha256(data).hexdigest()
    assert (item.captured_by, item.description, item.original_name) == (personas.agent, "Offer page", "shot.png")
    assert AuditEvent.objects.get(action="evidence.added").after["blob"] == item.sha256
    page = client.get(response["Location"]).content.decode()
    assert item.sha256 in page
    assert f"E{item.pk}" in page


def test_xhr_upload_answers_json_with_the_hash(client, personas, case):
    data = png_bytes(color="teal")
    storefront = attach(case, 1, name="深圳市好运来贸易有限公司")
    client.force_login(personas.agent)
    response = client.post(
        reverse("cases:evidence_upload", args=[case.pk]),
        {"file": SimpleUploadedFile("pasted-2026-05-01.png", data), "kind": "screenshot", "storefront": storefront.pk},
        **JSON,
    )
    assert response.status_code == 201
    body = response.json()
    item = Evidence.objects.get()
    assert body["sha256"] == hashlib.sha256(data).hexdigest() == item.sha256
    assert body["label"] == f"E{item.pk}"
    assert body["download_url"] == reverse("cases:evidence_download", args=[case.pk, item.pk])
    assert item.storefront == storefront


def test_oversized_uploads_are_refused_and_leave_nothing(client, personas, case, settings):
    client.force_login(personas.agent)
    settings.EVIDENCE_MAX_BYTES = 1000
    page = upload(client, case, b"x" * 5000)
    assert page.status_code == 400
    assert 'id="evidence-file_error"' in page.content.decode()
    assert "larger than the limit" in page.content.decode()
    # Far over the limit: refused from the request's length, before the body is read.
    settings.EVIDENCE_MAX_BYTES = 200_000
    refused = upload(client, case, b"y" * 300_000, headers=JSON)
    assert refused.status_code == 413
    assert "larger than the limit" in refused.json()["errors"]["file"][0]
    assert upload(client, case, b"z" * 300_000).status_code == 413
    assert not Evidence.objects.exists()
    assert not Blob.objects.exists()


def test_bad_input_is_shown_next_to_its_field_and_typed_values_are_kept(client, personas, case):
    client.force_login(personas.agent)
    future = (timezone.now() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    page = upload(client, case, captured_at=future, description="Seen on the offers page")
    assert page.status_code == 400
    html = page.content.decode()
    assert 'id="evidence-captured_at_error"' in html
    assert "cannot be in the future" in html
    assert "Seen on the offers page" in html, "the description typed is kept"
    assert f'value="{future}"' in html
    bad_kind = upload(client, case, kind="rumour", headers=JSON)
    assert bad_kind.status_code == 400
    assert set(bad_kind.json()["errors"]) == {"kind"}
    bad_url = upload(client, case, source_url="javascript:alert(1)", headers=JSON)
    assert bad_url.json()["errors"]["source_url"] == ["Give an http or https address."]
    empty = upload(client, case, b"", headers=JSON)
    assert empty.json()["errors"]["file"] == ["The file is empty."]
    assert not Evidence.objects.exists()


def test_viewers_cannot_upload_and_outsiders_get_404(client, personas, case):
    client.force_login(personas.viewer)
    refused = upload(client, case)
    assert refused.status_code == 400
    assert "Your role in this team does not allow this." in refused.content.decode()
    assert upload(client, case, headers=JSON).json()["errors"][""] == ["Your role in this team does not allow this."]
    page = client.get(reverse("cases:case_detail", args=[case.pk])).content.decode()
    assert reverse("cases:evidence_upload", args=[case.pk]) not in page, "viewers are not offered the form"
    client.force_login(personas.outsider)
    assert upload(client, case).status_code == 404
    assert client.get(reverse("cases:evidence_upload", args=[case.pk])).status_code == 404
    assert not Evidence.objects.exists()


def test_thumbnails_are_served_inline_as_jpeg_to_the_team_only(
    client, personas, case, django_capture_on_commit_callbacks
):
    (image,) = with_images(case, django_capture_on_commit_callbacks)
    document = add_evidence(case, b"%PDF-1.4\n% a letter\n", kind="document", original_name="invoice.pdf")
    client.force_login(personas.viewer)
    response = client.get(reverse("cases:evidence_thumbnail", args=[case.pk, image.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "attachment" not in response.get("Content-Disposition", "")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"].startswith("private, max-age=")
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8")
    assert client.get(reverse("cases:evidence_thumbnail", args=[case.pk, document.pk])).status_code == 404
    html = gallery(client, case)
    assert reverse("cases:evidence_thumbnail", args=[case.pk, image.pk]) in html
    assert '<span class="file-tile" aria-hidden="true">PDF</span>' in html
    client.force_login(personas.outsider)
    for name in ("evidence_thumbnail", "evidence_download"):
        assert client.get(reverse(f"cases:{name}", args=[case.pk, image.pk])).status_code == 404
    assert client.get(reverse("cases:evidence_gallery", args=[case.pk])).status_code == 404


def test_gallery_shows_times_in_the_users_zone_and_utc(client, personas, case):
    captured = dt.datetime(2026, 3, 1, 1, 30, tzinfo=dt.UTC)
    add_evidence(case, captured_at=captured)
    client.force_login(personas.agent)
    client.post(reverse("cases:preferences"), {"language": "", "time_zone": "Asia/Shanghai"})
    html = gallery(client, case)
    assert "2026-03-01 09:30" in html
    assert "(2026-03-01 01:30 UTC)" in html


def test_withdrawal_keeps_the_item_and_says_why(client, personas, case):
    item = add_evidence(case)
    url = reverse("cases:evidence_withdraw", args=[case.pk, item.pk])
    client.force_login(personas.viewer)
    assert "Your role in this team does not allow this." in client.post(url, {"reason": "Wrong"}).content.decode()
    assert url not in gallery(client, case), "viewers are not offered the form"
    client.force_login(personas.agent)
    assert url in gallery(client, case)
    empty = client.post(url, {"reason": ""})
    assert empty.status_code == 400
    assert f'id="withdraw-{item.pk}-reason_error"' in empty.content.decode()
    refused_htmx = client.post(url, {"reason": "  "}, **HTMX).content.decode()
    assert f'id="withdraw-{item.pk}-reason_error"' in refused_htmx
    assert '<details class="evidence-withdraw" open>' in refused_htmx
    done = client.post(url, {"reason": "Shows another listing"})
    assert done.status_code == 302
    item.refresh_from_db()
    assert item.is_withdrawn
    assert item.withdrawn_by == personas.agent
    assert AuditEvent.objects.filter(action="evidence.withdrawn").count() == 1
    html = gallery(client, case)
    assert "Withdrawn" in html
    assert "Shows another listing" in html
    assert url not in html, "a withdrawn item is not offered for withdrawal again"
    assert Evidence.objects.filter(pk=item.pk).exists()
    again = client.post(url, {"reason": "twice"}, **HTMX)
    assert again.status_code == 200
    client.force_login(personas.outsider)
    assert client.post(url, {"reason": "x"}).status_code == 404


def test_dossier_panel_polls_only_while_a_build_runs(client, personas, case):
    dossier = dossier_request(case=case, actor=manager_of(case.team))  # queued: its task runs after commit
    Dossier.objects.filter(pk=dossier.pk).update(status=DossierStatus.RUNNING, progress=40, stage="rendering")
    client.force_login(personas.viewer)
    panel_url = reverse("cases:dossier_panel", args=[case.pk])
    running = client.get(panel_url, **HTMX).content.decode()
    assert 'value="40"' in running
    assert "40%" in running
    assert "rendering" in running
    assert f'hx-get="{panel_url}"' in running
    assert 'hx-trigger="every 2s"' in running
    Dossier.objects.filter(pk=dossier.pk).update(status=DossierStatus.FAILED, error="Chromium crashed")
    failed = client.get(panel_url, **HTMX).content.decode()
    assert "hx-trigger" not in failed
    assert "Chromium crashed" in failed
    page = client.get(reverse("cases:case_detail", args=[case.pk])).content.decode()
    assert "Chromium crashed" in page, "the panel renders server-side too"


def test_dossier_build_from_the_panel(client, personas, case):
    build = reverse("cases:dossier_build", args=[case.pk])
    client.force_login(personas.viewer)
    refused = client.post(build, **HTMX).content.decode()
    assert "Your role in this team does not allow this." in refused
    assert build not in refused, "viewers are not offered the button"
    client.force_login(personas.agent)
    queued = client.post(build, **HTMX).content.decode()
    assert 'hx-trigger="every 2s"' in queued
    assert "v1" in queued
    assert client.post(build).status_code == 302
    assert list(case.dossiers.values_list("version", flat=True)) == [2, 1]
    client.force_login(personas.outsider)
    assert client.post(build).status_code == 404
    assert client.get(reverse("cases:dossier_panel", args=[case.pk])).status_code == 404
    assert case.dossiers.count() == 2


def test_capture_jobs_poll_only_while_one_is_pending(client, personas, case, settings):
    settings.ALLOW_PRIVATE_URLS = True
    client.force_login(personas.agent)
    answer = client.post(
        reverse("cases:capture_request", args=[case.pk]), {"url": "http://127.0.0.1:9/dp/B0C1HJ4K2L"}, **HTMX
    ).content.decode()
    jobs_url = reverse("cases:capture_jobs", args=[case.pk])
    assert f'hx-get="{jobs_url}"' in answer
    assert 'hx-trigger="every 2s"' in answer
    capture = Capture.objects.get()
    assert client.get(jobs_url, **HTMX).has_header("HX-Trigger") is False
    Capture.objects.filter(pk=capture.pk).update(status=JobStatus.FAILED, error=f"Robot check {HOSTILE}")
    done = client.get(jobs_url, **HTMX)
    assert "hx-trigger" not in done.content.decode()
    assert done["HX-Trigger"] == "evidence-changed", "the gallery fetches the new screenshot"
    assert ESCAPED in done.content.decode()
    bad = client.post(reverse("cases:capture_request", args=[case.pk]), {"url": "ftp://example.com/x"}, **HTMX)
    assert 'id="capture-url_error"' in bad.content.decode()
    assert 'value="ftp://example.com/x"' in bad.content.decode()
    client.force_login(personas.outsider)
    assert client.get(jobs_url).status_code == 404


def test_hostile_names_descriptions_and_addresses_are_escaped(client, personas, case):
    storefront = attach(case, 2, name=HOSTILE)
    hostile_url = 'https://example.com/?q="><script>alert(1)</script>'
    add_evidence(
        case, original_name=f"{HOSTILE}.png", description=HOSTILE, source_url=hostile_url, storefront=storefront
    )
    add_evidence(case, b"plain text", kind="document", source_url="")
    client.force_login(personas.agent)
    for html in (gallery(client, case), client.get(reverse("cases:case_detail", args=[case.pk])).content.decode()):
        assert HOSTILE not in html
        assert ESCAPED in html
        assert 'href="https://example.com/?q=&quot;&gt;&lt;script&gt;' in html
        assert 'rel="noreferrer noopener"' in html


def test_gallery_queries_do_not_grow_with_items(client, personas, case, django_capture_on_commit_callbacks):
    client.force_login(personas.agent)

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("cases:evidence_gallery", args=[case.pk])).status_code == 200
        return len(queries)

    with_images(case, django_capture_on_commit_callbacks)
    few = count_queries()
    storefront = attach(case, 3, name="Store 3")
    more = with_images(case, django_capture_on_commit_callbacks, count=4)
    add_evidence(case, b"%PDF-1.4\n", kind="document", storefront=storefront)
    evidence_withdraw(evidence=more[0], reason="Duplicate", actor=Actor.of_user(personas.agent))
    assert count_queries() == few
    # session, user, case (teams, row), evidence, thumbnails, role, and the notification context's teams
    assert few <= 8
