"""Who sees what: her coach and clinical staff see her health data; other staff see the client
but not her answers; other coaches and clients see nothing. And she can name and remove her
coach."""

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from programs import roles
from programs.models import CheckIn, CoachAction, Hold, Notification
from tests.conftest import make

pytestmark = pytest.mark.django_db

NOTE = "Tired and sore this week"
SECRET_NOTE = "Working note about her pelvic floor"


@pytest.fixture(autouse=True)
def now(clock):
    return clock("2026-03-10 09:00", "Europe/London")


@pytest.fixture
def enrolment(make_enrolment, coach):
    """Amira, coached by Dana, with a red-flag check-in, its hold and a coach's note."""
    enrolment = make_enrolment(coach=coach)
    checkin = CheckIn.objects.create(
        enrolment=enrolment,
        week=1,
        submitted_at=datetime(2026, 3, 8, 20, tzinfo=UTC),
        pain=7,
        pain_sites=["hip"],
        warning_signs=["leaking"],
        sessions_felt="too_hard",
        note=NOTE,
        tier=1,
    )
    Hold.objects.create(
        enrolment=enrolment, checkin=checkin, tier=1, started_at=checkin.submitted_at
    )
    CoachAction.objects.create(
        enrolment=enrolment,
        actor=coach,
        kind=CoachAction.Kind.NOTE,
        detail=SECRET_NOTE,
        at=checkin.submitted_at,
    )
    return enrolment


# role: (client page status, sees her health data)
MATRIX = {
    "her coach": (200, True),
    "clinical staff": (200, True),
    "staff with the permission": (200, True),
    "superuser": (200, True),
    "staff": (200, False),
    "another coach": (404, False),
    "another client": (403, False),
    "her": (403, False),
    "visitor": (302, False),
}


def client_for(role):
    client = Client()
    user = make(role)
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("role", MATRIX)
def test_the_client_page_shows_health_data_only_to_those_allowed(enrolment, role):
    status, health = MATRIX[role]
    response = client_for(role).get(reverse("client", args=[enrolment.pk]))
    assert response.status_code == status
    content = response.content.decode()
    for private in [NOTE, SECRET_NOTE, "7 / 10", "Leaking", "Tier 1 hold", "weeks after birth"]:
        assert (private in content) is health, (role, private)
    if status == 200:
        assert "Amira" in content and "Week 1 of 6" in content  # the client herself, always
        hidden = "shown only to her coach and to clinical staff"
        assert (hidden in content) is not health


@pytest.mark.parametrize("role", [r for r, (status, _) in MATRIX.items() if status == 200])
def test_the_dashboard_and_csv_show_pain_and_holds_only_to_those_allowed(enrolment, role):
    health = MATRIX[role][1]
    client = client_for(role)
    query = {"coach": "all"} if role != "her coach" else {}
    page = client.get(reverse("dashboard"), query).content.decode()
    assert "Amira" in page
    assert ("7/10" in page) is health
    assert ("See a clinician" in page.split("<tbody")[-1]) is health
    # A withheld row says so rather than claim she never checked in.
    assert ("not shown to you" in page) is not health
    assert "no check-in yet" not in page

    response = client.get(reverse("export_csv"), query)
    [header, row] = csv_rows(response)
    cells = dict(zip(header, row, strict=True))
    assert cells["Name"] == "Amira"
    assert cells["Last pain"] == ("7" if health else "")
    assert ("See a clinician" in cells["Flags"]) is health


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


# role: (clinic status, sees her health data there)
CLINIC_MATRIX = {
    "clinical staff": (200, True),
    "staff with the permission": (200, True),
    "superuser": (200, True),
    "staff": (200, False),
    "her coach": (403, False),
    "another coach": (403, False),
    "another client": (403, False),
    "her": (403, False),
    "visitor": (302, False),
}


@pytest.mark.parametrize("role", CLINIC_MATRIX)
def test_the_clinic_is_for_staff_and_shows_health_data_only_to_those_allowed(enrolment, role):
    status, health = CLINIC_MATRIX[role]
    client = client_for(role)
    page = client.get(reverse("clinic"))
    export = client.get(reverse("clinic_csv"))
    assert (page.status_code, export.status_code) == (status, status)
    if status != 200:
        return
    content = page.content.decode()
    assert "Amira" in content
    assert ("7/10" in content) is health
    assert ("See a clinician" in content.split("<tbody")[-1]) is health
    [header, row] = csv_rows(export)
    cells = dict(zip(header, row, strict=True))
    assert cells["Last pain"] == ("7" if health else "")
    assert ("See a clinician" in cells["Flags"]) is health


def test_staff_cannot_find_holds_by_filtering_or_sorting(enrolment):
    client = client_for("staff")
    page = client.get(reverse("dashboard"), {"coach": "all", "flag": "hold"}).content.decode()
    assert "Amira" not in page
    clinical = client_for("clinical staff")
    page = clinical.get(reverse("dashboard"), {"coach": "all", "flag": "hold"}).content.decode()
    assert "Amira" in page


def test_the_clinical_staff_group_exists_with_the_permission(db):
    roles.create_groups()
    group = Group.objects.get(name=roles.CLINICAL_GROUP)
    assert group.permissions.filter(codename="view_checkin").exists()
    assert Group.objects.filter(name=roles.COACH_GROUP).exists()


# Her coach, named and removable


def test_her_today_page_account_and_export_name_her_coach(member, enrolment):
    today = member.get(reverse("today", args=[enrolment.pk])).content.decode()
    assert "Your coach: Dana Coach" in today
    account = member.get(reverse("account")).content.decode()
    assert "Dana Coach is your coach in Test program" in account
    data = json.loads(member.get(reverse("account_export")).content)
    assert data["enrolments"][0]["coach"] == "Dana Coach"


def test_without_a_coach_nothing_names_one(member, make_enrolment):
    enrolment = make_enrolment()
    assert "Your coach" not in member.get(reverse("today", args=[enrolment.pk])).content.decode()
    assert "You have no coach" in member.get(reverse("account")).content.decode()
    data = json.loads(member.get(reverse("account_export")).content)
    assert data["enrolments"][0]["coach"] is None


def test_removing_her_coach_asks_first(member, enrolment):
    response = member.get(reverse("remove_coach", args=[enrolment.pk]))
    assert response.status_code == 200
    assert "Remove Dana Coach as your coach?" in response.content.decode()
    enrolment.refresh_from_db()
    assert enrolment.coach is not None


def test_she_removes_her_coach_who_then_loses_her(member, enrolment, coach, user):
    Notification.objects.create(
        enrolment=enrolment,
        recipient=coach,
        kind="coach_alert",
        key="hold-1",
        scheduled_for=enrolment.created_at,
        due_at=enrolment.created_at,
    )
    response = member.post(reverse("remove_coach", args=[enrolment.pk]), follow=True)
    assert "Dana Coach is no longer your coach" in response.content.decode()
    enrolment.refresh_from_db()
    assert enrolment.coach is None
    action = CoachAction.objects.get(kind=CoachAction.Kind.REMOVED_COACH)
    assert (action.enrolment, action.actor) == (enrolment, user)
    assert Notification.objects.get(kind="coach_alert").status == "cancelled"

    dana = Client()
    dana.force_login(coach)
    assert dana.get(reverse("client", args=[enrolment.pk])).status_code == 404
    assert "Amira" not in dana.get(reverse("dashboard")).content.decode()


def test_no_one_else_can_remove_her_coach(client, enrolment, other_user, coach):
    client.force_login(other_user)
    assert client.post(reverse("remove_coach", args=[enrolment.pk])).status_code == 404
    client.force_login(coach)
    assert client.post(reverse("remove_coach", args=[enrolment.pk])).status_code == 404
    enrolment.refresh_from_db()
    assert enrolment.coach == coach
    assert not CoachAction.objects.filter(kind=CoachAction.Kind.REMOVED_COACH).exists()
