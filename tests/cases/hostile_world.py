"""A team with one of every record, for writing hostile text into each field (see tests/support/hostile.py)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model
from django.test import Client
from django.utils import timezone

from cases import services
from cases.models import Case, Storefront
from evidence.models import AuditEvent
from tests.factories import BrandFactory, CaseFactory, add_evidence, attach, manager_of, seller_id

# A stored value, read back after a write: None when the write created nothing.
Reader = Callable[[], Any]


@dataclass
class World:
    personas: Any
    api: Any
    web: Client
    brand: Any
    case: Case
    storefront: Storefront
    evidence: Any
    test_buy: Any
    submission: Any
    numbers: Any = field(default_factory=lambda: itertools.count(100))
    # What the current write was prepared with: a fresh case, storefront or evidence item.
    prepared: Any = None

    @property
    def actor(self) -> Any:
        return manager_of(self.personas.team)

    def fresh_case(self) -> Any:
        return CaseFactory(brand=self.brand, asin=f"B0{next(self.numbers):08d}")

    def fresh_storefront(self) -> Storefront:
        return attach(self.case, next(self.numbers))

    def fresh_seller_id(self) -> str:
        return seller_id(next(self.numbers))

    def fresh_evidence(self) -> Any:
        return add_evidence(self.case)


def build_world(personas: Any, api: Any) -> World:
    brand = BrandFactory(team=personas.team, name="Lumora")
    case = CaseFactory(brand=brand, asin="B0C1HJ4K2L", title="Desk lamp")
    storefront = attach(case, 1)
    actor = manager_of(personas.team)
    test_buy = services.test_buy_record(
        case=case,
        storefront=storefront,
        order_id="111-1234567-1234567",
        order_date=timezone.localdate() - dt.timedelta(days=3),
        actor=actor,
    )
    submission = services.submission_record(
        case=case, channel="report_a_violation", submitted_on=timezone.localdate(), actor=actor
    )
    web = Client()
    web.force_login(personas.manager)
    return World(personas, api, web, brand, case, storefront, add_evidence(case), test_buy, submission)


def newest(model: type[Model], attribute: str, **filters: Any) -> Reader:
    """Reads ``attribute`` of a row created after this call, or None when none was."""
    before = model._default_manager.filter(**filters).order_by("-pk").values_list("pk", flat=True).first() or 0

    def read() -> Any:
        row = model._default_manager.filter(pk__gt=before, **filters).order_by("-pk").first()
        return None if row is None else getattr(row, attribute)

    return read


def current(obj: Model, attribute: str) -> Reader:
    def read() -> Any:
        obj.refresh_from_db()
        return getattr(obj, attribute)

    return read


def audit_count() -> int:
    return AuditEvent.objects.count()
