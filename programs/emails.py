"""
The emails themselves: plain text and HTML from templates in templates/emails/.

No health data goes into an email: not her pain, symptoms, answers, flags or messages. A coach's
alert says only that a client needs her attention, and a new message only that there is one,
each with a link to log in and see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from email.utils import format_datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse

from programs import alerts, links, notifications, reminders, safety, schedule
from programs.digests import Summary
from programs.models import Message, Notification, Prescription, Stage


@dataclass(frozen=True)
class Content:
    """The program text a batch of emails draws on, loaded in one query."""

    prescriptions: dict[int, Prescription]
    stages: dict[int, Stage]

    @classmethod
    def load(cls, specs: dict[int, tuple], enrolments) -> Content:
        """The programs' prescriptions, and those tailored for the given enrolments."""
        mine = Q(enrolment_id__in=[e.pk for e in enrolments])
        prescriptions = {
            p.pk: p
            for p in Prescription.objects.filter(
                Q(enrolment=None, stage__program_id__in=list(specs)) | mine
            ).select_related("exercise", "stage")
        }
        stages = {p.stage_id: p.stage for p in prescriptions.values()}
        return cls(prescriptions, stages)


def render(kind: notifications.Kind, context: dict, to: str, headers: dict):
    """One email of `kind`: its subject, text and HTML templates, rendered with `context`."""
    subject = render_to_string(f"{kind.template}_subject.txt", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=render_to_string(f"{kind.template}.txt", context),
        to=[to],
        headers=headers,
    )
    message.attach_alternative(render_to_string(f"{kind.template}.html", context), "text/html")
    return message


def build(
    row: Notification,
    recipient: reminders.Recipient | None,
    content: Content,
    summary: Summary | None = None,
) -> EmailMultiAlternatives:
    """The email for one outbox row, as of the moment it fell due."""
    kind = row.spec
    to = row.to_address
    # An address with no account behind it (the clinic's) is greeted by no name.
    context = {
        "kind": kind.key,
        "name": row.recipient.first_name if row.recipient else "",
        "site_name": settings.SITE_NAME,
    }
    # Dated for its moment, not for when it was rendered, which may be a few minutes earlier.
    headers = {"Message-ID": message_id(row), "Date": format_datetime(row.scheduled_for)}
    if kind == notifications.COACH_DIGEST:
        context.update(_digest(summary))
        return render(kind, context, to, headers)
    if kind == notifications.CLINIC_ALERT:
        context.update(_clinic_alert(row))
        return render(kind, context, to, headers)

    enrolment = row.enrolment
    context["program"] = enrolment.program.name
    context["today_url"] = links.absolute(reverse("today", args=[enrolment.pk]))
    if kind == notifications.COACH_ALERT:
        context["urgent"] = row.key.startswith("urgent-")
        context["client_url"] = links.absolute(reverse("client", args=[enrolment.pk]))
    elif kind == notifications.NEW_MESSAGE:
        # That a message waits and where, never what it says: it may be about her health.
        context["to_coach"] = row.key.startswith(f"{Message.Side.COACH}-")
        page = "client" if context["to_coach"] else "today"
        context["thread_url"] = links.absolute(reverse(page, args=[enrolment.pk])) + "#messages"
    else:
        context.update(_schedule(row, recipient, content))
    if kind.preference is not None:
        unsubscribe = links.unsubscribe_url(enrolment.pk, kind.preference.key)
        context["unsubscribe_url"] = unsubscribe
        context["preferences_url"] = links.absolute(reverse("preferences", args=[enrolment.pk]))
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return render(kind, context, to, headers)


def _clinic_alert(row: Notification) -> dict:
    """Whether it is urgent (for an escalation: her hold's tier now, as it may have been raised
    since) and where to look; nothing about her or her answers."""
    escalated = alerts.is_escalation(row.key)
    if escalated:
        hold_pk = alerts.hold_of(row.key)
        urgent = any(
            h.pk == hold_pk and h.tier == safety.Tier.URGENT for h in row.enrolment.holds.all()
        )
    else:
        urgent = row.key.startswith("urgent-")
    return {
        "urgent": urgent,
        "escalated": escalated,
        "triage_url": links.absolute(reverse("triage")),
    }


def _schedule(row: Notification, recipient: reminders.Recipient, content: Content) -> dict:
    """What her scheduled emails show: her week and the exercises due that day."""
    moment = row.scheduled_for
    if row.kind == notifications.SNOOZE.key:
        # The day she snoozed, not the day it comes back: that day's exercises, as then.
        day = date.fromisoformat(row.key)
        at = recipient.time_on(day) or recipient.reminder_time
        moment = schedule.local_instant(day, at, recipient.facts.tz)
    snap = schedule.snapshot(recipient.facts, moment)
    context = {
        "week": snap.week,
        "weeks": snap.weeks,
        "exercises": [content.prescriptions[p.key] for p in schedule.due_today(snap)],
    }
    if row.kind == notifications.SESSION.key:
        context["snooze_links"] = [
            (label, links.snooze_url(row.pk, choice))
            for choice, label in links.SNOOZE_CHOICES.items()
        ]
    if row.kind == notifications.STAGE.key:
        context["stage"] = content.stages.get(int(row.key.removeprefix("stage-")))
    if row.kind in (notifications.CHECKIN.key, notifications.COMPLETE.key):
        last = row.kind == notifications.COMPLETE.key
        week = snap.weeks if last else int(row.key.split("-")[1])
        context["checkin_week"] = week
        context["checkin_url"] = links.checkin_url(row.enrolment_id, week)
    return context


def _digest(summary: Summary) -> dict:
    """A coach's daily digest: how many clients are flagged, and how many for each kind of
    flag. Counts only: no names, scores, symptoms or answers; the dashboard shows who and why."""
    return {
        "flagged": summary.flagged,
        "urgent": summary.urgent,
        "lines": summary.lines,
        "dashboard_url": links.absolute(reverse("dashboard")),
        "settings_url": links.absolute(reverse("coach_settings")),
    }


def message_id(row: Notification) -> str:
    """The same Message-ID every time this row is sent, so a repeat is recognisable."""
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<notification-{row.pk}.{row.kind}@{domain}>"
