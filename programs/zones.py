"""
Time zones she can choose, and the checks that keep an impossible zone or date out of the data.

Every planning step works in her own zone through `zoneinfo`: a name it cannot load would stop
her reminders, so models and forms refuse it at the edge.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.core.exceptions import ValidationError

# Far enough either side for any real enrolment, near enough that date arithmetic never
# overflows (a start in year 1 used to break the dashboard).
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2099, 12, 31)


@cache
def names() -> frozenset[str]:
    """Every zone `zoneinfo` can load here, `Etc/` zones included."""
    return frozenset(available_timezones())


def is_valid(name: str) -> bool:
    if name not in names():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def validate_zone(value: str) -> None:
    if not is_valid(value):
        raise ValidationError(
            "%(value)s is not a time zone we know. Choose one from the list, e.g. Europe/London.",
            code="invalid_zone",
            params={"value": value},
        )


def validate_date(value: date) -> None:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValidationError(
            "Enter a date between %(earliest)s and %(latest)s.",
            code="date_out_of_range",
            params={"earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()},
        )
