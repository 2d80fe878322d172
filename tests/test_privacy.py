"""Her health data stays where it belongs: never in a log, an email or a URL; she can download
all of it, and delete all of it."""

import json
import logging
import re
from datetime import UTC, datetime
from urllib.parse import unquote_plus

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from programs import delivery, roles, safety
from programs.models import (
    CheckIn,
    CoachAction,
    Enrolment,
    Hold,
    Invitation,
    Message,
    Notification,
    Pause,
    SessionLog,
)
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
User = get_user_model()

NOTE = "Sore where the stitches were since Tuesday, ZEBRA-7731 quartz"
PAIN = 8
SITES = ["low_back", "pelvis"]
WARNINGS = ["heaviness", "numbness"]
URGENT = ["calf"]


@pytest.fixture
def coach(django_user_model):
    user = django_user_model.objects.create_user(
        "dana@example.com", "dana@example.com", PASSWORD, first_name="Dana"
    )
    roles.make_coach(user)
    return user


# The whole flow, watched


class Everything(logging.Handler):
    """Every log record, formatted with its traceback."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record):
        if not record.name.startswith("django.db.backends"):
            self.lines.append(self.format(record))


@pytest.fixture
def logs():
    """Capture every logger at DEBUG but django.db.backends, which settings keep at WARNING
    (tests/test_security.py): at DEBUG it logs SQL parameters, her answers, by design."""
    handler = Everything()
    loggers = [logging.getLogger()] + [
        logger
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger) and not name.startswith("django.db.backends")
    ]
    levels = {logger: logger.level for logger in loggers}
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        if logger is logging.getLogger() or not logger.propagate:
            logger.addHandler(handler)
    assert logging.getLogger("django.db.backends").getEffectiveLevel() >= logging.WARNING
    yield handler.lines
    for logger, level in levels.items():
        logger.setLevel(level)
        logger.removeHandler(handler)


class Browser:
    """A test client that notes every URL it asked for, was sent to, or was shown."""

    def __init__(self, client):
        self.client = client
        self.urls: list[str] = []

    def get(self, path, **extra):
        return self._note(path, self.client.get(path, **extra))

    def post(self, path, data=None, **extra):
        return self._note(path, self.client.post(path, data or {}, **extra))

    def _note(self, path, response):
        self.urls.append(path)
        if "Location" in response:
            self.urls.append(response["Location"])
        if response.get("Content-Type", "").startswith("text/html"):
            html = response.content.decode()
            self.urls += re.findall(r'(?:href|action|src|hx-post|hx-get)="([^"]*)"', html)
        return response


def forbidden_phrases() -> list[str]:
    """Her answers as they might leak: the score, the symptoms' words and codes, the note."""
    texts = [NOTE, "ZEBRA-7731"]
    texts += [f"{PAIN}/10", f"{PAIN} out of 10", f"pain {PAIN}", f"pain: {PAIN}", f"pain={PAIN}"]
    texts += [f"'pain': {PAIN}", f'"pain": {PAIN}', f"pain/{PAIN}", f"pain-{PAIN}"]
    texts += [safety.PAIN_SITES[code] for code in SITES]
    texts += [safety.WARNING_SIGNS[code] for code in WARNINGS]
    texts += [safety.URGENT_SIGNS[code] for code in URGENT]
    return [t.lower() for t in texts]


def forbidden_codes() -> list[str]:
    """The stored codes too, where nothing should name them at all: logs and URLs."""
    return SITES + WARNINGS + URGENT


def leaks(text: str, phrases: list[str]) -> list[str]:
    text = text.lower()
    return [p for p in phrases if p in text or p in unquote_plus(text)]


def test_her_answers_appear_in_no_log_email_or_url(
    client, program, coach, logs, clock, django_capture_on_commit_callbacks, replanning
):
    her = Browser(client)
    clock("2026-03-10 06:00", "Europe/London")

    # She signs up and enrols; staff assign her coach.
    signup = {
        "first_name": "Amira",
        "email": "amira@example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    assert her.post(reverse("signup"), signup).status_code == 302
    confirm = re.search(r"/accounts/signup/confirm/\S+/", mail.outbox[-1].body)[0]
    assert her.post(confirm).status_code == 302  # her address confirmed, she is logged in
    enrol = {
        "start_date": "2026-03-10",
        "timezone": "Europe/London",
        "reminder_time": "07:30",
        "weeks_postpartum": "9",
        "caesarean": "True",
        "cleared": "True",
    }
    with replanning():
        response = her.post(reverse("enrol", args=[program.slug]), enrol)
    enrolment = Enrolment.objects.get()
    assert response["Location"] == reverse("today", args=[enrolment.pk])
    Enrolment.objects.filter(pk=enrolment.pk).update(coach=coach)

    # Her 07:30 reminder goes out; she logs a session.
    clock("2026-03-10 07:45", "Europe/London")
    assert delivery.send_due(clock=timezone.now).sent >= 1
    her.get(reverse("today", args=[enrolment.pk]))
    prescription = program.stages.get(slug="breathing").prescriptions.first()
    response = her.post(
        reverse("log_session", args=[enrolment.pk, prescription.pk]),
        {"action": "done"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200

    # A red-flag check-in, on day 7 when the first one is asked.
    clock("2026-03-16 08:00", "Europe/London")
    her.get(reverse("checkin", args=[enrolment.pk]))
    answers = {
        "pain": str(PAIN),
        "pain_sites": SITES,
        "warning_signs": WARNINGS,
        "urgent_signs": URGENT,
        "sessions_felt": "too_hard",
        "note": NOTE,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = her.post(reverse("checkin", args=[enrolment.pk]), answers)
    assert response.status_code == 200
    assert CheckIn.objects.get().note == NOTE
    for name in ["today", "progress"]:
        her.get(reverse(name, args=[enrolment.pk]))
    her.get(reverse("account"))
    assert NOTE in her.get(reverse("account_export")).content.decode()
    her.post(reverse("logout"))

    # Her coach is alerted, logs in and reads the check-in.
    clock("2026-03-16 08:01", "Europe/London")
    assert delivery.send_due(clock=timezone.now).sent >= 1
    alert = Notification.objects.get(kind="coach_alert")
    assert (alert.status, alert.recipient) == ("sent", coach)
    them = Browser(client)
    response = them.post(reverse("login"), {"username": coach.email, "password": PASSWORD})
    assert response.status_code == 302
    them.get(reverse("dashboard"))
    page = them.get(reverse("client", args=[enrolment.pk])).content.decode()
    assert NOTE in page and safety.URGENT_SIGNS["calf"] in page  # the data was all there
    them.get(reverse("client", args=[enrolment.pk + 1000]))  # a 404, logged by django.request

    # Nothing of it anywhere it should not be.
    phrases, codes = forbidden_phrases(), forbidden_codes()
    assert logs, "the handler caught nothing: the test would prove nothing"
    for line in logs:
        assert not leaks(line, phrases + codes), line

    assert len(mail.outbox) >= 2
    for message in mail.outbox:
        parts = [message.subject, message.body, *map(str, message.extra_headers.values())]
        parts += [content for content, _ in getattr(message, "alternatives", [])]
        for part in parts:
            assert not leaks(part, phrases), (message.subject, part)
        urls = re.findall(r"https?://[^\s\"'<>]+", " ".join(parts))
        for url in urls:
            assert not leaks(url, phrases + codes), url

    urls = her.urls + them.urls
    assert len(urls) > 50
    for url in urls:
        assert not leaks(url, phrases + codes), url


# Her data, downloaded


@pytest.fixture
def history(make_enrolment, coach, other_user, program, clock):
    """Her program with a bit of everything, and another woman's alongside."""
    now = clock("2026-03-20 09:00", "Europe/London")
    enrolment = make_enrolment(coach=coach)
    Pause.objects.create(
        enrolment=enrolment,
        started_at=datetime(2026, 3, 12, tzinfo=UTC),
        ended_at=datetime(2026, 3, 14, tzinfo=UTC),
    )
    prescription = program.stages.get(slug="breathing").prescriptions.first()
    SessionLog.objects.create(
        enrolment=enrolment, prescription=prescription, local_date=datetime(2026, 3, 3).date()
    )
    checkin = CheckIn.objects.create(
        enrolment=enrolment,
        week=3,
        submitted_at=now,
        pain=PAIN,
        pain_sites=SITES,
        warning_signs=WARNINGS,
        urgent_signs=[],
        sessions_felt="too_hard",
        note=NOTE,
        tier=1,
    )
    Hold.objects.create(enrolment=enrolment, tier=1, checkin=checkin, started_at=now)
    Message.objects.create(
        enrolment=enrolment, side="coach", author=coach, body="Well done this week!", created_at=now
    )
    Message.objects.create(
        enrolment=enrolment, side="client", author=enrolment.user, body="Thank you!", created_at=now
    )
    CoachAction.objects.create(
        enrolment=enrolment, actor=coach, kind="note", detail="PRIVATE-COACH-NOTE", at=now
    )
    Notification.objects.create(
        enrolment=enrolment,
        recipient=enrolment.user,
        kind="session",
        key="2026-03-20",
        scheduled_for=now,
        due_at=now,
        status="sent",
        sent_at=now,
    )
    Notification.objects.create(
        enrolment=enrolment,
        recipient=enrolment.user,
        kind="session",
        key="2026-03-21",
        scheduled_for=now,
        due_at=now,
    )
    Notification.objects.create(
        enrolment=enrolment,
        recipient=coach,
        kind="coach_alert",
        key=f"flag-{checkin.pk}",
        scheduled_for=now,
        due_at=now,
    )
    Invitation.objects.create(
        coach=coach,
        program=program,
        email=enrolment.user.email,
        created_at=now,
        accepted_at=now,
        accepted_by=enrolment.user,
    )

    theirs = make_enrolment(user=other_user, coach=coach)
    CheckIn.objects.create(
        enrolment=theirs,
        week=3,
        submitted_at=now,
        pain=2,
        sessions_felt="right",
        note="OTHER-WOMANS-NOTE",
    )
    SessionLog.objects.create(
        enrolment=theirs, prescription=prescription, local_date=datetime(2026, 3, 4).date()
    )
    Notification.objects.create(
        enrolment=theirs,
        recipient=other_user,
        kind="session",
        key="2026-03-21",
        scheduled_for=now,
        due_at=now,
    )
    return enrolment


def export(client) -> dict:
    response = client.get(reverse("account_export"))
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_account_page_offers_download_and_deletion(member):
    content = member.get(reverse("account")).content.decode()
    assert reverse("account_export") in content
    assert reverse("account_delete") in content


def test_account_pages_need_her_logged_in(client):
    for name in ["account", "account_export", "account_delete"]:
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_the_export_is_a_download_never_cached(member, history):
    response = member.get(reverse("account_export"))
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == (
        'attachment; filename="my-recovery-data-2026-03-20.json"'
    )
    assert "no-store" in response["Cache-Control"]


def test_the_export_holds_her_profile_and_program(member, history, user):
    data = export(member)
    assert data["profile"]["email"] == user.email
    assert data["profile"]["first_name"] == "Amira"
    (enrolment,) = data["enrolments"]
    assert enrolment["program"]["slug"] == "test-program"
    assert enrolment["status"] == "active"
    assert enrolment["start_date"] == "2026-03-02"
    assert enrolment["timezone"] == "Europe/London"
    assert enrolment["weeks_postpartum_at_enrolment"] == 8
    assert enrolment["coach"] == "Dana"
    assert enrolment["pauses"] == [
        {"started_at": "2026-03-12T00:00:00+00:00", "ended_at": "2026-03-14T00:00:00+00:00"}
    ]
    assert [(s["date"], s["exercise"]) for s in enrolment["sessions"]] == [
        ("2026-03-03", "Breathing 1")
    ]


def test_the_export_holds_every_answer_of_every_check_in(member, history):
    (checkin,) = export(member)["enrolments"][0]["checkins"]
    assert checkin["week"] == 3
    assert checkin["pain"] == PAIN
    assert checkin["pain_sites"] == ["Lower back", "Pelvis"]
    assert checkin["warning_signs"] == [safety.WARNING_SIGNS[code] for code in WARNINGS]
    assert checkin["urgent_signs"] == []
    assert checkin["sessions_felt"] == "Too hard"
    assert checkin["note"] == NOTE
    assert checkin["red_flag_tier"] == 1


def test_the_export_holds_her_holds_messages_and_emails(member, history):
    data = export(member)
    (hold,) = data["enrolments"][0]["holds"]
    assert (hold["tier"], hold["cleared_at"], hold["from_checkin_week"]) == (1, None, 3)
    assert data["enrolments"][0]["coach_actions"] == []  # her coach's note is not hers
    assert [(m["from"], m["text"]) for m in data["enrolments"][0]["messages"]] == [
        ("your coach", "Well done this week!"),
        ("you", "Thank you!"),
    ]
    assert [(e["kind"], e["status"]) for e in data["emails"]] == [
        ("session", "sent"),
        ("session", "pending"),
    ]
    assert set(data["emails"][0]) == {
        "kind",
        "description",
        "program",
        "scheduled_for",
        "sent_at",
        "status",
    }


def test_the_export_holds_no_one_elses_data(member, history, coach, other_user):
    text = json.dumps(export(member))
    assert "OTHER-WOMANS-NOTE" not in text
    assert other_user.email not in text
    assert "2026-03-04" not in text  # her session
    assert coach.email not in text
    assert text.count("Dana") == 1  # her coach's name, and nothing else of the coach's
    assert "PRIVATE-COACH-NOTE" not in text  # the coach's private notes stay hers
    assert "coach_alert" not in text  # an email to her coach, not to her


def test_another_woman_downloads_only_her_own(client, history, other_user):
    client.force_login(other_user)
    data = export(client)
    (enrolment,) = data["enrolments"]
    assert [c["note"] for c in enrolment["checkins"]] == ["OTHER-WOMANS-NOTE"]
    assert NOTE not in json.dumps(data)


# Deleting her account


def delete(client, password=PASSWORD):
    return client.post(reverse("account_delete"), {"password": password})


def test_the_delete_page_warns_and_asks_for_her_password(member, history):
    response = member.get(reverse("account_delete"))
    content = response.content.decode()
    assert "This cannot be undone" in content
    assert 'name="password"' in content
    assert 'method="post"' in content
    assert Enrolment.objects.filter(pk=history.pk).exists()


def test_a_wrong_password_deletes_nothing(member, history, user):
    counts = [m.objects.count() for m in (Enrolment, CheckIn, Hold, SessionLog, Notification)]
    response = delete(member, "not-my-password")
    assert response.status_code == 200
    assert "That is not your password. Nothing has been deleted." in response.content.decode()
    assert User.objects.filter(pk=user.pk).exists()
    assert [
        m.objects.count() for m in (Enrolment, CheckIn, Hold, SessionLog, Notification)
    ] == counts
    assert int(member.session["_auth_user_id"]) == user.pk


def test_an_empty_password_deletes_nothing(member, history, user):
    response = delete(member, "")
    assert "This field is required" in response.content.decode()
    assert User.objects.filter(pk=user.pk).exists()


def test_deleting_removes_her_and_all_her_health_data(member, history, user):
    response = delete(member)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert not User.objects.filter(pk=user.pk).exists()
    assert not Enrolment.objects.filter(user_id=user.pk).exists()
    for model in (CheckIn, Hold, SessionLog, Pause, CoachAction):
        assert not model.objects.filter(enrolment_id=history.pk).exists(), model
    assert not Notification.objects.filter(recipient_id=user.pk).exists()
    assert not Invitation.objects.filter(email=user.email).exists()


def test_deleting_cancels_every_email_for_her_and_about_her(member, history, user, coach):
    delete(member)
    assert not Notification.objects.filter(enrolment_id=history.pk).exists()
    assert not Notification.objects.filter(recipient=coach, kind="coach_alert").exists()
    assert delivery.count_due(timezone.now()) == 1  # the other woman's reminder only


def test_deleting_logs_her_out_and_says_so(member, history):
    response = member.post(reverse("account_delete"), {"password": PASSWORD}, follow=True)
    assert "_auth_user_id" not in member.session
    assert "Your account and everything in it have been deleted." in response.content.decode()
    assert member.get(reverse("account")).status_code == 302


def test_deleting_clears_what_her_browser_kept_for_offline_use(member, history):
    response = member.post(reverse("account_delete"), {"password": PASSWORD})
    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"cache", "storage"'


def test_a_refused_deletion_clears_nothing(member, history):
    response = member.post(reverse("account_delete"), {"password": "wrong"})
    assert "Clear-Site-Data" not in response


def test_deleting_leaves_another_womans_data_alone(member, history, other_user):
    delete(member)
    theirs = Enrolment.objects.get(user=other_user)
    assert theirs.checkins.get().note == "OTHER-WOMANS-NOTE"
    assert theirs.sessions.count() == 1
    assert Notification.objects.filter(recipient=other_user).count() == 1


def test_after_deletion_her_coach_no_longer_sees_her(client, history, coach, user):
    client.force_login(coach)
    assert user.email in client.get(reverse("dashboard")).content.decode()
    client.force_login(user)
    delete(client)
    client.force_login(coach)
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert user.email not in dashboard and "Amira" not in dashboard
    assert client.get(reverse("client", args=[history.pk])).status_code == 404


def test_deletion_needs_a_post(member, history, user):
    member.get(reverse("account_delete"), {"password": PASSWORD})
    assert User.objects.filter(pk=user.pk).exists()
