"""
Whether planning and sending keep up (`programs.status`): a page for staff, and the same
figures as JSON for a monitoring tool, which answers 503 while anything is wrong so the tool
can alert on the code alone.

Neither shows anything about a woman's health, nor anyone's email address: the JSON names no
one, and the page lists failing enrolments by number.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from programs import status
from programs.status import Beat


def staff_required(view):
    """Logged in (else to the log-in page), and staff (else 403)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied("This page is for staff.")
        return view(request, *args, **kwargs)

    return wrapper


@require_safe
@staff_required
def status_page(request):
    return render(request, "status.html", {"status": status.report(timezone.now())})


@require_safe
def status_json(request):
    """The figures for a monitoring tool: 200 when all is well, 503 when not."""
    if not (request.user.is_staff or _has_token(request)):
        return JsonResponse({"error": "Staff or the status token only."}, status=403)
    report = status.report(timezone.now())
    return JsonResponse(as_json(report), status=200 if report.ok else 503)


def _has_token(request) -> bool:
    expected = settings.STATUS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def as_json(report: status.Status) -> dict:
    return {
        "ok": report.ok,
        "problems": list(report.problems),
        "now": _instant(report.now),
        "sweep": _beat(report.sweep, "examined", "batches", "coaches"),
        "plan": _beat(report.plan, "enrolments"),
        "dispatch": _beat(report.dispatch, "due", "senders"),
        "send": _beat(report.send, "sent", "failed"),
        "outbox": {
            "due": report.due,
            "oldest_due_at": _instant(report.oldest_due_at),
            "late_seconds": report.late,
            "failed_last_24h": report.failed_recently,
        },
        "planning": {"failing_enrolments": report.failing},
        "roll_over": _beat(report.roll_over, "rows", "batches"),
        "client_status": {"rows_behind": report.rows_behind},
    }


def _beat(beat: Beat | None, *counts: str) -> dict | None:
    if beat is None:
        return None
    return {
        "finished_at": _instant(beat.finished_at),
        "age_seconds": beat.age,
        "seconds": beat.seconds,
        **{name: beat.detail.get(name) for name in counts},
    }


def _instant(value: datetime | None) -> str | None:
    """ISO 8601 in UTC, with a Z."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
