"""
Delivery: claiming due outbox rows and sending them, each at most once.

- `claim` takes due rows for one sender with a conditional update, so two senders never take
  the same row; a row whose sender died is taken again once its lease runs out.
- `deliver` re-checks each claimed row against its kind's declaration
  (`programs.notifications`), sends it over one SMTP connection and records the outcome as
  soon as the server has answered. A row whose email was prepared ahead and still holds
  (`programs.preparation`) goes out as prepared; any other is built now. Temporary failures
  retry with exponential backoff, up to a limit; permanent ones fail at once, keeping the error.
  A row that cannot be built (her data is broken, a template fails) fails alone, with its
  error; the rest of the batch goes on.

Each batch costs a fixed number of queries, plus one primary-key update per message (its
receipt, written before the next message goes, so a crash can repeat at most the message in
flight). On PostgreSQL the receipt is committed without waiting for the disk flush
(`synchronous_commit` off for that transaction alone): a killed worker loses nothing, since the
server has the write; only a crash of the database server itself could forget the last fraction
of a second of receipts, and resend those messages.
"""

from __future__ import annotations

import logging
import re
import smtplib
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from functools import lru_cache

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends import smtp
from django.core.mail.message import sanitize_address
from django.db import DatabaseError, InterfaceError, OperationalError, connections, transaction
from django.db.models import BooleanField, F, Q, prefetch_related_objects
from django.db.models.expressions import RawSQL
from django.utils import timezone

from programs import alerts, digests, emails, facts, notifications, reminders
from programs.models import Enrolment, Notification
from programs.notifications import Recheck

log = logging.getLogger(__name__)

BACKOFF_CAP = timedelta(hours=1)
Status = Notification.Status
FINAL = (Status.SENT, Status.FAILED, Status.CANCELLED)


def lease() -> timedelta:
    """How long a claim holds before another sender may take the row again: longer than a
    task may run (settings.OUTBOX_LEASE_SECONDS), so only a dead sender's rows are retaken."""
    return timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


# Claiming


def count_due(now: datetime, within: timedelta = timedelta(0)) -> int:
    """Rows due now, or within `within` from now."""
    return Notification.objects.filter(claimable(now + within)).count()


# SQLite reads a partial index only when the query repeats the index's condition in literal
# values, not as parameters: this is notification_live_due's condition, written out.
LIVE = RawSQL(
    f"{Notification._meta.db_table}.status IN ('{Status.PENDING}', '{Status.SENDING}')",
    (),
    output_field=BooleanField(),
)


def claimable(now: datetime) -> Q:
    # The first part keeps the query on the partial index of live rows due by now, however
    # many are planned for later; a sending row was due when it was claimed.
    return Q(LIVE, due_at__lte=now) & (Q(status=Status.PENDING) | Q(claimed_until__lt=now))


# What sending an email prepared ahead needs besides its row: whether the email still holds
# (`Notification.prepared_message`) and whether she withdrew. A row whose email is built now
# needs the rest of her enrolment, her program, her account and her coach.
PREPARED_NEEDS = ("enrolment__status", "enrolment__version", "recipient__email")
BUILDING_NEEDS = ("enrolment__program", "enrolment__user", "enrolment__coach", "recipient")


def claim(now: datetime, limit: int) -> list[Notification]:
    """Take up to `limit` due rows for this dispatcher alone, for the length of a lease.

    On PostgreSQL the candidates are locked with SKIP LOCKED, so concurrent dispatchers pass
    each other by; everywhere, the update re-checks that each row is still claimable, so a row
    taken by someone else in between is simply not ours.

    The rows come with what sending them needs: little for an email prepared ahead that still
    holds, everything her email is built from for any other.
    """
    token = uuid.uuid4().hex
    with transaction.atomic():
        candidates = list(
            Notification.objects.filter(claimable(now))
            .order_by("due_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if not candidates:
            return []
        Notification.objects.filter(claimable(now), pk__in=candidates).update(
            status=Status.SENDING,
            claim=token,
            claimed_until=now + lease(),
            attempts=F("attempts") + 1,
        )
    # By primary key: the claim itself is in no index.
    claimed = Notification.objects.filter(pk__in=candidates, claim=token).order_by("due_at")
    own = [f.name for f in Notification._meta.concrete_fields]
    rows = list(claimed.select_related("enrolment", "recipient").only(*own, *PREPARED_NEEDS))
    built = [row.pk for row in rows if row.prepared_message() is None]
    if built:
        whole = claimed.filter(pk__in=built).select_related(*BUILDING_NEEDS).in_bulk()
        rows = [whole.get(row.pk, row) for row in rows]
    return rows


# Delivering


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)
    # The mail server could not be reached: the rest waits for the next dispatch tick.
    unreachable: bool = False


class TemporaryFailure(Exception):
    """The mail server could not take the message now; try again later."""


class PermanentFailure(Exception):
    """The mail server refused the message for good."""


def next_due(now: datetime, within: timedelta) -> datetime | None:
    """When the next pending row falls due, if it does within `within` of `now`."""
    return (
        Notification.objects.filter(status=Status.PENDING, due_at__gt=now, due_at__lte=now + within)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )


def send_due(
    clock: Callable[[], datetime] = timezone.now,
    batch_size: int | None = None,
    max_batches: int | None = None,
    wait: timedelta = timedelta(0),
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryReport:
    """Claim and deliver due rows batch by batch until none is due (or `max_batches`, or the
    mail server cannot be reached). With `wait`, a row falling due within that time is waited
    for rather than left to the next dispatch tick, so a rush at 08:00 starts at 08:00."""
    batch_size = batch_size or settings.OUTBOX_SEND_BATCH
    report = DeliveryReport()
    while max_batches is None or report.batches < max_batches:
        rows = claim(clock(), batch_size)
        if not rows:
            now = clock()
            upcoming = wait and next_due(now, wait)
            if not upcoming:
                break
            sleep((upcoming - now).total_seconds())
            continue
        report.batches += 1
        report.claimed += len(rows)
        deliver(rows, clock, report)
        if report.unreachable:
            break  # the next batch would meet the same closed door
    return report


@dataclass(frozen=True)
class Batch:
    """What a batch of claimed rows needs besides the rows, loaded in a fixed number of
    queries: her schedule's facts, the coaches' digest summaries, the program text, and which
    holds named by clinic alerts still wait for someone to acknowledge them."""

    recipients: dict[int, reminders.Recipient]
    broken: dict[int, Exception]
    summaries: dict[int, digests.Summary]
    content: emails.Content
    unacknowledged: frozenset[int] = frozenset()

    @classmethod
    def load(cls, rows: list[Notification], now: datetime) -> Batch:
        # An email prepared ahead that still holds needs nothing more: her facts are loaded
        # only for the rest.
        fresh = [r for r in rows if r.enrolment and r.prepared_message() is None]
        enrolments = list({r.enrolment_id: r.enrolment for r in fresh}.values())
        if enrolments:
            prefetch_related_objects(enrolments, *facts.HER_FACTS)
            specs = facts.specs_for(enrolments)
            recipients, broken = facts.recipients(enrolments, specs)
            content = emails.Content.load(specs, enrolments)
        else:
            recipients, broken, content = {}, {}, emails.Content({}, {})
        # A coach's digest has no enrolment: whether it goes depends on all her clients, now.
        coaches = {r.recipient_id for r in rows if r.kind == notifications.COACH_DIGEST.key}
        summaries = digests.summaries(coaches, now)
        waiting = alerts.unacknowledged(
            alerts.hold_of(r.key) for r in rows if r.spec.recheck == Recheck.UNACKNOWLEDGED
        )
        return cls(
            recipients,
            broken,
            summaries,
            content,
            frozenset(waiting),
        )


def deliver(rows: list[Notification], clock: Callable[[], datetime], report: DeliveryReport):
    """Send claimed rows over one connection, recording each outcome as it happens."""
    batch = Batch.load(rows, clock())
    connection = get_connection(fail_silently=False)
    with Receipts() as receipts, _closing(connection):
        for index, row in enumerate(rows):
            now = clock()
            if not _deliver_one(row, batch, connection, receipts, now, report):
                # The server is gone: hand back the rest of the batch for a later try.
                _hand_back(rows[index + 1 :], receipts, now)
                report.unreachable = True
                break


def _deliver_one(
    row, batch: Batch, connection, receipts: Receipts, now: datetime, report: DeliveryReport
) -> bool:
    """Check, build and send one row, and record what happened; False if the mail server
    could not be reached."""
    summary = batch.summaries.get(row.recipient_id)
    recipient = batch.recipients.get(row.enrolment_id)
    prepared = row.prepared_message()
    try:
        if prepared is not None:
            # Nothing her schedule depends on changed since it was prepared (her version is
            # the same); her enrolment's own state and lateness are checked as for any row.
            wanted = row.enrolment.status != Enrolment.Status.WITHDRAWN and not row.spec.is_stale(
                now - row.scheduled_for
            )
            message = Prepared(row.to_address, prepared)
        else:
            wanted = _still_wanted(row, recipient, now, summary, batch.broken, batch.unacknowledged)
            message = wanted and emails.build(row, recipient, batch.content, summary)
    except Exception as error:  # this row alone: her data or its template is at fault
        _finish(
            row, receipts, status=Status.FAILED, last_error=f"not built: {facts.describe(error)}"
        )
        report.failed += 1
        log.warning("notification %s could not be built", row.pk, exc_info=True)
        return True
    if not wanted:
        _finish(row, receipts, status=Status.CANCELLED)
        report.cancelled += 1
        return True
    try:
        _send(connection, message)
    except TemporaryFailure as error:
        _retry_or_fail(row, receipts, str(error), now, report)
        return not _connection_lost(error)
    except PermanentFailure as error:
        _finish(row, receipts, status=Status.FAILED, last_error=str(error))
        report.failed += 1
        log.warning("notification %s failed permanently", row.pk)
    else:
        _finish(row, receipts, status=Status.SENT, sent_at=now, last_error="")
        report.sent += 1
    return True


@contextmanager
def _closing(connection):
    try:
        yield
    finally:
        try:
            connection.close()
        except Exception:  # closing a connection that already broke
            log.debug("closing the mail connection failed", exc_info=True)


def _still_wanted(
    row: Notification,
    recipient: reminders.Recipient | None,
    now: datetime,
    summary: digests.Summary | None,
    broken: dict[int, Exception],
    unacknowledged: frozenset[int] = frozenset(),
) -> bool:
    """What the row's kind asks to hold when it falls due (`notifications.Recheck`)."""
    kind = row.spec
    if kind.recheck == Recheck.NONE:
        return True
    if kind.recheck == Recheck.UNACKNOWLEDGED:
        # Even after she withdrew: the hold, not her enrolment, is what needs a person.
        return alerts.hold_of(row.key) in unacknowledged
    if kind.recheck == Recheck.DIGEST:
        return summary is not None and summary.worth_sending(row.scheduled_for, now)
    if row.enrolment.status == Enrolment.Status.WITHDRAWN:
        return False
    if kind.recheck == Recheck.ENROLLED:
        return True
    if row.enrolment_id in broken:
        raise broken[row.enrolment_id]
    return reminders.still_wanted(recipient, kind, row.key, row.scheduled_for, now)


def _send(connection, message) -> None:
    """Send one message, sorting what can go wrong into temporary and permanent."""
    try:
        if getattr(connection, "connection", True) is None:
            # Django closes after each call a connection it opened itself: open it here, once
            # for the whole batch.
            connection.open()
        if isinstance(message, Prepared) and isinstance(connection, smtp.EmailBackend):
            connection.connection.sendmail(
                _envelope(settings.DEFAULT_FROM_EMAIL), [smtp_address(message.to)], message.data
            )
            sent = 1
        else:
            email = message.as_email() if isinstance(message, Prepared) else message
            sent = connection.send_messages([email])
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        kind = PermanentFailure if all(code >= 500 for code in codes) else TemporaryFailure
        said = "; ".join(f"{code} {_text(text)}" for code, text in error.recipients.values())
        raise kind(f"recipient refused: {said}") from error
    except smtplib.SMTPResponseException as error:
        kind = PermanentFailure if error.smtp_code >= 500 else TemporaryFailure
        raise kind(f"SMTP {error.smtp_code}: {_text(error.smtp_error)}") from error
    except (smtplib.SMTPException, OSError) as error:
        raise TemporaryFailure(f"connection: {type(error).__name__}: {error}") from error
    except ValueError as error:  # an address the mail library cannot put in an envelope
        raise PermanentFailure(f"address refused: {error}") from error
    if sent != 1:
        raise TemporaryFailure("the mail backend did not accept the message")


@dataclass(frozen=True)
class Prepared:
    """An email prepared ahead (`programs.preparation`): over SMTP, the bytes go out as they
    are."""

    to: str
    data: bytes

    def as_email(self) -> EmailMultiAlternatives:
        """The same email parsed back, for the other mail backends (a file or the console in
        development, memory in tests)."""
        parsed = message_from_bytes(self.data, policy=policy.default)
        copy = EmailMultiAlternatives(
            subject=str(parsed["Subject"]),
            body=_text_of(parsed.get_body(("plain",))),
            to=[self.to],
            headers={h: str(parsed[h]) for h in KEPT_HEADERS if parsed[h] is not None},
        )
        html = parsed.get_body(("html",))
        if html is not None:
            copy.attach_alternative(_text_of(html), "text/html")
        return copy


def _text_of(part) -> str:
    return part.get_content().replace("\r\n", "\n")


KEPT_HEADERS = ("Message-ID", "Date", "List-Unsubscribe", "List-Unsubscribe-Post")


@lru_cache(maxsize=4)
def _envelope(address: str) -> str:
    return smtp_address(address)


ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
LABEL = r"[A-Za-z0-9-]{1,63}"
PLAIN_ADDRESS = re.compile(rf"{ATEXT}(?:\.{ATEXT})*@{LABEL}(?:\.{LABEL})*")


def smtp_address(address: str) -> str:
    """The address as the SMTP envelope takes it: what Django's mail backend gives
    (`sanitize_address`). A plain ASCII address, as accounts hold, is that already and is taken
    as it is, rather than parsed again for every message sent."""
    if PLAIN_ADDRESS.fullmatch(address):
        return address
    return sanitize_address(address, settings.DEFAULT_CHARSET)


def _text(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _connection_lost(error: TemporaryFailure) -> bool:
    return str(error).startswith("connection:")


def backoff(attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: 1, 2, 4, 8 ... minutes by default, at most an
    hour."""
    base = timedelta(seconds=settings.OUTBOX_BACKOFF_SECONDS)
    return min(base * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


def _retry_or_fail(
    row: Notification, receipts: Receipts, error: str, now: datetime, report: DeliveryReport
):
    if row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        _finish(row, receipts, status=Status.FAILED, last_error=error)
        report.failed += 1
        log.warning("notification %s failed after %s attempts", row.pk, row.attempts)
        return
    _finish(
        row, receipts, status=Status.PENDING, due_at=now + backoff(row.attempts), last_error=error
    )
    report.retried += 1
    report.errors.append(error)


def _hand_back(rows: list[Notification], receipts: Receipts, now: datetime) -> None:
    """Return untried rows to the queue without counting an attempt against them."""
    for row in rows:
        _finish(
            row,
            receipts,
            status=Status.PENDING,
            due_at=now + backoff(1),
            attempts=row.attempts - 1,
        )


def _finish(row: Notification, receipts: Receipts, **changes) -> None:
    """Record an outcome, if the row is still ours (its lease was not taken over).

    The message may already be out: if the database is unreachable for a moment (a restart, a
    failover), keep trying, on a new connection each time, for as long as the lease is ours,
    rather than leave the row to be claimed and sent again once the lease runs out.
    """
    if changes["status"] in FINAL and row.prepared is not None:
        changes["prepared"] = None  # its bytes have no use once it is settled
    changes["claimed_until"] = None
    pause = 0.1
    while True:
        try:
            receipts.write(row, changes)
            return
        except (OperationalError, InterfaceError) as error:
            db = receipts.db
            until = row.claimed_until
            late = until is None or timezone.now() + timedelta(seconds=pause) >= until
            if db.in_atomic_block or late:
                raise
            log.warning(
                "notification %s: recording its outcome failed, retrying: %s", row.pk, error
            )
            receipts.close_cursor()
            with suppress(DatabaseError):
                db.close()  # the next query connects afresh
            time.sleep(pause)
            pause = min(pause * 2, 1.0)


class Receipts:
    """Writes each row's receipt as soon as its outcome is known. It is the hottest query of
    sending, so it is written plainly over one cursor for the batch, rather than built through
    the ORM for every message.

    On PostgreSQL, receipts are committed without waiting for the flush to disk (see the
    module's docstring for what that trades); the connection is reset afterwards.
    """

    def __init__(self) -> None:
        self.db = connections[Notification.objects.db]
        self.cursor = None
        self.unflushed = False

    def __enter__(self) -> Receipts:
        if self.db.vendor == "postgresql" and not self.db.in_atomic_block:
            self._cursor().execute("SET synchronous_commit TO OFF")
            self.unflushed = True
        return self

    def __exit__(self, *exc_info) -> None:
        if self.unflushed:
            with suppress(DatabaseError):
                self._cursor().execute("RESET synchronous_commit")
        self.close_cursor()

    def write(self, row: Notification, changes: dict) -> None:
        """Set `changes` on the row, if it is still ours."""
        params = [_db_value(self.db, value) for value in changes.values()]
        self._cursor().execute(
            _receipt_sql(self.db.alias, tuple(changes)), [*params, row.pk, row.claim]
        )

    def close_cursor(self) -> None:
        if self.cursor is not None:
            with suppress(DatabaseError):
                self.cursor.close()
            self.cursor = None

    def _cursor(self):
        if self.cursor is None:
            self.cursor = self.db.cursor()
        return self.cursor


@lru_cache(maxsize=32)
def _receipt_sql(alias: str, names: tuple[str, ...]) -> str:
    quote = connections[alias].ops.quote_name
    assignments = ", ".join(
        f"{quote(Notification._meta.get_field(name).column)} = %s" for name in names
    )
    return (
        f"UPDATE {quote(Notification._meta.db_table)} SET {assignments} "
        "WHERE id = %s AND claim = %s"
    )


def _db_value(db, value):
    # A receipt holds text, numbers, nothing, or a moment: only a moment needs converting to
    # the database's own form (SQLite keeps it as text, in UTC).
    return db.ops.adapt_datetimefield_value(value) if isinstance(value, datetime) else value
