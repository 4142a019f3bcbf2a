"""Telling team members: a row per person in the app, and an e-mail sent after commit."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from cases.models import Case, Membership, Notification, NotificationKind, Role


def notify_team(*, case: Case, kind: NotificationKind, message: str) -> list[Notification]:
    """Notify every agent and manager of the case's team."""
    user_ids = Membership.objects.filter(
        team_id=case.team_id, user__is_active=True, role__in=[Role.AGENT, Role.MANAGER]
    ).values_list("user_id", flat=True)
    return _create(case=case, user_ids=list(user_ids), kind=kind, message=message)


def notify_users(*, case: Case, user_ids: Iterable[int], kind: NotificationKind, message: str) -> list[Notification]:
    """Notify these people about the case; anyone not an active member of its team is skipped."""
    members = Membership.objects.filter(
        team_id=case.team_id, user__is_active=True, user_id__in=set(user_ids)
    ).values_list("user_id", flat=True)
    return _create(case=case, user_ids=sorted(members), kind=kind, message=message)


def _create(*, case: Case, user_ids: list[int], kind: NotificationKind, message: str) -> list[Notification]:
    notes = Notification.objects.bulk_create(
        Notification(team_id=case.team_id, user_id=user_id, kind=kind, case=case, message=message[:2000])
        for user_id in user_ids
    )
    _email_after_commit(notes)
    return notes


def _email_after_commit(notes: list[Notification]) -> None:
    from cases.tasks import notifications_email

    ids = [note.pk for note in notes]
    if ids:
        notifications_email.delay_on_commit(ids)


@transaction.atomic
def notifications_mark_read(*, user_id: int, ids: list[int] | None = None) -> int:
    """Mark a user's notifications read (all of them when ``ids`` is None)."""
    unread = Notification.objects.filter(user_id=user_id, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


def notifications_send_email(*, ids: list[int]) -> int:
    """Send the e-mails of these notifications that were not sent yet; returns how many went out.

    Rows are claimed before sending, so two workers never send one twice; a failed send
    gives them back for the task's retry.
    """
    with transaction.atomic():
        notes = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=ids, emailed_at__isnull=True)
            .exclude(user__email="")
            .select_related("user__preferences", "case")
        )
        claimed = [note.pk for note in notes]
        Notification.objects.filter(pk__in=claimed).update(emailed_at=timezone.now())
    messages = []
    for note in notes:
        prefs = getattr(note.user, "preferences", None)
        # The subject speaks the reader's language when they chose one.
        with translation.override(prefs.language if prefs and prefs.language else settings.LANGUAGE_CODE):
            subject = f"[casemanager] {note.get_kind_display()}"
        body = note.message
        if note.case is not None:
            subject += f": {note.case.reference}"
            body += f"\n\n{settings.SITE_URL.rstrip('/')}{reverse('cases:case_detail', args=[note.case_id])}"
        messages.append((subject, body, None, [note.user.email]))
    try:
        send_mass_mail(messages, fail_silently=False)
    except Exception:
        Notification.objects.filter(pk__in=claimed).update(emailed_at=None)
        raise
    return len(messages)
