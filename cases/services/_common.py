"""Pieces every service shares: authorisation, audit rows, and field-by-field changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Membership, Role
from evidence import netguard
from evidence.errors import field_error
from evidence.services import Actor, AuditEntry, audit_record_many, jsonable


def team_chain(team_id: int) -> str:
    return f"team:{team_id}"


def case_ref(case_id: int) -> str:
    return f"case:{case_id}"


def role_of(user: Any, team_id: int) -> Role | None:
    if getattr(user, "is_superuser", False) and user.is_active:
        return Role.MANAGER
    role = Membership.objects.filter(team_id=team_id, user=user, user__is_active=True).values_list("role", flat=True)
    found = role.first()
    return Role(found) if found else None


def authorize(actor: Actor, team_id: int, needed: Role) -> None:
    """Refuse a user whose role in the team is below ``needed``; jobs act for the system."""
    if not actor.is_user:
        return
    role = role_of(actor.user, team_id)
    if role is None or not role.includes(needed):
        raise role_needed(needed)


def role_needed(needed: Role) -> PermissionDenied:
    """The refusal of a user whose role is below ``needed``."""
    return PermissionDenied(_("This needs the %(role)s role in the team.") % {"role": needed.label.lower()})


# Inside ``deferred_records()``, audit rows are collected here, by team, and written last.
_deferred: ContextVar[dict[int, list[AuditEntry]] | None] = ContextVar("deferred_records", default=None)


def record(
    *,
    actor: Actor,
    action: str,
    subject: models.Model,
    team_id: int,
    case_id: int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    row = entry(actor=actor, action=action, subject=subject, case_id=case_id, before=before, after=after)
    collected = _deferred.get()
    if collected is not None:
        collected.setdefault(team_id, []).append(row)
        return
    audit_record_many(chain=team_chain(team_id), entries=[row])


@contextmanager
def deferred_records() -> Iterator[dict[int, list[AuditEntry]]]:
    """Collect the audit rows of the services called inside, to write them with ``record_all``.

    A batch that touches several teams would otherwise lock their audit chains in the
    order it meets them, and two batches meeting them in other orders could deadlock.
    """
    collected: dict[int, list[AuditEntry]] = {}
    token = _deferred.set(collected)
    try:
        yield collected
    finally:
        _deferred.reset(token)


def record_all(collected: dict[int, list[AuditEntry]]) -> None:
    """Write collected audit rows, chain by chain in team order (the order every batch locks them in)."""
    for team_id in sorted(collected):
        audit_record_many(chain=team_chain(team_id), entries=collected[team_id])


def entry(
    *,
    actor: Actor,
    action: str,
    subject: models.Model,
    case_id: int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """An audit row to write later with ``record_all``, in the same transaction."""
    return AuditEntry(
        actor=actor,
        action=action,
        subject=subject,
        ref=case_ref(case_id) if case_id is not None else "",
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
    )


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        attname = getattr(field, "attname", name)
        values[name] = jsonable(getattr(obj, attname))
    return values


def apply_changes(
    obj: models.Model, changes: Mapping[str, Any], *, allowed: Iterable[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set the changed values on ``obj``; return (before, after) of the fields that changed.

    Unknown fields are refused by name rather than ignored, so a typo is never a silent no-op.
    """
    allowed_set = set(allowed)
    unknown = sorted(set(changes) - allowed_set)
    if unknown:
        raise ValidationError(
            {name: ValidationError(_("This field cannot be changed here."), code="read_only") for name in unknown}
        )
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in changes.items():
        current = getattr(obj, name)
        if current != value:
            before[name] = jsonable(current)
            after[name] = jsonable(value)
            setattr(obj, name, value)
    return before, after


def save_changes(
    obj: models.Model,
    changes: Mapping[str, Any],
    *,
    allowed: Iterable[str],
    actor: Actor,
    action: str,
    team_id: int,
    case_id: int | None = None,
    exclude: Iterable[str] = (),
    check: Callable[[], None] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The update every service makes: apply, validate, save only what changed, audit it.

    Returns (before, after) of the fields that changed; nothing is written when none did.
    """
    before, after = apply_changes(obj, changes, allowed=allowed)
    if after:
        full_clean(obj, exclude=exclude)
        if check is not None:
            check()
        touched = ["updated_at"] if any(f.name == "updated_at" for f in obj._meta.concrete_fields) else []
        obj.save(update_fields=[*after, *touched])
        record(actor=actor, action=action, subject=obj, team_id=team_id, case_id=case_id, before=before, after=after)
    return before, after


def full_clean(obj: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """Validate a row; errors of multi-field unique constraints are put on their last field.

    NUL characters are refused here for every text field: PostgreSQL cannot store them.
    """
    nul = {
        field.name: ValidationError(_("Text cannot contain NUL characters."), code="null_characters")
        for field in obj._meta.concrete_fields
        if isinstance(getattr(obj, field.attname, None), str) and "\x00" in getattr(obj, field.attname)
    }
    if nul:
        raise ValidationError(nul)
    try:
        obj.full_clean(exclude=list(exclude))
    except ValidationError as error:
        raise _on_fields(error) from None


def _on_fields(error: ValidationError) -> ValidationError:
    if not hasattr(error, "error_dict") or NON_FIELD_ERRORS not in error.error_dict:
        return error
    fields = {name: list(errors) for name, errors in error.error_dict.items() if name != NON_FIELD_ERRORS}
    for item in error.error_dict[NON_FIELD_ERRORS]:
        check = (item.params or {}).get("unique_check") if item.code == "unique_together" else None
        target = check[-1] if check else NON_FIELD_ERRORS
        fields.setdefault(target, []).append(item)
    return ValidationError(fields)


def require_aware(field: str, value: dt.datetime | None) -> None:
    if value is not None and timezone.is_naive(value):
        raise field_error(field, _("Give a time with its time zone, e.g. 2026-05-01T09:30:00Z."), "naive")


def public_url(url: str, *, schemes: frozenset[str], max_length: int = 2048) -> str:
    """``url``, stripped, if it may be fetched; a field error on ``url`` saying why otherwise.

    Resolves the host (network I/O): call it before the transaction opens.
    """
    url = url.strip()
    if len(url) > max_length:
        raise field_error("url", _("The address is longer than %(max)s characters.") % {"max": max_length}, "too_long")
    try:
        netguard.resolve(url, schemes=schemes)
    except netguard.UnsafeURL as error:
        raise field_error("url", str(error), "unsafe_url") from None
    except netguard.ResolutionFailed as error:
        raise field_error("url", str(error), "unresolvable") from None
    return url


def clean_file_name(name: str) -> str:
    """An uploaded name kept as metadata only: no folders, no control characters, bounded."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable())
    return cleaned.strip()[:255]
