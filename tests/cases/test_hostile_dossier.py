"""Hostile text in a dossier PDF and in webhook bodies: printed or sent as text, never loaded or interpreted."""

from __future__ import annotations

import logging
import subprocess

import pytest
from django.utils import timezone

from cases import services
from cases.models import DossierStatus
from cases.services.dossiers import dossier_build, dossier_request
from cases.services.webhooks import webhook_endpoint_create
from evidence.services import Actor, evidence_storage
from tests.cases.hostile_world import World, build_world
from tests.factories import add_evidence
from tests.support.hostile import MARKUP, hostile_site_payloads
from tests.support.site import local_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(personas, api):
    return build_world(personas, api)


def _pdf_text(dossier, tmp_path) -> str:
    path = tmp_path / "dossier.pdf"
    with evidence_storage().open(dossier.pdf.storage_name) as source:
        path.write_bytes(source.read())
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_a_dossier_full_of_markup_prints_it_and_fetches_nothing(world: World, tmp_path, caplog):
    with local_site() as site:
        payloads = hostile_site_payloads(site.url("").rstrip("/"))
        text = " ".join(payloads.values())
        actor = world.actor
        services.brand_update(brand=world.brand, actor=actor, rights_owner=payloads["img"], contact_address=text)
        services.case_update(case=world.case, title=payloads["css"], actor=actor)
        services.storefront_update(
            storefront=world.storefront,
            actor=actor,
            name=payloads["inline_style"][:300],
            business_name=payloads["link"],
            business_address=text,
        )
        services.test_buy_update(
            test_buy=world.test_buy,
            received_date=timezone.localdate(),
            verdict="counterfeit",
            comparison_notes=text,
            actor=actor,
        )
        services.submission_set_outcome(
            submission=world.submission, outcome="rejected", reason=text, amazon_ref=payloads["rtl"], actor=actor
        )
        add_evidence(world.case, description=text, source_url=site.url("/source"))
        dossier = dossier_request(case=world.case, actor=Actor.job("test"))
        with caplog.at_level(logging.WARNING):
            dossier_build(dossier_id=dossier.pk)
        dossier.refresh_from_db()
        assert dossier.status == DossierStatus.DONE, dossier.error
        assert site.hits == [], "the renderer fetched nothing the text named"
    refused = [record.getMessage() for record in caplog.records if "refused to load" in record.getMessage()]
    assert refused == [], "the markup was never parsed, so nothing was even tried"
    # Long text wraps anywhere in a table cell: compare without the line breaks.
    printed = "".join(_pdf_text(dossier, tmp_path).split())
    for name in ("img", "css", "file", "javascript", "object"):
        assert "".join(payloads[name].split()) in printed, name
    # Bidi controls are formatting, not glyphs: the right-to-left words around them are printed.
    assert "متجر" in printed or "رجتم" in printed


def test_webhook_bodies_carry_hostile_text_as_json_strings(
    world: World, receiver, settings, django_capture_on_commit_callbacks
):
    settings.ALLOW_PRIVATE_URLS = True
    webhook_endpoint_create(
        team=world.personas.team, url=receiver.url, events=["case.updated", "storefront.attached"], actor=world.actor
    )
    value = MARKUP["script"] + MARKUP["controls"] + MARKUP["rtl"]
    with django_capture_on_commit_callbacks(execute=True):
        services.case_update(case=world.case, title=value, actor=world.actor)
        services.storefront_attach(case=world.case, seller_id=world.fresh_seller_id(), name=value, actor=world.actor)
    assert len(receiver.requests) == 2
    for request in receiver.requests:
        assert request["headers"]["Content-Type"].startswith("application/json")
    bodies = {r["json"]["type"]: r["json"]["object"] for r in receiver.requests}
    assert bodies["case.updated"]["title"] == value
    assert bodies["storefront.attached"]["storefront"]["name"] == value
    assert b"\\u0001" in receiver.requests[0]["body"], "control characters are JSON escapes"
