"""Concurrent writers on the real PostgreSQL: constraints and locks hold under races."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from cases import services
from cases.models import Case
from evidence.selectors import audit_verify_all
from evidence.services import Actor
from tests.factories import BrandFactory

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


def test_references_and_audit_chain_stay_whole_under_parallel_writes(personas):
    brand = BrandFactory(team=personas.team)
    actor = Actor.of_user(personas.agent)
    results = race(8, lambda i: services.case_open(brand=brand, asin=f"B0PAR{i:05d}", marketplace="US", actor=actor))
    assert all(isinstance(r, Case) for r in results), results
    references = sorted(c.reference for c in results)
    assert len(set(references)) == 8
    assert [problem for _, problem in audit_verify_all() if problem] == []
