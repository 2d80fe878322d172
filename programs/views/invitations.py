"""A coach's invitations to new clients, and her own settings.

How an invitation travels: the coach enters an email address and a program; we email a signed
link (`links.invitation_url`, valid 14 days). Opening it keeps the invitation's id in the
session, then sends her to sign up (email prefilled) or, if she is logged in, straight to the
program's enrol page. When she enrols, `accept_pending` makes the inviting coach hers and marks
the invitation accepted, in the enrolment's own transaction; an invitation is accepted once.

An invitation is for the person it was sent to: only an account with the invited address may
accept it. Someone else logged in gets a page saying so, and an invitation left in a browser's
session attaches no coach to whoever logs in there next. A coach's power over a client's
program must come from that client, not from whoever happened to hold the link.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.mail import send_mail
from django.db import transaction
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from programs import links
from programs.forms import CoachSettingsForm, InvitationForm
from programs.models import CoachProfile, Enrolment, Invitation
from programs.views.coaching import coach_required

log = logging.getLogger(__name__)

SESSION_KEY = "invitation"


@coach_required
def coach_settings(request):
    profile, _ = CoachProfile.objects.get_or_create(user=request.user)
    form = CoachSettingsForm(request.POST if request.method == "POST" else None, instance=profile)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
        messages.success(request, "Saved. Your digest follows your new settings.")
        return redirect("coach_settings")
    return render(request, "coach/settings.html", {"form": form})


@coach_required
def invitations(request):
    form = InvitationForm(request.POST if request.method == "POST" else None)
    link = ""
    if request.method == "POST" and form.is_valid():
        invitation = form.save(commit=False)
        invitation.coach = request.user
        invitation.created_at = timezone.now()
        invitation.save()
        link = links.invitation_url(invitation.pk)
        if _send(invitation, link):
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("invitations")
        messages.error(
            request,
            f"We could not email {invitation.email} just now. "
            "Copy the link below and send it to her yourself.",
        )
        form = InvitationForm()
    sent = Invitation.objects.filter(coach=request.user).select_related("program", "accepted_by")
    context = {
        "form": form,
        "link": link,
        "invitations": sent,
        "expired_before": timezone.now() - links.INVITATION_MAX_AGE,
    }
    return render(request, "coach/invitations.html", context)


def _send(invitation: Invitation, link: str) -> bool:
    """Email the invitation at once: it is no reminder, so it skips the outbox. False if the
    mail server would not take it."""
    coach = invitation.coach
    context = {
        "coach_name": coach.get_full_name() or coach.email,
        "program": invitation.program.name,
        "link": link,
        "days": links.INVITATION_MAX_AGE.days,
        "site_name": settings.SITE_NAME,
    }
    subject = f"{context['coach_name']} invites you to {invitation.program.name}"
    try:
        send_mail(
            # One line: a line break in her name would make the header invalid (BadHeaderError).
            subject=" ".join(subject.split()),
            message=render_to_string("coach/invitation_email.txt", context),
            from_email=None,
            recipient_list=[invitation.email],
            html_message=render_to_string("coach/invitation_email.html", context),
        )
    except (smtplib.SMTPException, OSError):
        log.warning("could not email invitation %s", invitation.pk, exc_info=True)
        return False
    return True


def accept(request, token):
    """No login needed to open it; only the invited address may accept it."""
    try:
        pk = links.read_invitation(token)
    except links.BadLink as error:
        return render(request, "programs/bad_link.html", {"message": str(error)}, status=400)
    invitation = Invitation.objects.select_related("program", "coach").filter(pk=pk).first()
    if invitation is None:
        message = "This invitation link is not valid."
        return render(request, "programs/bad_link.html", {"message": message}, status=400)
    if invitation.accepted_at is not None:
        if request.session.get(SESSION_KEY) == invitation.pk:
            del request.session[SESSION_KEY]
        messages.info(request, "This invitation has already been accepted.")
        return redirect("today_redirect")
    if not invitation.program.is_published:
        message = "This program is no longer open. Ask your coach about another one."
        return render(request, "programs/bad_link.html", {"message": message}, status=410)
    if request.user.is_authenticated and not is_for(invitation, request.user):
        if request.session.get(SESSION_KEY) == invitation.pk:
            del request.session[SESSION_KEY]
        context = {"masked": mask(invitation.email), "coach": invitation.coach}
        return render(request, "coach/invitation_for_someone_else.html", context, status=403)

    request.session[SESSION_KEY] = invitation.pk
    if not request.user.is_authenticated:
        return redirect(f"{reverse('signup')}?{urlencode({'next': request.path})}")
    return redirect("enrol", slug=invitation.program.slug)


def is_for(invitation: Invitation, user) -> bool:
    return invitation.email.strip().casefold() == (user.email or "").strip().casefold()


def mask(email: str) -> str:
    """Enough for her to recognise her own address, too little to learn someone else's."""
    return f"{email[:1]}…@…"


def pending(request) -> Invitation | None:
    """The invitation she opened in this session, if it is still waiting to be accepted."""
    pk = request.session.get(SESSION_KEY)
    if pk is None:
        return None
    return Invitation.objects.filter(pk=pk, accepted_at__isnull=True).first()


def accept_pending(request, enrolment: Enrolment, now: datetime) -> bool:
    """Call inside the transaction that creates `enrolment`. If the invitation kept in the
    session is for this program, for her address and still pending (and not expired), its
    coach becomes hers and it is marked accepted; an invitation for this program is then
    dropped from the session whatever became of it. One for another program stays, for when
    she enrols in that one."""
    pk = request.session.get(SESSION_KEY)
    if pk is None:
        return False
    invitation = Invitation.objects.filter(pk=pk).first()
    if invitation is not None and invitation.program_id != enrolment.program_id:
        return False
    del request.session[SESSION_KEY]
    # Someone else opened it in this browser before she logged in: it is not hers to accept.
    if invitation is None or not is_for(invitation, enrolment.user):
        return False
    # Conditional, so that of two enrolments racing for one invitation only one gets it.
    accepted = Invitation.objects.filter(
        pk=invitation.pk,
        accepted_at__isnull=True,
        created_at__gt=now - links.INVITATION_MAX_AGE,
    ).update(accepted_at=now, accepted_by=enrolment.user)
    if not accepted:
        return False
    enrolment.coach_id = invitation.coach_id
    enrolment.save(update_fields=["coach"])
    return True
