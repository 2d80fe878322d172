"""The status page and its JSON: who may see them, each figure, and what counts as a problem."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from programs import planning, status
from programs.models import CheckIn, ClientStatus, Enrolment, Heartbeat, Notification

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
TOKEN = "a-long-random-status-token"
STOPPED = "Beat or every worker has stopped"


@pytest.fixture
def now(clock):
    return clock("2026-03-10 09:00")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        "sam@example.com", "sam@example.com", "a-long-enough-passphrase-42", is_staff=True
    )


@pytest.fixture
def healthy(now):
    """Planning and dispatch ran a moment ago."""
    beat("sweep", now - timedelta(seconds=20), examined=0, batches=0, coaches=0)
    beat("dispatch", now - timedelta(seconds=5), due=0, senders=0)


def beat(job, finished_at, seconds=0.5, **detail):
    Heartbeat.record(job, finished_at - timedelta(seconds=seconds), finished_at, **detail)


def email(enrolment, key, due_at, **fields):
    return Notification.objects.create(
        enrolment=enrolment,
        recipient=enrolment.user,
        kind="session",
        key=key,
        scheduled_for=due_at,
        due_at=due_at,
        **fields,
    )


def fail_planning(enrolment, failed_at, error="ZoneInfoNotFoundError: 'Mars/Olympus'"):
    Enrolment.objects.filter(pk=enrolment.pk).update(
        plan_error=error,
        plan_failed_at=failed_at,
        planned_until=failed_at + planning.RETRY_BROKEN,
    )


def failing_enrolments(make_enrolment, django_user_model, n, at):
    for i in range(n):
        user = django_user_model.objects.create_user(f"f{i}@example.com", f"f{i}@example.com")
        fail_planning(make_enrolment(user=user), at - timedelta(minutes=i))


def get_json(client, **headers):
    return client.get(reverse("status_json"), headers=headers)


# Who may see them


def test_staff_see_the_page(client, staff, healthy):
    client.force_login(staff)
    response = client.get(reverse("status"))
    assert response.status_code == 200
    assert "All is well" in response.content.decode()


def test_a_coach_is_refused_the_page(client, coach, healthy):
    client.force_login(coach)
    assert client.get(reverse("status")).status_code == 403


def test_a_woman_enrolled_is_refused_the_page(client, user, healthy):
    client.force_login(user)
    assert client.get(reverse("status")).status_code == 403


def test_logged_out_the_page_sends_to_log_in(client, healthy):
    response = client.get(reverse("status"))
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={reverse('status')}"


def test_staff_read_the_json_with_their_session(client, staff, healthy):
    client.force_login(staff)
    response = get_json(client)
    assert response.status_code == 200
    assert response.json()["ok"] is True


def test_monitoring_reads_the_json_with_the_token(client, settings, healthy):
    settings.STATUS_TOKEN = TOKEN
    response = get_json(client, authorization=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response.json()["ok"] is True


@pytest.mark.parametrize(
    "header", [None, f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", TOKEN]
)
def test_without_the_right_token_the_json_is_refused(client, settings, healthy, header):
    settings.STATUS_TOKEN = TOKEN
    response = get_json(client, **({"authorization": header} if header else {}))
    assert response.status_code == 403
    assert response.json() == {"error": "Staff or the status token only."}


def test_with_no_token_configured_an_empty_bearer_is_refused(client, settings, healthy):
    settings.STATUS_TOKEN = ""
    assert get_json(client, authorization="Bearer ").status_code == 403
    assert get_json(client, authorization="Bearer").status_code == 403


def test_a_coach_session_is_refused_the_json(client, coach, healthy):
    client.force_login(coach)
    assert get_json(client).status_code == 403


def test_a_token_with_other_characters_is_refused_not_an_error(client, settings, healthy):
    settings.STATUS_TOKEN = TOKEN
    assert get_json(client, authorization="Bearer tökén").status_code == 403


# The figures


def test_heartbeats_are_reported_with_their_times_and_counts(client, staff, now):
    beat("sweep", now - timedelta(seconds=30), seconds=2.5, examined=12, batches=1, coaches=3)
    beat("plan", now - timedelta(seconds=28), seconds=1.25, enrolments=12)
    beat("dispatch", now - timedelta(seconds=4), seconds=0.01, due=7, senders=1)
    beat("send", now - timedelta(seconds=3), seconds=0.75, sent=7, failed=0)
    client.force_login(staff)

    data = get_json(client).json()

    assert data["now"] == "2026-03-10T09:00:00Z"
    assert data["sweep"] == {
        "finished_at": "2026-03-10T08:59:30Z",
        "age_seconds": 30.0,
        "seconds": 2.5,
        "examined": 12,
        "batches": 1,
        "coaches": 3,
    }
    assert data["plan"] == {
        "finished_at": "2026-03-10T08:59:32Z",
        "age_seconds": 28.0,
        "seconds": 1.25,
        "enrolments": 12,
    }
    assert data["dispatch"]["finished_at"] == "2026-03-10T08:59:56Z"
    assert (data["dispatch"]["due"], data["dispatch"]["senders"]) == (7, 1)
    assert data["send"]["finished_at"] == "2026-03-10T08:59:57Z"
    assert (data["send"]["sent"], data["send"]["seconds"]) == (7, 0.75)


def test_the_page_shows_the_heartbeats(client, staff, now):
    beat("sweep", now - timedelta(seconds=30), seconds=2.5, examined=12, batches=1, coaches=3)
    beat("dispatch", now - timedelta(seconds=4))
    client.force_login(staff)
    page = client.get(reverse("status")).content.decode()
    assert "2026-03-10 08:59:30 UTC</time>, 30 seconds ago, took 2.5 s" in page
    assert "found 12 enrolments due, asked for 1 planning task<" in page
    assert "2026-03-10 08:59:56 UTC</time>, 4 seconds ago" in page


def test_a_job_that_never_ran_is_null(client, staff, now):
    client.force_login(staff)
    data = get_json(client).json()
    assert (data["sweep"], data["plan"], data["dispatch"], data["send"]) == (None,) * 4


def test_due_counts_pending_rows_due_and_claims_whose_lease_ran_out(make_enrolment, now):
    enrolment = make_enrolment()
    email(enrolment, "due", now - timedelta(minutes=10))
    email(enrolment, "just-due", now)
    email(enrolment, "not-yet", now + timedelta(minutes=1))
    email(
        enrolment,
        "sender-died",
        now - timedelta(minutes=20),
        status="sending",
        claimed_until=now - timedelta(seconds=1),
    )
    email(
        enrolment,
        "being-sent",
        now - timedelta(hours=1),
        status="sending",
        claimed_until=now + timedelta(minutes=5),
    )
    email(enrolment, "sent", now - timedelta(hours=2), status="sent", sent_at=now)
    email(enrolment, "failed", now - timedelta(hours=3), status="failed")

    report = status.report(now)

    assert report.due == 3
    assert report.oldest_due_at == now - timedelta(minutes=20)
    assert report.late == 1200.0


def test_the_json_gives_the_outbox_in_utc_and_seconds(client, staff, make_enrolment, now):
    email(make_enrolment(), "due", now - timedelta(minutes=2, seconds=30))
    client.force_login(staff)
    assert get_json(client).json()["outbox"] == {
        "due": 1,
        "oldest_due_at": "2026-03-10T08:57:30Z",
        "late_seconds": 150.0,
        "failed_last_24h": 0,
    }


def test_nothing_due_has_no_lateness(now):
    report = status.report(now)
    assert (report.due, report.oldest_due_at, report.late) == (0, None, None)


def test_failed_rows_count_for_24_hours(make_enrolment, now):
    enrolment = make_enrolment()
    email(enrolment, "recent", now - timedelta(hours=23, minutes=59), status="failed")
    email(enrolment, "edge", now - timedelta(hours=24), status="failed")
    email(enrolment, "old", now - timedelta(hours=24, seconds=1), status="failed")
    email(enrolment, "cancelled", now - timedelta(hours=1), status="cancelled")
    email(enrolment, "retrying", now + timedelta(minutes=4), status="pending", last_error="421")
    assert status.report(now).failed_recently == 2


def test_enrolments_whose_planning_fails_are_counted_and_listed(
    make_enrolment, django_user_model, now
):
    older = make_enrolment()
    fail_planning(older, now - timedelta(minutes=30), error="ValueError: year 10000")
    newer_user = django_user_model.objects.create_user("n@example.com", "n@example.com")
    newer = make_enrolment(user=newer_user)
    fail_planning(newer, now - timedelta(minutes=1))
    report = status.report(now)
    assert report.failing == 2
    assert report.failures == (
        status.PlanFailure(
            newer.pk, now - timedelta(minutes=1), "ZoneInfoNotFoundError: 'Mars/Olympus'"
        ),
        status.PlanFailure(older.pk, now - timedelta(minutes=30), "ValueError: year 10000"),
    )


def test_a_failing_enrolment_counts_while_a_sweep_holds_it_or_after_an_edit(
    make_enrolment, django_user_model, now
):
    claimed = make_enrolment()
    fail_planning(claimed, now - timedelta(minutes=1))
    Enrolment.objects.filter(pk=claimed.pk).update(
        planned_until=now + planning.lead() + planning.claim_lease()
    )
    edited = make_enrolment(user=django_user_model.objects.create_user("e@x.org", "e@x.org"))
    fail_planning(edited, now - timedelta(minutes=1))
    Enrolment.objects.filter(pk=edited.pk).update(planned_until=None)
    assert status.report(now).failing == 2


def test_planned_and_ended_enrolments_are_not_failing(make_enrolment, django_user_model, now):
    planned = make_enrolment()
    Enrolment.objects.filter(pk=planned.pk).update(planned_until=now + planning.HORIZON)
    ended = make_enrolment(
        user=django_user_model.objects.create_user("w@x.org", "w@x.org"), status="withdrawn"
    )
    fail_planning(ended, now - timedelta(minutes=1))
    assert status.report(now).failing == 0


def test_the_page_lists_at_most_20_failing_enrolments(
    client, staff, make_enrolment, django_user_model, now
):
    failing_enrolments(make_enrolment, django_user_model, 25, now)
    client.force_login(staff)
    page = client.get(reverse("status")).content.decode()
    assert "The 20 most recent of 25." in page
    assert page.count("ZoneInfoNotFoundError") == 20


def test_neither_shows_her_email_or_her_health(client, staff, settings, make_enrolment, now):
    enrolment = make_enrolment()
    fail_planning(enrolment, now - timedelta(minutes=1))
    email(enrolment, "due", now - timedelta(minutes=1))
    CheckIn.objects.create(
        enrolment=enrolment,
        week=1,
        submitted_at=now,
        pain=7,
        pain_sites=["pelvis"],
        sessions_felt="too_hard",
        note="leaking when I run",
    )
    client.force_login(staff)
    page = client.get(reverse("status")).content.decode()
    data = get_json(client).content.decode()
    assert f"Enrolment {enrolment.pk}</a>" in page
    for private in ["amira@example.com", "Amira", "pelvis", "leaking when I run"]:
        assert private not in page
        assert private not in data
    assert "@" not in data
    assert "Mars/Olympus" not in data  # error texts are for the page only


def test_the_page_needs_nothing_the_policy_blocks(client, staff, make_enrolment, now):
    fail_planning(make_enrolment(), now - timedelta(minutes=1))
    client.force_login(staff)
    response = client.get(reverse("status"))
    assert "Content-Security-Policy" in response
    page = response.content.decode()
    assert not re.search(r"<style|\sstyle=|\son[a-z]+=|<script(?![^>]*\ssrc=)", page, re.I)


# Problems


def test_a_fresh_dispatch_heartbeat_is_no_problem(client, staff, now):
    beat("sweep", now - timedelta(seconds=20))
    beat("dispatch", now - timedelta(seconds=60))
    client.force_login(staff)
    response = get_json(client)
    assert response.status_code == 200
    assert response.json()["problems"] == []


def test_a_dispatch_heartbeat_61_seconds_old_means_it_stopped(client, staff, now):
    beat("sweep", now - timedelta(seconds=20))
    beat("dispatch", now - timedelta(seconds=61))
    client.force_login(staff)
    response = get_json(client)
    assert response.status_code == 503
    assert response.json()["ok"] is False
    assert response.json()["problems"] == [
        f"{STOPPED}: nothing has been dispatched since 2026-03-10 08:58:59 UTC (61 seconds ago)."
    ]
    page = client.get(reverse("status")).content.decode()
    assert "Something is wrong" in page
    assert "nothing has been dispatched since 2026-03-10 08:58:59 UTC" in page


def test_how_stale_is_stale_comes_from_settings(client, staff, settings, now):
    settings.STATUS_STALE_SECONDS = 120
    beat("sweep", now - timedelta(seconds=20))
    beat("dispatch", now - timedelta(seconds=90))
    client.force_login(staff)
    assert get_json(client).status_code == 200


def test_with_no_dispatch_heartbeat_at_all_it_stopped(client, staff, now):
    beat("sweep", now - timedelta(seconds=20))
    client.force_login(staff)
    response = get_json(client)
    assert response.status_code == 503
    assert response.json()["problems"] == [f"{STOPPED}: nothing has ever been dispatched."]


def test_late_emails_and_failing_planning_make_a_503(
    client, staff, settings, healthy, make_enrolment, now
):
    settings.STATUS_TOKEN = TOKEN
    enrolment = make_enrolment()
    email(enrolment, "late", now - timedelta(minutes=6))
    fail_planning(enrolment, now - timedelta(minutes=1))
    response = get_json(client, authorization=f"Bearer {TOKEN}")
    assert response.status_code == 503
    assert response.json()["problems"] == [
        "Emails are late: 1 email is due, the oldest for 6 minutes.",
        "Planning fails for 1 enrolment: their emails are not being planned.",
    ]


def test_the_roll_over_of_the_dashboards_is_reported(client, staff, now):
    beat("roll_over", now - timedelta(seconds=10), seconds=1.5, rows=40, batches=1)
    client.force_login(staff)
    assert get_json(client).json()["roll_over"] == {
        "finished_at": "2026-03-10T08:59:50Z",
        "age_seconds": 10.0,
        "seconds": 1.5,
        "rows": 40,
        "batches": 1,
    }
    assert "recomputed 40 rows" in client.get(reverse("status")).content.decode()


def test_dashboard_rows_ten_minutes_past_their_midnight_are_a_problem(
    client, staff, healthy, make_enrolment, now
):
    enrolment = make_enrolment()
    client.force_login(staff)
    rows = ClientStatus.objects.filter(pk=enrolment.pk)
    rows.update(rolls_over_at=now - timedelta(minutes=9, seconds=59))
    data = get_json(client).json()
    assert (data["client_status"], data["problems"]) == ({"rows_behind": 0}, [])
    rows.update(rolls_over_at=now - timedelta(minutes=10))
    response = get_json(client)
    assert response.status_code == 503
    assert response.json()["client_status"] == {"rows_behind": 1}
    assert response.json()["problems"] == [
        "The dashboards are out of date: 1 client's row is more than 10 minutes past their "
        "local midnight and not rolled over."
    ]


# The judgement, on plain values

AT = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
WELL = {
    "dispatched_at": AT - timedelta(seconds=10),
    "swept_at": AT - timedelta(seconds=60),
    "oldest_due_at": None,
    "due": 0,
    "failing": 0,
    "stale_after": timedelta(seconds=60),
    "sweep_every": timedelta(seconds=60),
}


def judge(**changes):
    return status.judge(AT, **{**WELL, **changes})


def test_all_well_is_no_problem():
    assert judge() == []


def test_dispatch_at_the_limit_is_fine_a_second_later_it_stopped():
    assert judge(dispatched_at=AT - timedelta(seconds=60)) == []
    assert judge(dispatched_at=AT - timedelta(minutes=42)) == [
        f"{STOPPED}: nothing has been dispatched since 2026-03-10 08:18:00 UTC (42 minutes ago)."
    ]


def test_no_dispatch_ever_is_a_problem():
    assert judge(dispatched_at=None) == [f"{STOPPED}: nothing has ever been dispatched."]


def test_planning_stopped_after_three_missed_sweeps():
    assert judge(swept_at=AT - timedelta(seconds=180)) == []
    assert judge(swept_at=AT - timedelta(seconds=181)) == [
        "Planning has stopped: the last sweep finished at 2026-03-10 08:56:59 UTC (3 minutes ago)."
    ]
    assert judge(swept_at=AT - timedelta(seconds=181), sweep_every=timedelta(minutes=5)) == []


def test_rows_behind_are_counted_in_words():
    assert judge(rows_behind=3) == [
        "The dashboards are out of date: 3 clients' rows are more than 10 minutes past their "
        "local midnight and not rolled over."
    ]


def test_no_sweep_ever_is_a_problem():
    assert judge(swept_at=None) == ["Planning has stopped: no sweep has ever run."]


def test_emails_are_late_after_five_minutes():
    assert judge(oldest_due_at=AT - timedelta(minutes=5), due=3) == []
    assert judge(oldest_due_at=AT - timedelta(hours=3), due=3) == [
        "Emails are late: 3 emails are due, the oldest for 3 hours."
    ]


def test_failing_planning_is_counted():
    assert judge(failing=4) == [
        "Planning fails for 4 enrolments: their emails are not being planned."
    ]


def test_every_problem_at_once_is_listed_in_order():
    problems = judge(
        dispatched_at=None, swept_at=None, oldest_due_at=AT - timedelta(days=2), due=1, failing=1
    )
    assert [p.split(":")[0] for p in problems] == [
        STOPPED,
        "Planning has stopped",
        "Emails are late",
        "Planning fails for 1 enrolment",
    ]


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (1, "1 second"),
        (61, "61 seconds"),
        (120, "2 minutes"),
        (7199, "119 minutes"),
        (7200, "2 hours"),
        (3 * 86400, "3 days"),
    ],
)
def test_spans_read_in_whole_units(seconds, words):
    assert status.span(seconds) == words
    assert status.span(timedelta(seconds=seconds)) == words


# Cost


@pytest.mark.parametrize("n", [3, 30])
def test_the_report_costs_the_same_few_queries_for_3_or_30_failing_enrolments(
    make_enrolment, django_user_model, django_assert_max_num_queries, now, n
):
    failing_enrolments(make_enrolment, django_user_model, n, now)
    with django_assert_max_num_queries(6):  # one is the dashboard rows behind their roll-over
        report = status.report(now)
    assert report.failing == n


@pytest.mark.parametrize("n", [3, 30])
def test_the_page_and_json_cost_the_same_for_3_or_30_failing_enrolments(
    client, staff, make_enrolment, django_user_model, django_assert_max_num_queries, now, n
):
    failing_enrolments(make_enrolment, django_user_model, n, now)
    client.force_login(staff)
    with django_assert_max_num_queries(9):  # one is the header's: is she enrolled herself
        assert client.get(reverse("status")).status_code == 200
    with django_assert_max_num_queries(8):
        assert get_json(client).json()["planning"]["failing_enrolments"] == n
