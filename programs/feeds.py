"""
Her calendar feed: the sessions and stage openings ahead of her, as iCalendar, from the same
pure plan as her reminders (`reminders.calendar`), so it changes when her plan does.

What is in it: the program's name, stage titles, times and a link to her Today page. Never her
answers, symptoms, holds or anything she logged.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from icalendar import Calendar, Event

from programs import facts, links, reminders
from programs.models import Enrolment

SESSION_LENGTH = timedelta(minutes=20)


def build(enrolment: Enrolment, now: datetime) -> bytes:
    """The feed as it stands at `now`; empty of events once her program has ended."""
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.SITE_NAME}//Recovery program//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{enrolment.program.name} · {settings.SITE_NAME}")
    if enrolment.is_current:
        specs = facts.specs_for([enrolment])
        found, broken = facts.recipients([enrolment], specs)
        if enrolment.pk in broken:
            raise broken[enrolment.pk]
        stages = {stage.pk: stage.title for stage in enrolment.program.stages.all()}
        today_url = links.absolute(reverse("today", args=[enrolment.pk]))
        domain = urlsplit(settings.SITE_URL).hostname or "localhost"
        for entry in reminders.calendar(found[enrolment.pk], now):
            calendar.add_component(_event(entry, enrolment, stages, today_url, domain, now))
        calendar.add_missing_timezones()
    return calendar.to_ical()


def _event(entry, enrolment, stages, today_url, domain, now) -> Event:
    event = Event()
    event.add("uid", f"{entry.key}.{enrolment.pk}@{domain}")
    event.add("dtstamp", now)
    event.add("url", today_url)
    if entry.stage is None:
        event.add("summary", f"{enrolment.program.name}: today's session")
        event.add("dtstart", entry.starts_at)
        event.add("dtend", entry.starts_at + SESSION_LENGTH)
        event.add("description", f"Today's exercises: {today_url}")
    else:
        # A stage opens at her local midnight: a whole-day event on that date.
        event.add("summary", f"New stage opens: {stages.get(entry.stage, 'next stage')}")
        event.add("dtstart", entry.starts_at.date())
        event.add("dtend", entry.starts_at.date() + timedelta(days=1))
        event.add("description", f"See what's new: {today_url}")
    return event
