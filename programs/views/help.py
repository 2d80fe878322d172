"""The "Get help now" page: every urgent sign with what to do, open to anyone, and for her a
way to report one at any time, which raises the same urgent hold and alerts as a check-in."""

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.utils import timezone

from programs import checkins, safety
from programs.forms import UrgentReportForm
from programs.models import Enrolment
from programs.views.checkins import advice


def get_help(request):
    enrolments = []
    if request.user.is_authenticated:
        enrolments = list(
            Enrolment.objects.filter(user=request.user, status__in=Enrolment.CURRENT)
            .select_related("coach")
            .order_by("pk")
        )
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        form = UrgentReportForm(request.POST)
        if enrolments and form.is_valid():
            return _reported(request, enrolments, form.cleaned_data["urgent_signs"])
    else:
        form = UrgentReportForm()
    signs = [
        (code, label, safety.URGENT_ADVICE[code]) for code, label in safety.URGENT_SIGNS.items()
    ]
    return render(
        request,
        "programs/help.html",
        {"signs": signs, "form": form if enrolments else None},
    )


def _reported(request, enrolments, signs):
    now = timezone.now()
    rows = []
    for enrolment in enrolments:
        report = checkins.report_urgent(enrolment, signs, now)
        rows += report.alerts
    return render(
        request,
        "programs/help_reported.html",
        {**advice(report.assessment), **checkins.told(rows, now)},
    )
