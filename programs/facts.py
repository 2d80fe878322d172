"""
The schedule's facts loaded from the database in batches, for planning, delivery and the coach
pages: each program's stages once, and for each enrolment what `programs.reminders` needs.

A fixed number of queries per batch, however many enrolments are in it. An enrolment whose facts
cannot be built (a time zone `zoneinfo` cannot load, say) is reported apart, so that it stops
no one else.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db.models import Max, Prefetch, Q

from programs import notifications, reminders
from programs.models import (
    Enrolment,
    Hold,
    Notification,
    Pause,
    Program,
    ProgramMove,
    Related,
    SessionLog,
    StageOverride,
    Tailoring,
)

Status = Notification.Status


def related_for(enrolment_ids: Iterable[int]) -> dict[int, Related]:
    """`Related` for each of a batch of enrolments, in one query per kind of row, grouped here.
    What prefetching `HER_FACTS` loads, without the queryset prefetch_related builds for each
    enrolment and relation: for a planning batch, most of the time of loading it."""
    ids = list(enrolment_ids)
    found = {pk: Related() for pk in ids}
    for name, rows in (
        ("pauses", Pause.objects.all()),
        ("holds", Hold.objects.all()),
        ("overrides", StageOverride.objects.all()),
        ("tailorings", Tailoring.objects.select_related("prescription__exercise")),
        ("moves", ProgramMove.objects.select_related("from_program")),
    ):
        for row in rows.filter(enrolment_id__in=ids):
            getattr(found[row.enrolment_id], name).append(row)
    return found


def specs_for(
    batch: Iterable[Enrolment], related: dict[int, Related] | None = None
) -> dict[int, tuple]:
    """The stages of every program the batch's enrolments follow or followed, loaded once.
    Reads the moves in `related`, else the prefetched ones (`with_facts`)."""
    ids = set()
    for e in batch:
        ids.add(e.program_id)
        moves = related[e.pk].moves if related is not None else e.moves.all()
        ids.update(m.from_program_id for m in moves)
    return Program.objects.filter(pk__in=ids).specs()


def with_facts(enrolments):
    """The queryset, loading what `Enrolment.facts` reads."""
    return enrolments.select_related("program", "user").prefetch_related(*HER_FACTS)


# What `Enrolment.facts` reads besides her row and her program's stages, to prefetch.
HER_FACTS = (
    "pauses",
    "holds",
    "overrides",
    Prefetch("tailorings", queryset=Tailoring.objects.select_related("prescription__exercise")),
    Prefetch("moves", queryset=ProgramMove.objects.select_related("from_program")),
)


def recipients(
    batch: list[Enrolment], specs: dict[int, tuple], related: dict[int, Related] | None = None
) -> tuple[dict[int, reminders.Recipient], dict[int, Exception]]:
    """What planning needs of each enrolment, and the error of each whose facts are broken.
    Her pauses, holds, overrides, tailorings and moves come from `related` (`related_for`),
    else from her prefetched relations."""
    ids = [e.pk for e in batch]
    last_sessions = dict(
        SessionLog.objects.filter(enrolment_id__in=ids)
        .values("enrolment_id")
        .annotate(last=Max("local_date"))
        .values_list("enrolment_id", "last")
    )
    # Nudges on their way or sent, and snoozes not yet sent (a cancelled one is wanted again if
    # she resumes in time), in one query. At most one snooze a day: few rows, however old.
    sent_nudges: dict[int, list[tuple[str, object]]] = {}
    snoozes: dict[int, set[tuple[date, object]]] = {}
    for pk, kind, key, scheduled_for in Notification.objects.filter(
        Q(
            kind=notifications.NUDGE.key,
            status__in=[Status.SENDING, Status.SENT, Status.FAILED],
        )
        | Q(
            kind=notifications.SNOOZE.key,
            status__in=[Status.PENDING, Status.SENDING, Status.CANCELLED],
        ),
        enrolment_id__in=ids,
    ).values_list("enrolment_id", "kind", "key", "scheduled_for"):
        if kind == notifications.NUDGE.key:
            sent_nudges.setdefault(pk, []).append((key, scheduled_for))
        else:
            snoozes.setdefault(pk, set()).add((date.fromisoformat(key), scheduled_for))

    found, broken = {}, {}
    for e in batch:
        try:
            facts = e.facts(specs, related[e.pk] if related is not None else None)
            nudges: set[tuple[int, date]] = {
                (int(key.removeprefix("week-")), at.astimezone(facts.tz).date())
                for key, at in sent_nudges.get(e.pk, ())
            }
            found[e.pk] = reminders.Recipient(
                facts=facts,
                reminder_time=e.reminder_time,
                turned_off=e.turned_off,
                last_session=last_sessions.get(e.pk),
                nudges=frozenset(nudges),
                weekday_times=e.weekday_times,
                snoozes=frozenset(snoozes.get(e.pk, ())),
            )
        except Exception as error:  # her data alone is at fault; the batch goes on
            broken[e.pk] = error
    return found, broken


def describe(error: Exception) -> str:
    """An error as recorded for staff: its type and message, never her data."""
    return f"{type(error).__name__}: {error}"[:500]
