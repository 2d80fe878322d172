"""The weekly check-in, from the Today page or from the signed link in her email.

One check-in per program week. The emailed link is bound to her enrolment and that week: it
lets her send the week's answers without logging in, but seeing or changing answers already
sent needs her log-in, nobody else who is logged in may use it, and posts to it are throttled.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import caches
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from programs import checkins, links, reminders, safety
from programs.forms import CheckInForm
from programs.models import Enrolment
from programs.views.enrolment import _own_enrolment, unreadable

LINK_POSTS_PER_HOUR = 5


@login_required
def checkin(request, pk):
    enrolment = _own_enrolment(request, pk)
    if broken := unreadable(request, enrolment):
        return broken
    week = reminders.checkin_week(enrolment.snapshot(timezone.now()))
    if week is None:
        return _notice(
            request,
            "Your first check-in comes at the end of week 1",
            "On day 7 we'll ask how your first week went. If something worries you before then, "
            "see Get help now.",
            enrolment=enrolment,
        )
    return _checkin(request, enrolment, week)


def checkin_link(request, token):
    """Her check-in by the link in the email: signed, expiring, bound to her and one week."""
    try:
        pk, week = links.read_checkin(token)
    except links.BadLink as error:
        return render(request, "programs/bad_link.html", {"message": str(error)}, status=400)
    enrolment = get_object_or_404(Enrolment.objects.select_related("program"), pk=pk)
    if request.user.is_authenticated and request.user.pk != enrolment.user_id:
        return _notice(
            request,
            "This check-in link is for someone else",
            "You're logged in as a different person from the one this link was sent to, so it "
            "can't be used here. If it's your link, log out and open it again.",
            status=403,
        )
    if request.method == "POST" and _throttled(pk, week):
        return _notice(
            request,
            "Too many tries with this link",
            "This check-in link has been used too many times in the last hour. Please wait an "
            "hour and try again, or log in and check in from your Today page. If you need help "
            "now, see Get help now.",
            status=429,
        )
    return _checkin(request, enrolment, week)


def _throttled(pk: int, week: int) -> bool:
    """Count a post to one link (her enrolment and week); True once it has had its share for
    the hour. The counter lives in Django's cache shared by every web process, if there is one."""
    cache = caches["throttle" if "throttle" in settings.CACHES else "default"]
    key = f"checkin-link:{pk}:{week}"
    cache.add(key, 0, timeout=3600)
    try:
        return cache.incr(key) > LINK_POSTS_PER_HOUR
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        return False


def _checkin(request, enrolment: Enrolment, week: int):
    if not enrolment.is_current:
        return render(
            request, "programs/bad_link.html", {"message": "This program has ended."}, status=410
        )
    existing = checkins.for_week(enrolment, week)
    if existing and not request.user.is_authenticated:
        # Her answers are health data: only shown, or changed, behind her log-in.
        return _notice(
            request,
            f"You've already checked in for week {week}",
            "Log in to see your answers or change them.",
            login_next=request.get_full_path(),
            status=409 if request.method == "POST" else 200,
        )
    now = timezone.now()
    open_for_changes = existing is None or week == reminders.checkin_week(enrolment.snapshot(now))
    if not open_for_changes:
        return render(
            request,
            "programs/checkin_closed.html",
            {"enrolment": enrolment, "checkin": existing, **_answers(existing)},
            status=409 if request.method == "POST" else 200,
        )
    if request.method == "POST":
        form = CheckInForm(request.POST)
        if form.is_valid():
            saved = checkins.record(enrolment, week, form.cleaned_data, now)
            # Rendered, not redirected: what she must do next comes before anything else.
            return render(
                request,
                "programs/checkin_done.html",
                {
                    "enrolment": enrolment,
                    "checkin": saved,
                    "changed": existing is not None,
                    **advice(saved.assessment),
                    **checkins.told(saved.alerts, now),
                },
            )
    else:
        form = CheckInForm(initial=CheckInForm.initial_from(existing) if existing else None)
    return render(
        request,
        "programs/checkin.html",
        {"enrolment": enrolment, "week": week, "form": form, "existing": existing},
    )


def advice(assessment: safety.Assessment) -> dict:
    """What the page after her answers shows, in her own words, grouped by what to do."""
    return {
        "assessment": assessment,
        "emergency_reasons": [
            safety.describe(code) for code in assessment.urgent if code != safety.HARM
        ],
        "hold_reasons": [
            safety.describe(code) for code in assessment.warnings if code not in safety.NOT_HOLDING
        ],
    }


def _answers(checkin) -> dict:
    return {
        "pain_sites": [safety.PAIN_SITES.get(code, code) for code in checkin.pain_sites],
        "warnings": [safety.describe(code) for code in checkin.warning_signs],
        "urgent": [safety.describe(code) for code in checkin.urgent_signs],
    }


def _notice(request, title, message, *, enrolment=None, login_next=None, status=200):
    login_url = None
    if login_next:
        login_url = f"{reverse('login')}?{urlencode({'next': login_next})}"
    return render(
        request,
        "programs/checkin_notice.html",
        {"title": title, "message": message, "enrolment": enrolment, "login_url": login_url},
        status=status,
    )
