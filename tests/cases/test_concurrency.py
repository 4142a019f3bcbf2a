"""Concurrent writers on the real PostgreSQL: constraints and locks hold under races."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from cases import services
from cases.models import Case, CaseStorefront, Role, Storefront, Warning
from evidence.selectors import audit_verify_all
from evidence.services import Actor
from tests.factories import BrandFactory, CaseFactory, MemberFactory, attach

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(workers, target):
    barrier = threading.Barrier(workers)
    results: list[object] = []

    def run(index):
        try:
            barrier.wait()
            results.append(target(index))
        except Exception as error:  # the race's losers are part of the result
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_one_open_case_per_listing_under_a_race(personas):
    brand = BrandFactory(team=personas.team)
    actor = Actor.of_user(personas.agent)
    results = race(6, lambda i: services.case_open(brand=brand, asin="B0RACE0001", marketplace="US", actor=actor))
    assert sum(isinstance(r, Case) for r in results) == 1
    assert all(isinstance(r, ValidationError) for r in results if not isinstance(r, Case))
    assert Case.objects.count() == 1


def test_one_warning_wins_a_race(personas):
    case = CaseFactory(brand=BrandFactory(team=personas.team))
    storefront = attach(case, 1)
    actor = Actor.of_user(personas.agent)
    results = race(
        4,
        lambda i: services.warning_record(case=case, storefront=storefront, text="stop", channel="email", actor=actor),
    )
    assert sum(isinstance(r, Warning) for r in results) == 1
    assert Warning.objects.count() == 1


def test_same_new_seller_attached_twice_at_once(personas):
    case = CaseFactory(brand=BrandFactory(team=personas.team))
    actor = Actor.of_user(personas.agent)
    results = race(4, lambda i: services.storefront_attach(case=case, seller_id="A1RACESELLER001", actor=actor))
    assert all(isinstance(r, CaseStorefront) for r in results), results
    assert Storefront.objects.count() == 1
    assert CaseStorefront.objects.count() == 1


def test_two_managers_demoting_each_other_keep_one(personas):
    other = MemberFactory(team=personas.team, role=Role.MANAGER, username="manager2")
    pairs = [(personas.manager, other), (other, personas.manager)]
    race(
        2,
        lambda i: services.membership_set(
            team=personas.team, user=pairs[i][1], role="agent", actor=Actor.of_user(pairs[i][0])
        ),
    )
    assert personas.team.memberships.filter(role=Role.MANAGER).count() == 1


def test_references_and_audit_chain_stay_whole_under_parallel_writes(personas):
    brand = BrandFactory(team=personas.team)
    actor = Actor.of_user(personas.agent)
    results = race(8, lambda i: services.case_open(brand=brand, asin=f"B0PAR{i:05d}", marketplace="US", actor=actor))
    assert all(isinstance(r, Case) for r in results), results
    references = sorted(c.reference for c in results)
    assert len(set(references)) == 8
    assert [problem for _, problem in audit_verify_all() if problem] == []
