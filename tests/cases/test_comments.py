import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from cases.models import Notification, NotificationKind
from cases.services.comments import MAX_COMMENT_LENGTH, comment_post, mention_candidates
from evidence.models import AuditEvent
from evidence.services import Actor
from tests.factories import BrandFactory, CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(personas):
    return CaseFactory(brand=BrandFactory(team=personas.team))


def test_mentions_of_team_members_are_stored_and_notified(personas, case, django_capture_on_commit_callbacks):
    personas.viewer.email = "viewer@example.com"
    personas.viewer.save()
    UserFactory(username="stranger")
    body = "@viewer, @manager. please check; @stranger and @outsider cannot see this; mail a@manager.com"
    with django_capture_on_commit_callbacks(execute=True):
        comment = comment_post(case=case, body=body, actor=Actor.of_user(personas.agent))
    assert set(comment.mentions.all()) == {personas.viewer, personas.manager}
    notes = Notification.objects.filter(kind=NotificationKind.MENTIONED)
    assert {note.user for note in notes} == {personas.viewer, personas.manager}
    assert all(note.case == case and "agent mentioned you" in note.message for note in notes)
    assert [message.to for message in mail.outbox] == [["viewer@example.com"]]
    event = AuditEvent.objects.get(action="comment.posted")
    assert event.after["mentions"] == sorted([personas.viewer.pk, personas.manager.pk])


def test_the_author_is_not_notified_of_their_own_mention(personas, case):
    comment = comment_post(case=case, body="note to self @agent", actor=Actor.of_user(personas.agent))
    assert list(comment.mentions.all()) == [personas.agent]
    assert not Notification.objects.exists()


def test_body_is_required_and_bounded(personas, case):
    actor = Actor.of_user(personas.manager)
    with pytest.raises(ValidationError) as empty:
        comment_post(case=case, body="  \n ", actor=actor)
    assert empty.value.message_dict["body"]
    with pytest.raises(ValidationError) as long:
        comment_post(case=case, body="x" * (MAX_COMMENT_LENGTH + 1), actor=actor)
    assert "10,000" in long.value.message_dict["body"][0]
    assert comment_post(case=case, body="x" * MAX_COMMENT_LENGTH, actor=actor).body == "x" * MAX_COMMENT_LENGTH


def test_viewers_and_outsiders_cannot_comment(personas, case):
    for user in (personas.viewer, personas.outsider):
        with pytest.raises(PermissionDenied):
            comment_post(case=case, body="hello", actor=Actor.of_user(user))
    assert not AuditEvent.objects.filter(action="comment.posted").exists()


def test_mention_candidates_tolerate_punctuation():
    assert mention_candidates("hi @ana. and @bo-b, (@li) x@y.com @") == ["ana.", "ana", "bo-b", "li"]
