from typing import Any

import pytest
from django.core.exceptions import ValidationError

from cases import services
from cases.models import Case, CaseStatus, WebhookDelivery
from cases.services.bulk import MAX_BULK_CASES, cases_bulk_assign, cases_bulk_transition
from cases.services.webhooks import webhook_endpoint_create
from evidence.models import AuditEvent
from evidence.selectors import audit_verify_all
from evidence.services import Actor
from tests.factories import BrandFactory, CaseFactory, manager_of

pytestmark = pytest.mark.django_db


def new_case(brand: Any, **kwargs: Any) -> Case:
    case: Case = CaseFactory(brand=brand, **kwargs)
    return case


@pytest.fixture
def brand(personas):
    return BrandFactory(team=personas.team)


@pytest.fixture
def agent(personas):
    return Actor.of_user(personas.agent)


def test_assign_changes_each_case_through_its_service(personas, brand, agent, monkeypatch):
    monkeypatch.setattr("cases.services.webhooks._check_url", lambda url: url)
    webhook_endpoint_create(
        team=personas.team, url="https://hooks.example.com/x", events=["case.updated"], actor=manager_of(personas.team)
    )
    cases = [new_case(brand) for _ in range(3)]
    result = cases_bulk_assign(cases=cases, assignee=personas.agent, actor=agent)
    assert [case.pk for case in result.done] == sorted(case.pk for case in cases)
    assert result.refused == []
    assert set(Case.objects.values_list("assignee", flat=True)) == {personas.agent.pk}
    events = AuditEvent.objects.filter(action="case.updated")
    assert sorted(int(e.subject_id) for e in events) == sorted(case.pk for case in cases)
    assert {e.actor_name for e in events} == {"agent"}
    assert WebhookDelivery.objects.filter(event_type="case.updated").count() == 3
    assert [problem for _, problem in audit_verify_all() if problem] == []


def test_unassign(personas, brand, agent):
    case = new_case(brand, assignee=personas.manager)
    cases_bulk_assign(cases=[case], assignee=None, actor=agent)
    case.refresh_from_db()
    assert case.assignee is None


def test_a_case_that_cannot_move_is_reported_and_the_others_move(personas, brand, agent, monkeypatch):
    monkeypatch.setattr("cases.services.webhooks._check_url", lambda url: url)
    webhook_endpoint_create(
        team=personas.team,
        url="https://hooks.example.com/x",
        events=["case.status_changed"],
        actor=manager_of(personas.team),
    )
    fresh, reported = new_case(brand), new_case(brand)
    services.case_transition(case=reported, status=CaseStatus.REPORTED, actor=agent)
    result = cases_bulk_transition(cases=[fresh, reported], status=CaseStatus.RESOLVED, actor=agent)
    assert [case.pk for case in result.done] == [reported.pk]
    assert [(r.case.pk, r.reason) for r in result.refused] == [
        (
            fresh.pk,
            "A new case cannot move to resolved; it can move to: investigating, warned, test_buy, reported, closed.",
        )
    ]
    assert Case.objects.get(pk=fresh.pk).status == CaseStatus.NEW
    assert Case.objects.get(pk=reported.pk).status == CaseStatus.RESOLVED
    # Nothing of the refused case is left: no audit row, no webhook.
    changed = AuditEvent.objects.filter(action="case.status_changed", after__status="resolved")
    assert [int(e.subject_id) for e in changed] == [reported.pk]
    resolved = WebhookDelivery.objects.filter(payload__changes__after__status="resolved")
    assert [d.payload["object"]["id"] for d in resolved] == [reported.pk]
    assert [problem for _, problem in audit_verify_all() if problem] == []


def test_closing_needs_a_reason_before_any_case_is_touched(personas, brand, agent):
    case = new_case(brand)
    with pytest.raises(ValidationError) as error:
        cases_bulk_transition(cases=[case], status=CaseStatus.CLOSED, actor=agent, reason="  ")
    assert error.value.message_dict == {"reason": ["Say why the cases are closed."]}
    result = cases_bulk_transition(cases=[case], status=CaseStatus.CLOSED, actor=agent, reason="Listing removed")
    assert result.done[0].closed_reason == "Listing removed"


def test_an_unknown_status_is_refused_for_the_batch(personas, brand, agent):
    with pytest.raises(ValidationError) as error:
        cases_bulk_transition(cases=[new_case(brand)], status="done", actor=agent)
    assert "status" in error.value.message_dict


def test_cases_of_a_team_where_the_actor_is_a_viewer_are_refused(personas, brand):
    ours = new_case(brand)
    theirs = new_case(BrandFactory(team=personas.outsider_team))
    services.membership_set(
        team=personas.outsider_team, user=personas.agent, role="viewer", actor=Actor.of_user(personas.outsider)
    )
    result = cases_bulk_assign(cases=[ours, theirs], assignee=None, actor=Actor.of_user(personas.agent))
    assert [case.pk for case in result.done] == [ours.pk]
    assert [(r.case.pk, r.reason) for r in result.refused] == [(theirs.pk, "This needs the agent role in the team.")]


def test_an_assignee_outside_a_cases_team_is_refused_for_that_case(personas, brand, agent):
    ours = new_case(brand)
    theirs = new_case(BrandFactory(team=personas.outsider_team))
    services.membership_set(
        team=personas.outsider_team, user=personas.agent, role="agent", actor=Actor.of_user(personas.outsider)
    )
    result = cases_bulk_assign(cases=[ours, theirs], assignee=personas.manager, actor=agent)
    assert [case.pk for case in result.done] == [ours.pk]
    assert result.refused[0].case.pk == theirs.pk
    assert "must be an agent or manager of the case's team" in result.refused[0].reason
    assert Case.objects.get(pk=theirs.pk).assignee is None


def test_a_batch_needs_cases_and_has_a_limit(personas, brand, agent):
    with pytest.raises(ValidationError) as error:
        cases_bulk_assign(cases=[], assignee=None, actor=agent)
    assert "cases" in error.value.message_dict
    many = [Case(pk=n) for n in range(1, MAX_BULK_CASES + 2)]
    with pytest.raises(ValidationError) as error:
        cases_bulk_assign(cases=many, assignee=None, actor=agent)
    assert error.value.message_dict == {"cases": [f"Select at most {MAX_BULK_CASES} cases at a time."]}


def test_the_same_case_twice_is_changed_once(personas, brand, agent):
    case = new_case(brand)
    result = cases_bulk_transition(cases=[case, case], status=CaseStatus.INVESTIGATING, actor=agent)
    assert len(result.done) == 1
    assert AuditEvent.objects.filter(action="case.status_changed").count() == 1
