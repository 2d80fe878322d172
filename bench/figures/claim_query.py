"""
5. The due-row query: the claim's SELECT (`delivery.claim`: due or lease-expired rows, earliest
first, locked with SKIP LOCKED on PostgreSQL, one batch) timed with a small sent history and
again with a large one, over the same live rows. Sent rows are outside the partial index
`notification_live_due`, so the query should not notice them.

History is bulk-inserted with one INSERT … SELECT per chunk: session reminders sent on past
days, spread over the main population. Statistics are refreshed (ANALYZE) after each insert,
as autovacuum would in a deployment.
"""

from __future__ import annotations

import statistics
import time

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from bench.context import Context
from programs import delivery
from programs.models import Enrolment, Notification

INDEX = "notification_live_due"
REPEATS = 15
CHUNK = 200_000


def claim_select(now):
    return (
        Notification.objects.filter(delivery.claimable(now))
        .order_by("due_at")
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)[: settings.OUTBOX_SEND_BATCH]
    )


def time_claim() -> float:
    """Median seconds of the claim's SELECT, in a transaction that is rolled back."""
    times = []
    for _ in range(REPEATS):
        with transaction.atomic():
            started = time.perf_counter()
            list(claim_select(timezone.now()))
            times.append(time.perf_counter() - started)
            transaction.set_rollback(True)
    return statistics.median(times)


def explain() -> str:
    query = claim_select(timezone.now())
    if connection.vendor == "postgresql":
        with transaction.atomic():
            plan = query.explain()
            transaction.set_rollback(True)
        return plan
    return query.explain()


def summary(plan: str) -> str:
    """The plan's lines that read the table (scans, searches, index conditions), on one line."""
    wanted = ("scan", "search", "index cond", "use temp")
    lines = [" ".join(line.split()) for line in plan.splitlines()]
    picked = [line for line in lines if any(w in line.lower() for w in wanted)] or lines
    text = "; ".join(line.lstrip("-> ") for line in picked)
    return text if len(text) <= 300 else text[:299] + "…"


def add_history(ctx: Context, count: int, start: int) -> None:
    """`count` sent rows, numbered from `start`: row i went to enrollee i mod N, on the
    (i div N)-th day back."""
    ids = ctx.main.enrolment_ids
    users = ctx.main.user_ids
    n = len(ids)
    e0, u0 = ids[0], users[0]
    if ids[-1] - e0 != n - 1 or users[-1] - u0 != n - 1:
        raise RuntimeError("the population's ids are not consecutive")
    mismatched = (
        Enrolment.objects.filter(pk__gte=e0, pk__lte=ids[-1])
        .exclude(user_id=F("pk") + (u0 - e0))
        .exists()
    )
    if mismatched:
        raise RuntimeError("the population's enrolments and users are not in step")
    table = Notification._meta.db_table
    qn = connection.ops.quote_name
    columns = [
        "enrolment_id",
        "recipient_id",
        "address",
        "kind",
        "key",
        "scheduled_for",
        "due_at",
        "status",
        "attempts",
        "claim",
        "sent_at",
        "last_error",
        "created_at",
        "prepared_to",
    ]
    base = ctx.t0.replace(hour=6, minute=0, second=0, microsecond=0)
    if connection.vendor == "postgresql":
        at = "(%s::timestamptz - make_interval(days => (i / %s)::int + 1))"
        param = base
    else:
        at = "datetime(%s, '-' || (i / %s + 1) || ' days')"
        param = connection.ops.adapt_datetimefield_value(base)
    for offset in range(start, start + count, CHUNK):
        size = min(CHUNK, start + count - offset)
        sql = (
            "WITH RECURSIVE seq(i) AS (SELECT %s UNION ALL SELECT i + 1 FROM seq WHERE i < %s) "
            f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) "
            f"SELECT %s + i %% %s, %s + i %% %s, '', 'session', 'sent-' || i, {at}, {at}, "
            f"'sent', 1, '', {at}, '', {at}, '' FROM seq"
        )
        params = [offset, offset + size - 1, e0, n, u0, n] + [param, n] * 4
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {qn(table)}")


def measure(ctx: Context) -> None:
    small, large = ctx.sizes.history_anchor, ctx.sizes.history
    ctx.say(f"claim query: {small:,} rows of sent history, then {large:,}")
    live = Notification.objects.filter(status__in=["pending", "sending"]).count()
    add_history(ctx, small, 0)
    anchor = time_claim()
    add_history(ctx, large - small, small)
    seconds = time_claim()
    plan = explain()
    uses_index = INDEX in plan
    ctx.fig("claim_query_ms").set(
        seconds * 1000,
        anchor=anchor * 1000,
        anchor_label=f"the same query with {small:,} rows of sent history",
        goal=f"≤ 2 × anchor, through {INDEX}",
        ok=uses_index and seconds <= 2 * anchor,
        limited_by=(
            f"the live rows only ({live:,} pending or sending, of "
            f"{Notification.objects.count():,}): "
            + (
                f"the plan reads {INDEX}, which holds no sent row"
                if uses_index
                else f"the plan does not use {INDEX}, so it reads sent rows too"
                + (
                    " (SQLite uses a partial index only when the query repeats its condition "
                    "with literal values, and Django binds the statuses as parameters)"
                    if connection.vendor == "sqlite"
                    else ""
                )
            )
            + f". Plan: {summary(plan)}"
        ),
    )
