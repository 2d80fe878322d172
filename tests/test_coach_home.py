"""A coach's home: where logging in leads, the header for each role, and pausing several
clients at once from the dashboard."""

from datetime import date, time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from programs import roles
from programs.models import CoachAction, Enrolment, Pause
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

User = get_user_model()
BULK_PAUSE = "/coach/clients/pause/"


@pytest.fixture(autouse=True)
def now(clock):
    return clock("2026-03-10 09:00", "Europe/London")


def log_in(client, user, **query):
    url = reverse("login")
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return client.post(url, {"username": user.email, "password": PASSWORD})


def logged_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def mother(program, coach):
    """Make a client of `coach` (or of `coach=`), enrolled in the test program."""

    def make(first, coach=coach, status=Enrolment.Status.ACTIVE):
        email = f"{first.lower()}@example.com"
        user = User.objects.create_user(email, email, PASSWORD, first_name=first)
        return Enrolment.objects.create(
            user=user,
            program=program,
            coach=coach,
            status=status,
            start_date=date(2026, 3, 2),
            timezone="Europe/London",
            reminder_time=time(8, 0),
            weeks_postpartum=8,
            caesarean=False,
        )

    return make


@pytest.fixture
def other_coach(db):
    user = User.objects.create_user("olga@example.com", "olga@example.com", PASSWORD)
    roles.make_coach(user)
    return user


@pytest.fixture
def staff(db):
    return User.objects.create_user("sam@example.com", "sam@example.com", PASSWORD, is_staff=True)


# Where logging in leads


def test_a_coach_lands_on_her_dashboard(client, coach):
    assert log_in(client, coach)["Location"] == reverse("dashboard")


def test_an_enrollee_lands_on_today(client, user, make_enrolment):
    enrolment = make_enrolment()
    response = log_in(client, user)
    assert response["Location"] == reverse("today_redirect")
    assert client.get(response["Location"])["Location"] == reverse("today", args=[enrolment.pk])


def test_a_coach_who_is_enrolled_herself_still_lands_on_her_dashboard(
    client, coach, make_enrolment
):
    make_enrolment(user=coach)
    assert log_in(client, coach)["Location"] == reverse("dashboard")


def test_a_safe_next_is_kept(client, coach, user, make_enrolment):
    target = reverse("today", args=[make_enrolment().pk])
    assert log_in(client, user, next=target)["Location"] == target
    client.logout()
    assert log_in(client, coach, next="/coach/invitations/")["Location"] == "/coach/invitations/"


@pytest.mark.parametrize("unsafe", ["https://evil.example/", "//evil.example/coach/"])
def test_an_offsite_next_is_refused(client, coach, unsafe):
    assert log_in(client, coach, next=unsafe)["Location"] == reverse("dashboard")


# The header


def nav(browser) -> str:
    page = browser.get(reverse("account")).content.decode()
    return page.split('<nav aria-label="Main">')[1].split("</nav>")[0]


COACH_LINKS = ['href="/coach/">Clients', 'href="/coach/invitations/">Invitations']


def test_a_coach_sees_her_own_links_and_no_today(coach):
    links = nav(logged_in(coach))
    for link in [*COACH_LINKS, 'href="/coach/settings/">Settings']:
        assert link in links
    assert ">Today<" not in links
    assert ">Triage<" not in links
    assert ">Clinic<" not in links


def test_a_coach_who_is_enrolled_herself_sees_today_too(coach, make_enrolment):
    make_enrolment(user=coach)
    links = nav(logged_in(coach))
    assert 'href="/today/">Today' in links
    assert 'href="/coach/">Clients' in links


def test_an_enrollee_sees_today_and_no_coach_links(user, make_enrolment):
    make_enrolment()
    links = nav(logged_in(user))
    assert 'href="/today/">Today' in links
    for link in [*COACH_LINKS, ">Settings<", ">Triage<"]:
        assert link not in links


def test_someone_not_yet_enrolled_sees_today(user):
    """Today is where she finds a program to begin."""
    assert 'href="/today/">Today' in nav(logged_in(user))


def test_staff_keep_triage_and_get_the_clinic(staff):
    links = nav(logged_in(staff))
    assert 'href="/triage/">Triage' in links
    assert 'href="/clinic/">Clinic' in links
    assert 'href="/coach/">Clients' in links


def test_a_visitor_sees_log_in(client):
    links = client.get(reverse("home")).content.decode()
    assert ">Log in<" in links
    assert ">Clients<" not in links
    assert ">Today<" not in links


# Today without a program


def test_today_sends_a_coach_without_a_program_to_her_dashboard(coach):
    response = logged_in(coach).get(reverse("today_redirect"), follow=True)
    assert response.redirect_chain == [(reverse("dashboard"), 302)]
    assert "Choose a program to begin." not in response.content.decode()


def test_today_sends_an_enrollee_without_a_program_to_the_catalogue(member):
    response = member.get(reverse("today_redirect"), follow=True)
    assert response.redirect_chain == [(reverse("home"), 302)]
    assert "Choose a program to begin." in response.content.decode()


def test_today_opens_a_coachs_own_program(coach, make_enrolment):
    enrolment = make_enrolment(user=coach)
    response = logged_in(coach).get(reverse("today_redirect"))
    assert response["Location"] == reverse("today", args=[enrolment.pk])


# Pausing several clients at once


def test_the_dashboard_offers_a_checkbox_per_client_in_a_form_that_pauses(coach, mother):
    amy = mother("Amy")
    page = logged_in(coach).get(reverse("dashboard")).content.decode()
    assert f'action="{BULK_PAUSE}"' in page
    assert f'name="clients" value="{amy.pk}"' in page
    assert 'aria-label="Choose Amy"' in page


def test_a_coach_pauses_three_clients_together(coach, mother):
    chosen = [mother("Amy"), mother("Bea"), mother("Cat")]
    left = mother("Dot")
    response = logged_in(coach).post(BULK_PAUSE, {"clients": [e.pk for e in chosen]})
    assert response["Location"] == reverse("dashboard")
    assert said(response) == ["Paused 3 clients."]
    for enrolment in chosen:
        enrolment.refresh_from_db()
        assert enrolment.status == Enrolment.Status.PAUSED
        assert enrolment.pauses.get().ended_at is None
        action = CoachAction.objects.get(enrolment=enrolment)
        assert (action.kind, action.actor) == (CoachAction.Kind.PAUSED, coach)
    left.refresh_from_db()
    assert left.status == Enrolment.Status.ACTIVE
    assert not CoachAction.objects.filter(enrolment=left).exists()


def test_one_client_is_one_client(coach, mother):
    response = logged_in(coach).post(BULK_PAUSE, {"clients": [mother("Amy").pk]})
    assert said(response) == ["Paused 1 client."]


def test_a_paused_client_is_marked_to_be_planned_again(coach, mother, now):
    amy = mother("Amy")
    Enrolment.objects.filter(pk=amy.pk).update(planned_until=now + timedelta(hours=48))
    logged_in(coach).post(BULK_PAUSE, {"clients": [amy.pk]})
    amy.refresh_from_db()
    assert amy.planned_until is None


def test_another_coachs_client_refuses_the_lot(coach, other_coach, mother):
    mine = mother("Amy")
    hers = mother("Bea", coach=other_coach)
    response = logged_in(coach).post(BULK_PAUSE, {"clients": [mine.pk, hers.pk]})
    assert response["Location"] == reverse("dashboard")
    assert said(response) == ["One of the chosen clients is not yours. Nothing was paused."]
    assert set(Enrolment.objects.values_list("status", flat=True)) == {"active"}
    assert not Pause.objects.exists()
    assert not CoachAction.objects.exists()
    assert "Paused" not in " ".join(said(response))


def test_a_made_up_id_refuses_the_lot(coach, mother):
    mine = mother("Amy")
    response = logged_in(coach).post(BULK_PAUSE, {"clients": [mine.pk, "x"]})
    assert said(response) == ["One of the chosen clients is not yours. Nothing was paused."]
    assert not Pause.objects.exists()


def test_already_paused_and_ended_clients_are_named_not_skipped(coach, mother):
    amy = mother("Amy")
    bea = mother("Bea", status=Enrolment.Status.PAUSED)
    cat = mother("Cat", status=Enrolment.Status.WITHDRAWN)
    response = logged_in(coach).post(BULK_PAUSE, {"clients": [amy.pk, bea.pk, cat.pk]})
    assert said(response) == [
        "Paused 1 client.",
        "Already paused, left as they were: Bea.",
        "Not paused, as their program is not active: Cat.",
    ]
    assert list(CoachAction.objects.values_list("enrolment", flat=True)) == [amy.pk]
    assert list(Pause.objects.values_list("enrolment", flat=True)) == [amy.pk]


def test_nobody_paused_says_so(coach, mother):
    bea = mother("Bea", status=Enrolment.Status.PAUSED)
    response = logged_in(coach).post(BULK_PAUSE, {"clients": [bea.pk]})
    assert said(response) == [
        "Nobody was paused.",
        "Already paused, left as they were: Bea.",
    ]
    assert not CoachAction.objects.exists()


def test_choosing_nobody_is_refused(coach, mother):
    mother("Amy")
    response = logged_in(coach).post(BULK_PAUSE, {})
    assert said(response) == ["Choose the clients to pause."]
    assert not Pause.objects.exists()


def test_staff_may_pause_any_client(staff, coach, mother):
    amy = mother("Amy")
    response = logged_in(staff).post(BULK_PAUSE, {"clients": [amy.pk]})
    assert said(response) == ["Paused 1 client."]
    assert CoachAction.objects.get().actor == staff


# Access to the bulk pause


def test_bulk_pause_asks_a_visitor_to_log_in(client, mother):
    amy = mother("Amy")
    response = client.post(BULK_PAUSE, {"clients": [amy.pk]})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not Pause.objects.exists()


def test_bulk_pause_is_refused_to_an_enrollee(mother):
    amy = mother("Amy")
    response = logged_in(amy.user).post(BULK_PAUSE, {"clients": [amy.pk]})
    assert response.status_code == 403
    assert not Pause.objects.exists()


def test_bulk_pause_takes_only_a_post(coach):
    assert logged_in(coach).get(BULK_PAUSE).status_code == 405


# In a phone's browser


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [390, 360])
def test_the_dashboard_fits_a_phone_and_pauses_the_chosen_clients(phone, coach, mother, width):
    from tests.browser import accessibility_problems, overflow

    amy, bea = mother("Amy"), mother("Bea")
    mother("Cat")
    phone.set_viewport_size({"width": width, "height": 800})
    phone.log_in(coach)
    assert phone.goto("/coach/").status == 200
    assert overflow(phone) == 0
    assert accessibility_problems(phone) == []
    phone.get_by_label("Choose Amy").check()
    phone.get_by_label("Choose Bea").check()
    phone.get_by_role("button", name="Pause the chosen clients").click()
    phone.get_by_text("Paused 2 clients.").wait_for()
    phone.wait_for_load_state("load")
    assert overflow(phone) == 0, overflow(phone)
    assert set(Enrolment.objects.filter(status="paused").values_list("pk", flat=True)) == {
        amy.pk,
        bea.pk,
    }
