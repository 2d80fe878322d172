"""
Staff's triage page: every open red-flag hold in the clinic, with or without a coach, urgent
first then the longest waiting, so that no warning sign waits unseen.

The holds are sorted and paginated by the database: two queries for the page whatever the
number of holds (the count and the page), besides the session's own.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from programs import roles
from programs.models import Enrolment, Hold
from programs.views.coaching import acknowledge_and_say
from programs.views.status import staff_required

PER_PAGE = 50
# Holds are health data: staff see them only with the clinical permission (see programs.roles).


def open_holds():
    return (
        Hold.objects.filter(cleared_at__isnull=True)
        .select_related("enrolment__user", "enrolment__coach", "acknowledged_by")
        .order_by("-tier", "started_at", "pk")
    )


@require_safe
@staff_required
def triage(request):
    allowed = request.user.has_perm(roles.HEALTH_PERMISSION)
    page = None
    if allowed:
        page = Paginator(open_holds(), PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "coach/triage.html",
        {
            "allowed": allowed,
            "page": page,
            "now": timezone.now(),
            "clinic_email": settings.CLINIC_ALERT_EMAIL,
        },
    )


@require_POST
@staff_required
def acknowledge(request, pk):
    """Acknowledge a client's alert from the triage page, and come back to the same page."""
    if not request.user.has_perm(roles.HEALTH_PERMISSION):
        messages.error(request, "Only clinical staff can acknowledge alerts.")
        return redirect("triage")
    enrolment = get_object_or_404(Enrolment, pk=pk)
    acknowledge_and_say(request, enrolment, "The hold stays until it is cleared.")
    page = request.POST.get("page", "")
    url = reverse("triage")
    return redirect(f"{url}?page={int(page)}" if page.isdigit() else url)
