"""The thread between a client and her coach: her side (on her Today page), her coach's (on
the client page), the partial both pages poll for new messages, and one message to several
clients at once from the dashboard. What they write is health data: it goes only in POST
bodies and pages behind the log-in, never in a URL, a log line or an email."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from programs import clients, conversation
from programs.forms import BulkMessageForm, MessageForm
from programs.models import Enrolment
from programs.views.coaching import coach_required

Side = conversation.Side
STOP_POLLING = 286  # htmx's status for "stop polling this element"


def polled(view):
    """A partial htmx polls. When the poll may no longer see the thread (her session ended,
    her coach was removed), polling stops quietly, leaving the page as it is, instead of
    swapping a log-in page in or asking again every 15 seconds. Others get the view's answer."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.headers.get("HX-Request"):
            return view(request, *args, **kwargs)
        if not request.user.is_authenticated:
            return _stop_polling()
        try:
            return view(request, *args, **kwargs)
        except (Http404, PermissionDenied):
            return _stop_polling()

    return wrapper


def _stop_polling() -> HttpResponse:
    response = HttpResponse(status=STOP_POLLING)
    response["HX-Reswap"] = "none"
    return response


def _hers(request, pk: int) -> Enrolment:
    return get_object_or_404(Enrolment.objects.select_related("coach"), pk=pk, user=request.user)


def _clients(request, pk: int) -> Enrolment:
    """Her enrolment if the user looks after her (`clients.enrolments_of`); 404 otherwise."""
    enrolments = clients.enrolments_of(request.user).select_related("user", "coach")
    return get_object_or_404(enrolments, pk=pk)


@polled
@login_required
@require_GET
def her_thread(request, pk):
    """Her thread, for her Today page to poll."""
    return _thread(request, _hers(request, pk), Side.CLIENT)


@login_required
@require_POST
def her_message(request, pk):
    """She writes to her coach."""
    enrolment = _hers(request, pk)
    return _post(request, enrolment, Side.CLIENT, reverse("today", args=[enrolment.pk]))


@polled
@coach_required
@require_GET
def client_thread(request, pk):
    """Her thread, for the client page to poll: her coach and staff who may see health data."""
    enrolment = _clients(request, pk)
    if not conversation.may_read(request.user, enrolment):
        raise PermissionDenied("Only her coach and clinical staff read her messages.")
    return _thread(request, enrolment, conversation.side_of(request.user, enrolment))


@coach_required
@require_POST
def message(request, pk):
    """Her coach writes to her. Staff read her thread but do not write in it: it is hers and
    her coach's."""
    enrolment = _clients(request, pk)
    back = reverse("client", args=[enrolment.pk])
    if conversation.side_of(request.user, enrolment) != Side.COACH:
        messages.error(request, "Only her coach can write to her here. Nothing was sent.")
        return redirect(f"{back}#messages")
    return _post(request, enrolment, Side.COACH, back)


def _thread(request, enrolment: Enrolment, reader: str | None):
    """The thread's partial, marked read for a reader who is one of its two sides. Once it
    can take no new messages, the response also tells htmx to stop polling."""
    thread = conversation.open_thread(enrolment, reader)
    response = render(
        request,
        "programs/_thread.html",
        {"thread": thread, "thread_url": request.path, "zone": enrolment.timezone},
    )
    if not thread.open:
        response.status_code = STOP_POLLING
    return response


def _post(request, enrolment: Enrolment, side: str, back: str):
    """Post the form's message on `side`, say truthfully what happened, and go `back`."""
    back = f"{back}#messages"
    form = MessageForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["text"][0])
        return redirect(back)
    try:
        posted = conversation.post(
            enrolment, request.user, side, form.cleaned_data["text"], timezone.now()
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect(back)
    if posted.emailed:
        whom = "her" if side == Side.COACH else "your coach"
        messages.success(request, f"Sent. We're emailing {whom} that there is a new message.")
    else:
        messages.success(request, "Sent.")
    return redirect(back)


@coach_required
@require_POST
def bulk_message(request):
    """One message into the thread of each client chosen on the dashboard, as if written on
    her page, in one transaction. Only her own clients: any other refuses the lot. Those who
    have left their program are named and left out."""
    form = BulkMessageForm(request.POST, enrolments=Enrolment.objects.filter(coach=request.user))
    if not form.is_valid():
        field = "clients" if "clients" in form.errors else "text"
        messages.error(request, form.errors[field][0])
        return redirect("dashboard")
    now = timezone.now()
    sent, emailed, closed = 0, 0, []
    with transaction.atomic():
        chosen = (
            form.cleaned_data["clients"]
            .select_related("user")
            .order_by("user__first_name", "user__last_name", "user__email")
        )
        for enrolment in chosen:
            if not conversation.is_open(enrolment):
                closed.append(enrolment.user.get_full_name() or enrolment.user.email)
                continue
            posted = conversation.post(
                enrolment, request.user, Side.COACH, form.cleaned_data["text"], now
            )
            sent += 1
            emailed += posted.emailed
    if sent:
        said = f"Sent to {sent} client{pluralize(sent)}."
        if emailed:
            said += f" We're emailing {emailed} of them that there is a new message."
        messages.success(request, said)
    else:
        messages.error(request, "No message was sent.")
    if closed:
        messages.warning(request, f"Not sent, as they have left the program: {', '.join(closed)}.")
    return redirect("dashboard")
