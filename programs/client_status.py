"""
Each client's stored dashboard row (`ClientStatus`), kept current: `refresh` loads, computes
(`programs.standing`) and saves rows in a fixed number of queries, called by the model layer's
receivers (`programs.effects`) on every event that can change a row, in the same transaction;
`roll_over` recomputes, in batches, only the rows whose `rolls_over_at` has come. A row
settles for good, out of the roll-over, a week after her program ended, or once she left: the
roll-over's work follows the women whose programs run, however many have finished.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef

from programs import clients, facts, standing
from programs.models import ClientStatus, Enrolment, Notification
from programs.standing import Standing

log = logging.getLogger(__name__)


def standings(enrolment_ids: Iterable[int], now: datetime) -> Iterator[tuple[int, Standing]]:
    """Each enrolment's standing at `now`, computed from scratch in a fixed number of queries."""
    batch = list(Enrolment.objects.filter(pk__in=list(enrolment_ids)).select_related("program"))
    if not batch:
        return
    ids = [e.pk for e in batch]
    related = facts.related_for(ids)
    specs = facts.specs_for(batch, related)
    logs, pains, guided = clients.histories(ids)
    for e in batch:
        # A woman who left keeps the row she had when she left: her program no longer runs.
        left = e.status == Enrolment.Status.WITHDRAWN
        at = min(now, e.withdrawn_at or now) if left else now
        try:
            found = standing.compute(
                e.facts(specs, related[e.pk]),
                at,
                logs[e.pk],
                pains[e.pk],
                urgent=clients.urgent_hold(related[e.pk].holds),
                guided=guided[e.pk],
            )
        except Exception:  # her row alone shows the problem
            log.warning("enrolment %s cannot be read by the schedule", e.pk, exc_info=True)
            found = standing.unreadable(e.program.weeks, now, pains[e.pk])
        if left:
            found = replace(found, rolls_over_at=None)
        yield e.pk, found


def failing() -> Exists:
    """Whether her reminders are failing, of each enrolment: the outbox's state, not hers, so
    read live rather than stored on her row."""
    return Exists(
        Notification.objects.filter(enrolment=OuterRef("pk"), status=Notification.Status.FAILED)
    )


def refresh(enrolment_ids: Iterable[int], now: datetime) -> int:
    """Recompute and save these enrolments' rows; how many were saved."""
    ids = sorted({pk for pk in enrolment_ids if pk is not None})
    with transaction.atomic():
        # Her row is locked before her data is read: two events at once write in turn, the
        # second from what the first committed.
        list(
            ClientStatus.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk")
        )
        rows = [
            ClientStatus(enrolment_id=pk, **standing.values(found, now))
            for pk, found in standings(ids, now)
        ]
        _save(rows)
    return len(rows)


def _save(rows: list) -> None:
    if rows:
        fields = [f.name for f in ClientStatus._meta.concrete_fields if f.name != "enrolment"]
        # An insert or an update in one statement: two refreshes at once cannot collide.
        ClientStatus.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["enrolment"], update_fields=fields
        )


def roll_over(now: datetime, batch_size: int, max_batches: int) -> tuple[int, int]:
    """Recompute the rows whose roll-over instant has come, oldest first, a batch per
    transaction; rows another worker holds are skipped. Returns (rows, batches)."""
    total = batches = 0
    while batches < max_batches:
        with transaction.atomic():
            ids = list(
                ClientStatus.objects.select_for_update(skip_locked=True)
                .filter(rolls_over_at__lte=now)
                .order_by("rolls_over_at")
                .values_list("enrolment_id", flat=True)[:batch_size]
            )
            if not ids:
                break
            total += refresh(ids, now)
        batches += 1
        if len(ids) < batch_size:
            break
    return total, batches


def rebuild(now: datetime, batch_size: int = 500, missing: bool = False) -> Iterator[int]:
    """Recompute every enrolment's row (`missing`: only of those without one), a batch at a
    time in order of id, so memory stays bounded however many there are; yields how many each
    batch saved."""
    enrolments = Enrolment.objects.filter(standing__isnull=True) if missing else Enrolment.objects
    last = 0
    while True:
        ids = list(
            enrolments.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return
        yield refresh(ids, now)
        last = ids[-1]


def build_missing(now: datetime) -> None:
    """A row for each enrolment without one (an install upgraded past the migration that made
    the table); with nothing missing it is one query."""
    for _ in rebuild(now, missing=True):
        pass
