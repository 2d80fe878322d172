"""
Every form and every URL parameter, fuzzed with hypothesis: never a 500, a clear message for
whatever is refused, and nothing half saved. Also oversized, crowded and non-UTF-8 bodies.

Each example runs in a savepoint that is rolled back afterwards, so every example starts from
the same database; "nothing saved" compares every row of the app's tables (and the users)
before and after the request.
"""

from __future__ import annotations

import contextlib
import operator
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import quote, urlencode, urlsplit

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.contrib.messages import get_messages
from django.core import mail, signing
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from programs import links, roles
from programs.models import CoachProfile, Enrolment, Hold, Invitation, Prescription, Stage
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
User = get_user_model()

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))  # FUZZ_EXAMPLES=500 for a deeper search
fuzz = hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # other engineers run the tests at the same time: write nothing to disk
    print_blob=True,  # a failure prints how to replay it
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # each example rolls its changes back itself
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
fuzz_lightly = hypothesis_settings(fuzz, max_examples=max(EXAMPLES // 3, 5))
FORM = "application/x-www-form-urlencoded"
ANSWERED = {200, 302, 400, 403, 404, 405, 410, 429}  # anything but a server error
XSS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']


# What to send


EDGE = st.sampled_from(
    [
        "",
        " ",
        "\t\r\n",
        "\x00",
        "\x1b[31m",
        "\u202e",
        "\ufeff",
        "0",
        "-1",
        "1",
        "2",
        "11",
        "3.5",
        "1e3",
        "NaN",
        "inf",
        "None",
        "null",
        "True",
        "False",
        "on",
        "off",
        "[]",
        "{}",
        "٣",  # Arabic-Indic three
        "２",  # fullwidth two
        "9" * 25,
        "9" * 5000,
        "2026-03-10",
        "2026-02-30",
        "9999-12-31",
        "0000-00-00",
        "10/03/2026",
        "07:30",
        "24:00",
        "23:59:60",
        "Europe/London",
        "europe/london",
        "UTC",
        "Mars/Olympus_Mons",
        "Etc/GMT+5",
        "Europe/London\x00",
        "../../../etc/passwd",
        "%00",
        "' OR 1=1 --",
        *XSS,
        "amira@example.com",
        "new.mum@example.com",
        "a@b",
        "right",
        "hard",
        "low_back",
        "leaking",
        "calf",
        "open",
        "hold",
        "release",
        "undo",
        "any",
        "-name",
        "all",
        "unassigned",
        "withdrawn",
        "test-program",
    ]
)
CHARS = st.characters(exclude_categories=["Cs"])  # any code point UTF-8 can carry
TEXT = st.text(CHARS, max_size=40)
LONG = st.builds(
    operator.mul,
    st.sampled_from(["x", "é", "<", "\x00", "9", "\U0001d518", " "]),
    st.integers(150, 6000),
)
SCALAR = st.one_of(EDGE, TEXT, LONG)
VALUE = st.one_of(SCALAR, st.lists(SCALAR, max_size=4))  # a list where one value is expected
NAMES = st.one_of(
    st.sampled_from(["user", "status", "coach", "cleared_at", "is_staff", "id", "next", "action"]),
    st.text(CHARS, min_size=1, max_size=12),
)


@st.composite
def answers(draw, valid: dict) -> dict:
    """Mostly good answers, each of which may be missing or replaced by anything; and perhaps
    fields nobody asked for. The all-good answers are the simplest example."""
    data = {}
    for name, value in valid.items():
        mode = draw(st.integers(0, 9))
        if mode <= 5:
            data[name] = value
        elif mode <= 7:
            data[name] = draw(VALUE)
        # else: left out
    for name, value in draw(st.dictionaries(NAMES, VALUE, max_size=3)).items():
        data.setdefault(name, value)
    return data


# How to tell what happened


def table_rows() -> dict[str, list]:
    """Every row of the app's tables, and the users (without last_login, which logging in
    moves): comparing two of these shows whatever a request saved."""
    rows = {}
    for model in [*apps.get_app_config("programs").get_models(), User.groups.through]:
        rows[model._meta.label] = list(model.objects.order_by("pk").values())
    user_fields = [f.attname for f in User._meta.concrete_fields if f.name != "last_login"]
    rows["auth.User"] = list(User.objects.order_by("pk").values(*user_fields))
    return rows


def changed(before: dict, after: dict) -> set[str]:
    return {label for label in before if before[label] != after[label]}


@contextlib.contextmanager
def rolled_back():
    """Run one example and undo everything it saved, so the next starts afresh."""
    mail.outbox = []
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def post(client, url, data, **extra):
    client.cookies.pop("messages", None)  # those of earlier examples, never shown
    return client.post(url, urlencode(data, doseq=True), content_type=FORM, **extra)


def get(client, url, params):
    client.cookies.pop("messages", None)
    return client.get(f"{url}?{urlencode(params, doseq=True)}")


def assert_answered(response):
    assert response.status_code in ANSWERED, (response.status_code, response.content[:2000])


# The world every test starts from


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def now(clock):
    return clock("2026-03-10 09:00", "Europe/London")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(program, user, other_user, make_enrolment):
    """Amira, in week 2 of the test program with coach Carla and not yet cleared; Cleo, Carla's
    other client, paused; Bea, who has no program yet; and Sam, on the staff."""
    coach = User.objects.create_user(
        "carla@example.com", "carla@example.com", PASSWORD, first_name="Carla"
    )
    roles.make_coach(coach)
    CoachProfile.objects.create(user=coach)
    staff = User.objects.create_user(
        "sam@example.com", "sam@example.com", PASSWORD, first_name="Sam", is_staff=True
    )
    enrolment = make_enrolment(coach=coach, cleared_at=None)
    cleo = User.objects.create_user("cleo@example.com", "cleo@example.com", PASSWORD)
    make_enrolment(user=cleo, coach=coach).pause(timezone.now())
    return SimpleNamespace(
        program=program,
        user=user,
        newcomer=other_user,
        coach=coach,
        staff=staff,
        enrolment=enrolment,
        breathing=Prescription.objects.get(exercise__slug="breathing-1"),
        stage=Stage.objects.get(slug="glutes"),
        member=logged_in(user),
        bea=logged_in(other_user),
        carla=logged_in(coach),
        sam=logged_in(staff),
    )


def path_of(url: str) -> str:
    return urlsplit(url).path


# Every form, with what a good answer is and how to tell it was taken


@dataclass
class Form:
    name: str
    who: str  # who fills it in: "visitor", or the world's "user", "newcomer" or "coach"
    url: Callable  # (world, client) -> its address
    valid: Callable  # world -> good answers
    saves: set[str] | None  # the tables a taken answer may change (None: any)
    taken: Callable = field(default=lambda r: r.status_code == 302)  # was the answer taken?
    refused: Callable = field(default=lambda r: r.status_code == 200 and b"errorlist" in r.content)
    # Set while the form is known to show itself again, unanswered and silent, for a body
    # without fields (bound only when request.POST is non-empty): the reason, for the report.
    headers: dict = field(default_factory=dict)  # e.g. htmx's


def client_for(form: Form, world, **options) -> Client:
    """A fresh client for each example, logged in afresh: logging out or changing a password
    cycles the session, and the rollback would leave an old client logged out."""
    client = Client(**options)
    if form.who != "visitor":
        client.force_login(getattr(world, form.who))
    return client


def by_message(response) -> bool:
    """Forms that always redirect say whether they took the answer in a message."""
    return response.status_code == 302 and any(tag == "success" for tag, _ in messages_of(response))


def error_message(response) -> bool:
    return response.status_code == 302 and any(tag == "error" for tag, _ in messages_of(response))


def reset_confirm_url(w, client) -> str:
    uid = urlsafe_base64_encode(force_bytes(w.user.pk))
    token = default_token_generator.make_token(w.user)
    response = client.get(reverse("password_reset_confirm", args=[uid, token]))
    return response["Location"]  # Django swaps the token for "set-password", kept in the session


CHECKIN = {
    "pain": "2",
    "pain_sites": ["low_back"],
    "warning_signs": [],
    "urgent_signs": [],
    "sessions_felt": "right",
    "note": "Fine",
}
NEW_PASSWORD = "a-brand-new-passphrase-58"


def checkin_taken(response) -> bool:
    """Her answers are taken on a page of their own, without the form."""
    return response.status_code == 200 and b'name="sessions_felt"' not in response.content


FORMS = [
    Form(
        "signup",
        "visitor",
        lambda w, c: reverse("signup"),
        lambda w: {
            "first_name": "Dana",
            "email": "dana@example.com",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "next": "/today/",
        },
        {"auth.User"},
    ),
    Form(
        "login",
        "visitor",
        lambda w, c: reverse("login"),
        lambda w: {"username": "amira@example.com", "password": PASSWORD, "next": "/today/"},
        set(),
    ),
    Form(
        "password_reset",
        "visitor",
        lambda w, c: reverse("password_reset"),
        lambda w: {"email": "amira@example.com"},
        set(),
    ),
    Form(
        "password_reset_confirm",
        "visitor",
        reset_confirm_url,
        lambda w: {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        {"auth.User"},
    ),
    Form(
        "password_change",
        "user",
        lambda w, c: reverse("password_change"),
        lambda w: {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        {"auth.User"},
    ),
    Form(
        "enrol",
        "newcomer",
        lambda w, c: reverse("enrol", args=[w.program.slug]),
        lambda w: {
            "start_date": "2026-03-10",
            "timezone": "Europe/London",
            "reminder_time": "07:30",
            "weeks_postpartum": "9",
            "caesarean": "False",
            "cleared": "True",
        },
        {"programs.Enrolment", "programs.Notification", "programs.ClientStatus"},
    ),
    Form(
        "clearance",
        "user",
        lambda w, c: reverse("clearance", args=[w.enrolment.pk]),
        lambda w: {"confirm": "on"},
        {"programs.Enrolment", "programs.Notification", "programs.ClientStatus"},
        taken=by_message,
        refused=error_message,
    ),
    Form(
        "log_session",
        "user",
        lambda w, c: reverse("log_session", args=[w.enrolment.pk, w.breathing.pk]),
        lambda w: {"action": "done"},
        # She is marked for planning (her version) and her status row is refreshed.
        {"programs.SessionLog", "programs.Enrolment", "programs.ClientStatus"},
        taken=lambda r: r.status_code == 302 and not error_message(r),
        refused=error_message,
    ),
    Form(
        "log_session_htmx",
        "user",
        lambda w, c: reverse("log_session", args=[w.enrolment.pk, w.breathing.pk]),
        lambda w: {"action": "undo"},
        {"programs.SessionLog", "programs.Enrolment", "programs.ClientStatus"},
        taken=lambda r: r.status_code == 200 and b"errorlist" not in r.content,
        refused=error_message,
        headers={"HX-Request": "true"},
    ),
    Form(
        "checkin",
        "user",
        lambda w, c: reverse("checkin", args=[w.enrolment.pk]),
        lambda w: CHECKIN,
        {"programs.CheckIn", "programs.Hold", "programs.Notification", "programs.ClientStatus"},
        taken=checkin_taken,
    ),
    Form(
        "checkin_link",
        "visitor",
        lambda w, c: path_of(links.checkin_url(w.enrolment.pk, 2)),
        lambda w: CHECKIN,
        {"programs.CheckIn", "programs.Hold", "programs.Notification", "programs.ClientStatus"},
        taken=checkin_taken,
    ),
    Form(
        "preferences",
        "user",
        lambda w, c: reverse("preferences", args=[w.enrolment.pk]),
        lambda w: {
            "reminder_time": "06:15",
            "timezone": "Europe/Paris",
            "email_session": "on",
            "email_checkin": "on",
        },
        {"programs.Enrolment", "programs.Notification", "programs.ClientStatus"},
    ),
    Form(
        "unsubscribe",
        "visitor",
        lambda w, c: path_of(links.unsubscribe_url(w.enrolment.pk, "session")),
        lambda w: {"List-Unsubscribe": "One-Click"},
        {"programs.Enrolment", "programs.Notification", "programs.ClientStatus"},
        taken=lambda r: r.status_code == 200 and b"unsubscribed" in r.content,
        refused=lambda r: False,
    ),
    Form(
        "client_note",
        "coach",
        lambda w, c: reverse("client_note", args=[w.enrolment.pk]),
        lambda w: {"text": "Check her breathing."},
        {"programs.CoachAction"},
        taken=by_message,
        refused=error_message,
    ),
    Form(
        "client_message",
        "coach",
        lambda w, c: reverse("client_message", args=[w.enrolment.pk]),
        lambda w: {"text": "How are you getting on?"},
        {"programs.Message", "programs.Notification"},
        taken=by_message,
        refused=error_message,
    ),
    Form(
        "her_message",
        "user",
        lambda w, c: reverse("her_message", args=[w.enrolment.pk]),
        lambda w: {"text": "Is it normal to feel tired?"},
        {"programs.Message", "programs.Notification"},
        taken=by_message,
        refused=error_message,
    ),
    Form(
        "bulk_message",
        "coach",
        lambda w, c: reverse("bulk_message"),
        lambda w: {"clients": [str(w.enrolment.pk)], "text": "Well done this week."},
        {"programs.Message", "programs.Notification"},
        taken=by_message,
        refused=error_message,
    ),
    Form(
        "client_stage",
        "coach",
        lambda w, c: reverse("client_stage", args=[w.enrolment.pk]),
        lambda w: {"stage": str(w.stage.pk), "action": "open"},
        {
            "programs.StageOverride",
            "programs.CoachAction",
            "programs.Notification",
            "programs.Enrolment",
            "programs.ClientStatus",
        },
        taken=by_message,
        refused=error_message,
    ),
    Form(
        "bulk_pause",
        "coach",
        lambda w, c: reverse("bulk_pause"),
        lambda w: {"clients": [str(w.enrolment.pk)]},
        {"programs.Enrolment", "programs.Pause", "programs.CoachAction", "programs.ClientStatus"},
        taken=by_message,
        refused=error_message,
    ),
    Form(
        "coach_settings",
        "coach",
        lambda w, c: reverse("coach_settings"),
        lambda w: {"timezone": "Europe/Paris", "digest_time": "06:45", "email_digest": "on"},
        {"programs.CoachProfile", "programs.Notification"},
    ),
    Form(
        "invitations",
        "coach",
        lambda w, c: reverse("invitations"),
        lambda w: {"email": "new.mum@example.com", "program": str(w.program.pk)},
        {"programs.Invitation"},
    ),
]
FORMS.append(
    Form(
        "account_delete",
        "user",
        lambda w, c: reverse("account_delete"),
        lambda w: {"password": PASSWORD},
        None,  # everything of hers goes
    )
)
FORM_IDS = [form.name for form in FORMS]
FORM_BY_NAME = {form.name: form for form in FORMS}


def judge(form: Form, response, before: dict):
    """Never a server error; taken, or refused with a message and nothing saved."""
    assert_answered(response)
    assert_escaped(response)
    difference = changed(before, table_rows())
    if form.who != "visitor":  # still logged in: the answer reached the form
        assert not response.get("Location", "").startswith(reverse("login"))
    if form.taken(response):
        assert form.saves is None or difference <= form.saves, difference
    else:  # a 400 is Django refusing a body it cannot read
        assert form.refused(response) or response.status_code == 400, (
            response.status_code,
            messages_of(response),
        )
        assert difference == set(), difference
        assert not mail.outbox


@pytest.mark.parametrize("form", FORMS, ids=FORM_IDS)
@fuzz
@given(draw=st.data())
def test_every_form_answers_anything_without_a_server_error(world, form, draw):
    data = draw.draw(answers(form.valid(world)), label="data")
    with rolled_back():
        client = client_for(form, world)
        url = form.url(world, client)
        before = table_rows()
        judge(form, post(client, url, data, headers=form.headers), before)


@pytest.mark.parametrize("form", FORMS, ids=FORM_IDS)
def test_the_good_answers_are_taken(world, form):
    """So that the fuzzing above explores both sides."""
    client = client_for(form, world)
    response = post(client, form.url(world, client), form.valid(world), headers=form.headers)
    assert form.taken(response), (response.status_code, messages_of(response))


NOTHING_TO_ANSWER = {"unsubscribe", "log_session", "log_session_htmx"}  # the click is enough


@pytest.mark.parametrize(
    "form",
    FORMS,
    ids=FORM_IDS,
)
def test_an_empty_post_gets_a_message_and_saves_nothing(world, form):
    client = client_for(form, world)
    url = form.url(world, client)
    before = table_rows()
    response = client.post(url, headers=form.headers)
    if form.name in NOTHING_TO_ANSWER:
        assert form.taken(response)
        return
    assert not form.taken(response), form.name
    assert form.refused(response), (response.status_code, messages_of(response))
    judge(form, response, before)


# Buttons that post nothing she typed: whatever else comes with them is ignored


STATUS_CHANGES = {
    "pause": "member",
    "resume": "member",
    "withdraw": "member",
    "client_pause": "carla",
    "client_resume": "carla",
    "clear_hold": "carla",
}


@fuzz
@given(draw=st.data())
def test_status_changes_ignore_whatever_else_is_posted(world, now, draw):
    name = draw.draw(st.sampled_from(sorted(STATUS_CHANGES)), label="button")
    state = draw.draw(st.sampled_from(["active", "paused", "withdrawn", "held"]), label="state")
    data = draw.draw(st.dictionaries(NAMES, VALUE, max_size=4), label="data")
    with rolled_back():
        enrolment = Enrolment.objects.get(pk=world.enrolment.pk)
        if state == "paused":
            enrolment.pause(now)
        elif state == "withdrawn":
            enrolment.withdraw(now)
        elif state == "held":
            Hold.objects.create(enrolment=enrolment, tier=1, started_at=now)
        before = table_rows()
        client = getattr(world, STATUS_CHANGES[name])
        response = post(client, reverse(name, args=[enrolment.pk]), data)
        assert response.status_code == 302
        said = {tag for tag, _ in messages_of(response)}
        difference = changed(before, table_rows())
        if "error" in said:
            assert difference == set(), difference
        else:
            assert said == {"success"}
            assert difference <= {
                "programs.Enrolment",
                "programs.ClientStatus",
                "programs.Pause",
                "programs.Hold",
                "programs.CoachAction",
                "programs.Notification",
            }


POST_ONLY = [
    ("log_session", "member"),
    ("clearance", "member"),
    ("pause", "member"),
    ("resume", "member"),
    ("client_pause", "carla"),
    ("client_resume", "carla"),
    ("clear_hold", "carla"),
    ("client_stage", "carla"),
    ("client_note", "carla"),
    ("client_message", "carla"),
]


@pytest.mark.parametrize(("name", "who"), POST_ONLY)
def test_buttons_that_change_things_refuse_a_get(world, name, who):
    args = (
        [world.enrolment.pk, world.breathing.pk] if name == "log_session" else [world.enrolment.pk]
    )
    before = table_rows()
    response = getattr(world, who).get(reverse(name, args=args), {"action": "undo", "text": "hi"})
    assert response.status_code == 405
    assert changed(before, table_rows()) == set()


# Query strings: every page reads only what it understands


FILTERS = st.sampled_from(
    ["q", "status", "flag", "program", "week", "sort", "coach", "page", "month"]
)
PAGES = [
    ("home", "member", lambda w: []),
    ("program_detail", "member", lambda w: [w.program.slug]),
    ("today", "member", lambda w: [w.enrolment.pk]),
    ("progress", "member", lambda w: [w.enrolment.pk]),
    ("checkin", "member", lambda w: [w.enrolment.pk]),
    ("preferences", "member", lambda w: [w.enrolment.pk]),
    ("withdraw", "member", lambda w: [w.enrolment.pk]),
    ("enrol", "bea", lambda w: [w.program.slug]),
    ("today_redirect", "member", lambda w: []),
    ("dashboard", "carla", lambda w: []),
    ("dashboard", "sam", lambda w: []),
    ("export_csv", "carla", lambda w: []),
    ("export_csv", "sam", lambda w: []),
    ("client", "carla", lambda w: [w.enrolment.pk]),
    ("client", "sam", lambda w: [w.enrolment.pk]),
    ("coach_settings", "carla", lambda w: []),
    ("invitations", "carla", lambda w: []),
    ("login", None, lambda w: []),
    ("signup", None, lambda w: []),
    ("signup", "member", lambda w: []),
    ("password_reset", None, lambda w: []),
    ("password_change", "member", lambda w: []),
]


@fuzz
@given(draw=st.data())
def test_any_query_string_on_any_page(world, draw):
    name, who, args = draw.draw(st.sampled_from(PAGES), label="page")
    params = draw.draw(st.dictionaries(st.one_of(FILTERS, NAMES), VALUE, max_size=5), label="query")
    with rolled_back():
        client = getattr(world, who) if who else Client()
        before = table_rows()
        response = get(client, reverse(name, args=args(world)), params)
        assert response.status_code in (200, 302), (response.status_code, params)
        if response.status_code == 302:  # only ever to a page of ours
            assert urlsplit(response["Location"]).netloc in ("", "testserver")
        assert_escaped(response)
        if name == "export_csv":
            assert response["Content-Type"] == "text/csv; charset=utf-8"
            assert b"".join(response.streaming_content).startswith(b"Name,Email,Program")
        assert changed(before, table_rows()) == set()


@pytest.mark.parametrize("who", ["carla", "sam"])
def test_a_bad_filter_is_ignored_with_a_message(world, who):
    params = {"week": "lots", "sort": XSS[0], "status": "everything", "q": "x" * 101}
    response = get(getattr(world, who), reverse("dashboard"), params)
    content = response.content.decode()
    assert response.status_code == 200
    for label in ("week", "sort by", "status", "search"):
        assert f"Ignored {label} " in content
    assert_escaped(response)


def assert_escaped(response):
    """No script or markup that came in goes out raw in a page."""
    if response.get("Content-Type", "").startswith("text/html"):
        content = response.content.decode()
        for payload in XSS:
            assert payload not in content


# URL parameters


INT_ROUTES = [
    ("today", "member", "get"),
    ("progress", "member", "get"),
    ("checkin", "member", "get"),
    ("checkin", "member", "post"),
    ("preferences", "member", "get"),
    ("preferences", "member", "post"),
    ("withdraw", "member", "get"),
    ("withdraw", "member", "post"),
    ("clearance", "member", "post"),
    ("pause", "member", "post"),
    ("resume", "member", "post"),
    ("client", "carla", "get"),
    ("client", "sam", "get"),
    ("clear_hold", "carla", "post"),
    ("client_pause", "carla", "post"),
    ("client_resume", "carla", "post"),
    ("client_stage", "carla", "post"),
    ("client_note", "carla", "post"),
    ("client_message", "carla", "post"),
]
PKS = st.one_of(st.integers(0, 2**31), st.integers(2**31, 10**40))


@fuzz
@given(draw=st.data())
def test_someone_elses_or_no_ones_number_is_404(world, draw):
    name, who, method = draw.draw(st.sampled_from(INT_ROUTES), label="route")
    pk = draw.draw(PKS, label="pk")
    assume(pk != world.enrolment.pk)
    with rolled_back():
        before = table_rows()
        client = getattr(world, who)
        response = getattr(client, method)(reverse(name, args=[pk]), {"text": "hi", "pain": "2"})
        assert response.status_code == 404
        assert changed(before, table_rows()) == set()


@fuzz
@given(enrolment_pk=PKS, prescription_pk=PKS)
def test_logging_an_unknown_exercise_is_404(world, enrolment_pk, prescription_pk):
    ours = set(Prescription.objects.values_list("pk", flat=True))
    assume(prescription_pk not in ours)
    with rolled_back():
        before = table_rows()
        for pk in (enrolment_pk, world.enrolment.pk):
            response = world.member.post(reverse("log_session", args=[pk, prescription_pk]))
            assert response.status_code == 404
        assert changed(before, table_rows()) == set()


PATH_TEXT = st.one_of(
    TEXT.filter(bool),
    st.sampled_from(["-1", "+1", "0x10", "1.0", "١", "..", "../..", "%2e%2e", "%00", "1 ", "1e3"]),
    st.binary(min_size=1, max_size=30).map(lambda b: b.decode("latin-1")),
)
PATH_ROUTES = [
    ("/enrolments/{}/", "member"),
    ("/enrolments/{}/checkin/", "member"),
    ("/enrolments/1/log/{}/", "member"),
    ("/coach/clients/{}/", "carla"),
    ("/coach/clients/{}/notes/", "carla"),
    ("/programs/{}/", "member"),
    ("/programs/{}/enrol/", "member"),
]


@fuzz
@given(draw=st.data())
def test_anything_in_a_number_or_slug_is_404(world, draw):
    template, who = draw.draw(st.sampled_from(PATH_ROUTES), label="route")
    value = draw.draw(PATH_TEXT, label="value")
    assume(value not in (world.program.slug, str(world.enrolment.pk)))
    path = template.format(quote(value, safe=""))
    for method in ("get", "post"):
        response = getattr(getattr(world, who), method)(path)
        assert response.status_code in (404, 405), (path, response.status_code)


TOKEN_ROUTES = {
    "checkin_link": b"This link is not valid.",
    "unsubscribe": b"This unsubscribe link is not valid.",
    "accept_invitation": b"This invitation link is not valid.",
    "snooze": b"This link is not valid.",
}


@fuzz
@given(draw=st.data())
def test_any_token_that_we_did_not_sign_is_400_with_a_message(world, draw):
    name = draw.draw(st.sampled_from(sorted(TOKEN_ROUTES)), label="route")
    token = draw.draw(PATH_TEXT, label="token")
    method = draw.draw(st.sampled_from(["get", "post"]), label="method")
    prefix = path_of(reverse(name, args=["x"]))[: -len("x/")]
    path = prefix + quote(token, safe="") + "/"
    with rolled_back():
        before = table_rows()
        client = draw.draw(st.sampled_from([world.member, Client()]), label="client")
        response = getattr(client, method)(path, {"pain": "2", "sessions_felt": "right"})
        if "/" in token:  # no longer one path segment: another address altogether
            assert response.status_code in (400, 404)
        else:
            assert response.status_code == 400
            assert TOKEN_ROUTES[name] in response.content
        assert_escaped(response)
        assert changed(before, table_rows()) == set()


@fuzz
@given(uid=PATH_TEXT, token=PATH_TEXT)
def test_any_password_reset_link_we_did_not_make_says_so(world, uid, token):
    path = f"/accounts/reset/{quote(uid, safe='')}/{quote(token, safe='')}/"
    before = table_rows()
    response = Client().get(path)
    assert response.status_code in (200, 404)
    if response.status_code == 200:
        assert b"This link has expired or was already used" in response.content
    assert changed(before, table_rows()) == set()


# Bodies too big, too crowded or not UTF-8


def csrf_client(form: Form, world) -> Client:
    """A client that, like a browser, must send the CSRF token: the middleware reads the body
    before any view, as in production."""
    client = client_for(form, world, enforce_csrf_checks=True)
    client.get(reverse("login"))  # sets the CSRF cookie
    return client


LIMITED = [form for form in FORMS if form.name != "unsubscribe"]


@pytest.mark.parametrize("form", LIMITED, ids=[form.name for form in LIMITED])
def test_a_body_over_the_size_limit_is_400_and_saves_nothing(world, form, settings):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    client = csrf_client(form, world)
    url = form.url(world, client)
    data = {**form.valid(world), "csrfmiddlewaretoken": client.cookies["csrftoken"].value}
    with rolled_back():
        before = table_rows()
        response = post(client, url, {**data, "padding": "x" * limit}, headers=form.headers)
        assert response.status_code == 400
        assert changed(before, table_rows()) == set()
        assert not mail.outbox
    response = post(client, url, data, headers=form.headers)  # the same, without the padding
    assert form.taken(response)


@pytest.mark.parametrize("form", LIMITED, ids=[form.name for form in LIMITED])
def test_too_many_fields_is_400_and_saves_nothing(world, form, settings):
    client = csrf_client(form, world)
    url = form.url(world, client)
    data = {**form.valid(world), "csrfmiddlewaretoken": client.cookies["csrftoken"].value}
    crowd = {f"f{n}": "1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS)}
    before = table_rows()
    response = post(client, url, {**data, **crowd})
    assert response.status_code == 400
    assert changed(before, table_rows()) == set()


def test_one_click_unsubscribe_ignores_an_oversized_body(world, settings):
    """It reads no body (a mail client posts "List-Unsubscribe=One-Click"; the signed link is
    the credential), so the size limit never comes into it."""
    url = path_of(links.unsubscribe_url(world.enrolment.pk, "session"))
    response = Client().post(
        url, "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1), content_type=FORM
    )
    assert response.status_code == 200


CONTENT_TYPES = [
    "application/x-www-form-urlencoded; charset=utf-8",
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=latin-1",
    "application/x-www-form-urlencoded; charset=no-such-charset",
    "multipart/form-data; boundary=BoUnDaRy",
    "multipart/form-data",
    "text/plain; charset=utf-8",
    "application/json",
]
BAD_BYTES = st.one_of(
    st.sampled_from([b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"]),
    st.binary(min_size=1, max_size=20).map(lambda b: b + b"\xff"),
)


@st.composite
def mangled(draw, valid: dict) -> bytes:
    """Good answers with bytes that are not UTF-8 put in, raw or percent-encoded."""
    pairs = [(name, value) for name, values in valid.items() for value in _listed(values)]
    body = urlencode(pairs).encode()
    bad = draw(BAD_BYTES)
    if draw(st.booleans()):
        bad = quote(bad, safe="").encode()
    name = draw(st.sampled_from([*valid, "extra"])).encode()
    where = draw(st.sampled_from(["value", "name", "append", "only"]))
    if where == "value":
        return body.replace(name + b"=", name + b"=" + bad, 1)
    if where == "name":
        return body.replace(name + b"=", name + bad + b"=", 1)
    if where == "append":
        return body + b"&" + bad + b"=" + bad
    return bad


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("form", FORMS, ids=FORM_IDS)
@fuzz_lightly
@given(draw=st.data())
def test_bodies_that_are_not_utf8_get_no_server_error(world, form, draw):
    body = draw.draw(mangled(form.valid(world)), label="body")
    content_type = draw.draw(st.sampled_from(CONTENT_TYPES), label="content type")
    with rolled_back():
        client = client_for(form, world)
        url = form.url(world, client)
        before = table_rows()
        client.cookies.pop("messages", None)
        # generic(), not post(): post() re-encodes the body to the charset it names
        response = client.generic(
            "POST", url, body, content_type=content_type, headers=form.headers
        )
        judge(form, response, before)


# Signed links: tampered, expired, replayed


def tampered(token: str) -> list[str]:
    """The ways a link gets mangled or forged: every one must be refused."""
    value, _, signature = token.rpartition(":")
    flip = "A" if signature[-1] != "A" else "B"
    payload_flip = ("A" if value[1] != "A" else "B").join([value[:1], value[2:]])
    return [
        token[:-1] + flip,  # signature edited
        f"{payload_flip}:{signature}",  # payload edited
        token[: len(token) // 2],  # cut short, as by a mail client wrapping the line
        token + "x",
        token.upper(),
        value,  # no signature at all
        f"{value}:",
        f":{signature}",
        signature,
    ]


def foreign(salt: str, data: dict) -> list[str]:
    """Signed, but not by us, or not for this link."""
    other_salts = {links.CHECKIN_SALT, links.UNSUBSCRIBE_SALT, links.INVITATION_SALT} - {salt}
    return [
        signing.dumps(data, salt=salt, key="another-sites-secret-key", compress=True),
        *(signing.dumps(data, salt=other, compress=True) for other in sorted(other_salts)),
    ]


@pytest.fixture
def invitation(world, now):
    return Invitation.objects.create(
        coach=world.coach, program=world.program, email="new.mum@example.com", created_at=now
    )


def link_cases(world, invitation):
    pk = world.enrolment.pk
    return [
        ("checkin_link", links.CHECKIN_SALT, {"e": pk, "w": 2}, b"This link is not valid."),
        (
            "unsubscribe",
            links.UNSUBSCRIBE_SALT,
            {"e": pk, "k": "session"},
            b"This unsubscribe link is not valid.",
        ),
        (
            "accept_invitation",
            links.INVITATION_SALT,
            {"i": invitation.pk},
            b"This invitation link is not valid.",
        ),
    ]


@pytest.mark.parametrize("route", ["checkin_link", "unsubscribe", "accept_invitation"])
def test_a_tampered_or_foreign_link_is_400_with_a_message(world, invitation, route):
    name, salt, data, message = next(c for c in link_cases(world, invitation) if c[0] == route)
    good = signing.dumps(data, salt=salt, compress=True)
    assert Client().get(reverse(name, args=[good])).status_code in (200, 302)
    before = table_rows()
    for token in [*tampered(good), *foreign(salt, data)]:
        for method in ("get", "post"):
            client = Client()
            response = getattr(client, method)(reverse(name, args=[token]), CHECKIN)
            assert response.status_code == 400, (token, method)
            assert message in response.content
            assert "invitation" not in client.session
    assert changed(before, table_rows()) == set()


@pytest.mark.parametrize(
    ("salt", "data", "name"),
    [
        (links.CHECKIN_SALT, {"e": "one", "w": 2}, "checkin_link"),
        (links.CHECKIN_SALT, {"w": 2}, "checkin_link"),
        (links.CHECKIN_SALT, [1, 2], "checkin_link"),
        (links.CHECKIN_SALT, "hello", "checkin_link"),
        (links.UNSUBSCRIBE_SALT, {"e": 1, "k": "everything"}, "unsubscribe"),
        (links.UNSUBSCRIBE_SALT, {"e": None, "k": "session"}, "unsubscribe"),
        (links.INVITATION_SALT, {"i": [1]}, "accept_invitation"),
        (links.INVITATION_SALT, {"i": 10**40}, "accept_invitation"),
        (links.SNOOZE_SALT, {"n": 10**40, "s": "hour"}, "snooze"),
        (links.SNOOZE_SALT, {"n": 1, "s": "next year"}, "snooze"),
        (links.SNOOZE_SALT, {"n": "one", "s": "hour"}, "snooze"),
    ],
)
def test_a_signed_link_with_nonsense_inside_is_400(world, salt, data, name):
    token = signing.dumps(data, salt=salt, compress=True)
    before = table_rows()
    for method in ("get", "post"):
        assert getattr(Client(), method)(reverse(name, args=[token])).status_code == 400
    assert changed(before, table_rows()) == set()


def test_a_signed_link_to_a_program_that_is_gone_is_not_a_server_error(world):
    huge = 10**40
    checkin = signing.dumps({"e": huge, "w": 2}, salt=links.CHECKIN_SALT, compress=True)
    assert Client().post(reverse("checkin_link", args=[checkin]), CHECKIN).status_code == 404
    unsubscribe = path_of(links.unsubscribe_url(huge, "session"))
    response = Client().post(unsubscribe)
    assert response.status_code == 200
    assert b"nothing to unsubscribe" in response.content


def test_an_expired_checkin_link_says_so_and_saves_nothing(world, clock):
    url = path_of(links.checkin_url(world.enrolment.pk, 2))
    clock("2026-03-18 09:00:01", "Europe/London")  # eight days and a second later
    before = table_rows()
    for method in ("get", "post"):
        response = getattr(Client(), method)(url, CHECKIN)
        assert response.status_code == 400
        assert b"This check-in link has expired." in response.content
    assert changed(before, table_rows()) == set()


def test_an_expired_invitation_says_so_and_saves_nothing(world, invitation, clock):
    url = path_of(links.invitation_url(invitation.pk))
    clock("2026-03-24 09:00:01", "Europe/London")  # fourteen days and a second later
    client = Client()
    before = table_rows()
    response = client.get(url)
    assert response.status_code == 400
    assert b"This invitation has expired. Ask your coach for a new one." in response.content
    assert "invitation" not in client.session
    assert changed(before, table_rows()) == set()


def test_a_checkin_link_after_she_left_is_410(world, now):
    world.enrolment.withdraw(now)
    before = table_rows()
    response = Client().post(path_of(links.checkin_url(world.enrolment.pk, 2)), CHECKIN)
    assert response.status_code == 410
    assert b"This program has ended." in response.content
    assert changed(before, table_rows()) == set()


@pytest.mark.parametrize("kind", ["session", "nudge", "stage", "checkin"])
def test_a_replayed_one_click_unsubscribe_changes_nothing_more(world, kind):
    url = path_of(links.unsubscribe_url(world.enrolment.pk, kind))
    states = []
    for _ in range(3):
        response = Client().post(url, "List-Unsubscribe=One-Click", content_type=FORM)
        assert response.status_code == 200
        assert b"You're unsubscribed" in response.content
        states.append(table_rows())
    assert states[1] == states[2]
    world.enrolment.refresh_from_db()
    assert getattr(world.enrolment, f"email_{kind}") is False
    others = {"session", "nudge", "stage", "checkin"} - {kind}
    assert all(getattr(world.enrolment, f"email_{other}") for other in others)
    assert b"already unsubscribed" in Client().get(url).content


# Time zones nobody has


UNKNOWN_ZONES = [
    "Mars/Olympus_Mons",
    "Europe/Lndon",
    "europe/london",
    "Europe/London ",
    "Europe/London\x00",
    "EST5EDT",
    "UTC+1",
    "+05:00",
    "localtime",
    "posixrules",
    "Factory",
    "../../../../etc/passwd",
    "/usr/share/zoneinfo/Europe/London",
    "Europe/" + "x" * 200,
    XSS[0],
]


@pytest.mark.parametrize("zone", UNKNOWN_ZONES)
@pytest.mark.parametrize("form", ["enrol", "preferences", "coach_settings"])
def test_an_unknown_time_zone_gets_a_message_and_saves_nothing(world, form, zone):
    form = FORM_BY_NAME[form]
    client = client_for(form, world)
    before = table_rows()
    response = post(client, form.url(world, client), {**form.valid(world), "timezone": zone})
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    assert_escaped(response)
    assert changed(before, table_rows()) == set()


# Names that would break an email header


def test_a_coach_whose_name_has_a_line_break_can_still_invite(world):
    world.coach.first_name = "Carla\nBcc: everyone@example.com"
    world.coach.save()
    before = Invitation.objects.count()
    response = post(world.carla, reverse("invitations"), FORM_BY_NAME["invitations"].valid(world))
    assert response.status_code == 302
    assert Invitation.objects.count() == before + 1
    [message] = mail.outbox
    assert message.subject == "Carla Bcc: everyone@example.com invites you to Test program"
    assert message.bcc == []
