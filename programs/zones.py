"""
Time zones she can choose, and the checks that keep an impossible zone or date out of the data.

Every planning step works in her own zone through `zoneinfo`: a name it cannot load would stop
her reminders, so models and forms refuse it at the edge.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.core.exceptions import ValidationError

# Far enough either side for any real enrolment, near enough that date arithmetic on it never
# overflows (a start in year 1 would overflow her week's dates).
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2099, 12, 31)


# Names that are not a place: "localtime" is whatever the server's clock says (not hers, and
# not the same on every machine), "Factory" means "no zone set yet".
NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})

# The optgroups of the form's list, in order; `Etc/` zones and UTC come last, under OTHER.
REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)
OTHER = "Other (fixed offsets, UTC)"
CURRENT = "Your current zone"
# The first option of every zone list, chosen when nothing else can be.
EMPTY_LABEL = "Choose your time zone"

# Region-style names tz keeps only so old data still loads: an older spelling, a short form of
# a longer name, or a state or area rather than a city, each with the listed name of the same
# place (Asia/Kolkata, Europe/Kyiv, America/Argentina/Cordoba, Australia/Sydney): offering both
# would show one place twice. Browsers still report some of the old ones (Chromium says
# "Asia/Calcutta"), so the enrol form's script reads this map to suggest the listed name.
# Cities that merely share another city's clock (Europe/Vatican, America/Montreal) stay: she
# looks for her own city.
CURRENT_NAMES = {
    "Africa/Asmera": "Africa/Asmara",
    "Africa/Timbuktu": "Africa/Bamako",
    "America/Argentina/ComodRivadavia": "America/Argentina/Catamarca",
    "America/Atka": "America/Adak",
    "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
    "America/Catamarca": "America/Argentina/Catamarca",
    "America/Cordoba": "America/Argentina/Cordoba",
    "America/Ensenada": "America/Tijuana",
    "America/Fort_Wayne": "America/Indiana/Indianapolis",
    "America/Godthab": "America/Nuuk",
    "America/Indianapolis": "America/Indiana/Indianapolis",
    "America/Jujuy": "America/Argentina/Jujuy",
    "America/Knox_IN": "America/Indiana/Knox",
    "America/Louisville": "America/Kentucky/Louisville",
    "America/Mendoza": "America/Argentina/Mendoza",
    "America/Porto_Acre": "America/Rio_Branco",
    "America/Rosario": "America/Argentina/Cordoba",
    "America/Santa_Isabel": "America/Tijuana",
    "America/Shiprock": "America/Denver",
    "America/Virgin": "America/St_Thomas",
    "Asia/Ashkhabad": "Asia/Ashgabat",
    "Asia/Calcutta": "Asia/Kolkata",
    "Asia/Chungking": "Asia/Chongqing",
    "Asia/Dacca": "Asia/Dhaka",
    "Asia/Istanbul": "Europe/Istanbul",
    "Asia/Katmandu": "Asia/Kathmandu",
    "Asia/Macao": "Asia/Macau",
    "Asia/Rangoon": "Asia/Yangon",
    "Asia/Saigon": "Asia/Ho_Chi_Minh",
    "Asia/Thimbu": "Asia/Thimphu",
    "Asia/Ujung_Pandang": "Asia/Makassar",
    "Asia/Ulan_Bator": "Asia/Ulaanbaatar",
    "Atlantic/Faeroe": "Atlantic/Faroe",
    "Australia/ACT": "Australia/Sydney",
    "Australia/LHI": "Australia/Lord_Howe",
    "Australia/NSW": "Australia/Sydney",
    "Australia/North": "Australia/Darwin",
    "Australia/Queensland": "Australia/Brisbane",
    "Australia/South": "Australia/Adelaide",
    "Australia/Tasmania": "Australia/Hobart",
    "Australia/Victoria": "Australia/Melbourne",
    "Australia/West": "Australia/Perth",
    "Australia/Yancowinna": "Australia/Broken_Hill",
    "Europe/Kiev": "Europe/Kyiv",
    "Europe/Nicosia": "Asia/Nicosia",
    "Pacific/Enderbury": "Pacific/Kanton",
    "Pacific/Ponape": "Pacific/Pohnpei",
    "Pacific/Samoa": "Pacific/Pago_Pago",
    "Pacific/Truk": "Pacific/Chuuk",
}
OLD_NAMES = frozenset(CURRENT_NAMES)

# Etc/GMT+N is N hours *behind* UTC (the POSIX sign), so its label spells the offset out.
# Etc/GMT+0, Etc/GMT-0, Etc/UTC and the like are other names for Etc/GMT and UTC.
_FIXED_OFFSET = re.compile(r"Etc/GMT(?:([+-])(1[0-4]|[1-9]))?")

Choice = tuple[str, str]
Group = tuple[str, tuple[Choice, ...]]


@cache
def names() -> frozenset[str]:
    """Every zone `zoneinfo` can load here, `Etc/` zones included, less NOT_ZONES."""
    return frozenset(available_timezones()) - NOT_ZONES


def is_valid(name: str) -> bool:
    """Whether an enrolment or coach may hold this zone: planning can load it, anywhere."""
    if name not in names():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def validate_zone(value: str) -> None:
    """Model validator: refuses a zone `is_valid` does not know."""
    if not is_valid(value):
        raise ValidationError(
            "%(value)s is not a time zone we know. Choose one from the list, e.g. Europe/London.",
            code="invalid_zone",
            params={"value": value},
        )


def validate_date(value: date) -> None:
    """Model and form validator: refuses a date outside EARLIEST_DATE..LATEST_DATE."""
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValidationError(
            "Enter a date between %(earliest)s and %(latest)s.",
            code="date_out_of_range",
            params={"earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()},
        )


def label(name: str) -> str:
    """The zone's name for people: "America / Argentina / Buenos Aires", "Etc / GMT+5 (UTC-5)"."""
    text = name.replace("_", " ").replace("/", " / ")
    if _FIXED_OFFSET.fullmatch(name):
        text += f" (UTC{_utc_offset(name):+d})"
    return text


def choices(current: str = "") -> tuple[Group, ...]:
    """
    The zones a form offers, grouped by region: cities by name, then UTC and the fixed
    offsets from west to east.

    The zone the record holds now comes first, under its own heading, when it is valid but not
    in the list (an older name such as US/Eastern): saving the form again keeps it. An invalid
    one is never offered, so the form cannot hand it back.
    """
    if not current or current in _listed() or not is_valid(current):
        current = ""
    return _choices(current)


def _region(name: str) -> str | None:
    if name == "UTC" or _FIXED_OFFSET.fullmatch(name):
        return OTHER
    region, _, place = name.partition("/")
    if region in REGIONS and place and name not in OLD_NAMES:
        return region
    return None


def _utc_offset(name: str) -> int:
    match = _FIXED_OFFSET.fullmatch(name)
    if not match or not match[1]:
        return 0
    hours = int(match[2])
    return -hours if match[1] == "+" else hours


@cache
def _groups() -> tuple[Group, ...]:
    by_region: dict[str, list[str]] = {region: [] for region in (*REGIONS, OTHER)}
    for name in names():
        region = _region(name)
        if region is not None:
            by_region[region].append(name)
    by_region[OTHER].sort(key=lambda name: (name != "UTC", _utc_offset(name), name))
    return tuple(
        (
            region,
            tuple(
                (name, label(name))
                for name in (zones if region == OTHER else sorted(zones, key=str.casefold))
            ),
        )
        for region, zones in by_region.items()
        if zones
    )


@cache
def _listed() -> frozenset[str]:
    return frozenset(name for _, group in _groups() for name, _ in group)


@cache
def _choices(current: str) -> tuple[Group, ...]:
    if not current:
        return _groups()
    return ((CURRENT, ((current, label(current)),)), *_groups())
