"""Signed links for emails: a check-in that expires, a one-click unsubscribe that doesn't, a
coach's invitation to a new client (14 days), a snooze of one session reminder (a day), and her
calendar feed's address (until she resets it).

The tokens carry ids and a kind or week, never health data, and are signed with SECRET_KEY
through Django's signing framework, so they cannot be forged or edited.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.crypto import constant_time_compare

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


SNOOZE_SALT = "programs.snooze"
# Long enough to snooze "tomorrow" from the evening; a reminder older than that is past helping.
SNOOZE_MAX_AGE = timedelta(days=1)
SNOOZE_CHOICES = {"hour": "In an hour", "evening": "This evening", "tomorrow": "Tomorrow"}


def snooze_url(notification_pk: int, choice: str) -> str:
    """A link that snoozes the session reminder `notification_pk` ("hour", "evening" or
    "tomorrow")."""
    token = signing.dumps({"n": notification_pk, "s": choice}, salt=SNOOZE_SALT, compress=True)
    return absolute(reverse("snooze", args=[token]))


def read_snooze(token: str) -> tuple[int, str]:
    """(notification pk, choice) from a snooze link's token, or BadLink."""
    try:
        data = signing.loads(token, salt=SNOOZE_SALT, max_age=SNOOZE_MAX_AGE)
        pk, choice = int(data["n"]), str(data["s"])
        if choice not in SNOOZE_CHOICES or not 0 < pk < 2**63:
            raise ValueError(choice)
        return pk, choice
    except signing.SignatureExpired as error:
        raise BadLink("This snooze link has expired.") from error
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise BadLink("This link is not valid.") from error


CALENDAR_SALT = "programs.calendar"


def _calendar_signer(secret: str) -> signing.Signer:
    # Her own secret is part of the salt: a new secret and every old address stops working.
    return signing.Signer(salt=f"{CALENDAR_SALT}:{secret}")


def calendar_url(enrolment_pk: int, secret: str) -> str:
    """Her calendar feed's address; it lasts until her secret changes."""
    signature = _calendar_signer(secret).signature(str(enrolment_pk))
    return absolute(reverse("calendar_feed", args=[enrolment_pk, signature]))


def calendar_signature_ok(enrolment_pk: int, secret: str, signature: str) -> bool:
    expected = _calendar_signer(secret).signature(str(enrolment_pk))
    return constant_time_compare(expected, signature)
