"""Her account: everything we hold about her as one JSON file, and deleting it all.

The export holds her profile, enrolments (each naming her coach), pauses, sessions, guided
sessions (how each exercise felt, her pain after), check-ins with every answer, holds, what
her coach did to her program, the messages she and her coach wrote, and when each email to her
went out (kind, when, status; never its content). It holds no one else's data beyond her
coach's name: not who cleared a hold, and not her coach's private notes, which are the
coach's working notes (they are deleted with her account all the same).

She may remove her coach from an enrolment at any time: the coach loses the client page and
the dashboard row at once, and the removal is recorded (CoachAction.Kind.REMOVED_COACH).

Deleting her account deletes her user row, and the database cascade takes everything hanging
from it: enrolments with their pauses, sessions, check-ins, holds, stage overrides, coach
actions and notes, and every notification to her or about her (her coach's red-flag alerts
included). A coach's digest counts her no more once she is gone.
"""

from __future__ import annotations

from datetime import datetime

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from programs import notifications, safety
from programs.models import (
    CoachAction,
    Enrolment,
    Invitation,
    Message,
    Notification,
    SessionLog,
)

User = get_user_model()


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password. Nothing has been deleted.")
        return password


@login_required
def account(request):
    coached = (
        Enrolment.objects.filter(user=request.user, coach__isnull=False)
        .select_related("program", "coach")
        .order_by("created_at")
    )
    context = {"contact": settings.SECURITY_CONTACT, "coached": coached}
    return render(request, "account/index.html", context)


def coach_name(coach) -> str:
    return coach.get_full_name() or coach.email


@login_required
@require_http_methods(["GET", "POST"])
def remove_coach(request, pk):
    """Her coach stops seeing her: GET asks, POST does it. Hers only; anyone else's is 404."""
    enrolment = get_object_or_404(
        Enrolment.objects.select_related("coach", "program"),
        pk=pk,
        user=request.user,
        coach__isnull=False,
    )
    if request.method == "POST":
        name = coach_name(enrolment.coach)
        now = timezone.now()
        with transaction.atomic():
            # Alerts still waiting to go to her former coach are no longer hers to receive.
            Notification.objects.filter(
                enrolment=enrolment,
                recipient_id=enrolment.coach_id,
                status=Notification.Status.PENDING,
            ).update(status=Notification.Status.CANCELLED)
            enrolment.coach = None
            enrolment.save(update_fields=["coach"])
            CoachAction.record(enrolment, request.user, CoachAction.Kind.REMOVED_COACH, now, name)
        messages.success(
            request, f"{name} is no longer your coach and can no longer see your program."
        )
        return redirect("account")
    return render(request, "account/remove_coach.html", {"enrolment": enrolment})


@login_required
def export(request):
    now = timezone.now()
    response = JsonResponse(
        export_data(request.user, now), json_dumps_params={"indent": 2, "ensure_ascii": False}
    )
    response["Content-Disposition"] = f'attachment; filename="my-recovery-data-{now:%Y-%m-%d}.json"'
    return response


@login_required
def delete(request):
    form = DeleteAccountForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        delete_account(request.user)
        logout(request)
        messages.success(request, "Your account and everything in it have been deleted.")
        response = redirect("home")
        # Her pages the offline service worker kept go too, with the worker itself.
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response
    return render(request, "account/delete.html", {"form": form})


def delete_account(user) -> None:
    """Delete her and all her data, at once and for good."""
    with transaction.atomic():
        # The cascade deletes these rows too; cancelling first means a dispatcher that read one
        # a moment ago finds nothing left to claim.
        Notification.objects.filter(
            Q(recipient=user) | Q(enrolment__user=user),
            status=Notification.Status.PENDING,
        ).update(status=Notification.Status.CANCELLED)
        # Her address in a coach's accepted invitation is hers too.
        Invitation.objects.filter(accepted_by=user).delete()
        _forget_logins(user)
        user.delete()


def _forget_logins(user) -> None:
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username=user.get_username()).delete()


def export_data(user, now: datetime) -> dict:
    """Everything about her, as plain JSON values."""
    enrolments = (
        Enrolment.objects.filter(user=user)
        .select_related("program", "coach")
        .prefetch_related(
            "pauses",
            Prefetch(
                "sessions",
                queryset=SessionLog.objects.select_related("prescription__exercise"),
            ),
            "guided_sessions__exercises__prescription__exercise",
            "checkins",
            "holds__checkin",
            Prefetch("actions", queryset=CoachAction.objects.exclude(kind=CoachAction.Kind.NOTE)),
            "messages",
        )
        .order_by("created_at")
    )
    notifications = (
        Notification.objects.filter(recipient=user)
        .select_related("enrolment__program")
        .order_by("scheduled_for", "pk")
    )
    return {
        "exported_at": _when(now),
        "about": (
            "Everything this service holds about you, with your coach's name. Not included: "
            "your coach's private notes, and the names of staff who acted on your program."
        ),
        "profile": {
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "joined": _when(user.date_joined),
            "last_login": _when(user.last_login),
        },
        "enrolments": [_enrolment(e) for e in enrolments],
        "emails": [
            {
                "kind": n.kind,
                "description": n.get_kind_display(),
                "program": n.enrolment.program.name if n.enrolment else None,
                "scheduled_for": _when(n.scheduled_for),
                "sent_at": _when(n.sent_at),
                "status": n.status,
            }
            for n in notifications
        ],
    }


def _enrolment(e: Enrolment) -> dict:
    return {
        "program": {"slug": e.program.slug, "name": e.program.name},
        "status": e.status,
        "start_date": e.start_date.isoformat(),
        "timezone": e.timezone,
        "reminder_time": e.reminder_time.isoformat(timespec="minutes"),
        "reminder_days": e.reminder_days,  # weekday (0 is Monday): another time, or null
        "weeks_postpartum_at_enrolment": e.weeks_postpartum,
        "caesarean": e.caesarean,
        "clearance_confirmed_at": _when(e.cleared_at),
        "enrolled_at": _when(e.created_at),
        "withdrawn_at": _when(e.withdrawn_at),
        "coach": coach_name(e.coach) if e.coach_id else None,
        "email_preferences": {
            key: getattr(e, p.field) for key, p in notifications.PREFERENCES.items()
        },
        "pauses": [
            {"started_at": _when(p.started_at), "ended_at": _when(p.ended_at)}
            for p in e.pauses.all()
        ],
        "sessions": [
            {
                "date": s.local_date.isoformat(),
                "exercise": s.prescription.exercise.name,
                "logged_at": _when(s.created_at),
            }
            for s in e.sessions.all()
        ],
        "guided_sessions": [
            {
                "date": g.local_date.isoformat(),
                "pain_after": g.pain_after,
                "saved_at": _when(g.created_at),
                "exercises": [
                    {
                        "exercise": row.prescription.exercise.name,
                        "done": row.done,
                        "felt": row.get_felt_display() if row.felt else None,
                    }
                    for row in g.exercises.all()
                ],
            }
            for g in e.guided_sessions.all()
        ],
        "checkins": [
            {
                "week": c.week,
                "submitted_at": _when(c.submitted_at),
                "pain": c.pain,
                "pain_sites": [safety.PAIN_SITES.get(code, code) for code in c.pain_sites],
                "warning_signs": [safety.describe(code) for code in c.warning_signs],
                "urgent_signs": [safety.describe(code) for code in c.urgent_signs],
                "sessions_felt": c.get_sessions_felt_display(),
                "note": c.note,
                "red_flag_tier": c.tier,
            }
            for c in e.checkins.all()
        ],
        "holds": [
            {
                "tier": h.tier,
                "started_at": _when(h.started_at),
                "cleared_at": _when(h.cleared_at),
                "from_checkin_week": h.checkin.week if h.checkin else None,
            }
            for h in e.holds.all()
        ],
        "coach_actions": [
            {
                "kind": a.kind,
                "description": a.get_kind_display(),
                "at": _when(a.at),
                "detail": a.detail,
            }
            for a in e.actions.all()
        ],
        "messages": [
            {
                "from": "you" if m.side == Message.Side.CLIENT else "your coach",
                "at": _when(m.created_at),
                "text": m.body,
            }
            for m in e.messages.all()
        ],
    }


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer once an account is locked (AXES_LOCKOUT_CALLABLE)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "account/locked_out.html", {"minutes": minutes}, status=429)
