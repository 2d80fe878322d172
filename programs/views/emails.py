"""Her email preferences, and one-click unsubscribe (RFC 8058) from any email."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt

from programs import links, notifications
from programs.forms import PreferencesForm
from programs.models import Enrolment
from programs.views.enrolment import _own_enrolment


@login_required
def preferences(request, pk):
    enrolment = _own_enrolment(request, pk)
    form = PreferencesForm(request.POST if request.method == "POST" else None, instance=enrolment)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
        messages.success(request, "Saved. Your reminders follow your new settings.")
        return redirect("preferences", pk=enrolment.pk)
    calendar_url = links.calendar_url(enrolment.pk, enrolment.calendar_secret)
    context = {
        "enrolment": enrolment,
        "form": form,
        "calendar_url": calendar_url,
        # Phones and desktop calendar apps open webcal:// addresses as a subscription.
        "webcal_url": "webcal://" + calendar_url.split("://", 1)[1],
    }
    return render(request, "programs/preferences.html", context)


@csrf_exempt  # mail clients post here without a session; the signed token is the credential
def unsubscribe(request, token):
    try:
        pk, key = links.read_unsubscribe(token)
        preference = notifications.PREFERENCES[key]
    except (links.BadLink, KeyError):
        message = "This unsubscribe link is not valid. You can change your emails after logging in."
        return render(request, "programs/bad_link.html", {"message": message}, status=400)
    enrolment = Enrolment.objects.filter(pk=pk).first()
    if enrolment is None:
        return render(request, "programs/unsubscribed.html", {"gone": True})
    label = preference.label
    if request.method != "POST":
        return render(
            request,
            "programs/unsubscribe.html",
            {"label": label, "already": not getattr(enrolment, preference.field)},
        )
    if getattr(enrolment, preference.field):  # a replayed click has nothing left to change
        setattr(enrolment, preference.field, False)
        enrolment.save(update_fields=[preference.field])
    return render(request, "programs/unsubscribed.html", {"label": label})
