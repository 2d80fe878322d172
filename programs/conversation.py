"""
The conversation between a client and her coach: one thread per enrolment.

She and her coach both write in it; her coach's private notes are elsewhere (`CoachAction`) and
never here. Each side has read up to some message (`ThreadRead`), which gives the unread counts.

A new message asks, in the same transaction, for one "new message" email to the other side,
without its text. Its outbox key is how far the recipient had read (`client-<id>`), so several
messages she has not read yet bring one email, and the first message after she reads the thread
brings the next.

Messages may be about her body: they are health data. Only she, her coach and staff with the
health permission read them (`may_read`); only she and her coach write.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from programs import notifications, roles, wakeups
from programs.models import Enrolment, Message, Notification, ThreadRead

Side = Message.Side
SHOWN = 200  # the newest messages a page shows; a program's thread is far shorter


def side_of(user, enrolment: Enrolment) -> str | None:
    """Which side of her thread the user writes on: hers, her coach's, or neither."""
    if not user.is_authenticated:
        return None
    if enrolment.user_id == user.pk:
        return Side.CLIENT
    if enrolment.coach_id is not None and enrolment.coach_id == user.pk:
        return Side.COACH
    return None


def may_read(user, enrolment: Enrolment) -> bool:
    """She, her coach, and staff who may see health data."""
    return side_of(user, enrolment) is not None or roles.sees_health_data(user, enrolment)


def is_open(enrolment: Enrolment) -> bool:
    """New messages are taken while she has a coach and has not left the program."""
    return enrolment.coach_id is not None and enrolment.status != Enrolment.Status.WITHDRAWN


def other(side: str) -> str:
    return Side.COACH if side == Side.CLIENT else Side.CLIENT


@dataclass(frozen=True)
class Thread:
    messages: list[Message]  # oldest first; each with `is_new` for the reader
    unread: int  # messages from the other side the reader had not read before now
    open: bool


def load(enrolment: Enrolment, reader: str | None) -> Thread:
    """Her thread as `reader` (a side, or None for staff) sees it, in two queries."""
    newest = enrolment.messages.select_related("author").order_by("-pk")[:SHOWN]
    messages = list(reversed(newest))
    read = _read_up_to(enrolment, reader) if reader else None
    for message in messages:
        message.is_new = read is not None and message.side != reader and message.pk > read
    return Thread(messages, sum(m.is_new for m in messages), is_open(enrolment))


def open_thread(enrolment: Enrolment, reader: str | None) -> Thread:
    """Load her thread for a reader who now sees it, and mark what it shows as read."""
    thread = load(enrolment, reader)
    if thread.unread:
        mark_read(enrolment, reader, thread.messages[-1].pk)
    return thread


def mark_read(enrolment: Enrolment, side: str, up_to: int) -> None:
    """`side` has read every message up to the id `up_to`; the mark only moves forward."""
    moved = ThreadRead.objects.filter(enrolment=enrolment, side=side, up_to__lt=up_to).update(
        up_to=up_to
    )
    if not moved:
        ThreadRead.objects.get_or_create(enrolment=enrolment, side=side, defaults={"up_to": up_to})


@dataclass(frozen=True)
class Posted:
    message: Message
    emailed: bool  # a "new message" email was queued for the other side


def post(enrolment: Enrolment, author, side: str, body: str, now) -> Posted:
    """Add a message to her thread and, in the same transaction, queue the other side's "new
    message" email unless one for their unread stretch exists already. Refused (ValidationError)
    once the thread is closed."""
    if enrolment.coach_id is None:
        raise ValidationError("There is no coach on this program to write to.")
    if enrolment.status == Enrolment.Status.WITHDRAWN:
        raise ValidationError("This program has ended, so its messages are closed.")
    with transaction.atomic():
        message = Message.objects.create(
            enrolment=enrolment, side=side, author=author, body=body, created_at=now
        )
        emailed = _notify(enrolment, other(side), now)
    return Posted(message, emailed)


def _notify(enrolment: Enrolment, to: str, now) -> bool:
    recipient = enrolment.user_id if to == Side.CLIENT else enrolment.coach_id
    _, created = Notification.objects.get_or_create(
        enrolment=enrolment,
        kind=notifications.NEW_MESSAGE.key,
        key=f"{to}-{_read_up_to(enrolment, to)}",
        defaults={"recipient_id": recipient, "scheduled_for": now, "due_at": now},
    )
    if created:
        wakeups.send_on_commit()
    return created


def _read_up_to(enrolment: Enrolment, side: str) -> int:
    read = ThreadRead.objects.filter(enrolment=enrolment, side=side).values_list("up_to")
    return next(iter(read), (0,))[0]


def unread_by(side: str) -> QuerySet[Message]:
    """Every message, in any thread, that `side` has not read yet."""
    mark = ThreadRead.objects.filter(enrolment=OuterRef("enrolment"), side=side).values("up_to")
    return (
        Message.objects.exclude(side=side)
        .annotate(read_up_to=Coalesce(Subquery(mark[:1]), 0))
        .filter(pk__gt=F("read_up_to"))
    )


def unread_for_coach(enrolment_ids) -> dict[int, int]:
    """How many of each client's messages her coach has not read, in one query."""
    return dict(
        unread_by(Side.COACH)
        .filter(enrolment_id__in=list(enrolment_ids))
        .order_by()
        .values("enrolment_id")
        .annotate(n=Count("pk"))
        .values_list("enrolment_id", "n")
    )


def unread_for_coach_of(enrolment_ref) -> Coalesce:
    """`unread_for_coach` of one enrolment (an OuterRef to it), as an expression for the
    query that lists her."""
    return Coalesce(
        Subquery(
            unread_by(Side.COACH)
            .filter(enrolment=enrolment_ref)
            .order_by()
            .values("enrolment")
            .annotate(n=Count("pk"))
            .values("n")
        ),
        0,
    )


def unread_for_her(user_ref) -> QuerySet[Message]:
    """Her coaches' messages she has not read, in her current programs; `user_ref` is a user
    id or an OuterRef to one."""
    return unread_by(Side.CLIENT).filter(
        enrolment__user=user_ref, enrolment__status__in=Enrolment.CURRENT
    )
