"""
The outbox under concurrency: dispatchers claiming side by side, SKIP LOCKED, leases that ran
out, planners racing. Each dispatcher or planner is a thread with its own database connection
(Django gives each thread its own), closed when the thread ends.

On SQLite writers take turns (BEGIN IMMEDIATE), so these tests check that claims stay exact when
serialised; on PostgreSQL (the second pass of `make test`) they really overlap. The SKIP LOCKED
test needs row locks and runs on PostgreSQL only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, connections, transaction

from programs import delivery, planning
from programs.models import Enrolment, Notification

pytestmark = pytest.mark.django_db(transaction=True)
NOW = datetime(2026, 3, 4, 7, 0, tzinfo=UTC)
Status = Notification.Status
TIMEOUT = 60.0  # seconds any thread may take; far more than any of them needs

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL row locks (FOR UPDATE SKIP LOCKED); runs in the PostgreSQL pass",
)


def in_threads(*jobs: Callable[[], Any]) -> list[Any]:
    """Run each job on a thread of its own, at once; their results, or the first error."""
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(index: int, job: Callable[[], Any]) -> None:
        try:
            results[index] = job()
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()  # this thread's connections only

    threads = [
        threading.Thread(target=run, args=(i, job), name=f"job-{i}", daemon=True)
        for i, job in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads), f"a thread still runs after {TIMEOUT:.0f} s"
    if errors:
        raise errors[0]
    return results


def one_waiting_on_the_other(first: Callable[[], Any], second: Callable[[], Any]) -> list[Any]:
    """Run `first` in a transaction held open until `second`, on another thread, has been
    waiting on it for a moment; then let `first` commit. Their results."""
    done, release = threading.Event(), threading.Event()

    def held() -> Any:
        with transaction.atomic():
            result = first()
            done.set()
            release.wait(TIMEOUT)
        return result

    def waiting() -> Any:
        done.wait(TIMEOUT)
        threading.Timer(0.5, release.set).start()  # while `second` waits for what `first` holds
        return second()

    return in_threads(held, waiting)


def due_rows(enrolment: Enrolment, count: int, **fields: Any) -> list[int]:
    """`count` due check-in rows for her, oldest first: their primary keys in that order."""
    Notification.objects.bulk_create(
        Notification(
            enrolment=enrolment,
            recipient_id=enrolment.user_id,
            kind="checkin",
            key=f"week-{n}",
            scheduled_for=NOW - timedelta(seconds=count - n),
            due_at=NOW - timedelta(seconds=count - n),
            **fields,
        )
        for n in range(count)
    )
    return list(Notification.objects.order_by("due_at").values_list("pk", flat=True))


def test_two_dispatchers_claim_each_of_a_thousand_rows_exactly_once(make_enrolment):
    everything = set(due_rows(make_enrolment(), 1000))
    start = threading.Barrier(2, timeout=TIMEOUT)

    def dispatcher() -> tuple[list[int], int]:
        start.wait()
        taken, batches = [], 0
        while rows := delivery.claim(NOW, limit=25):
            taken += [row.pk for row in rows]
            batches += 1
        return taken, batches

    (first, first_batches), (second, second_batches) = in_threads(dispatcher, dispatcher)
    overlap = set(first) & set(second)
    print(
        f"{connection.vendor}: dispatcher 1 claimed {len(first)} rows in {first_batches} "
        f"batches, dispatcher 2 {len(second)} in {second_batches}; overlap {len(overlap)}"
    )
    assert not overlap
    assert len(first) == len(set(first)) and len(second) == len(set(second))
    assert set(first) | set(second) == everything
    assert first and second, "one dispatcher took everything: they never ran side by side"
    assert set(Notification.objects.values_list("status", "attempts")) == {(Status.SENDING, 1)}


@postgresql_only
def test_a_claim_skips_rows_locked_by_another_transaction_instead_of_waiting(make_enrolment):
    ordered = due_rows(make_enrolment(), 100)
    oldest, next_oldest = ordered[:10], ordered[10:30]
    locked, release = threading.Event(), threading.Event()

    def holder() -> list[int]:
        """Another dispatcher's transaction, holding the oldest rows until told to let go."""
        try:
            with transaction.atomic():
                held = list(
                    Notification.objects.filter(pk__in=oldest)
                    .select_for_update()
                    .values_list("pk", flat=True)
                )
                locked.set()
                release.wait(TIMEOUT)
            return held
        finally:
            locked.set()

    def claimer() -> tuple[list[int], float]:
        try:
            assert locked.wait(TIMEOUT)
            with connection.cursor() as cursor:
                # Waiting for the lock would be the bug: fail after 5 s instead of hanging.
                cursor.execute("SET lock_timeout = '5s'")
            started = time.monotonic()
            rows = delivery.claim(NOW, limit=20)
            return [row.pk for row in rows], time.monotonic() - started
        finally:
            release.set()

    held, (claimed, took) = in_threads(holder, claimer)
    print(f"claimed {len(claimed)} rows in {took:.3f} s while {len(held)} were locked")
    assert sorted(held) == sorted(oldest)
    assert not set(claimed) & set(oldest)
    assert claimed == next_oldest
    assert took < 2.0
    # Once let go, the skipped rows are there for the next claim, untouched.
    assert set(Notification.objects.filter(pk__in=oldest).values_list("status", "attempts")) == {
        (Status.PENDING, 0)
    }
    assert [row.pk for row in delivery.claim(NOW, limit=10)] == oldest


def test_an_expired_lease_is_taken_over_once_when_two_dispatchers_race(make_enrolment):
    """A dead dispatcher's leases run out one a second; at each, two dispatchers race for it."""
    rounds = 30
    pks = due_rows(make_enrolment(), rounds, status=Status.SENDING, claim="dead", attempts=1)
    for i, pk in enumerate(pks):
        Notification.objects.filter(pk=pk).update(claimed_until=NOW + timedelta(seconds=i))
    moments = [NOW + timedelta(seconds=i, milliseconds=500) for i in range(rounds)]
    start = threading.Barrier(2, timeout=TIMEOUT)

    def dispatcher() -> list[list[int]]:
        won = []
        for moment in moments:
            start.wait()  # both claim at the same moment, each round
            won.append([row.pk for row in delivery.claim(moment, limit=10)])
        return won

    first, second = in_threads(dispatcher, dispatcher)
    print(
        f"{connection.vendor}: {rounds} expired leases; dispatcher 1 took "
        f"{sum(map(len, first))}, dispatcher 2 {sum(map(len, second))}"
    )
    for pk, mine, theirs in zip(pks, first, second, strict=True):
        assert sorted(mine + theirs) == [pk], "each expired row goes to exactly one of them"
    rows = Notification.objects.values_list("status", "attempts", "claim")
    assert {(status, attempts) for status, attempts, _ in rows} == {(Status.SENDING, 2)}
    assert "dead" not in {claim for *_, claim in rows}


def test_two_planners_at_once_create_each_row_once(make_enrolment, django_user_model):
    copies(make_enrolment(), 199, django_user_model, prefix="p")
    start = threading.Barrier(2, timeout=TIMEOUT)

    def planner() -> planning.PlanReport:
        start.wait()
        return planning.plan_all(NOW, batch_size=25)

    first, second = in_threads(planner, planner)
    planned = list(Notification.objects.values_list("enrolment_id", "kind", "key"))
    print(
        f"{connection.vendor}: planners tried {first.created} and {second.created} rows; "
        f"{len(planned)} exist"
    )
    # Each planner waits for the rows the other holds, then plans them again: nothing changes.
    assert (first.enrolments, second.enrolments) == (200, 200)
    assert len(planned) == len(set(planned))
    assert set(planned) == planned_by_one_planner()


def test_two_sweeps_at_once_and_their_tasks_plan_each_enrolment_once_and_create_each_row_once(
    make_enrolment, django_user_model
):
    copies(make_enrolment(), 299, django_user_model, prefix="s")
    start = threading.Barrier(2, timeout=TIMEOUT)

    def sweeper() -> list[planning.PlanReport]:
        start.wait()
        asked: list[None] = []
        planning.sweep(NOW, ask=lambda: asked.append(None), batch_size=20)
        # Both sweeps counted everyone: half their tasks find nothing left to claim.
        return [planning.plan_due(NOW, batch_size=20) for _ in asked]

    first, second = in_threads(sweeper, sweeper)
    planned = list(Notification.objects.values_list("enrolment_id", "kind", "key"))
    counts = [sum(r.enrolments for r in reports) for reports in (first, second)]
    print(
        f"{connection.vendor}: the sweeps' tasks planned {counts[0]} and {counts[1]} "
        f"enrolments; {len(planned)} rows exist"
    )
    assert sum(counts) == 300  # each enrolment claimed and planned by one task only
    assert set(Enrolment.objects.values_list("planned_until", flat=True)) == {
        NOW + planning.HORIZON
    }
    assert len(planned) == len(set(planned))
    assert set(planned) == planned_by_one_planner()


def test_two_planning_tasks_at_once_claim_apart_and_create_each_row_once(
    make_enrolment, django_user_model
):
    copies(make_enrolment(), 199, django_user_model, prefix="t")
    start = threading.Barrier(2, timeout=TIMEOUT)

    def worker() -> list[int]:
        start.wait()
        batches = []  # enrolments planned by each task, until one finds nothing to claim
        while (report := planning.plan_due(NOW, batch_size=15)).enrolments:
            batches.append(report.enrolments)
        return batches

    first, second = in_threads(worker, worker)
    planned = list(Notification.objects.values_list("enrolment_id", "kind", "key"))
    print(
        f"{connection.vendor}: two tasks planned {sum(first)} and {sum(second)} enrolments in "
        f"{len(first)} and {len(second)} batches"
    )
    assert sum(first) + sum(second) == 200
    assert max(first + second) <= 15
    assert len(planned) == len(set(planned))
    assert set(planned) == planned_by_one_planner()


def copies(template: Enrolment, count: int, user_model, prefix: str) -> None:
    """`count` more enrolments like `template`, each for a new user."""
    users = user_model.objects.bulk_create(
        user_model(username=f"{prefix}{i}@example.com", email=f"{prefix}{i}@example.com")
        for i in range(count)
    )
    copied = {
        f.attname: getattr(template, f.attname)
        for f in Enrolment._meta.concrete_fields
        if f.attname not in ("id", "user_id")
    }
    Enrolment.objects.bulk_create(Enrolment(**copied, user=user) for user in users)


def planned_by_one_planner() -> set[tuple[int, str, str]]:
    """What one planner alone makes of the same enrolments (then rolled back)."""
    with transaction.atomic():
        Notification.objects.all().delete()
        planning.plan_all(NOW)
        planned = set(Notification.objects.values_list("enrolment_id", "kind", "key"))
        transaction.set_rollback(True)
    assert planned
    return planned
