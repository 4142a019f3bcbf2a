import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Notification
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


def _notes(personas, n):
    case = CaseFactory(brand=BrandFactory(team=personas.team))
    for i in range(n):
        notify_team(case=case, kind="new_hijacker", message=f"Store {i} now sells {case.asin}")
    return case


def test_one_notification_is_marked_read_and_the_page_kept(client, personas):
    _notes(personas, 3)
    note, other = Notification.objects.filter(user=personas.agent)[:2]
    client.force_login(personas.agent)
    url = reverse("cases:notifications")
    response = client.post(f"{url}?page=1", {"read": note.pk})
    assert response["Location"] == f"{url}?page=1"
    assert Notification.objects.get(pk=note.pk).read_at is not None
    assert Notification.objects.get(pk=other.pk).read_at is None
    page = client.get(url).content.decode()
    assert page.count('<tr class="unread">') == 2
    assert "Read " in page
    assert f'name="read" value="{other.pk}"' in page
    assert f'name="read" value="{note.pk}"' not in page


def test_another_persons_notification_is_not_marked(client, personas):
    _notes(personas, 1)
    managers = Notification.objects.get(user=personas.manager)
    client.force_login(personas.agent)
    client.post(reverse("cases:notifications"), {"read": managers.pk})
    assert Notification.objects.get(pk=managers.pk).read_at is None
    client.force_login(personas.outsider)
    client.post(reverse("cases:notifications"), {"read": managers.pk})
    assert Notification.objects.get(pk=managers.pk).read_at is None


def test_notifications_come_in_pages_with_the_same_queries(client, personas):
    _notes(personas, 1)
    client.force_login(personas.agent)
    url = reverse("cases:notifications")

    def count_queries(**params):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, params)
        return len(queries), response.content.decode()

    one, _ = count_queries()
    _notes(personas, 60)
    many, first = count_queries()
    assert many == one
    assert first.count('class="unread"') == 50
    assert 'href="?page=2" rel="next">Older' in first
    again, second = count_queries(page=2)
    assert again == one
    assert second.count('class="unread"') == 11


def test_no_notifications(client, personas):
    client.force_login(personas.viewer)
    page = client.get(reverse("cases:notifications")).content.decode()
    assert "No notifications." in page
    assert "Mark all as read" not in page
