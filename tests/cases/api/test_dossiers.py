import hashlib
import io
import json
import zipfile

import pytest

from tests.cases.test_dossiers import tall_screenshot
from tests.factories import add_evidence

pytestmark = pytest.mark.django_db


def test_api_job_pdf_and_bundle(api, case, personas, django_capture_on_commit_callbacks):
    add_evidence(case, data=tall_screenshot(800, 1200))
    assert api.viewer.post(f"/api/v1/cases/{case.pk}/dossiers/").status_code == 403
    assert api.outsider.post(f"/api/v1/cases/{case.pk}/dossiers/").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        queued = api.agent.post(f"/api/v1/cases/{case.pk}/dossiers/")
    assert queued.status_code == 202
    assert queued.json()["status"] == "queued"
    job = api.viewer.get(queued["Location"]).json()
    assert (job["status"], job["progress"]) == ("done", 100)
    assert job["requested_by"] == "agent"
    pdf = api.viewer.get(job["pdf_url"])
    assert pdf["Content-Type"] == "application/pdf"
    assert hashlib.sha256(b"".join(pdf.streaming_content)).hexdigest() == job["sha256"]
    bundle = api.viewer.get(job["bundle_url"])
    archive = zipfile.ZipFile(io.BytesIO(b"".join(bundle.streaming_content)))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["dossier_sha256"] == job["sha256"]
    for row in manifest["exhibits"]:
        assert hashlib.sha256(archive.read(row["file"])).hexdigest() == row["sha256"]
    assert "sha256sum" in archive.read("README.txt").decode()
    assert "exhibit,file,sha256" in archive.read("manifest.csv").decode()
    assert api.outsider.get(job["bundle_url"]).status_code == 404
    versions = api.viewer.get(f"/api/v1/cases/{case.pk}/dossiers/").json()
    assert [v["version"] for v in versions] == [1]
