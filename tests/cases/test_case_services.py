import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases import services
from cases.models import Case, CaseStatus
from evidence.models import AuditEvent
from evidence.selectors import audit_verify_all
from evidence.services import Actor
from tests.factories import BrandFactory, CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def brand(personas):
    return BrandFactory(team=personas.team, name="Lumora")


def open_case(personas, brand, user=None, **kwargs):
    kwargs.setdefault("asin", "B0C1HJ4K2L")
    kwargs.setdefault("marketplace", "US")
    return services.case_open(brand=brand, actor=Actor.of_user(user or personas.agent), **kwargs)


def test_open_case_gets_reference_and_audit_row(personas, brand):
    case = open_case(personas, brand, marketplace="de", title="  Desk lamp ")
    assert case.reference == f"HJ-{timezone.now().year}-0001"
    assert case.marketplace == "DE"
    assert case.title == "Desk lamp"
    assert case.status == CaseStatus.NEW
    event = AuditEvent.objects.get(action="case.created")
    assert event.actor_name == "agent"
    assert event.ref == f"case:{case.pk}"
    assert event.after["asin"] == "B0C1HJ4K2L"


def test_references_count_up_per_team(personas, brand):
    first = open_case(personas, brand, asin="B000000001")
    second = open_case(personas, brand, asin="B000000002")
    other = CaseFactory(brand=BrandFactory(team=personas.outsider_team), asin="B000000003")
    assert first.reference.endswith("-0001")
    assert second.reference.endswith("-0002")
    assert other.reference.endswith("-0001")


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("asin", {"asin": "B0C1HJ4K2"}),
        ("asin", {"asin": "B0C1HJ4K2L!"}),
        ("marketplace", {"marketplace": "XX"}),
        ("priority", {"priority": "whenever"}),
        ("external_refs", {"external_refs": "JIRA-1"}),
    ],
)
def test_bad_input_is_refused_naming_the_field(personas, brand, field, kwargs):
    with pytest.raises(ValidationError) as error:
        open_case(personas, brand, **kwargs)
    assert field in error.value.message_dict
    assert not Case.objects.exists()
    assert not AuditEvent.objects.filter(action="case.created").exists()


def test_lowercase_asin_is_normalised(personas, brand):
    assert open_case(personas, brand, asin="b0c1hj4k2l").asin == "B0C1HJ4K2L"


def test_one_open_case_per_listing(personas, brand):
    first = open_case(personas, brand)
    with pytest.raises(ValidationError) as error:
        open_case(personas, brand)
    assert first.reference in error.value.message_dict["asin"][0]
    assert open_case(personas, brand, marketplace="UK").marketplace == "UK"


def test_assignee_must_work_in_the_team(personas, brand):
    with pytest.raises(ValidationError) as error:
        open_case(personas, brand, assignee=personas.outsider)
    assert "assignee" in error.value.message_dict
    with pytest.raises(ValidationError):
        open_case(personas, brand, assignee=personas.viewer)
    assert open_case(personas, brand, assignee=personas.agent).assignee == personas.agent


def test_viewer_and_outsider_cannot_open_cases(personas, brand):
    for user in (personas.viewer, personas.outsider):
        with pytest.raises(PermissionDenied):
            open_case(personas, brand, user=user)
    assert not Case.objects.exists()


def test_update_records_before_and_after(personas, brand):
    case = open_case(personas, brand)
    services.case_update(case=case, actor=Actor.of_user(personas.agent), priority="urgent", external_refs=["ZD-9"])
    event = AuditEvent.objects.get(action="case.updated")
    assert event.before == {"priority": "normal", "external_refs": []}
    assert event.after == {"priority": "urgent", "external_refs": ["ZD-9"]}


def test_update_refuses_unknown_fields(personas, brand):
    case = open_case(personas, brand)
    with pytest.raises(ValidationError) as error:
        services.case_update(case=case, actor=Actor.of_user(personas.agent), status="resolved")
    assert "status" in error.value.message_dict


def test_workflow_forward_then_resolved(personas, brand):
    case = open_case(personas, brand)
    actor = Actor.of_user(personas.agent)
    for status in ["investigating", "warned", "test_buy", "reported", "resolved"]:
        case = services.case_transition(case=case, status=status, actor=actor)
    assert case.status == "resolved"
    assert AuditEvent.objects.filter(action="case.status_changed").count() == 5


def test_forward_steps_may_be_skipped(personas, brand):
    case = open_case(personas, brand)
    case = services.case_transition(case=case, status="reported", actor=Actor.of_user(personas.agent))
    assert case.status == "reported"


@pytest.mark.parametrize(
    ("path", "target"),
    [([], "resolved"), (["warned"], "investigating"), (["reported"], "new"), ([], "reopened"), ([], "bogus")],
)
def test_illegal_transitions_are_refused(personas, brand, path, target):
    case = open_case(personas, brand)
    actor = Actor.of_user(personas.agent)
    for status in path:
        case = services.case_transition(case=case, status=status, actor=actor)
    with pytest.raises(ValidationError) as error:
        services.case_transition(case=case, status=target, actor=actor)
    assert "status" in error.value.message_dict
    case.refresh_from_db()
    assert case.status == (path[-1] if path else "new")


def test_close_needs_a_reason_and_reopen_clears_it(personas, brand):
    case = open_case(personas, brand)
    actor = Actor.of_user(personas.agent)
    with pytest.raises(ValidationError) as error:
        services.case_transition(case=case, status="closed", actor=actor, reason="  ")
    assert "reason" in error.value.message_dict
    case = services.case_transition(case=case, status="closed", actor=actor, reason="Seller was authorized after all")
    assert case.closed_reason == "Seller was authorized after all"
    case = services.case_transition(case=case, status="reopened", actor=actor)
    assert case.closed_reason == ""
    assert case.status == "reopened"
    case = services.case_transition(case=case, status="investigating", actor=actor)


def test_reopening_is_refused_while_another_case_is_open(personas, brand):
    actor = Actor.of_user(personas.agent)
    old = services.case_transition(case=open_case(personas, brand), status="closed", actor=actor, reason="dup")
    open_case(personas, brand)
    with pytest.raises(ValidationError):
        services.case_transition(case=old, status="reopened", actor=actor)


def test_every_write_leaves_a_verifiable_chain(personas, brand):
    case = open_case(personas, brand)
    services.case_transition(case=case, status="investigating", actor=Actor.of_user(personas.agent))
    assert [problem for _, problem in audit_verify_all() if problem] == []


def test_a_new_assignee_is_notified_unless_they_assigned_themselves(personas, brand):
    from cases.models import Notification, NotificationKind

    case = open_case(personas, brand)
    services.case_update(case=case, actor=Actor.of_user(personas.agent), assignee=personas.agent)
    assert not Notification.objects.exists()
    services.case_update(case=case, actor=Actor.of_user(personas.agent), assignee=personas.manager)
    note = Notification.objects.get()
    assert (note.user, note.kind, note.case) == (personas.manager, NotificationKind.ASSIGNED, case)
    assert case.reference in note.message
    services.case_update(case=case, actor=Actor.of_user(personas.agent), assignee=personas.manager, title="Same")
    services.case_update(case=case, actor=Actor.of_user(personas.agent), assignee=None)
    assert Notification.objects.count() == 1, "only a change to a person notifies"
