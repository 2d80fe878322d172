"""
The emails themselves: plain text and HTML from templates in templates/emails/.

No health data goes into an email: not her pain, symptoms, answers or flags. A coach's alert
says only that a client needs her attention, with a link to log in and see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from programs import links, reminders, schedule
from programs.models import CoachAction, Notification, Prescription, Stage

if TYPE_CHECKING:
    from programs.digests import Summary

SUBJECTS = {
    reminders.Kind.SESSION: "Today's exercises",
    reminders.Kind.NUDGE: "Five minutes for you today?",
    reminders.Kind.STAGE: "A new stage is open: {stage}",
    reminders.Kind.CHECKIN: "How was week {week}? Your check-in",
    reminders.Kind.COMPLETE: "You've finished {program}",
    reminders.Kind.COACH_ALERT: "A client needs your attention",
    reminders.Kind.COACH_MESSAGE: "A message from your coach",
    reminders.Kind.COACH_DIGEST: "{count} clients need you today",
}


@dataclass(frozen=True)
class Content:
    """The program text a batch of emails draws on, loaded in one query."""

    prescriptions: dict[int, Prescription]
    stages: dict[int, Stage]

    @classmethod
    def load(cls, specs: dict[int, tuple]) -> Content:
        prescriptions = {
            p.pk: p
            for p in Prescription.objects.filter(stage__program_id__in=list(specs)).select_related(
                "exercise", "stage"
            )
        }
        stages = {p.stage_id: p.stage for p in prescriptions.values()}
        return cls(prescriptions, stages)


def build(
    row: Notification, recipient: reminders.Recipient, content: Content, now: datetime
) -> EmailMultiAlternatives:
    """The email for one outbox row, as of the moment it fell due."""
    enrolment = row.enrolment
    snap = schedule.snapshot(recipient.facts, row.scheduled_for)
    context = {
        "kind": row.kind,
        "name": row.recipient.first_name,
        "site_name": settings.SITE_NAME,
        "program": enrolment.program.name,
        "week": snap.week,
        "weeks": snap.weeks,
        "today_url": links.absolute(reverse("today", args=[enrolment.pk])),
        "exercises": [content.prescriptions[p.key] for p in schedule.due_today(snap)],
    }
    subject = SUBJECTS[row.kind]
    headers = {"Message-ID": message_id(row)}
    if row.kind == reminders.Kind.COACH_ALERT:
        context["urgent"] = row.key.startswith("urgent-")
        context["client_url"] = links.absolute(reverse("client", args=[enrolment.pk]))
        if context["urgent"]:
            subject = "Urgent: " + subject
    elif row.kind == reminders.Kind.COACH_MESSAGE:
        # Coach messages are rare, one at a time: fetching the text here costs little.
        action = CoachAction.objects.select_related("actor").get(
            pk=int(row.key.removeprefix("message-"))
        )
        context["message"] = action.detail
        context["coach_name"] = action.actor.get_full_name() if action.actor else ""
    else:
        optional = reminders.OPTIONAL[row.kind]
        unsubscribe = links.unsubscribe_url(enrolment.pk, optional)
        context["unsubscribe_url"] = unsubscribe
        context["preferences_url"] = links.absolute(reverse("preferences", args=[enrolment.pk]))
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if row.kind == reminders.Kind.STAGE:
        stage = content.stages.get(int(row.key.removeprefix("stage-")))
        context["stage"] = stage
        subject = subject.format(stage=stage.title if stage else "your next stage")
    if row.kind in (reminders.Kind.CHECKIN, reminders.Kind.COMPLETE):
        week = snap.weeks if row.kind == reminders.Kind.COMPLETE else int(row.key.split("-")[1])
        context["checkin_week"] = week
        context["checkin_url"] = links.checkin_url(enrolment.pk, week)
    subject = subject.format(week=context.get("checkin_week"), program=enrolment.program.name)

    template = f"emails/{row.kind}"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        to=[row.recipient.email],
        headers=headers,
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


def build_digest(row: Notification, summary: Summary) -> EmailMultiAlternatives:
    """A coach's daily digest: how many clients are flagged, and how many for each kind of
    flag. Counts only: no names, scores, symptoms or answers; the dashboard shows who and why."""
    count = summary.flagged
    subject = SUBJECTS[row.kind].format(count=count)
    if count == 1:
        subject = "1 client needs you today"
    context = {
        "name": row.recipient.first_name,
        "site_name": settings.SITE_NAME,
        "flagged": count,
        "lines": summary.lines,
        "dashboard_url": links.absolute(reverse("dashboard")),
        "settings_url": links.absolute(reverse("coach_settings")),
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/coach_digest.txt", context),
        to=[row.recipient.email],
        headers={"Message-ID": message_id(row)},
    )
    message.attach_alternative(render_to_string("emails/coach_digest.html", context), "text/html")
    return message


def message_id(row: Notification) -> str:
    """The same Message-ID every time this row is sent, so a repeat is recognisable."""
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<notification-{row.pk}.{row.kind}@{domain}>"
