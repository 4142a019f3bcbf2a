import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases.models import Evidence
from evidence.models import Blob
from tests.conftest import error_of
from tests.factories import attach, png_bytes

pytestmark = pytest.mark.django_db


def upload(client, case, data=None, name="shot.png", **fields):
    data = png_bytes() if data is None else data
    body = {"file": SimpleUploadedFile(name, data, content_type="image/png"), "kind": "screenshot", **fields}
    return client.post(f"/api/v1/cases/{case.pk}/evidence/", body, format="multipart")


def test_upload_returns_sha256_and_downloads_as_attachment(api, case):
    data = png_bytes(color="navy")
    response = upload(api.agent, case, data, source_url="https://www.amazon.com/dp/B0C1HJ4K2L", description="Offers")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["mime_type"] == "image/png"
    assert body["captured_by"] == "agent"
    item = api.viewer.get(body["download_url"])
    assert item.status_code == 200
    assert b"".join(item.streaming_content) == data
    assert item["Content-Disposition"].startswith("attachment")
    assert item["X-Content-Type-Options"] == "nosniff"
    assert api.outsider.get(body["download_url"]).status_code == 404
    assert api.outsider.get(f"/api/v1/evidence/{body['id']}/").status_code == 404


def test_large_upload_streams_through_a_temporary_file(api, case, settings):
    data = b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024)
    response = upload(api.agent, case, data, name="invoice.pdf", kind="document")
    assert response.status_code == 201
    assert response.json()["sha256"] == hashlib.sha256(data).hexdigest()
    assert response.json()["mime_type"] == "application/pdf"


def test_oversized_upload_is_413_and_leaves_nothing(api, case, settings):
    settings.EVIDENCE_MAX_BYTES = 1000
    response = upload(api.agent, case, b"x" * 5000)
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"
    settings.EVIDENCE_MAX_BYTES = 200_000
    response = upload(api.agent, case, b"y" * 300_000)
    assert response.status_code == 413
    assert not Evidence.objects.exists()
    assert not Blob.objects.exists()


def test_bad_uploads_are_field_errors(api, case):
    response = upload(api.agent, case, b"")
    assert error_of(response)["fields"]["file"][0]["code"] == "empty_file"
    response = upload(api.agent, case, kind="rumour")
    assert "kind" in error_of(response)["fields"]
    response = upload(api.agent, case, source_url="javascript:alert(1)")
    assert error_of(response)["fields"]["source_url"][0]["code"] == "invalid_url"
    assert upload(api.viewer, case).status_code == 403
    assert upload(api.outsider, case).status_code == 404
    assert not Evidence.objects.exists()


def test_idempotent_upload_stores_one_item(api, case):
    data = png_bytes(color="teal")
    first = api.agent.post(
        f"/api/v1/cases/{case.pk}/evidence/",
        {"file": io.BytesIO(data), "kind": "screenshot"},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="upload-1",
    )
    again = api.agent.post(
        f"/api/v1/cases/{case.pk}/evidence/",
        {"file": io.BytesIO(data), "kind": "screenshot"},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="upload-1",
    )
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert Evidence.objects.count() == 1


def test_withdraw(api, case):
    item = upload(api.agent, case).json()
    response = api.agent.post(f"/api/v1/evidence/{item['id']}/withdraw/", {"reason": "wrong ASIN"}, format="json")
    assert response.status_code == 200
    assert response.json()["withdrawn_by"] == "agent"
    again = api.agent.post(f"/api/v1/evidence/{item['id']}/withdraw/", {"reason": "again"}, format="json")
    assert error_of(again)["fields"]["evidence"][0]["code"] == "already_withdrawn"
    listed = api.viewer.get(f"/api/v1/cases/{case.pk}/evidence/").json()["results"]
    assert listed[0]["withdrawn_reason"] == "wrong ASIN"


def test_test_buy_flow(api, case):
    storefront = attach(case, 1)
    today = timezone.localdate().isoformat()
    bad = api.agent.post(
        f"/api/v1/cases/{case.pk}/test-buys/",
        {"storefront": storefront.pk, "order_id": "112-1", "order_date": today},
        format="json",
    )
    assert error_of(bad)["fields"]["order_id"][0]["code"] == "invalid_order_id"
    created = api.agent.post(
        f"/api/v1/cases/{case.pk}/test-buys/",
        {
            "storefront": storefront.pk,
            "order_id": "112-1234567-1234567",
            "order_date": today,
            "price_paid": "12.50",
            "currency": "usd",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    photo = upload(api.agent, case, kind="test_buy_photo").json()
    test_buy_url = f"/api/v1/test-buys/{created.json()['id']}/"
    early = api.agent.patch(test_buy_url, {"verdict": "counterfeit"}, format="json")
    assert error_of(early)["fields"]["verdict"][0]["code"] == "needs_delivery"
    done = api.agent.patch(
        test_buy_url,
        {"verdict": "counterfeit", "received_date": today, "comparison_notes": "No logo", "photos": [photo["id"]]},
        format="json",
    )
    assert done.status_code == 200, done.json()
    assert done.json()["photos"] == [photo["id"]]
    assert api.outsider.patch(test_buy_url, {"verdict": "genuine"}, format="json").status_code == 404
    listed = api.viewer.get(f"/api/v1/cases/{case.pk}/test-buys/").json()
    assert listed[0]["verdict"] == "counterfeit"


def test_warnings_are_not_flooded(api, case):
    storefront = attach(case, 1)
    body = {"storefront": storefront.pk, "text": "请停止跟卖。", "channel": "ask_a_question", "language": "zh-hans"}
    assert api.agent.post(f"/api/v1/cases/{case.pk}/warnings/", body, format="json").status_code == 201
    again = api.agent.post(f"/api/v1/cases/{case.pk}/warnings/", body, format="json")
    assert again.status_code == 400
    assert error_of(again)["fields"]["storefront"][0]["code"] == "too_soon"
    assert api.viewer.get(f"/api/v1/cases/{case.pk}/warnings/").json()[0]["text"] == "请停止跟卖。"


def test_a_warning_in_a_language_letters_are_not_written_in_is_refused(api, case):
    storefront = attach(case, 1)
    body = {"storefront": storefront.pk, "text": "Stop.", "channel": "email", "language": "fr"}
    refused = api.agent.post(f"/api/v1/cases/{case.pk}/warnings/", body, format="json")
    assert refused.status_code == 400
    assert error_of(refused)["fields"]["language"][0]["code"] == "invalid_choice"
    assert api.viewer.get(f"/api/v1/cases/{case.pk}/warnings/").json() == []


def test_submission_and_outcome(api, case):
    today = timezone.localdate().isoformat()
    created = api.agent.post(
        f"/api/v1/cases/{case.pk}/submissions/",
        {"channel": "report_infringement", "submitted_on": today, "amazon_ref": "CASE-1"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["asins"] == [case.asin]
    url = f"/api/v1/submissions/{created.json()['id']}/"
    rejected = api.agent.patch(url, {"outcome": "rejected"}, format="json")
    assert error_of(rejected)["fields"]["outcome_reason"][0]["code"] == "required"
    accepted = api.agent.patch(url, {"outcome": "accepted"}, format="json")
    assert accepted.json()["outcome"] == "accepted"
    assert accepted.json()["outcome_on"] == today


def test_a_hostile_upload_answers_with_a_field_error(api, case):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = upload(api.agent, case, svg, name="logo.svg", kind="document")
    assert response.status_code == 400
    assert "file" in response.json()["error"]["fields"]


def test_evidence_without_a_source_address_matches_the_schema(api, case, conforms):
    created = upload(api.agent, case)
    conforms(created)
    assert created.json()["source_url"] == ""
    conforms(api.agent.get(created.json()["download_url"]))
