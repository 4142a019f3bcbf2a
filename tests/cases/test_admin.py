import pytest
from django.urls import reverse

from cases.models import Case
from evidence.models import AuditEvent
from tests.factories import BrandFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    user = UserFactory(username="root")
    user.is_staff = user.is_superuser = True
    user.save()
    client.force_login(user)
    return user


def form(brand, **overrides):
    data = {
        "brand": brand.pk,
        "asin": "B0C1HJ4K2L",
        "marketplace": "US",
        "title": "From admin",
        "priority": "normal",
        "assignee": "",
        "external_refs": "[]",
    }
    data.update(overrides)
    return data


def test_admin_creates_cases_through_the_service(client, operator, personas):
    brand = BrandFactory(team=personas.team)
    response = client.post(reverse("admin:cases_case_add"), form(brand))
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.reference.startswith("HJ-")
    assert AuditEvent.objects.filter(action="case.created", actor_name="root").exists()


def test_admin_shows_refusals_and_writes_nothing(client, operator, personas):
    brand = BrandFactory(team=personas.team)
    client.post(reverse("admin:cases_case_add"), form(brand))
    response = client.post(reverse("admin:cases_case_add"), form(brand), follow=True)
    assert "Not saved" in response.content.decode()
    assert Case.objects.count() == 1


def test_staff_who_are_not_superusers_cannot_use_the_admin(client, personas):
    personas.manager.is_staff = True
    personas.manager.save(update_fields=["is_staff"])
    client.force_login(personas.manager)
    response = client.get(reverse("admin:cases_case_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_cannot_edit_or_delete_evidence(client, operator):
    assert client.get(reverse("admin:cases_evidence_add")).status_code == 403
