"""Prepared emails over a real SMTP server (a thread of this process): each email's receipt is
written before anything of the next email reaches the server, so a crash can repeat at most one
email; a receipt that cannot be written stops the batch before the next email begins."""

import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import DatabaseError
from processes import smtp_fixture, smtp_server_fixture  # noqa: F401 (fixtures)

from programs import delivery, planning, preparation
from programs.models import Notification, SessionLog

pytestmark = pytest.mark.django_db
Status = Notification.Status
MOMENT = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)  # their 08:00 reminder in London
BEFORE = MOMENT - timedelta(minutes=5)
SOON = 5.0  # seconds: far more than any step here takes
A_MOMENT = 0.2  # seconds: time enough for anything sent after a failure to reach the server


class Log:
    """What happened, in order, from any thread: ("mail", n) when the server has the n-th
    MAIL FROM, ("rcpt", address) when it has a recipient, ("arrived", address) when it has taken
    a message, ("receipt", address) once a receipt is written."""

    def __init__(self):
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.events: list[tuple[str, str]] = []

    def add(self, what: str, address: str) -> None:
        with self.changed:
            if what == "mail":
                address = str(len(self.of("mail")) + 1)
            self.events.append((what, address))
            self.changed.notify_all()

    def wait_for(self, event: tuple[str, str], timeout: float = SOON) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: event in self.events, timeout=timeout)

    def index(self, what: str, address: str) -> int:
        return self.events.index((what, address))

    def of(self, what: str) -> list[str]:
        return [address for kind, address in self.events if kind == what]


@pytest.fixture
def log(smtp, monkeypatch):
    """What the server has, and the receipts written, in one log."""
    log = Log()
    handle_rcpt, handle_data = smtp.handle_RCPT, smtp.handle_DATA

    async def mail(server, session, envelope, address, options):
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        log.add("mail", address)
        return "250 OK"

    async def rcpt(server, session, envelope, address, options):
        answer = await handle_rcpt(server, session, envelope, address, options)
        log.add("rcpt", address)
        return answer

    async def data(server, session, envelope):
        answer = await handle_data(server, session, envelope)
        if answer.startswith("250"):
            log.add("arrived", envelope.rcpt_tos[0])
        return answer

    monkeypatch.setattr(smtp, "handle_MAIL", mail, raising=False)
    monkeypatch.setattr(smtp, "handle_RCPT", rcpt, raising=False)
    monkeypatch.setattr(smtp, "handle_DATA", data, raising=False)
    return log


@pytest.fixture
def over_smtp(settings, smtp_server):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_server.host
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_TIMEOUT = 10


@pytest.fixture
def prepared(make_enrolment, django_user_model, program) -> list[str]:
    """Four women whose session reminders fall due at MOMENT, each prepared ahead; their
    addresses, in the order they are sent."""
    prescription = program.stages.get(slug="breathing").prescriptions.first()
    addresses = [f"w{i}@example.com" for i in range(4)]
    for address in addresses:
        user = django_user_model.objects.create_user(address, address)
        enrolment = make_enrolment(user=user, email_evening=False)
        SessionLog.objects.create(
            enrolment=enrolment, prescription=prescription, local_date=date(2026, 3, 3)
        )
    planning.plan_all(BEFORE)
    due = list(Notification.objects.filter(due_at=MOMENT).order_by("pk"))
    assert preparation.prepare([row.pk for row in due], BEFORE).prepared == len(addresses)
    for i, row in enumerate(due):  # a second apart, so that they are sent in this order
        Notification.objects.filter(pk=row.pk).update(due_at=MOMENT + timedelta(seconds=i))
    return [row.to_address for row in due]


def receipts_logged(monkeypatch, log, before=None):
    """Log each receipt written; `before(address)` runs first, on the sender's thread."""
    write = delivery.Receipts.write

    def logged(receipts, row, changes):
        if before is not None:
            before(row.to_address)
        write(receipts, row, changes)
        log.add("receipt", row.to_address)

    monkeypatch.setattr(delivery.Receipts, "write", logged)


def send_all() -> delivery.DeliveryReport:
    return delivery.send_due(clock=lambda: MOMENT + timedelta(seconds=30))


def statuses() -> list[str]:
    return list(
        Notification.objects.filter(kind="session", key="2026-03-04")
        .order_by("due_at")
        .values_list("status", flat=True)
    )


def test_each_receipt_is_written_before_the_next_email_begins(
    over_smtp, prepared, log, monkeypatch
):
    receipts_logged(monkeypatch, log)
    report = send_all()
    assert report.sent == 4
    assert log.of("arrived") == prepared
    assert log.of("receipt") == prepared
    for n, earlier in enumerate(prepared[:-1], start=2):
        assert log.index("arrived", earlier) < log.index("receipt", earlier)
        assert log.index("receipt", earlier) < log.index("mail", str(n))
    rows = Notification.objects.filter(kind="session", key="2026-03-04")
    assert set(rows.values_list("status", "prepared", "claimed_until")) == {
        (Status.SENT, None, None)
    }


def test_a_receipt_that_cannot_be_written_stops_the_batch_before_the_next_email(
    over_smtp, prepared, log, monkeypatch, smtp
):
    def fail_on_the_first(address):
        if address == prepared[0]:
            raise DatabaseError("the receipt could not be written")

    receipts_logged(monkeypatch, log, before=fail_on_the_first)
    with pytest.raises(DatabaseError):
        send_all()
    time.sleep(A_MOMENT)
    assert log.of("mail") == ["1"]
    assert log.of("arrived") == [prepared[0]] and smtp.count == 1
    # The first goes again once the lease runs out (the one duplicate); the rest go once.
    assert statuses() == [Status.SENDING] * 4


def test_a_refused_recipient_fails_alone(over_smtp, prepared, log, smtp):
    smtp.refuse(prepared[1])
    report = send_all()
    assert (report.sent, report.failed) == (3, 1)
    assert log.of("arrived") == [prepared[0], *prepared[2:]]
    assert statuses() == [Status.SENT, Status.FAILED, Status.SENT, Status.SENT]
    failed = Notification.objects.get(status=Status.FAILED)
    assert "550" in failed.last_error


def test_a_temporary_refusal_at_data_is_retried(over_smtp, prepared, log, smtp):
    smtp.fail_next(1)
    report = send_all()
    assert (report.sent, report.retried) == (3, 1)
    assert log.of("arrived") == prepared[1:]
    retried = Notification.objects.get(status=Status.PENDING, key="2026-03-04")
    assert retried.to_address == prepared[0] and "451" in retried.last_error


@pytest.mark.parametrize("still_prepared", [True, False])
@pytest.mark.parametrize("address", ["w1@@example.com", f"w1@{'x' * 70}.example.com"])
def test_an_address_the_mail_library_refuses_fails_alone(
    over_smtp, prepared, log, django_user_model, address, still_prepared
):
    # An address no form would take, written around them.
    django_user_model.objects.filter(email=prepared[1]).update(email=address)
    if still_prepared:
        Notification.objects.filter(prepared_to=prepared[1]).update(prepared_to=address)
    report = send_all()
    assert (report.sent, report.failed) == (3, 1)
    assert log.of("arrived") == [prepared[0], *prepared[2:]]
    assert statuses() == [Status.SENT, Status.FAILED, Status.SENT, Status.SENT]
    assert Notification.objects.get(status=Status.FAILED).last_error.startswith("address refused")
