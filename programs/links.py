"""Signed links for emails: a check-in that expires, and a one-click unsubscribe that doesn't.

The tokens carry ids and a kind or week, never health data, and are signed with SECRET_KEY
through Django's signing framework, so they cannot be forged or edited.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

CHECKIN_SALT = "programs.checkin"
UNSUBSCRIBE_SALT = "programs.unsubscribe"
CHECKIN_MAX_AGE = timedelta(days=8)


class BadLink(Exception):
    """The link was tampered with, mangled or has expired."""


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def checkin_url(enrolment_pk: int, week: int) -> str:
    token = signing.dumps({"e": enrolment_pk, "w": week}, salt=CHECKIN_SALT, compress=True)
    return absolute(reverse("checkin_link", args=[token]))


def read_checkin(token: str) -> tuple[int, int]:
    """(enrolment pk, week) from a check-in link's token, or BadLink."""
    try:
        data = signing.loads(token, salt=CHECKIN_SALT, max_age=CHECKIN_MAX_AGE)
        return int(data["e"]), int(data["w"])
    except signing.SignatureExpired as error:
        raise BadLink("This check-in link has expired.") from error
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise BadLink("This link is not valid.") from error


def unsubscribe_url(enrolment_pk: int, kind: str) -> str:
    token = signing.dumps({"e": enrolment_pk, "k": kind}, salt=UNSUBSCRIBE_SALT, compress=True)
    return absolute(reverse("unsubscribe", args=[token]))


def read_unsubscribe(token: str) -> tuple[int, str]:
    """(enrolment pk, optional kind) from an unsubscribe link's token, or BadLink."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        return int(data["e"]), str(data["k"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise BadLink("This link is not valid.") from error
