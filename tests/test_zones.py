"""Impossible time zones and dates are refused at the edge, and her zone is never swapped."""

from datetime import UTC, date, datetime, time
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from programs import zones
from programs.forms import CoachSettingsForm, EnrolmentForm, PreferencesForm
from programs.models import CoachProfile, Enrolment

pytestmark = pytest.mark.django_db

RANGE_MESSAGE = "Enter a date between 2000-01-01 and 2099-12-31."


class _BrowserForm(HTMLParser):
    """What a browser submits for the page's form holding a `timezone` select, untouched: a
    select with no option marked `selected` sends its first option."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self._form: dict[str, str] | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._form = {}
        elif self._form is None:
            return
        elif tag == "input" and attrs.get("name"):
            kind = (attrs.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self._form[attrs["name"]] = attrs.get("value") or "on"
            elif kind not in ("submit", "button"):
                self._form[attrs["name"]] = attrs.get("value") or ""
        elif tag == "select":
            self._select, self._options = attrs.get("name"), []
        elif tag == "option" and self._select:
            self._options.append((attrs.get("value") or "", "selected" in attrs))
        elif tag == "textarea":
            self._textarea = attrs.get("name")
            self._form[self._textarea] = ""

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form[self._textarea] += data

    def handle_endtag(self, tag):
        if self._form is None:
            return
        if tag == "select" and self._select:
            chosen = [value for value, selected in self._options if selected]
            self._form[self._select] = (chosen or [value for value, _ in self._options])[0]
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self.forms.append(self._form)
            self._form = None


def browser_submission(response) -> dict[str, str]:
    parser = _BrowserForm()
    parser.feed(response.content.decode())
    [form] = [form for form in parser.forms if "timezone" in form]
    return form


def rows(model) -> list[dict]:
    return list(model.objects.order_by("pk").values())


def flat(choices) -> list[str]:
    """The values of grouped choices, in order."""
    values = []
    for value, label in choices:
        if isinstance(label, (list, tuple)):
            values.extend(name for name, _ in label)
        else:
            values.append(value)
    return values


# The list of zones


def test_choices_offer_fixed_offsets_and_cities_but_not_legacy_names():
    offered = flat(zones.choices())
    assert {"Etc/GMT+12", "Etc/GMT-14", "UTC", "Asia/Kolkata", "Europe/London"} <= set(offered)
    assert {"America/Argentina/Buenos_Aires", "Europe/Kyiv", "Australia/Sydney"} <= set(offered)
    for legacy in ["Factory", "localtime", "posixrules", "US/Eastern", "GB", "EST5EDT", "Etc/UTC"]:
        assert legacy not in offered
    assert not [name for name in offered if name.startswith(("SystemV/", "right/", "posix/"))]
    assert not [name for name in offered if name in zones.OLD_NAMES]
    assert len(offered) == len(set(offered))


def test_every_choice_loads():
    for name in flat(zones.choices()):
        assert ZoneInfo(name).key == name


def test_choices_are_grouped_by_region_and_sorted():
    groups = zones.choices()
    assert [region for region, _ in groups] == [*zones.REGIONS, zones.OTHER]
    for region, options in groups:
        names = [name for name, _ in options]
        if region == zones.OTHER:
            assert names[:2] == ["UTC", "Etc/GMT+12"]
            assert names[-1] == "Etc/GMT-14"
        else:
            assert all(name.startswith(region + "/") for name in names)
            assert names == sorted(names, key=str.casefold)


def test_labels_are_readable():
    labels = {name: label for _, options in zones.choices() for name, label in options}
    assert labels["America/Argentina/Buenos_Aires"] == "America / Argentina / Buenos Aires"
    # Etc/GMT+12 is twelve hours behind UTC: the label says so.
    assert labels["Etc/GMT+12"] == "Etc / GMT+12 (UTC-12)"
    assert labels["UTC"] == "UTC"


@pytest.mark.parametrize("current", ["US/Eastern", "Etc/UTC", "Asia/Calcutta"])
def test_a_valid_zone_she_holds_is_offered_first(current):
    groups = zones.choices(current)
    assert groups[0] == (zones.CURRENT, ((current, zones.label(current)),))
    assert groups[1:] == zones.choices()


@pytest.mark.parametrize("current", ["", "Europe/London", "Europe/Londn", "localtime", "Factory"])
def test_an_invalid_or_listed_zone_adds_nothing(current):
    assert zones.choices(current) == zones.choices()


def test_the_list_is_cached():
    assert zones.choices() is zones.choices()
    assert zones.choices("US/Eastern") is zones.choices("US/Eastern")


@pytest.mark.parametrize("name", ["localtime", "posixrules", "Factory", "Europe/Londn", ""])
def test_names_that_are_not_a_place_are_not_valid(name):
    assert not zones.is_valid(name)


# The forms


@pytest.fixture
def forms_for(make_enrolment, user, program, coach):
    def build(zone: str):
        enrolment = make_enrolment(timezone=zone)
        profile = CoachProfile.objects.create(user=coach, timezone=zone)
        return [
            PreferencesForm(instance=enrolment),
            CoachSettingsForm(instance=profile),
        ]

    return build


def test_every_zone_form_starts_with_the_empty_option(forms_for, user, program):
    for form in [*forms_for("Europe/London"), EnrolmentForm(user=user, program=program)]:
        field = form.fields["timezone"]
        assert field.required
        assert field.choices[0] == ("", "Choose your time zone")
        assert "Etc/GMT+12" in flat(field.choices)


def test_forms_offer_the_zone_she_holds(forms_for):
    for form in forms_for("US/Eastern"):
        assert "US/Eastern" in flat(form.fields["timezone"].choices)
        assert form["timezone"].value() == "US/Eastern"


def test_forms_do_not_offer_or_preselect_an_invalid_zone(forms_for):
    for form in forms_for("Europe/Londn"):
        assert "Europe/Londn" not in flat(form.fields["timezone"].choices)
        assert form["timezone"].value() == ""
        assert '<option value="" selected>Choose your time zone</option>' in str(form["timezone"])


@pytest.fixture
def settled(clock):
    clock("2026-03-04 06:00", "Europe/London")


@pytest.mark.parametrize("zone", ["Etc/GMT+12", "US/Eastern", "Asia/Kolkata", "UTC"])
def test_preferences_saved_again_keep_her_zone(member, make_enrolment, settled, zone):
    enrolment = make_enrolment(timezone=zone)
    url = reverse("preferences", args=[enrolment.pk])
    data = browser_submission(member.get(url))
    assert data["timezone"] == zone
    data["reminder_time"] = "19:15"
    assert member.post(url, data).status_code == 302
    enrolment.refresh_from_db()
    assert (enrolment.timezone, enrolment.reminder_time) == (zone, time(19, 15))


@pytest.mark.parametrize("zone", ["Etc/GMT+12", "US/Eastern"])
def test_coach_settings_saved_again_keep_her_zone(client, coach, zone):
    CoachProfile.objects.create(user=coach, timezone=zone)
    client.force_login(coach)
    url = reverse("coach_settings")
    data = browser_submission(client.get(url))
    data["digest_time"] = "06:45"
    assert client.post(url, data).status_code == 302
    profile = CoachProfile.objects.get(user=coach)
    assert (profile.timezone, profile.digest_time) == (zone, time(6, 45))


def test_an_invalid_stored_zone_is_not_replaced_silently(member, make_enrolment, settled):
    enrolment = make_enrolment(timezone="Europe/Londn")
    url = reverse("preferences", args=[enrolment.pk])
    data = browser_submission(member.get(url))
    assert data["timezone"] == ""
    data["reminder_time"] = "19:15"
    before = rows(Enrolment)
    response = member.post(url, data)
    assert response.status_code == 200
    assert "Choose your time zone." in response.content.decode()
    assert rows(Enrolment) == before
    # Once she chooses, it saves.
    member.post(url, {**data, "timezone": "Europe/London"})
    enrolment.refresh_from_db()
    assert (enrolment.timezone, enrolment.reminder_time) == ("Europe/London", time(19, 15))


def test_a_coach_with_an_invalid_stored_zone_is_asked_to_choose(client, coach):
    CoachProfile.objects.create(user=coach, timezone="Mars/Olympus_Mons")
    client.force_login(coach)
    url = reverse("coach_settings")
    data = browser_submission(client.get(url))
    before = rows(CoachProfile)
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Choose your time zone." in response.content.decode()
    assert rows(CoachProfile) == before


def test_a_zone_she_does_not_hold_must_come_from_the_list(member, make_enrolment, settled):
    enrolment = make_enrolment(timezone="Europe/London")
    url = reverse("preferences", args=[enrolment.pk])
    response = member.post(url, {"reminder_time": "08:00", "timezone": "US/Eastern"})
    assert "Select a valid choice" in response.content.decode()
    enrolment.refresh_from_db()
    assert enrolment.timezone == "Europe/London"


# Enrolment dates


@pytest.mark.parametrize("start", ["0001-01-01", "1999-12-31", "2100-01-01", "9999-12-31"])
def test_enrolling_refuses_a_start_date_out_of_range(member, program, clock, start):
    clock("2026-03-10 09:00", "Europe/London")
    data = {
        "start_date": start,
        "timezone": "Europe/London",
        "reminder_time": "07:30",
        "weeks_postpartum": "9",
        "caesarean": "False",
        "cleared": "True",
    }
    response = member.post(reverse("enrol", args=[program.slug]), data)
    assert response.status_code == 200
    assert response.context["form"].errors["start_date"] == [RANGE_MESSAGE]
    assert not Enrolment.objects.exists()


def test_enrolling_accepts_a_fixed_offset_zone(member, program, clock):
    clock("2026-03-10 09:00", "UTC")
    data = {
        "start_date": "2026-03-09",  # still the 9th twelve hours behind UTC
        "timezone": "Etc/GMT+12",
        "reminder_time": "07:30",
        "weeks_postpartum": "9",
        "caesarean": "False",
        "cleared": "True",
    }
    assert member.post(reverse("enrol", args=[program.slug]), data).status_code == 302
    enrolment = Enrolment.objects.get()
    assert (enrolment.timezone, enrolment.start_date) == ("Etc/GMT+12", date(2026, 3, 9))


# The admin


@pytest.fixture
def staff(client):
    admin = get_user_model().objects.create_superuser("admin@example.com", "admin@example.com", "x")
    client.force_login(admin)
    return client


def enrolment_admin_data(enrolment, **overrides) -> dict[str, str]:
    data = {
        "user": str(enrolment.user_id),
        "program": str(enrolment.program_id),
        "coach": "",
        "start_date": enrolment.start_date.isoformat(),
        "timezone": enrolment.timezone,
        "reminder_time": "08:00",
        "weeks_postpartum": str(enrolment.weeks_postpartum),
        "cleared_at_0": "2026-03-01",
        "cleared_at_1": "00:00:00",
        "status": enrolment.status,
        "withdrawn_at_0": "",
        "withdrawn_at_1": "",
        "email_session": "on",
        "email_nudge": "on",
        "email_stage": "on",
        "email_checkin": "on",
        **{
            f"{prefix}-{name}": "0"
            for prefix in ("pauses", "tailorings", "moves")
            for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS")
        },
        "_save": "Save",
    }
    data.update(overrides)
    return data


def test_the_admin_shows_zones_as_the_grouped_list(staff, make_enrolment, coach):
    enrolment = make_enrolment(timezone="Etc/GMT+12")
    CoachProfile.objects.create(user=coach)
    content = staff.get(reverse("admin:programs_enrolment_change", args=[enrolment.pk])).content
    assert b'<optgroup label="Other (fixed offsets, UTC)">' in content
    assert b'<option value="Etc/GMT+12" selected>' in content
    assert staff.get(reverse("admin:programs_coachprofile_changelist")).status_code == 200
    assert staff.get(reverse("admin:programs_coachprofile_add")).status_code == 200


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Europe/Londn", "Select a valid choice"),
        ("timezone", "", "Choose your time zone."),
        ("start_date", "0001-01-01", RANGE_MESSAGE),
        ("start_date", "9999-12-31", RANGE_MESSAGE),
    ],
)
def test_the_admin_refuses_an_impossible_zone_or_date(staff, make_enrolment, field, value, message):
    enrolment = make_enrolment()
    url = reverse("admin:programs_enrolment_change", args=[enrolment.pk])
    before = rows(Enrolment)
    response = staff.post(url, enrolment_admin_data(enrolment, **{field: value}))
    assert response.status_code == 200
    assert message in response.context["adminform"].form.errors[field][0]
    assert rows(Enrolment) == before
    # The same form with a sound value saves.
    response = staff.post(url, enrolment_admin_data(enrolment, timezone="Asia/Kolkata"))
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.timezone == "Asia/Kolkata"


def test_the_admin_cannot_add_an_enrolment_starting_in_year_one(staff, make_enrolment):
    enrolment = make_enrolment()
    data = enrolment_admin_data(enrolment, start_date="0001-01-01", status="withdrawn")
    response = staff.post(reverse("admin:programs_enrolment_add"), data)
    assert response.status_code == 200
    assert Enrolment.objects.count() == 1


def test_the_admin_refuses_a_misspelt_coach_zone(staff, coach):
    profile = CoachProfile.objects.create(user=coach, timezone="Europe/London")
    url = reverse("admin:programs_coachprofile_change", args=[profile.pk])
    data = {"user": str(coach.pk), "digest_time": "07:30", "email_digest": "on", "_save": "Save"}
    before = rows(CoachProfile)
    response = staff.post(url, {**data, "timezone": "Europe/Londn"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.context["adminform"].form.errors["timezone"][0]
    assert rows(CoachProfile) == before
    assert staff.post(url, {**data, "timezone": "Etc/GMT-14"}).status_code == 302
    profile.refresh_from_db()
    assert profile.timezone == "Etc/GMT-14"


def test_the_model_refuses_what_the_admin_would(make_enrolment):
    from django.core.exceptions import ValidationError

    enrolment = make_enrolment()
    enrolment.timezone, enrolment.start_date = "Europe/Londn", date(1, 1, 1)
    with pytest.raises(ValidationError) as refused:
        enrolment.full_clean()
    assert set(refused.value.message_dict) == {"timezone", "start_date"}


def test_each_old_name_points_to_a_listed_zone_of_the_same_clock():
    listed = set(flat(zones.choices()))
    for old, current in zones.CURRENT_NAMES.items():
        assert current in listed, (old, current)
        for month in (1, 7):
            instant = datetime(2026, month, 1, 12, tzinfo=UTC)
            offsets = {instant.astimezone(ZoneInfo(name)).utcoffset() for name in (old, current)}
            assert len(offsets) == 1, (old, current)


def test_the_zone_list_tells_the_enrol_script_the_current_names(member, program):
    content = member.get(reverse("enrol", args=[program.slug])).content.decode()
    assert "data-current-names=" in content
    assert "Asia/Calcutta&quot;: &quot;Asia/Kolkata" in content
