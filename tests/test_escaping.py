"""
HTML and script typed into any text field (her name, her check-in note, her coach's name,
notes and messages) come out escaped on every page and in every HTML email. Plain-text emails
show them as typed: text/plain runs nothing, and an entity there would only garble it.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape

from programs import delivery, planning, roles
from programs.models import CoachProfile, Notification
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
User = get_user_model()

PAYLOAD = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
RAW = ["<script>alert(1)", "<img src=x", '"><img']
ESCAPED = escape(PAYLOAD)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def now(clock):
    return clock("2026-03-10 09:00", "Europe/London")


@pytest.fixture
def coach(db):
    user = User.objects.create_user(
        "carla@example.com", "carla@example.com", PASSWORD, first_name=PAYLOAD, last_name=PAYLOAD
    )
    roles.make_coach(user)
    CoachProfile.objects.create(user=user, timezone="Europe/London")
    return user


@pytest.fixture
def coach_client(coach):
    client = Client()
    client.force_login(coach)
    return client


@pytest.fixture
def story(user, coach, coach_client, member, make_enrolment):
    """Her name, her check-in note, and her coach's name, note and message are all the
    payload; her check-in holds her program, so her coach is alerted."""
    user.first_name = user.last_name = PAYLOAD
    user.save()
    enrolment = make_enrolment(coach=coach)
    checkin = member.post(
        reverse("checkin", args=[enrolment.pk]),
        {"pain": "3", "warning_signs": ["leaking"], "sessions_felt": "right", "note": PAYLOAD},
    )
    assert b"Please see a pelvic-health physiotherapist" in checkin.content
    for name in ("client_note", "client_message"):
        response = coach_client.post(reverse(name, args=[enrolment.pk]), {"text": PAYLOAD})
        assert response.status_code == 302
    return enrolment


def assert_escaped(html: str, shown: int = 0):
    """None of the payload raw; and, where the page shows it, escaped at least `shown` times."""
    for raw in RAW:
        assert raw not in html
    assert html.count(ESCAPED) >= shown, html.count(ESCAPED)


def url(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # a page not in this version of the app
        return None


def test_her_pages_escape_what_she_typed(story, member):
    pk = story.pk
    shown = {
        "home": 1,  # "Welcome back, <her name>"
        "today": 0,
        "progress": 0,
        "checkin": 0,
        "preferences": 0,
        "withdraw": 0,
        "account": 0,
    }
    for name, count in shown.items():
        args = [] if name in ("home", "account") else [pk]
        address = url(name, *args)
        if address is None:
            continue
        response = member.get(address)
        assert response.status_code == 200, name
        assert_escaped(response.content.decode(), count)
    detail = member.get(reverse("program_detail", args=[story.program.slug]))
    assert_escaped(detail.content.decode())


def test_her_coachs_pages_escape_everything_typed(story, coach_client):
    dashboard = coach_client.get(reverse("dashboard")).content.decode()
    assert_escaped(dashboard, 1)  # her name
    # Her name, her coach's (twice), her note, the coach's note in the timeline, the message in
    # her thread.
    client_page = coach_client.get(reverse("client", args=[story.pk])).content.decode()
    assert_escaped(client_page, 6)
    for name in ("invitations", "coach_settings"):
        assert_escaped(coach_client.get(reverse(name)).content.decode())


def test_filters_typed_into_the_dashboard_are_escaped(story, coach_client):
    params = {"q": PAYLOAD, "week": PAYLOAD, "sort": PAYLOAD, "status": PAYLOAD}
    page = coach_client.get(reverse("dashboard"), params).content.decode()
    assert_escaped(page, 1)  # in the search box; the ignored ones in the messages, cut short
    assert "Ignored week" in page


@pytest.mark.parametrize(
    ("name", "field"),
    [("signup", "next"), ("login", "next"), ("password_reset", None)],
)
def test_what_a_visitor_sends_is_escaped_when_shown_back(db, name, field):
    client = Client()
    if field:
        page = client.get(reverse(name), {field: "/" + PAYLOAD}).content.decode()
    else:
        page = client.post(reverse(name), {"email": PAYLOAD}).content.decode()
    assert_escaped(page)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("enrol", {"start_date": PAYLOAD, "timezone": PAYLOAD, "reminder_time": PAYLOAD}),
        ("checkin", {"pain": PAYLOAD, "sessions_felt": PAYLOAD, "note": PAYLOAD}),
        ("preferences", {"reminder_time": PAYLOAD, "timezone": PAYLOAD}),
    ],
)
def test_refused_answers_are_shown_back_escaped(story, member, program, other_user, name, data):
    client, args = member, [story.pk]
    if name == "enrol":
        client, args = Client(), [program.slug]
        client.force_login(other_user)
    response = client.post(reverse(name, args=args), data)
    assert response.status_code == 200
    assert b"errorlist" in response.content
    assert_escaped(response.content.decode())


def test_the_csv_is_a_download_not_a_page(story, coach_client, make_enrolment, django_user_model):
    formula = '=HYPERLINK("http://evil.example","Click")'
    other = django_user_model.objects.create_user("dee@example.com", "dee@example.com", "x")
    other.first_name = formula
    other.save()
    make_enrolment(user=other, coach=story.coach)
    response = coach_client.get(reverse("export_csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    body = b"".join(response.streaming_content).decode()
    names = [row[0] for row in csv.reader(io.StringIO(body))]
    assert f"{PAYLOAD} {PAYLOAD}" in names  # a spreadsheet shows text as text: nothing to escape
    assert f"'{formula}" in names  # but a formula never runs


def send_everything_due(until):
    """Send what falls due, moment by moment, as the dispatcher would."""
    while True:
        due = (
            Notification.objects.filter(status="pending", due_at__lte=until)
            .order_by("due_at")
            .values_list("due_at", flat=True)
            .first()
        )
        if due is None:
            return
        delivery.send_due(clock=lambda due=due: due)


def test_every_email_escapes_names_and_messages_in_its_html(
    story, user, coach, coach_client, member, now
):
    mail.outbox = []
    # Her reminders, every kind (her check-in's hold lifted meanwhile, or they would wait).
    Notification.objects.filter(enrolment=story).exclude(
        kind__in=["coach_alert", "new_message"]
    ).delete()
    story.holds.update(cleared_at=now)
    for day in range(0, 44, 2):  # to the end of her six weeks
        planning.plan_for(story, now + timedelta(days=day))
        send_everything_due(now + timedelta(days=day + 2))
    story.holds.update(cleared_at=None)
    # Her coach's alert and message, and the coach's digest the next morning.
    planning.plan_digests_for([coach.pk], now)
    send_everything_due(now + timedelta(days=1))
    # An invitation from this coach, and a password reset.
    coach_client.post(
        reverse("invitations"), {"email": "new.mum@example.com", "program": story.program.pk}
    )
    Client().post(reverse("password_reset"), {"email": user.email})

    subjects = [message.subject for message in mail.outbox]
    for expected in [
        "Five minutes for you today?",  # her reminder, after three days without a session
        "Today's exercises",
        "How was week 2? Your check-in",
        "A new stage is open: Glute strength",
        "You've finished Test program",
        "A client needs your attention",
        "You have a new message from your coach",
        "1 client needs you today",
        "invites you to",
        "Reset your password",
    ]:
        assert any(expected in subject for subject in subjects), (expected, subjects)

    for message in mail.outbox:
        assert "&lt;" not in message.body and "&quot;" not in message.body, message.subject
        if "Reset your password" not in message.subject:
            assert PAYLOAD in message.body, message.subject  # as typed: plain text
        for html, mimetype in getattr(message, "alternatives", []):
            assert mimetype == "text/html"
            assert_escaped(html, 1)
    message_email = next(m for m in mail.outbox if "message from your coach" in m.subject)
    assert message_email.alternatives[0][0].count(ESCAPED) == 1  # her name: never the message
