"""The coach's dashboard of her clients, and its CSV export."""

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from programs import roles
from programs.models import (
    CheckIn,
    Enrolment,
    Hold,
    Notification,
    Prescription,
    Program,
    SessionLog,
)
from programs.views.dashboard import spreadsheet_safe

pytestmark = pytest.mark.django_db

User = get_user_model()
DASHBOARD = "/coach/"
CSV = "/coach/clients.csv"


@pytest.fixture(autouse=True)
def now(clock):
    """Tuesday of week 2 for anyone who started on Monday 2 March."""
    return clock("2026-03-10 09:00", "Europe/London")


def make_user(email, first="", last="", **extra):
    return User.objects.create_user(email, email, first_name=first, last_name=last, **extra)


def logged_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def coach(db):
    user = make_user("coach@example.com", "Cora", "Coach")
    roles.make_coach(user)
    return user


@pytest.fixture
def other_coach(db):
    user = make_user("other.coach@example.com", "Olga", "Other")
    roles.make_coach(user)
    return user


@pytest.fixture
def as_coach(coach) -> Client:
    return logged_in(coach)


def log_session(enrolment, day=date(2026, 3, 9)):
    prescription = Prescription.objects.get(stage__slug="breathing", position=1)
    SessionLog.objects.create(enrolment=enrolment, prescription=prescription, local_date=day)


def check_in(enrolment, pain, day):
    CheckIn.objects.create(
        enrolment=enrolment,
        week=1,
        submitted_at=datetime(2026, 3, day, 9, 0, tzinfo=UTC),
        pain=pain,
        sessions_felt=CheckIn.Felt.RIGHT,
    )


@pytest.fixture
def enrol(make_enrolment, coach):
    """A client of `coach` (unless told otherwise) who trained yesterday, so nothing is
    flagged: enrol("Hana", "Ito", active=False) has never trained and is idle."""

    def make(first, last="Client", *, email=None, coach=coach, active=True, **overrides):
        user = make_user(email or f"{first.lower()}@example.com", first, last)
        enrolment = make_enrolment(user=user, coach=coach, **overrides)
        if active:
            log_session(enrolment)
        return enrolment

    return make


def names(response) -> list[str]:
    """First names of the rows on the page, in order."""
    return [row["user__first_name"] for row in response.context["page"]]


def row_html(response, enrolment) -> str:
    """The <tr> of one client."""
    html = response.content.decode()
    start = html.index(f'href="{reverse("client", args=[enrolment.pk])}"')
    return html[html.rindex("<tr", 0, start) : html.index("</tr>", start)]


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


# Who may see it


def test_logged_out_goes_to_log_in(client):
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_enrollee_who_is_not_a_coach_is_refused(member, make_enrolment):
    make_enrolment()
    assert member.get(DASHBOARD).status_code == 403
    assert member.get(CSV).status_code == 403


def test_a_coach_sees_only_her_own_clients(as_coach, enrol, other_coach):
    mine = enrol("Hana")
    enrol("Ines", coach=other_coach)
    enrol("Jade", coach=None)
    response = as_coach.get(DASHBOARD)
    assert response.status_code == 200
    assert names(response) == ["Hana"]
    content = response.content.decode()
    assert reverse("client", args=[mine.pk]) in content
    assert "Ines" not in content
    assert "Jade" not in content


# Staff


@pytest.fixture
def staff(db):
    return make_user("staff@example.com", "Sam", "Staff", is_staff=True)


def test_staff_choose_a_coach(staff, enrol, other_coach):
    enrol("Hana")
    enrol("Ines", coach=other_coach)
    response = logged_in(staff).get(DASHBOARD, {"coach": other_coach.pk})
    assert names(response) == ["Ines"]
    assert b"Olga Other" in response.content  # in the coach select


def test_staff_without_clients_see_the_unassigned_by_default(staff, enrol):
    enrol("Hana")
    enrol("Jade", coach=None)
    response = logged_in(staff).get(DASHBOARD)
    assert names(response) == ["Jade"]
    assert b'<option value="unassigned" selected>' in response.content


def test_staff_with_clients_see_their_own_by_default(staff, enrol):
    roles.make_coach(staff)
    enrol("Hana", coach=staff)
    enrol("Jade", coach=None)
    assert names(logged_in(staff).get(DASHBOARD)) == ["Hana"]


def test_staff_may_search_everyone(staff, enrol, other_coach):
    enrol("Hana")
    enrol("Ines", coach=other_coach)
    enrol("Jade", coach=None)
    response = logged_in(staff).get(DASHBOARD, {"coach": "all", "q": "ines"})
    assert names(response) == ["Ines"]


# The clinic: every enrolment, for staff

CLINIC = "/clinic/"
CLINIC_CSV = "/clinic/clients.csv"


@pytest.fixture
def clinical(db):
    user = make_user("clinician@example.com", "Cleo", "Clinician", is_staff=True)
    roles.make_clinical(user)
    return user


@pytest.mark.parametrize("url", [CLINIC, CLINIC_CSV])
def test_who_may_see_the_clinic(
    client, url, user, make_enrolment, coach, other_coach, staff, clinical
):
    make_enrolment(coach=coach)
    assert client.get(url).status_code == 302  # anonymous: to log in
    assert client.get(url)["Location"].startswith(reverse("login"))
    for refused in (user, coach, other_coach):  # the mother, her coach, another coach
        assert logged_in(refused).get(url).status_code == 403
    for allowed in (staff, clinical):
        assert logged_in(allowed).get(url).status_code == 200


def test_the_clinic_lists_everyone_in_pages(staff, enrol, other_coach, monkeypatch):
    monkeypatch.setattr("programs.views.dashboard.PER_PAGE", 2)
    enrol("Hana")
    enrol("Ines", coach=other_coach)
    enrol("Jade", coach=None)
    browser = logged_in(staff)
    first = browser.get(CLINIC)
    assert b"3 clients, 0 flagged." in first.content
    assert b'<option value="all" selected>' in first.content
    assert names(first) + names(browser.get(CLINIC, {"page": 2})) == ["Hana", "Ines", "Jade"]
    assert names(browser.get(CLINIC, {"q": "ines"})) == ["Ines"]
    assert names(browser.get(CLINIC, {"coach": other_coach.pk})) == ["Ines"]
    _, *rows = csv_rows(browser.get(CLINIC_CSV, {"q": "jade"}))
    assert [row[0] for row in rows] == ["Jade Client"]


def test_staff_without_the_health_permission_see_no_pain_nor_health_flags(
    staff, clinical, enrol, coach
):
    hana = enrol("Hana")
    pain_up(hana)
    hold(hana)
    ines = enrol("Ines", active=False)  # idle: not health data
    check_in(ines, 9, 9)
    browser = logged_in(staff)
    response = browser.get(CLINIC)
    row = row_html(response, hana)
    assert "not shown to you" in row
    assert "Pain up" not in row and "See a clinician" not in row
    assert "9/10" not in row_html(response, ines)
    # Sorting and filtering reveal nothing either: Hana's hold does not put her first, and
    # no one is held or in pain as far as this viewer can tell.
    assert names(response) == ["Ines", "Hana"]
    assert b"2 clients, 1 flagged." in response.content
    assert names(browser.get(CLINIC, {"flag": "hold"})) == []
    assert names(browser.get(CLINIC, {"flag": "held"})) == []
    assert names(browser.get(CLINIC, {"flag": "pain_up"})) == []
    assert names(browser.get(CLINIC, {"sort": "-pain"})) == ["Hana", "Ines"]  # by name
    _, *rows = csv_rows(browser.get(CLINIC_CSV))
    assert {(row[0], row[9], row[10]) for row in rows} == {
        ("Hana Client", "", ""),
        ("Ines Client", "", "No session for 3+ days"),
    }

    allowed = logged_in(clinical)
    response = allowed.get(CLINIC)
    assert names(response) == ["Hana", "Ines"]
    assert "See a clinician" in row_html(response, hana)
    assert "9/10" in row_html(response, ines)
    assert names(allowed.get(CLINIC, {"flag": "held"})) == ["Hana"]
    assert names(allowed.get(CLINIC, {"sort": "-pain"})) == ["Ines", "Hana"]


def test_a_client_without_a_status_row_yet_gets_one_when_shown(as_coach, enrol):
    from programs.models import ClientStatus

    hana = enrol("Hana")
    ClientStatus.objects.filter(pk=hana.pk).delete()
    row = row_html(as_coach.get(DASHBOARD), hana)
    assert "Week 2 of 6" in row
    assert ClientStatus.objects.filter(pk=hana.pk).exists()


# One row


def test_a_row_shows_program_week_adherence_activity_and_pain(as_coach, enrol):
    hana = enrol("Hana", "Ito")
    check_in(hana, 3, 8)
    row = row_html(as_coach.get(DASHBOARD), hana)
    assert "Hana Ito" in row
    assert "hana@example.com" in row
    assert "Test program" in row
    assert "Week 2 of 6" in row
    assert '<progress max="100" value="19"' in row  # day 8 of 42
    # Breathing every day; deep core, open for 2 of the 7 days, once on each: both ×2.
    assert "1/18 (6%)" in row
    assert "1/34 (3%)" in row  # weeks 1 and 2
    assert "9 Mar 2026" in row
    assert "3/10" in row
    assert "None" in row  # no flags


def test_no_activity_yet(as_coach, enrol):
    hana = enrol("Hana", active=False)
    row = row_html(as_coach.get(DASHBOARD), hana)
    assert "none yet" in row
    assert "no check-in yet" in row


def test_the_pain_chart_is_an_image_with_the_scores_in_words(as_coach, enrol):
    hana = enrol("Hana")
    check_in(hana, 2, 3)
    check_in(hana, 3, 9)
    row = row_html(as_coach.get(DASHBOARD), hana)
    description = "Pain at each check-in, oldest first, out of 10: 2, 3."
    assert f'<svg class="pain-chart" role="img" aria-label="{description}"' in row
    assert f"<title>{description}</title>" in row
    assert "<polyline points=" in row
    assert row.count("<circle") == 2


def test_row_numbers_are_not_localized(as_coach, enrol, settings):
    # A checkbox's value is an id for the bulk actions: "12,345" would choose nobody.
    settings.USE_THOUSAND_SEPARATOR = True
    hana = enrol("Hana", pk=12345)
    row = row_html(as_coach.get(DASHBOARD), hana)
    assert 'name="clients" value="12345"' in row


# Flags


def hold(enrolment, tier=1):
    Hold.objects.create(enrolment=enrolment, tier=tier, started_at=datetime(2026, 3, 9, tzinfo=UTC))


def urgent_hold(enrolment):
    hold(enrolment, tier=2)


def pain_up(enrolment):
    check_in(enrolment, 1, 3)
    check_in(enrolment, 4, 9)


def failing(enrolment):
    Notification.objects.create(
        enrolment=enrolment,
        recipient=enrolment.user,
        kind="session",
        key="2026-03-09",
        scheduled_for=datetime(2026, 3, 9, 8, tzinfo=UTC),
        due_at=datetime(2026, 3, 9, 8, tzinfo=UTC),
        status=Notification.Status.FAILED,
    )


@pytest.mark.parametrize(
    "raise_flag, active, label",
    [
        (hold, True, "See a clinician"),
        (urgent_hold, True, "Urgent"),
        (lambda e: None, False, "No session for 3+ days"),
        (pain_up, True, "Pain up 2+ points"),
        (failing, True, "Reminders failing"),
    ],
)
def test_each_flag_is_shown_in_words(as_coach, enrol, raise_flag, active, label):
    flagged = enrol("Hana", active=active)
    calm = enrol("Ines")
    raise_flag(flagged)
    response = as_coach.get(DASHBOARD)
    assert '<li class="flag' in row_html(response, flagged)
    assert label in row_html(response, flagged)
    assert label not in row_html(response, calm)
    assert b"2 clients, 1 flagged." in response.content


def test_flagged_first_most_urgent_first_then_by_name(as_coach, enrol):
    enrol("Amy")
    failing(enrol("Bea"))
    enrol("Cat", active=False)  # idle
    pain_up(enrol("Dot"))
    hold(enrol("Eve"))
    enrol("Fay")
    assert names(as_coach.get(DASHBOARD)) == ["Eve", "Dot", "Cat", "Bea", "Amy", "Fay"]


def test_urgent_is_marked_in_words_and_colour_and_sorted_first(as_coach, enrol):
    hold(enrol("Amy"))
    urgent_hold(enrol("Bea"))
    failing(enrol("Cat"))
    response = as_coach.get(DASHBOARD)
    assert names(response) == ["Bea", "Amy", "Cat"]
    bea, amy = (
        row_html(response, Enrolment.objects.get(user__first_name="Bea")),
        row_html(response, Enrolment.objects.get(user__first_name="Amy")),
    )
    assert 'class="flagged urgent"' in bea
    assert '<li class="flag flag-urgent">Urgent</li>' in bea
    assert "See a clinician" not in bea
    assert 'class="flagged"' in amy
    assert '<li class="flag flag-hold">See a clinician</li>' in amy
    assert "Urgent" not in amy


def test_filter_by_urgent_leaves_out_warning_holds(as_coach, enrol):
    hold(enrol("Amy"))
    urgent_hold(enrol("Bea"))
    assert names(as_coach.get(DASHBOARD, {"flag": "urgent"})) == ["Bea"]
    assert names(as_coach.get(DASHBOARD, {"flag": "hold"})) == ["Amy"]


def test_sort_by_name_and_back(as_coach, enrol):
    for first in ("Cat", "Amy", "Bea"):
        enrol(first)
    hold(Enrolment.objects.get(user__first_name="Cat"))
    assert names(as_coach.get(DASHBOARD, {"sort": "name"})) == ["Amy", "Bea", "Cat"]
    response = as_coach.get(DASHBOARD, {"sort": "-name"})
    assert names(response) == ["Cat", "Bea", "Amy"]
    assert b'aria-sort="descending"' in response.content


def test_sort_by_last_pain_highest_first(as_coach, enrol):
    check_in(enrol("Amy"), 2, 9)
    enrol("Bea")
    check_in(enrol("Cat"), 5, 9)
    assert names(as_coach.get(DASHBOARD, {"sort": "-pain"})) == ["Cat", "Amy", "Bea"]


def test_sort_by_week_and_by_last_activity(as_coach, enrol):
    enrol("Amy", start_date=date(2026, 2, 23))  # week 3
    log_session(enrol("Bea", start_date=date(2026, 3, 9), active=False), date(2026, 3, 10))
    enrol("Cat", active=False)  # never trained
    assert names(as_coach.get(DASHBOARD, {"sort": "week"})) == ["Bea", "Cat", "Amy"]
    assert names(as_coach.get(DASHBOARD, {"sort": "-activity"})) == ["Bea", "Amy", "Cat"]


# Filters


def test_search_by_name_is_case_insensitive(as_coach, enrol):
    enrol("Hana", "Ito")
    enrol("Ines", "Moreau")
    assert names(as_coach.get(DASHBOARD, {"q": "MOREAU"})) == ["Ines"]
    assert names(as_coach.get(DASHBOARD, {"q": "ines mor"})) == ["Ines"]


def test_search_by_email(as_coach, enrol):
    enrol("Hana", email="h.ito@clinic.example")
    enrol("Ines")
    assert names(as_coach.get(DASHBOARD, {"q": "Clinic.Example"})) == ["Hana"]


def test_filter_by_flag(as_coach, enrol):
    hold(enrol("Hana"))
    pain_up(enrol("Ines"))
    enrol("Jade")
    assert names(as_coach.get(DASHBOARD, {"flag": "pain_up"})) == ["Ines"]
    assert names(as_coach.get(DASHBOARD, {"flag": "any"})) == ["Hana", "Ines"]


def test_filter_by_program(as_coach, enrol):
    other = Program.objects.create(slug="other", name="Other program", summary=".", weeks=4)
    enrol("Hana")
    enrol("Ines", program=other)
    assert names(as_coach.get(DASHBOARD, {"program": "other"})) == ["Ines"]


def test_filter_by_week(as_coach, enrol):
    enrol("Hana")
    enrol("Ines", start_date=date(2026, 2, 23))
    assert names(as_coach.get(DASHBOARD, {"week": "3"})) == ["Ines"]


def test_withdrawn_clients_show_only_when_asked(as_coach, enrol):
    enrol("Hana")
    enrol("Ines", status=Enrolment.Status.WITHDRAWN)
    enrol("Jade", status=Enrolment.Status.PAUSED)
    assert names(as_coach.get(DASHBOARD, {"sort": "name"})) == ["Hana", "Jade"]
    assert names(as_coach.get(DASHBOARD, {"status": "withdrawn"})) == ["Ines"]
    assert names(as_coach.get(DASHBOARD, {"status": "paused"})) == ["Jade"]
    assert names(as_coach.get(DASHBOARD, {"status": "all", "sort": "name"})) == [
        "Hana",
        "Ines",
        "Jade",
    ]


def test_bad_values_are_ignored_with_a_message(as_coach, enrol):
    enrol("Hana")
    enrol("Ines")
    response = as_coach.get(
        DASHBOARD,
        {
            "q": "ines",
            "week": "soon",
            "flag": "<b>bad</b>",
            "program": "no-such-program",
            "status": "gone",
            "sort": "shoe size",
            "page": "x",
        },
    )
    assert response.status_code == 200
    assert names(response) == ["Ines"]  # the good filter still applies
    content = response.content.decode()
    assert "Ignored week “soon”: Enter a whole number." in content
    assert "Ignored program “no-such-program”" in content
    assert "<b>bad</b>" not in content
    assert "shoe+size" not in content  # links leave ignored values out
    assert content.count("Ignored ") == 5


def test_a_week_out_of_range_is_ignored(as_coach, enrol):
    enrol("Hana")
    response = as_coach.get(DASHBOARD, {"week": "-1"})
    assert response.status_code == 200
    assert names(response) == ["Hana"]
    assert b"Ignored week" in response.content


# Empty states, pages and the CSV link


def test_no_clients_yet_invites_one(as_coach):
    content = as_coach.get(DASHBOARD).content.decode()
    assert "No clients yet — " in content
    assert reverse("invitations") in content


def test_no_client_matches_the_filters(as_coach, enrol):
    enrol("Hana")
    content = as_coach.get(DASHBOARD, {"q": "nobody"}).content.decode()
    assert "No client matches these filters" in content
    assert "No clients yet" not in content


def test_thirty_clients_make_two_pages(as_coach, enrol):
    for n in range(30):
        enrol(f"Client{n:02}")
    first = as_coach.get(DASHBOARD, {"sort": "name"})
    assert len(names(first)) == 25
    assert b"Page 1 of 2" in first.content
    assert b"30 clients, 0 flagged." in first.content
    assert b'href="?sort=name&amp;page=2"' in first.content
    second = as_coach.get(DASHBOARD, {"sort": "name", "page": "2"})
    assert names(second) == [f"Client{n}" for n in range(25, 30)]


def test_a_page_out_of_range_shows_the_last_and_not_a_number_the_first(as_coach, enrol):
    for n in range(30):
        enrol(f"Client{n:02}", active=n % 10 != 0)  # three idle, so flagged
    last = [f"Client{n}" for n in range(25, 30)]
    for page, shown in (("3", last), ("99", last), ("0", last), ("-1", last), ("two", None)):
        response = as_coach.get(DASHBOARD, {"sort": "name", "page": page})
        assert response.status_code == 200
        assert b"30 clients, 3 flagged." in response.content
        if shown:
            assert names(response) == shown
            assert b"Page 2 of 2" in response.content
        else:
            assert len(names(response)) == 25
            assert b"Page 1 of 2" in response.content


def test_the_counts_are_of_every_match_not_of_the_page(as_coach, enrol):
    for n in range(30):
        enrol(f"Client{n:02}", active=n % 10 != 0)
    second = as_coach.get(DASHBOARD, {"sort": "name", "page": "2", "flag": "any"})
    assert b"3 clients, 3 flagged." in second.content  # one page of three: the last
    assert names(second) == ["Client00", "Client10", "Client20"]


def test_the_csv_link_carries_the_filters(as_coach, enrol):
    enrol("Hana")
    response = as_coach.get(DASHBOARD, {"q": "hana", "status": "all", "page": "1"})
    assert b'href="/coach/clients.csv?q=hana&amp;status=all"' in response.content


# Queries

QUERIES_PER_PAGE = 7


def test_the_number_of_queries_does_not_grow_with_clients(as_coach, coach, enrol, program):
    for first in ("Amy", "Bea", "Cat", "Dot", "Eve"):
        check_in(enrol(first), 2, 9)
    with CaptureQueriesContext(connection) as five:
        assert as_coach.get(DASHBOARD).status_code == 200

    users = User.objects.bulk_create(
        User(username=f"bulk{n}@example.com", email=f"bulk{n}@example.com", first_name=f"B{n}")
        for n in range(195)
    )
    enrolments = Enrolment.objects.bulk_create(
        Enrolment(
            user=user,
            program=program,
            coach=coach,
            start_date=date(2026, 3, 2),
            timezone="Europe/London",
            weeks_postpartum=8,
            caesarean=False,
        )
        for user in users
    )
    prescription = Prescription.objects.get(stage__slug="breathing", position=1)
    SessionLog.objects.bulk_create(
        SessionLog(enrolment=e, prescription=prescription, local_date=date(2026, 3, 9))
        for e in enrolments[::2]
    )
    CheckIn.objects.bulk_create(
        CheckIn(
            enrolment=e,
            week=1,
            submitted_at=datetime(2026, 3, 8, tzinfo=UTC),
            pain=n % 11,
            sessions_felt=CheckIn.Felt.RIGHT,
        )
        for n, e in enumerate(enrolments[::3])
    )
    # Written around the model layer, as an upgrade finds them: the command builds their rows.
    call_command("rebuild_client_status", stdout=io.StringIO())
    with CaptureQueriesContext(connection) as two_hundred:
        response = as_coach.get(DASHBOARD)
    assert b"200 clients" in response.content
    with CaptureQueriesContext(connection) as page_8:
        assert as_coach.get(DASHBOARD, {"page": 8, "sort": "-adherence"}).status_code == 200

    print(f"queries: 5 clients {len(five)}, 200 clients {len(two_hundred)}")
    assert len(five) == len(two_hundred) == len(page_8)
    # Session, user, her coach group, the count, the page (with its unread messages), the
    # form's programs, and whether she is enrolled herself (the header's Today).
    assert len(two_hundred) <= QUERIES_PER_PAGE


# CSV


def test_spreadsheet_safe_defuses_formulas():
    for text in ("=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert spreadsheet_safe(text) == "'" + text
    assert spreadsheet_safe("Amira") == "Amira"
    assert spreadsheet_safe("a=b") == "a=b"
    assert spreadsheet_safe(None) == ""
    assert spreadsheet_safe(5) == "5"


def test_csv_has_a_header_and_a_row_per_client(as_coach, enrol):
    hana = enrol("Hana", "Ito")
    check_in(hana, 3, 8)
    hold(hana)
    failing(hana)
    response = as_coach.get(CSV)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="clients.csv"'
    header, *rows = csv_rows(response)
    assert header == [
        "Name",
        "Email",
        "Program",
        "Week",
        "Weeks",
        "Status",
        "Adherence 7 days %",
        "Adherence overall %",
        "Last activity",
        "Last pain",
        "Flags",
    ]
    assert len(rows) == 1
    name, email, program, week, weeks, status, _, _, last, pain, flags = rows[0]
    assert (name, email, program, week, weeks, status) == (
        "Hana Ito",
        "hana@example.com",
        "Test program",
        "2",
        "6",
        "active",
    )
    assert (last, pain, flags) == ("2026-03-09", "3", "See a clinician; Reminders failing")


def test_csv_applies_the_filters_and_leaves_out_other_coaches_clients(as_coach, enrol, other_coach):
    enrol("Hana")
    hold(enrol("Ines"))
    enrol("Jade", coach=other_coach)
    _, *rows = csv_rows(as_coach.get(CSV))
    assert sorted(row[0] for row in rows) == ["Hana Client", "Ines Client"]
    _, *rows = csv_rows(as_coach.get(CSV, {"flag": "hold", "week": "x"}))
    assert [row[0] for row in rows] == ["Ines Client"]


def test_csv_defuses_a_formula_in_a_name(as_coach, enrol):
    enrol('=HYPERLINK("http://evil.example")', "", email="evil@example.com")
    _, row = csv_rows(as_coach.get(CSV))
    assert row[0] == '\'=HYPERLINK("http://evil.example")'
    assert re.fullmatch(r"[\w@.]+", row[1])


# One broken enrolment spoils no one's page


@pytest.mark.parametrize(
    "broken", [{"timezone": "Europe/Londn"}, {"start_date": date(1, 1, 1)}], ids=["zone", "date"]
)
def test_a_client_with_broken_data_is_flagged_and_the_rest_still_show(as_coach, enrol, broken):
    enrol("Ada")
    bad = enrol("Bea")
    Enrolment.objects.filter(pk=bad.pk).update(**broken)  # older data; the model refuses it now
    call_command("rebuild_client_status", stdout=io.StringIO())  # as on upgrading
    response = as_coach.get("/coach/")
    assert response.status_code == 200
    assert sorted(names(response)) == ["Ada", "Bea"]
    assert "Enrolment data needs fixing" in row_html(response, bad)
    export = as_coach.get(CSV)
    assert export.status_code == 200
    rows = {row[0]: row for row in csv_rows(export)[1:]}
    assert "Enrolment data needs fixing" in " ".join(rows[next(k for k in rows if "Bea" in k)])


def test_her_coach_is_told_her_enrolment_needs_fixing_not_shown_an_error(as_coach, enrol):
    bad = enrol("Bea")
    Enrolment.objects.filter(pk=bad.pk).update(timezone="Europe/Londn")
    response = as_coach.get(reverse("client", args=[bad.pk]), follow=True)
    assert response.redirect_chain == [("/coach/", 302)]
    assert "needs fixing by staff" in response.content.decode()
    assert "Europe/Londn" in response.content.decode()


# The filter form


def test_the_filter_form_keeps_what_was_chosen(as_coach, enrol, program):
    enrol("Hana")
    query = {"q": "ha<na", "status": "all", "flag": "idle", "program": program.slug}
    html = as_coach.get(DASHBOARD, {**query, "week": "0", "sort": "-pain"}).content.decode()
    assert '<input type="search" name="q" value="ha&lt;na" maxlength="100" id="id_q">' in html
    assert '<input type="number" name="week" value="0" min="0" max="52" id="id_week">' in html
    assert '<label for="id_status">Status</label><select name="status" id="id_status">' in html
    for value in ("all", "idle", program.slug, "-pain"):
        assert f'<option value="{value}" selected>' in html
    assert html.count(" selected>") == 4
    assert f'<option value="{program.slug}" selected>{program.name}</option>' in html
    assert '<option value="">All programs</option>' in html
    assert 'id="id_coach"' not in html  # staff only


def test_the_filter_form_selects_nothing_it_was_not_asked_for(as_coach, enrol):
    enrol("Hana")
    html = as_coach.get(DASHBOARD).content.decode()
    assert '<input type="search" name="q" maxlength="100" id="id_q">' in html
    assert '<input type="number" name="week" min="0" max="52" id="id_week">' in html
    assert '<option value="" selected>Flagged or not</option>' in html
    assert '<option value="" selected>All programs</option>' in html
    assert html.count(" selected>") == 2


def test_staff_choose_the_coach_by_name(staff, enrol, other_coach):
    enrol("Hana", coach=other_coach)
    html = logged_in(staff).get(DASHBOARD, {"coach": other_coach.pk}).content.decode()
    assert '<label for="id_coach">Coach</label><select name="coach" id="id_coach">' in html
    assert f'<option value="{other_coach.pk}" selected>Olga Other</option>' in html
