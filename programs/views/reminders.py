"""Her reminders from outside the site: snoozing one from its email, and her calendar feed.
Both work without logging in; the signed link is the credential."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from programs import facts, feeds, links, reminders, snoozes
from programs.models import Enrolment
from programs.views.enrolment import _own_enrolment


def snooze(request, token):
    """GET asks (mail scanners open links), POST snoozes."""
    try:
        notification_pk, choice = links.read_snooze(token)
    except links.BadLink as error:
        return render(request, "programs/bad_link.html", {"message": str(error)}, status=400)
    label = links.SNOOZE_CHOICES[choice]
    if request.method != "POST":
        return render(request, "programs/snooze.html", {"label": label, "choice": choice})
    now = timezone.now()
    outcome = snoozes.snooze(notification_pk, choice, now)
    context = {
        "label": label,
        "result": outcome.result,
        "evening": reminders.EVENING_AT.strftime("%H:%M"),
    }
    if outcome.result == snoozes.Result.TOO_LATE:
        context["tomorrow_url"] = links.snooze_url(notification_pk, "tomorrow")
    local = outcome.local
    if local is not None:
        today = now.astimezone(outcome.tz).date()
        context["when"] = local.replace(tzinfo=None)  # her wall clock, not the site's zone
        context["day"] = {0: "today", 1: "tomorrow"}.get((local.date() - today).days)
    return render(request, "programs/snoozed.html", context)


def calendar_feed(request, pk, signature):
    enrolment = facts.with_facts(Enrolment.objects.filter(pk=pk)).first()
    # A wrong or reset address looks like one that never existed.
    if enrolment is None or not links.calendar_signature_ok(
        pk, enrolment.calendar_secret, signature
    ):
        raise Http404("No such calendar.")
    response = HttpResponse(
        feeds.build(enrolment, timezone.now()), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="recovery.ics"'
    return response


@login_required
@require_POST
def reset_calendar(request, pk):
    enrolment = _own_enrolment(request, pk)
    enrolment.reset_calendar_link()
    messages.success(request, "Your calendar link is new. The old one no longer works.")
    return redirect("preferences", pk=enrolment.pk)
