"""Her email preferences, and one-click unsubscribe (RFC 8058) from any email."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from programs import links, outbox, reminders
from programs.forms import PreferencesForm
from programs.models import Enrolment
from programs.views.enrolment import _own_enrolment

# An unsubscribe token's kind -> the preference it turns off.
FIELDS = {
    "session": "email_session",
    "nudge": "email_nudge",
    "stage": "email_stage",
    "checkin": "email_checkin",
}


@login_required
def preferences(request, pk):
    enrolment = _own_enrolment(request, pk)
    form = PreferencesForm(request.POST if request.method == "POST" else None, instance=enrolment)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
        outbox.plan_for(enrolment, timezone.now())
        messages.success(request, "Saved. Your reminders follow your new settings.")
        return redirect("preferences", pk=enrolment.pk)
    return render(request, "programs/preferences.html", {"enrolment": enrolment, "form": form})


@csrf_exempt  # mail clients post here without a session; the signed token is the credential
def unsubscribe(request, token):
    try:
        pk, kind = links.read_unsubscribe(token)
        field = FIELDS[kind]
    except (links.BadLink, KeyError):
        message = "This unsubscribe link is not valid. You can change your emails after logging in."
        return render(request, "programs/bad_link.html", {"message": message}, status=400)
    enrolment = Enrolment.objects.filter(pk=pk).first()
    if enrolment is None:
        return render(request, "programs/unsubscribed.html", {"gone": True})
    label = Enrolment._meta.get_field(field).verbose_name
    if request.method != "POST":
        return render(
            request,
            "programs/unsubscribe.html",
            {"label": label, "already": not getattr(enrolment, field)},
        )
    Enrolment.objects.filter(pk=pk).update(**{field: False})
    enrolment.refresh_from_db()
    outbox.plan_for(enrolment, timezone.now())
    return render(request, "programs/unsubscribed.html", {"label": label, "kinds": reminders.Kind})
