"""The weekly check-in, from the Today page or from the signed link in her email."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from programs import checkins, links, safety
from programs.forms import CheckInForm
from programs.models import Enrolment
from programs.views.enrolment import _own_enrolment, unreadable


@login_required
def checkin(request, pk):
    enrolment = _own_enrolment(request, pk)
    if broken := unreadable(request, enrolment):
        return broken
    snap = enrolment.snapshot(timezone.now())
    return _checkin(request, enrolment, max(snap.week, 1))


def checkin_link(request, token):
    """Her check-in by the link in the email: signed, expiring, and enough on its own."""
    try:
        pk, week = links.read_checkin(token)
    except links.BadLink as error:
        return render(request, "programs/bad_link.html", {"message": str(error)}, status=400)
    enrolment = get_object_or_404(Enrolment.objects.select_related("program"), pk=pk)
    return _checkin(request, enrolment, week)


def _checkin(request, enrolment: Enrolment, week: int):
    if not enrolment.is_current:
        return render(
            request, "programs/bad_link.html", {"message": "This program has ended."}, status=410
        )
    form = CheckInForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        saved = checkins.record(enrolment, week, form.cleaned_data, timezone.now())
        # Rendered, not redirected: what she must do next comes before anything else.
        return render(
            request,
            "programs/checkin_done.html",
            {
                "enrolment": enrolment,
                "assessment": saved.assessment,
                "reasons": [safety.describe(code) for code in saved.assessment.reasons],
            },
        )
    return render(
        request, "programs/checkin.html", {"enrolment": enrolment, "week": week, "form": form}
    )
