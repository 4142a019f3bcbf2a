"""Operator linking: storefronts that one operator runs, and the rule that showed it."""

from __future__ import annotations

import unicodedata

from cases.models import CaseStorefront, OperatorGroup, OperatorLinkReason, Storefront
from cases.services.storefronts import operator_link
from evidence.services import Actor

LINKER = Actor.job("operator_linking")


def _text_key(value: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", value).casefold() if ch.isalnum())


def _phone_key(value: str) -> str:
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", value) if ch.isdigit())
    return digits if len(digits) >= 7 else ""


_PROFILE_RULES = (
    (OperatorLinkReason.BUSINESS_NAME, "business_name", _text_key, "business name"),
    (OperatorLinkReason.ADDRESS, "business_address", _text_key, "business address"),
    (OperatorLinkReason.PHONE, "phone", _phone_key, "phone"),
)


def operator_links_detect(*, storefront: Storefront, actor: Actor = LINKER) -> list[OperatorGroup]:
    """Link the storefront to others of its team that share profile details or take turns with it."""
    groups: list[OperatorGroup] = []
    for reason, name, key_of, label in _PROFILE_RULES:
        key = key_of(getattr(storefront, name))
        if len(key) < 4:
            continue
        others = Storefront.objects.filter(team_id=storefront.team_id).exclude(pk=storefront.pk).exclude(**{name: ""})
        matches = [
            s for s in others.only("pk", "team_id", "seller_id", "name", name) if key_of(getattr(s, name)) == key
        ]
        if matches:
            detail = f"Same {label}: {getattr(storefront, name)}"[:1000]
            groups.append(operator_link(storefronts=[storefront, *matches], reason=reason, actor=actor, detail=detail))
    rotating = _takes_turns_with(storefront)
    for other, asins in rotating:
        detail = f"Took turns on {', '.join(sorted(asins))}"
        groups.append(
            operator_link(
                storefronts=[storefront, other], reason=OperatorLinkReason.ROTATION, actor=actor, detail=detail
            )
        )
    return groups


def _takes_turns_with(storefront: Storefront) -> list[tuple[Storefront, set[str]]]:
    """Storefronts that sold the same listings as this one, never at the same time, twice or more."""
    mine = {
        link.case_id: link
        for link in CaseStorefront.objects.filter(storefront=storefront, first_seen__isnull=False).select_related(
            "case"
        )
    }
    if len(mine) < 2:
        return []
    turns: dict[int, set[str]] = {}
    others = CaseStorefront.objects.filter(case_id__in=mine, first_seen__isnull=False).exclude(storefront=storefront)
    for link in others:
        own = mine[link.case_id]
        assert own.first_seen
        assert own.last_seen
        assert link.first_seen
        assert link.last_seen
        if own.first_seen > link.last_seen or link.first_seen > own.last_seen:
            turns.setdefault(link.storefront_id, set()).add(own.case.asin)
    partners = {pk: asins for pk, asins in turns.items() if len(asins) >= 2}
    found = Storefront.objects.in_bulk(list(partners))
    return [(found[pk], partners[pk]) for pk in partners if pk in found]
