"""Staff's triage page: every open hold in the clinic, urgent first, then the longest waiting."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from programs.models import CoachAction, Hold
from programs.views import triage

pytestmark = pytest.mark.django_db

TRIAGE = "/triage/"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def now(clock):
    return clock("2026-03-10 12:00")


def clinical(user):
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="programs", codename="view_checkin")
    )
    return user


@pytest.fixture
def staff(django_user_model):
    return clinical(
        django_user_model.objects.create_user(
            "sam@example.com", "sam@example.com", first_name="Sam", last_name="Staff", is_staff=True
        )
    )


@pytest.fixture
def as_staff(staff):
    browser = Client()
    browser.force_login(staff)
    return browser


@pytest.fixture
def mother(make_enrolment, django_user_model):
    """mother("Hana", coach=None): an enrolment of a new user named Hana."""

    def make(first, coach=None):
        email = f"{first.lower()}@example.com"
        user = django_user_model.objects.create_user(email, email, first_name=first)
        return make_enrolment(user=user, coach=coach)

    return make


def hold(enrolment, tier=1, hours_ago=1, **extra):
    return Hold.objects.create(
        enrolment=enrolment, tier=tier, started_at=NOW - timedelta(hours=hours_ago), **extra
    )


def listed(response) -> list[str]:
    return [h.enrolment.user.first_name for h in response.context["page"]]


def row_html(response, enrolment) -> str:
    html = response.content.decode()
    start = html.index(f'href="{reverse("client", args=[enrolment.pk])}"')
    return html[html.rindex("<tr", 0, start) : html.index("</tr>", start)]


# Who may see it


def test_logged_out_goes_to_log_in(client):
    response = client.get(TRIAGE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_enrollee_and_a_coach_are_forbidden(member, coach):
    assert member.get(TRIAGE).status_code == 403
    as_coach = Client()
    as_coach.force_login(coach)
    assert as_coach.get(TRIAGE).status_code == 403


def test_staff_without_the_clinical_permission_see_no_holds(client, django_user_model, mother):
    hold(mother("Hana"))
    admin = django_user_model.objects.create_user("ad@example.com", is_staff=True)
    client.force_login(admin)
    response = client.get(TRIAGE)
    assert response.status_code == 200
    assert b"only clinical staff see them" in response.content
    assert b"Hana" not in response.content


# What it shows


def test_every_open_hold_urgent_first_then_oldest(as_staff, mother, coach):
    hold(mother("Amy"), tier=1, hours_ago=30)
    hold(mother("Bea", coach=coach), tier=2, hours_ago=1)
    hold(mother("Cat"), tier=2, hours_ago=5)
    hold(mother("Dot", coach=coach), tier=1, hours_ago=2)
    hold(mother("Eve"), tier=2, hours_ago=9, cleared_at=NOW - timedelta(hours=8))
    response = as_staff.get(TRIAGE)
    assert listed(response) == ["Cat", "Bea", "Amy", "Dot"]
    assert b"4 open holds." in response.content


def test_a_row_says_urgency_wait_coach_and_acknowledgement(as_staff, mother, coach, staff):
    bea = mother("Bea", coach=coach)
    hold(bea, tier=2, hours_ago=3, acknowledged_at=NOW - timedelta(hours=1), acknowledged_by=staff)
    amy = mother("Amy")
    hold(amy, tier=1, hours_ago=26)
    response = as_staff.get(TRIAGE)
    urgent, warning = row_html(response, bea), row_html(response, amy)
    assert '<span class="flag flag-urgent">Urgent</span>' in urgent
    assert "See a clinician" not in urgent
    assert '<span class="flag flag-hold">See a clinician</span>' in warning
    assert "Urgent" not in warning
    assert "3\xa0hours" in urgent
    assert "1\xa0day, 2\xa0hours" in warning
    assert "Dana Coach" in urgent
    assert "<strong>No coach</strong>" in warning
    assert "Sam Staff, 1\xa0hour ago" in urgent
    assert "Acknowledge</button>" not in urgent
    assert "Not yet" in warning and "Acknowledge</button>" in warning


def test_no_open_holds(as_staff):
    assert b"No open holds." in as_staff.get(TRIAGE).content


def test_it_says_when_no_clinic_address_is_set(as_staff, settings):
    settings.CLINIC_ALERT_EMAIL = ""
    response = as_staff.get(TRIAGE)
    assert b"No clinic address is set." in response.content
    settings.CLINIC_ALERT_EMAIL = "clinic@example.org"
    response = as_staff.get(TRIAGE)
    assert b"No clinic address is set." not in response.content
    assert b"go to clinic@example.org" in response.content


def test_paginated_in_sql(as_staff, mother, monkeypatch):
    monkeypatch.setattr(triage, "PER_PAGE", 2)
    for n, name in enumerate(["Amy", "Bea", "Cat", "Dot", "Eve"]):
        hold(mother(name), hours_ago=10 - n)
    assert listed(as_staff.get(TRIAGE)) == ["Amy", "Bea"]
    response = as_staff.get(TRIAGE, {"page": 3})
    assert listed(response) == ["Eve"]
    assert b"page 3 of 3" in response.content


def test_the_same_queries_for_one_hold_as_for_many(
    as_staff, mother, coach, staff, django_assert_num_queries
):
    hold(mother("Amy", coach=coach), acknowledged_at=NOW, acknowledged_by=staff)
    as_staff.get(TRIAGE)  # warm up the session's own queries
    with CaptureQueriesContext(connection) as one:
        as_staff.get(TRIAGE)
    for name in ["Bea", "Cat", "Dot", "Eve", "Fay"]:
        hold(mother(name, coach=coach), tier=2, acknowledged_at=NOW, acknowledged_by=staff)
        hold(mother(name + "x"))
    with django_assert_num_queries(len(one.captured_queries)):
        response = as_staff.get(TRIAGE)
    assert len(listed(response)) == 11


def test_staff_open_the_client_page_of_a_woman_without_a_coach(as_staff, mother):
    hana = mother("Hana")
    hold(hana)
    response = as_staff.get(reverse("client", args=[hana.pk]))
    assert response.status_code == 200
    assert b"See a clinician" in response.content


# Acknowledging from the triage page


def test_staff_acknowledge_and_come_back_to_the_same_page(as_staff, mother, staff):
    hana = mother("Hana")
    held = hold(hana)
    url = reverse("triage_acknowledge", args=[hana.pk])
    response = as_staff.post(url, {"page": "2"})
    assert response.status_code == 302
    assert response["Location"] == "/triage/?page=2"
    held.refresh_from_db()
    assert (held.acknowledged_at, held.acknowledged_by, held.cleared_at) == (NOW, staff, None)
    action = CoachAction.objects.get()
    assert (action.enrolment, action.kind, action.actor) == (hana, "acknowledged", staff)
    page = as_staff.get(TRIAGE)
    assert "Alert acknowledged. The hold stays until it is cleared." in page.content.decode()
    assert "already acknowledged" not in page.content.decode()
    assert "Sam Staff, 0\xa0minutes ago" in row_html(page, hana)


def test_acknowledging_twice_says_so_and_records_once(as_staff, mother):
    hana = mother("Hana")
    hold(hana)
    url = reverse("triage_acknowledge", args=[hana.pk])
    as_staff.post(url, follow=True)
    response = as_staff.post(url, follow=True)
    assert b"That alert was already acknowledged." in response.content
    assert b"Alert acknowledged." not in response.content
    assert CoachAction.objects.count() == 1


def test_nothing_to_acknowledge_is_said_plainly(as_staff, mother):
    hana = mother("Hana")
    response = as_staff.post(reverse("triage_acknowledge", args=[hana.pk]), follow=True)
    assert b"There is no open alert to acknowledge." in response.content


def test_acknowledging_needs_post_staff_and_csrf(mother, staff, member, coach, client):
    hana = mother("Hana")
    held = hold(hana)
    url = reverse("triage_acknowledge", args=[hana.pk])
    assert member.post(url).status_code == 403
    response = Client().post(url)
    assert response["Location"].startswith(reverse("login"))
    client.force_login(coach)
    assert client.post(url).status_code == 403
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff)
    assert strict.post(url).status_code == 403
    client.force_login(staff)
    assert client.get(url).status_code == 405
    held.refresh_from_db()
    assert held.acknowledged_at is None
    assert not CoachAction.objects.exists()


def test_staff_without_the_clinical_permission_cannot_acknowledge(
    client, django_user_model, mother
):
    hana = mother("Hana")
    held = hold(hana)
    admin = django_user_model.objects.create_user("ad@example.com", is_staff=True)
    client.force_login(admin)
    response = client.post(reverse("triage_acknowledge", args=[hana.pk]), follow=True)
    assert b"Only clinical staff can acknowledge alerts." in response.content
    held.refresh_from_db()
    assert held.acknowledged_at is None
