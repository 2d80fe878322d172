"""What a coach does for her clients. Another coach's client answers 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from programs import checkins
from programs.models import Enrolment


def clients_of(user):
    """The enrolments a user may act on as a coach: her own clients, or all for staff."""
    if user.is_staff:
        return Enrolment.objects.all()
    return Enrolment.objects.filter(coach=user)


@login_required
@require_POST
def clear_hold(request, pk):
    enrolment = get_object_or_404(clients_of(request.user), pk=pk)
    try:
        checkins.clear_hold(enrolment, request.user, timezone.now())
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, "Hold cleared. Her program moves on again.")
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect("home")
