"""
3. Dispatch: how fast the application sends, beside plain smtplib sending messages of the same
size to the same SMTP sink over one connection.

Three groups of M enrollees have their reminder at an instant just past, and are planned by the
worker (as new enrolments are), so 3 × M real session reminders are due. The first two groups'
emails are prepared ahead, as the preparation sweep does before their moment (timed here, in
this process). One sender (`delivery.send_due` in this process) sends the first group; then it
sends the third, whose emails were not prepared and are built as they go (what a sender does for
a row planned inside the preparation window, or after a change); last, 4 sender processes,
started together, send the second.
"""

from __future__ import annotations

import json
import math
import smtplib
import sys
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import prefetch_related_objects
from django.utils import timezone

from bench import population
from bench.context import Context, enrolment_range
from bench.processes import Timeout, wait_for
from programs import delivery, emails, facts, preparation
from programs.models import Notification

ZONE = "Europe/London"
SENDERS = 4
BUILD_SAMPLE = 200


def measure(ctx: Context) -> None:
    m = ctx.sizes.dispatch
    ctx.worker()
    # Whatever is already due goes first, untimed, so only the groups' rows come after.
    drain_start = timezone.now()
    ctx.drain()
    at_a = drain_start.replace(microsecond=0) - timedelta(seconds=5)
    # In due order: the first group (prepared, one sender), the third (built as they go, one
    # sender), then the second (prepared, 4 senders); each sender takes the earliest due rows.
    at_c = at_a + timedelta(seconds=1)
    at_b = at_a + timedelta(seconds=2)
    ctx.say(f"dispatch: 3 × {m:,} enrollees due from {at_a:%H:%M:%S} to {at_c:%H:%M:%S}")
    a = population.build_one_instant(ctx.program, m, ZONE, at_a, prefix="da")
    b = population.build_one_instant(ctx.program, m, ZONE, at_b, prefix="db")
    c = population.build_one_instant(ctx.program, m, ZONE, at_c, prefix="dc")
    asked = ctx.plan_on_worker([a, b, c])
    ctx.wait_planned([a, b, c], timeout=300, since=asked)

    rows_a = Notification.objects.filter(enrolment_range(a.enrolment_ids), scheduled_for=at_a)
    rows_b = Notification.objects.filter(enrolment_range(b.enrolment_ids), scheduled_for=at_b)
    rows_c = Notification.objects.filter(enrolment_range(c.enrolment_ids), scheduled_for=at_c)
    message = _built(rows_c[:1])[0]
    size = len(message)

    # Building the email alone (templates and MIME), for what limits the figures.
    started = time.perf_counter()
    built = _built(rows_c[:BUILD_SAMPLE])
    build_ms = (time.perf_counter() - started) / len(built) * 1000

    # Preparing ahead, as the workers do in the minutes before the moment.
    ids = list(rows_a.values_list("pk", flat=True)) + list(rows_b.values_list("pk", flat=True))
    started = time.perf_counter()
    prepared = preparation.prepare(ids, timezone.now()).prepared
    prepare_ms = (time.perf_counter() - started) / len(ids) * 1000
    ctx.facts["prepare_ms"] = prepare_ms
    if prepared != len(ids):
        raise RuntimeError(f"only {prepared:,} of {len(ids):,} emails were prepared")

    # The anchor brackets the measurement: once before, once after, and their mean.
    raw_before = send_raw(ctx, message, m)
    ctx.facts["message"] = message

    sink = ctx.sink()
    before = sink.count
    batches = math.ceil(m / settings.OUTBOX_SEND_BATCH)
    started = time.perf_counter()
    report = delivery.send_due(max_batches=batches)
    seconds = time.perf_counter() - started
    rate = report.sent / seconds
    wait_for(lambda: sink.count >= before + report.sent, 30, "the sink has every message")
    if rows_a.filter(status__in=["pending", "sending"]).exists():
        raise RuntimeError(f"one sender left some of the first {m:,} unsent")
    raw_after = send_raw(ctx, message, m)
    raw_rate = (raw_before + raw_after) / 2
    ctx.facts["raw_rate"] = raw_rate

    raw_ms = 1000 / raw_rate
    app_ms = 1000 / rate
    ctx.fig("dispatch_1_sender").set(
        rate,
        anchor=raw_rate,
        anchor_label=(
            f"plain smtplib, one connection, {m:,} messages of {size:,} bytes, before and "
            f"after ({raw_before:,.0f} and {raw_after:,.0f} msg/s)"
        ),
        goal="≥ 0.5 × anchor",
        ok=rate >= 0.5 * raw_rate,
        limited_by=(
            f"per message {app_ms:.1f} ms: the SMTP exchange itself ({raw_ms:.1f} ms, the "
            f"anchor) and {max(app_ms - raw_ms, 0):.1f} ms of claiming and writing each "
            "receipt before the next message. The emails were prepared ahead, "
            f"{prepare_ms:.1f} ms each in one process, by whichever workers are free in the "
            "minutes before their moment"
        ),
    )

    started = time.perf_counter()
    report = delivery.send_due(max_batches=batches)
    built_rate = report.sent / (time.perf_counter() - started)
    if rows_c.filter(status__in=["pending", "sending"]).exists():
        raise RuntimeError(f"one sender left some of the last {m:,} unsent")
    built_ms = 1000 / built_rate
    ctx.fig("dispatch_built").set(
        built_rate,
        anchor=raw_rate,
        anchor_label="plain smtplib, one connection",
        limited_by=(
            f"per message {built_ms:.1f} ms: the SMTP exchange ({raw_ms:.1f} ms), building "
            f"the email ({build_ms:.1f} ms: text and HTML templates, MIME) and "
            f"{max(built_ms - raw_ms - build_ms, 0):.1f} ms of claiming, re-checking her "
            "schedule and writing each receipt"
        ),
    )

    rate4, detail = send_parallel(ctx, SENDERS)
    ctx.fig("dispatch_4_senders").set(
        rate4,
        anchor=raw_rate,
        anchor_label="plain smtplib, one connection",
        limited_by=(
            f"CPU: {SENDERS} sender processes, the SMTP sink and the database share 2 cores "
            f"({detail}); {rate4 / rate:.1f}× one sender"
        ),
    )
    if rows_b.filter(status__in=["pending", "sending"]).exists():
        raise RuntimeError("the 4 senders left due rows unsent")


def _built(rows) -> list[bytes]:
    """The emails the application would send for these rows, as bytes on the wire."""
    rows = list(
        rows.select_related(
            "enrolment__program", "enrolment__user", "enrolment__coach", "recipient"
        )
    )
    enrolments = list({r.enrolment_id: r.enrolment for r in rows}.values())
    prefetch_related_objects(enrolments, *facts.HER_FACTS)
    specs = facts.specs_for(enrolments)
    recipients, _ = facts.recipients(enrolments, specs)
    content = emails.Content.load(specs, enrolments)
    return [
        emails.build(r, recipients[r.enrolment_id], content).message().as_bytes(linesep="\r\n")
        for r in rows
    ]


def send_raw(ctx: Context, message: bytes, count: int) -> float:
    """Messages per second of plain smtplib over one connection, to the same sink. The
    messages are built beforehand (up to 5,000 distinct ones, sent in turn)."""
    payloads = [
        message.replace(b"Message-ID: <notification-", b"Message-ID: <raw%d-" % i, 1)
        for i in range(min(count, 5000))
    ]
    sink = ctx.sink()
    before = sink.count
    smtp = smtplib.SMTP(settings.EMAIL_HOST, settings.EMAIL_PORT, timeout=30)
    try:
        started = time.perf_counter()
        for i in range(count):
            smtp.sendmail("no-reply@localhost", ["raw@bench.example"], payloads[i % len(payloads)])
        seconds = time.perf_counter() - started
    finally:
        smtp.quit()
    wait_for(lambda: sink.count >= before + count, 30, "the sink has every raw message")
    return count / seconds


def send_parallel(ctx: Context, senders: int) -> tuple[float, str]:
    """Messages per second of `senders` processes running `send_due` together."""
    go = ctx.var / "senders.go"
    go.unlink(missing_ok=True)
    children = [
        ctx.children.spawn(
            f"sender-{i}", [sys.executable, "-m", "bench.sender", str(go)], ctx.app_env()
        )
        for i in range(senders)
    ]
    try:
        for child in children:
            child.wait_for_output("ready", timeout=60)
        go.touch()
        for child in children:
            child.proc.wait(timeout=600)
        results = []
        for child in children:
            line = next((x for x in child.output().splitlines() if x.startswith("result ")), None)
            if line is None:
                raise Timeout(f"{child.name} gave no result:\n{child.tail()}")
            results.append(json.loads(line.removeprefix("result ")))
    finally:
        for child in children:
            ctx.children.stop(child)
        go.unlink(missing_ok=True)
    sent = sum(r["sent"] for r in results)
    seconds = max(r["finished"] for r in results) - min(r["started"] for r in results)
    each = ", ".join(str(r["sent"]) for r in results)
    return sent / seconds, f"{sent:,} sent in {seconds:.1f} s, {each} each"
