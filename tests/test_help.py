"""The "Get help now" page: every urgent sign with what to do, linked from every page and
email, and a way for her to report an urgent sign at any time."""

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils.html import escape

from programs import checkins, notifications, planning
from programs.emails import render as render_email
from programs.models import Hold, Notification

pytestmark = pytest.mark.django_db
HELP = "/help/"


@pytest.fixture
def enrolment(make_enrolment, coach, clock):
    clock("2026-03-10 09:00", "Europe/London")
    return make_enrolment(coach=coach)


def test_the_page_is_open_logged_out_and_lists_every_urgent_sign_with_what_to_do(client, settings):
    from programs import safety

    settings.EMERGENCY_NUMBER, settings.CRISIS_LINE = "999", "Crisisline 0800 000 111"
    response = client.get(reverse("help"))
    assert response.status_code == 200
    content = response.content.decode()
    for code, label in safety.URGENT_SIGNS.items():
        assert str(escape(label)) in content
        assert str(escape(safety.URGENT_ADVICE[code])) in content
    assert 'href="tel:999"' in content
    assert "Crisisline 0800 000 111" in content
    assert 'name="urgent_signs"' not in content  # nothing to report without her log-in
    assert "Log in</a> to tell us" in content
    assert "style=" not in content and "<script>" not in content


def test_every_page_links_to_it(member, enrolment):
    for path in [
        "/",
        reverse("today", args=[enrolment.pk]),
        reverse("checkin", args=[enrolment.pk]),
    ]:
        page = member.get(path).content.decode()
        assert f'href="{HELP}"' in page, path
        assert "weakness in both legs" in page  # the footer names every urgent sign


def test_every_email_links_to_it(enrolment):
    context = {"name": "Amira", "site_name": "Recovery", "program": "Test", "today_url": "x"}
    message = render_email(notifications.NUDGE, context, "a@example.com", {})
    assert "http://127.0.0.1:8000/help/" in message.body
    assert 'href="http://127.0.0.1:8000/help/"' in message.alternatives[0].content


def test_every_sent_email_carries_the_link(enrolment):
    from programs import delivery

    planning.plan_for(enrolment, datetime(2026, 3, 10, 9, tzinfo=UTC))
    delivery.send_due(clock=lambda: datetime(2026, 3, 12, 9, tzinfo=UTC))
    assert mail.outbox
    for message in mail.outbox:
        assert "/help/" in message.body


def test_she_can_report_an_urgent_sign_at_any_time(member, enrolment, settings):
    settings.EMERGENCY_NUMBER = "999"
    response = member.post(reverse("help"), {"urgent_signs": ["calf"]})
    content = response.content.decode()
    main = content[content.index('<main id="main">') :]
    assert main.index("Stop exercising and get medical help now") < main.index("has been sent")
    assert "Stop exercising" not in content[: content.index('<main id="main">')]
    assert 'href="tel:999"' in main
    hold = Hold.objects.get()
    assert (hold.enrolment, hold.tier, hold.cleared_at) == (enrolment, 2, None)
    alert = Notification.objects.get(kind="coach_alert")
    assert alert.recipient.first_name == "Dana"
    assert "Your coach, Dana, has been sent an alert." in content


def test_a_report_raises_a_warning_hold_to_urgent(member, enrolment, coach):
    checkins.record(
        enrolment,
        1,
        {
            "pain": 2,
            "pain_sites": [],
            "warning_signs": ["leaking"],
            "urgent_signs": [],
            "sessions_felt": "right",
            "note": "",
        },
        datetime(2026, 3, 10, 8, tzinfo=UTC),
    )
    member.post(reverse("help"), {"urgent_signs": ["weak_legs"]})
    assert list(Hold.objects.values_list("tier", flat=True)) == [2]
    assert Notification.objects.filter(kind="coach_alert", key__startswith="urgent-").exists()


def test_a_report_without_a_coach_or_clinic_claims_no_one_was_told(
    member, make_enrolment, clock, settings
):
    settings.CLINIC_ALERT_EMAIL = ""
    clock("2026-03-10 09:00", "Europe/London")
    make_enrolment(coach=None)
    content = member.post(reverse("help"), {"urgent_signs": ["breathless"]}).content.decode()
    assert Hold.objects.get().tier == 2
    assert not Notification.objects.filter(kind__in=["coach_alert", "clinic_alert"]).exists()
    assert "has been sent an alert" not in content
    assert "No one has been alerted through this app" in content


def test_a_report_without_a_coach_names_the_clinic_team_when_its_row_exists(
    member, make_enrolment, clock, settings
):
    settings.CLINIC_ALERT_EMAIL = "clinic@example.org"
    clock("2026-03-10 09:00", "Europe/London")
    make_enrolment(coach=None)
    content = member.post(reverse("help"), {"urgent_signs": ["fever"]}).content.decode()
    assert Notification.objects.filter(kind="clinic_alert").exists()
    assert "The clinic team has been sent an alert." in content
    assert "Your coach" not in content


def test_thoughts_of_harm_reported_get_the_gentle_screen(member, enrolment, settings):
    settings.CRISIS_LINE = "Crisisline 0800 000 111"
    content = member.post(reverse("help"), {"urgent_signs": ["harm"]}).content.decode()
    assert "You are not in trouble" in content
    assert "call Crisisline 0800 000 111" in content
    assert "Stop exercising and get medical help now" not in content


def test_a_report_with_nothing_ticked_says_so_and_changes_nothing(member, enrolment):
    response = member.post(reverse("help"), {})
    assert response.status_code == 200
    assert b"Tick at least one sign to report it." in response.content
    assert not Hold.objects.exists()


def test_the_form_is_for_enrollees_only(client, other_user):
    client.force_login(other_user)  # logged in, in no program
    assert b'name="urgent_signs"' not in client.get(reverse("help")).content
    client.post(reverse("help"), {"urgent_signs": ["calf"]})
    assert not Hold.objects.exists()


def test_logged_out_posting_goes_to_log_in(client, enrolment):
    response = client.post(reverse("help"), {"urgent_signs": ["calf"]})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not Hold.objects.exists()
