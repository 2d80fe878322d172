"""Signed links for emails: a check-in that expires, a one-click unsubscribe that doesn't, and a
coach's invitation to a new client (14 days).

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


def unsubscribe_url(enrolment_pk: int, preference: str) -> str:
    """A link that turns off one of her preferences (a key of notifications.PREFERENCES)."""
    token = signing.dumps(
        {"e": enrolment_pk, "k": preference}, salt=UNSUBSCRIBE_SALT, compress=True
    )
    return absolute(reverse("unsubscribe", args=[token]))


def read_unsubscribe(token: str) -> tuple[int, str]:
    """(enrolment pk, preference key) from an unsubscribe link's token, or BadLink."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        return int(data["e"]), str(data["k"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise BadLink("This link is not valid.") from error


INVITATION_SALT = "programs.invitation"
INVITATION_MAX_AGE = timedelta(days=14)


def invitation_token(invitation_pk: int) -> str:
    return signing.dumps({"i": invitation_pk}, salt=INVITATION_SALT, compress=True)


def invitation_url(invitation_pk: int) -> str:
    return absolute(reverse("accept_invitation", args=[invitation_token(invitation_pk)]))


def read_invitation(token: str) -> int:
    """The invitation pk from an invitation link's token, or BadLink."""
    try:
        data = signing.loads(token, salt=INVITATION_SALT, max_age=INVITATION_MAX_AGE)
        return int(data["i"])
    except signing.SignatureExpired as error:
        raise BadLink("This invitation has expired. Ask your coach for a new one.") from error
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise BadLink("This invitation link is not valid.") from error
