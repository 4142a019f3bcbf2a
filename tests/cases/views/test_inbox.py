import pytest
from django.urls import reverse

from cases.services.notifications import notify_team
from tests.factories import BrandFactory, CaseFactory

pytestmark = pytest.mark.django_db


def test_notifications_are_listed_counted_and_marked_read(client, personas):
    case = CaseFactory(brand=BrandFactory(team=personas.team))
    notify_team(case=case, kind="new_hijacker", message="<script>x</script> A0000000000001 now sells B0C1HJ4K2L")
    client.force_login(personas.agent)
    page = client.get(reverse("cases:notifications")).content.decode()
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    assert case.reference in page
    assert '<span class="badge"' in page
    client.post(reverse("cases:notifications"))
    assert '<span class="badge"' not in client.get(reverse("cases:notifications")).content.decode()
    client.force_login(personas.outsider)
    assert case.reference not in client.get(reverse("cases:notifications")).content.decode()
    client.force_login(personas.viewer)  # viewers are not paged about new hijackers
    assert "A0000000000001" not in client.get(reverse("cases:notifications")).content.decode()
