"""Factories that create through the services, so every row has its audit trail."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from PIL import Image

from cases import services
from cases.models import Membership, Role
from evidence.services import Actor


def png_bytes(width: int = 64, height: int = 48, color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw")


class TeamFactory(factory.Factory):
    class Meta:
        model = dict  # built by the service below

    name = factory.Sequence(lambda n: f"Team {n}")
    creator = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class: Any, **kwargs: Any) -> Any:
        return services.team_create(name=kwargs["name"], actor=Actor.of_user(kwargs["creator"]))


class MemberFactory(factory.Factory):
    """A user with a role in ``team``; returns the user."""

    class Meta:
        model = dict

    team = None
    role = Role.AGENT
    username = factory.Sequence(lambda n: f"member{n}")

    @classmethod
    def _create(cls, model_class: Any, **kwargs: Any) -> Any:
        user = UserFactory(username=kwargs["username"])
        manager = Membership.objects.filter(team=kwargs["team"], role=Role.MANAGER).first()
        assert manager is not None
        services.membership_set(team=kwargs["team"], user=user, role=kwargs["role"], actor=Actor.of_user(manager.user))
        return user


def manager_of(team: Any) -> Actor:
    membership = Membership.objects.filter(team=team, role=Role.MANAGER).select_related("user").first()
    assert membership is not None
    return Actor.of_user(membership.user)


class BrandFactory(factory.Factory):
    class Meta:
        model = dict

    team = None
    name = factory.Sequence(lambda n: f"Brand {n}")

    @classmethod
    def _create(cls, model_class: Any, **kwargs: Any) -> Any:
        team = kwargs.pop("team")
        return services.brand_create(team=team, actor=manager_of(team), **kwargs)


class CaseFactory(factory.Factory):
    class Meta:
        model = dict

    brand = None
    asin = factory.Sequence(lambda n: f"B0{n:08d}")
    marketplace = "US"
    title = "Hijacked listing"

    @classmethod
    def _create(cls, model_class: Any, **kwargs: Any) -> Any:
        brand = kwargs["brand"]
        return services.case_open(actor=manager_of(brand.team), **kwargs)


def seller_id(n: int) -> str:
    return f"A{n:013d}"


def attach(case: Any, n: int = 1, name: str = "") -> Any:
    return services.storefront_attach(
        case=case, seller_id=seller_id(n), name=name or f"Store {n}", actor=manager_of(case.team)
    ).storefront


def sight(case: Any, storefront: Any, *, days_ago: float = 0, price: str = "9.99") -> Any:
    return services.sighting_record(
        case=case,
        storefront=storefront,
        actor=manager_of(case.team),
        seen_at=timezone.now() - dt.timedelta(days=days_ago),
        price=Decimal(price),
        currency="USD",
    )


def add_evidence(case: Any, data: bytes | None = None, **kwargs: Any) -> Any:
    return services.evidence_ingest(
        case=case,
        file=io.BytesIO(data if data is not None else png_bytes()),
        kind=kwargs.pop("kind", "screenshot"),
        actor=kwargs.pop("actor", manager_of(case.team)),
        **kwargs,
    )
