"""The thread between a client and her coach: who reads and writes it, what the emails say,
unread counts, polling for new messages, and a message to several clients at once."""

import logging
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from programs import conversation, delivery
from programs.models import CoachAction, Enrolment, Message, Notification, ThreadRead
from tests.conftest import make, person

pytestmark = pytest.mark.django_db

SECRET = "My scar is still sore when I cough"
NOTE = "Working note: ask about her scar"
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def now(clock):
    return clock("2026-03-10 09:00", "Europe/London")


@pytest.fixture
def enrolment(make_enrolment, coach):
    return make_enrolment(coach=coach)


def browser(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def write(enrolment, side, body="Hello") -> conversation.Posted:
    author = enrolment.user if side == "client" else enrolment.coach
    return conversation.post(enrolment, author, side, body, datetime.now(UTC))


def texts(response) -> list[str]:
    return [m.body for m in response.context["thread"].messages]


# Who reads and who writes: her, her coach, and staff who may see health data read; only she
# and her coach write. Anyone else's answer is the same as for any page of hers or her coach's.

ROLES = [
    "her",
    "her coach",
    "another coach",
    "staff",
    "clinical staff",
    "staff with the permission",
    "another client",
    "visitor",
]
# role: (her_thread, client_thread) status for a GET
READ = {
    "her": (200, 403),
    "her coach": (404, 200),
    "another coach": (404, 404),
    "staff": (404, 403),
    "clinical staff": (404, 200),
    "staff with the permission": (404, 200),
    "another client": (404, 403),
    "visitor": (302, 302),
}


@pytest.mark.parametrize("role", ROLES)
def test_who_reads_her_thread(enrolment, role):
    write(enrolment, "client", SECRET)
    client = browser(make(role))
    for name, status in zip(("her_thread", "client_thread"), READ[role], strict=True):
        response = client.get(reverse(name, args=[enrolment.pk]))
        assert response.status_code == status, (name, role)
        assert (SECRET in response.content.decode()) is (status == 200), (name, role)
        if status == 302:
            assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ROLES)
def test_who_sees_her_thread_on_the_client_page(enrolment, role):
    write(enrolment, "client", SECRET)
    response = browser(make(role)).get(reverse("client", args=[enrolment.pk]))
    sees = READ[role][1] == 200
    assert (SECRET in response.content.decode()) is sees, role
    if role in ("staff", "clinical staff", "staff with the permission"):
        assert response.status_code == 200
        # Staff read, they do not write: the thread is hers and her coach's.
        assert reverse("client_message", args=[enrolment.pk]) not in response.content.decode()


# role: (her_message, client_message) what happens to a POST: "sent", a status code, or
# "refused" (a redirect back with an error, nothing saved)
WRITE = {
    "her": ("sent", 403),
    "her coach": (404, "sent"),
    "another coach": (404, 404),
    "staff": (404, "refused"),
    "clinical staff": (404, "refused"),
    "staff with the permission": (404, "refused"),
    "another client": (404, 403),
    "visitor": ("login", "login"),
}


@pytest.mark.parametrize("role", ROLES)
def test_who_writes_in_her_thread(enrolment, role):
    client = browser(make(role))
    for name, outcome in zip(("her_message", "client_message"), WRITE[role], strict=True):
        response = client.post(reverse(name, args=[enrolment.pk]), {"text": SECRET})
        if outcome == "sent":
            assert response.status_code == 302
            assert Message.objects.filter(body=SECRET).count() == 1
            Message.objects.all().delete()
            Notification.objects.all().delete()
        elif outcome == "login":
            assert response["Location"].startswith(reverse("login"))
        elif outcome == "refused":
            assert response["Location"] == reverse("client", args=[enrolment.pk]) + "#messages"
            page = client.get(response["Location"]).content.decode()
            assert "Only her coach can write to her here. Nothing was sent." in page
        else:
            assert response.status_code == outcome, (name, role)
        assert not Message.objects.exists(), (name, role)
        assert not Notification.objects.exists(), (name, role)


@pytest.mark.parametrize("role", ["her", "another coach", "staff", "another client", "visitor"])
def test_bulk_message_is_for_her_coach_alone(enrolment, role):
    response = browser(make(role)).post(
        reverse("bulk_message"), {"clients": [enrolment.pk], "text": "Hello all"}
    )
    if role == "visitor":
        assert response["Location"].startswith(reverse("login"))
    elif role in ("her", "another client"):
        assert response.status_code == 403
    else:
        assert response["Location"] == reverse("dashboard")
    assert not Message.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.parametrize("name", ["her_thread", "client_thread", "her_message", "client_message"])
def test_the_thread_takes_the_right_method(enrolment, coach, user, name):
    who = user if name.startswith("her") else coach
    response = browser(who).generic(
        "POST" if name.endswith("thread") else "GET", reverse(name, args=[enrolment.pk])
    )
    assert response.status_code == 405
    assert not Message.objects.exists()


def test_polling_after_the_session_ended_stops_quietly(enrolment):
    for name in ("her_thread", "client_thread"):
        response = Client().get(reverse(name, args=[enrolment.pk]), headers=HTMX)
        assert response.status_code == 286  # htmx: stop polling
        assert response["HX-Reswap"] == "none"  # and leave the thread as it is
        assert response.content == b""


# Her coach's private notes stay hers


def test_a_coachs_private_note_never_reaches_her(enrolment, coach, user):
    browser(coach).post(reverse("client_note", args=[enrolment.pk]), {"text": NOTE})
    write(enrolment, "coach", "See you Thursday")
    assert CoachAction.objects.get().kind == CoachAction.Kind.NOTE
    her = browser(user)
    for name in ("today", "her_thread", "progress", "checkin", "preferences"):
        response = her.get(reverse(name, args=[enrolment.pk]))
        assert response.status_code == 200, name
        assert NOTE not in response.content.decode(), name
    assert (
        "See you Thursday" in her.get(reverse("her_thread", args=[enrolment.pk])).content.decode()
    )
    for name in ("account", "account_export"):
        assert NOTE not in her.get(reverse(name)).content.decode(), name
    # Her coach still has it, on her page, and not in the thread.
    page = browser(coach).get(reverse("client", args=[enrolment.pk]))
    assert NOTE in page.content.decode()
    assert texts(page) == ["See you Thursday"]


# Writing: the form's rules, and saying truthfully what happened


def test_she_writes_to_her_coach_and_sees_it_on_her_today_page(enrolment, user):
    her = browser(user)
    response = her.post(
        reverse("her_message", args=[enrolment.pk]), {"text": f"  {SECRET}  "}, follow=True
    )
    assert response.redirect_chain == [(reverse("today", args=[enrolment.pk]) + "#messages", 302)]
    message = Message.objects.get()
    assert (message.side, message.author, message.body) == ("client", user, SECRET)
    assert texts(response) == [SECRET]
    assert "Sent. We&#x27;re emailing your coach that there is a new message." in (
        response.content.decode()
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "Write a message to send."),
        ("   \n ", "Write a message to send."),
        (
            "x" * 4001,
            "A message can be at most 4000 characters; this one has 4001. Nothing was sent.",
        ),
    ],
)
@pytest.mark.parametrize("name", ["her_message", "client_message"])
def test_an_empty_or_overlong_message_is_refused_and_nothing_is_saved(
    enrolment, user, coach, name, text, error
):
    who = user if name == "her_message" else coach
    response = browser(who).post(reverse(name, args=[enrolment.pk]), {"text": text}, follow=True)
    assert error in response.content.decode()
    assert not Message.objects.exists()
    assert not Notification.objects.exists()


def test_the_longest_message_is_taken(enrolment, user):
    browser(user).post(reverse("her_message", args=[enrolment.pk]), {"text": "x" * 4000})
    assert len(Message.objects.get().body) == 4000


def test_the_database_refuses_an_empty_message(enrolment):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(
            enrolment=enrolment, side="client", body="", created_at=datetime.now(UTC)
        )


def test_a_thread_without_a_coach_or_after_she_left_takes_no_message(make_enrolment, user, coach):
    alone = make_enrolment()
    response = browser(user).post(
        reverse("her_message", args=[alone.pk]), {"text": "Anyone?"}, follow=True
    )
    assert "There is no coach on this program to write to." in response.content.decode()
    assert "messages-heading" not in response.content.decode()  # no thread on her page

    left = make_enrolment(coach=coach, status=Enrolment.Status.WITHDRAWN)
    for client, name in ((browser(user), "her_message"), (browser(coach), "client_message")):
        response = client.post(reverse(name, args=[left.pk]), {"text": "Hello?"}, follow=True)
        assert "This program has ended, so its messages are closed." in response.content.decode()
    assert not Message.objects.exists()
    assert not Notification.objects.exists()


def test_a_closed_thread_stops_the_polling(make_enrolment, user, coach):
    left = make_enrolment(coach=coach)
    write(left, "coach", "Goodbye and good luck")
    left.withdraw(datetime.now(UTC))
    response = browser(user).get(reverse("her_thread", args=[left.pk]), headers=HTMX)
    assert response.status_code == 286
    assert "Goodbye and good luck" in response.content.decode()  # what there was, still shown


# The emails: that a message waits, never what it says; one per unread stretch


def send_due():
    delivery.send_due(clock=lambda: datetime(2026, 3, 10, 9, 1, tzinfo=UTC))


def test_her_email_says_only_that_her_coach_wrote(enrolment, coach):
    browser(coach).post(reverse("client_message", args=[enrolment.pk]), {"text": SECRET})
    row = Notification.objects.get()
    assert (row.kind, row.recipient, row.key) == ("new_message", enrolment.user, "client-0")
    send_due()
    [email] = mail.outbox
    assert email.to == ["amira@example.com"]
    assert email.subject == "You have a new message from your coach"
    for part in (email.subject, email.body, email.alternatives[0][0]):
        assert "scar" not in part and "cough" not in part
    assert f"/enrolments/{enrolment.pk}/#messages" in email.body


def test_her_coach_is_emailed_that_a_client_wrote_and_nothing_more(enrolment, user):
    browser(user).post(reverse("her_message", args=[enrolment.pk]), {"text": SECRET})
    row = Notification.objects.get()
    assert (row.recipient, row.key) == (enrolment.coach, "coach-0")
    send_due()
    [email] = mail.outbox
    assert email.to == ["dana@example.com"]
    assert email.subject == "A client sent you a message"
    for part in (email.subject, email.body, email.alternatives[0][0]):
        assert "scar" not in part and "Amira" not in part
    assert f"/coach/clients/{enrolment.pk}/#messages" in email.body


def test_several_messages_before_she_reads_bring_one_email(enrolment, coach, user):
    as_coach = browser(coach)
    said = []
    for text in ("One", "Two", "Three"):
        response = as_coach.post(
            reverse("client_message", args=[enrolment.pk]), {"text": text}, follow=True
        )
        said.append([str(m) for m in response.context["messages"]])
    assert said == [
        ["Sent. We're emailing her that there is a new message."],
        ["Sent."],
        ["Sent."],
    ]
    assert Notification.objects.count() == 1
    send_due()
    assert len(mail.outbox) == 1
    # Still unread: no more email.
    as_coach.post(reverse("client_message", args=[enrolment.pk]), {"text": "Four"})
    assert Notification.objects.count() == 1
    # She reads the thread; the next message brings the next email.
    browser(user).get(reverse("today", args=[enrolment.pk]))
    as_coach.post(reverse("client_message", args=[enrolment.pk]), {"text": "Five"})
    assert list(Notification.objects.order_by("pk").values_list("key", flat=True)) == [
        "client-0",
        f"client-{Message.objects.get(body='Four').pk}",
    ]


def test_the_email_is_queued_with_the_message_and_a_sender_asked_for_once_it_commits(
    enrolment, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        posted = write(enrolment, "coach")
    assert posted.emailed and len(callbacks) == 1
    assert ("programs.tasks.send_due_notifications",) in published
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert not write(enrolment, "coach").emailed
    assert published == []


def test_a_message_that_fails_leaves_no_email_behind(enrolment, monkeypatch):
    def broken(*args):
        raise RuntimeError("the outbox is down")

    monkeypatch.setattr(conversation, "_notify", broken)
    with pytest.raises(RuntimeError):
        write(enrolment, "coach")
    assert not Message.objects.exists()


def test_message_text_stays_out_of_logs_urls_and_emails(enrolment, coach, user, caplog):
    caplog.set_level(logging.DEBUG)  # every logger but the two pinned ones (see README)
    her, as_coach = browser(user), browser(coach)
    responses = [
        her.post(reverse("her_message", args=[enrolment.pk]), {"text": SECRET}),
        as_coach.post(reverse("client_message", args=[enrolment.pk]), {"text": SECRET}),
        as_coach.post(reverse("bulk_message"), {"clients": [enrolment.pk], "text": SECRET}),
    ]
    send_due()
    assert Message.objects.filter(body=SECRET).count() == 3
    assert len(mail.outbox) == 2
    for response in responses:
        assert "scar" not in response["Location"]
    for record in caplog.records:
        assert "scar" not in record.getMessage(), record.name
    for email in mail.outbox:
        assert "scar" not in email.body and "scar" not in email.alternatives[0][0]


# Unread counts, and reading


def test_her_today_page_counts_new_messages_and_opening_it_reads_them(enrolment, user):
    write(enrolment, "coach", "First")
    write(enrolment, "coach", "Second")
    her = browser(user)
    page = her.get(reverse("today", args=[enrolment.pk]))
    content = page.content.decode()
    assert page.context["thread"].unread == 2
    assert '<span class="badge">2 new</span>' in content
    assert '<a href="#messages">2 new messages</a>' in content
    assert content.count('<span class="new-label">New</span>') == 2
    assert ThreadRead.objects.get(side="client").up_to == Message.objects.last().pk

    again = her.get(reverse("today", args=[enrolment.pk]))
    assert again.context["thread"].unread == 0
    assert "new-label" not in again.content.decode()
    assert texts(again) == ["First", "Second"]


def test_her_own_messages_are_never_new_to_her(enrolment, user):
    write(enrolment, "client", "Mine")
    page = browser(user).get(reverse("today", args=[enrolment.pk]))
    assert page.context["thread"].unread == 0
    assert not ThreadRead.objects.exists()


def test_the_header_tells_her_of_new_messages_on_every_page(enrolment, user):
    write(enrolment, "coach")
    her = browser(user)
    badge = '<span class="badge">1<span class="visually-hidden"> new message</span></span>'
    assert badge in her.get(reverse("progress", args=[enrolment.pk])).content.decode()
    assert badge in her.get(reverse("account")).content.decode()
    her.get(reverse("her_thread", args=[enrolment.pk]))  # the thread polled: read
    assert 'visually-hidden"> new message' not in her.get(reverse("account")).content.decode()


def test_the_header_counts_in_its_one_query(enrolment, user, django_assert_num_queries):
    from programs.context_processors import header_links

    write(enrolment, "coach")
    write(enrolment, "coach")
    with django_assert_num_queries(1):
        assert header_links(user) == {"coach": False, "today": True, "unread": 2}


def test_messages_of_a_program_she_left_are_not_counted_in_the_header(enrolment, user):
    write(enrolment, "coach")
    enrolment.withdraw(datetime.now(UTC))
    from programs.context_processors import header_links

    assert header_links(user)["unread"] == 0


def test_the_coachs_dashboard_counts_each_clients_new_messages(enrolment, coach, user):
    write(enrolment, "client", "One")
    write(enrolment, "client", "Two")
    write(enrolment, "coach", "Mine, never new to me")
    as_coach = browser(coach)
    badge = f'<a class="badge" href="/coach/clients/{enrolment.pk}/#messages">2 new messages</a>'
    assert badge in as_coach.get(reverse("dashboard")).content.decode()
    page = as_coach.get(reverse("client", args=[enrolment.pk]))
    assert page.context["thread"].unread == 2
    assert "new messages</a>" not in as_coach.get(reverse("dashboard")).content.decode()


def test_staff_reading_her_thread_neither_see_counts_nor_mark_it_read(enrolment):
    write(enrolment, "client", "For my coach")
    clinician = browser(make("clinical staff"))
    page = clinician.get(reverse("dashboard"), {"coach": "all"}).content.decode()
    assert "amira@example.com" in page
    assert f'href="/coach/clients/{enrolment.pk}/#messages"' not in page
    response = clinician.get(reverse("client_thread", args=[enrolment.pk]))
    assert response.status_code == 200
    assert response.context["thread"].unread == 0
    assert not ThreadRead.objects.exists()
    assert conversation.unread_for_coach([enrolment.pk]) == {enrolment.pk: 1}


def test_unread_counts_for_any_number_of_clients_in_one_query(make_enrolment, coach):
    enrolments = [make_enrolment(user=person(f"c{n}@example.com"), coach=coach) for n in range(4)]
    for n, e in enumerate(enrolments):
        for _ in range(n):
            write(e, "client")
    conversation.mark_read(
        enrolments[3], "coach", Message.objects.filter(enrolment=enrolments[3]).first().pk
    )
    with CaptureQueriesContext(connection) as queries:
        counts = conversation.unread_for_coach(e.pk for e in enrolments)
    assert len(queries) == 1
    assert counts == {enrolments[1].pk: 1, enrolments[2].pk: 2, enrolments[3].pk: 2}


def test_the_dashboard_costs_the_same_with_new_messages_for_3_or_12_clients(make_enrolment, coach):
    as_coach = browser(coach)

    def clients(n):
        for k in range(n):
            e = make_enrolment(user=person(f"q{n}-{k}@example.com"), coach=coach)
            write(e, "client")
            write(e, "client")

    clients(3)
    with CaptureQueriesContext(connection) as three:
        response = as_coach.get(reverse("dashboard"))
    assert response.content.decode().count("2 new messages") == 3
    clients(9)
    with CaptureQueriesContext(connection) as twelve:
        response = as_coach.get(reverse("dashboard"))
    assert response.content.decode().count("2 new messages") == 12
    assert len(three) == len(twelve)


def test_the_mark_only_moves_forward(enrolment):
    first, second = write(enrolment, "coach").message, write(enrolment, "coach").message
    conversation.mark_read(enrolment, "client", second.pk)
    conversation.mark_read(enrolment, "client", first.pk)
    assert ThreadRead.objects.get().up_to == second.pk


# Polling for new messages


def test_the_thread_polls_its_partial_every_15_seconds(enrolment, user, coach):
    pages = [
        (browser(user).get(reverse("today", args=[enrolment.pk])), "her_thread"),
        (browser(coach).get(reverse("client", args=[enrolment.pk])), "client_thread"),
    ]
    for page, name in pages:
        content = page.content.decode()
        assert (
            f'<div id="thread" class="thread" hx-get="{reverse(name, args=[enrolment.pk])}" '
            'hx-trigger="every 15s" hx-swap="outerHTML">'
        ) in content
        # The form is outside what the polling replaces, so nothing she types is lost.
        assert content.count('id="message_text"') == 1
        assert content.index("</ol>\n</div>") < content.index('id="message_text"')


def test_a_new_message_shows_in_the_partial_and_is_read_there(enrolment, user):
    her = browser(user)
    assert texts(her.get(reverse("her_thread", args=[enrolment.pk]), headers=HTMX)) == []
    write(enrolment, "coach", "Are you free Thursday?")
    response = her.get(reverse("her_thread", args=[enrolment.pk]), headers=HTMX)
    assert response.status_code == 200
    content = response.content.decode()
    assert '<div id="thread"' in content
    assert "<html" not in content  # the partial alone
    assert "Are you free Thursday?" in content and "new-label" in content
    assert ThreadRead.objects.get(side="client").up_to == Message.objects.get().pk


def test_the_partial_costs_the_same_for_any_number_of_messages(enrolment, user):
    her = browser(user)
    write(enrolment, "coach")
    her.get(reverse("her_thread", args=[enrolment.pk]))  # her mark exists from now on

    def polled_after(n):
        for k in range(n):
            write(enrolment, "coach", f"Message {k}")
        with CaptureQueriesContext(connection) as queries:
            response = her.get(reverse("her_thread", args=[enrolment.pk]), headers=HTMX)
        assert response.context["thread"].unread == n
        return len(queries)

    assert polled_after(3) == polled_after(30)


# A message to several clients from the dashboard


@pytest.fixture
def clients_of(make_enrolment, coach):
    def make(*names, **overrides):
        return [
            make_enrolment(user=person(f"{name.lower()}@example.com"), coach=coach, **overrides)
            for name in names
        ]

    return make


def test_bulk_message_writes_in_each_chosen_thread_in_one_go(clients_of, coach):
    amy, bea, cat = clients_of("Amy", "Bea", "Cat")
    response = browser(coach).post(
        reverse("bulk_message"),
        {"clients": [amy.pk, bea.pk], "text": "Group class moved"},
        follow=True,
    )
    said = [str(m) for m in response.context["messages"]]
    assert said == ["Sent to 2 clients. We're emailing 2 of them that there is a new message."]
    assert sorted(Message.objects.values_list("enrolment_id", "side", "body")) == [
        (amy.pk, "coach", "Group class moved"),
        (bea.pk, "coach", "Group class moved"),
    ]
    assert set(Notification.objects.values_list("recipient__email", flat=True)) == {
        "amy@example.com",
        "bea@example.com",
    }
    assert not cat.messages.exists()


def test_bulk_message_counts_only_new_emails(clients_of, coach):
    amy, bea = clients_of("Amy", "Bea")
    write(amy, "coach")  # Amy has an unread message, and its email, already
    response = browser(coach).post(
        reverse("bulk_message"), {"clients": [amy.pk, bea.pk], "text": "Hi"}, follow=True
    )
    assert [str(m) for m in response.context["messages"]] == [
        "Sent to 2 clients. We're emailing 1 of them that there is a new message."
    ]


def test_bulk_message_refuses_the_lot_for_one_client_not_hers(clients_of, make_enrolment, coach):
    [amy] = clients_of("Amy")
    other = make(role="another coach")
    foreign = make_enrolment(user=person("zoe@example.com"), coach=other)
    unassigned = make_enrolment(user=person("una@example.com"))
    for intruder in (foreign, unassigned):
        response = browser(coach).post(
            reverse("bulk_message"), {"clients": [amy.pk, intruder.pk], "text": "Hi"}, follow=True
        )
        assert [str(m) for m in response.context["messages"]] == [
            "One of the chosen clients is not yours. No message was sent."
        ]
    assert not Message.objects.exists()
    assert not Notification.objects.exists()


def test_even_staff_message_only_their_own_clients(clients_of, make_enrolment):
    staff = make("staff")
    [amy] = clients_of("Amy")
    response = browser(staff).post(
        reverse("bulk_message"), {"clients": [amy.pk], "text": "Hi"}, follow=True
    )
    assert "One of the chosen clients is not yours" in response.content.decode()
    assert not Message.objects.exists()


def test_bulk_message_names_those_who_left_and_leaves_them_out(clients_of, coach):
    [amy] = clients_of("Amy")
    [bea] = clients_of("Bea", status=Enrolment.Status.WITHDRAWN)
    response = browser(coach).post(
        reverse("bulk_message"), {"clients": [amy.pk, bea.pk], "text": "Hi"}, follow=True
    )
    assert [str(m) for m in response.context["messages"]] == [
        "Sent to 1 client. We're emailing 1 of them that there is a new message.",
        "Not sent, as they have left the program: bea.",
    ]
    assert list(Message.objects.values_list("enrolment_id", flat=True)) == [amy.pk]


def test_bulk_message_to_nobody_who_can_read_it_says_so(clients_of, coach):
    [bea] = clients_of("Bea", status=Enrolment.Status.WITHDRAWN)
    response = browser(coach).post(
        reverse("bulk_message"), {"clients": [bea.pk], "text": "Hi"}, follow=True
    )
    said = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert said[0] == ("error", "No message was sent.")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"text": "Hi"}, "Choose the clients to message."),
        ({"clients": ["AMY"], "text": "Hi"}, "One of the chosen clients is not yours."),
        ({"clients": [str(2**64)], "text": "Hi"}, "One of the chosen clients is not yours."),
        ({"clients": ["-1"], "text": "Hi"}, "One of the chosen clients is not yours."),
        ({"text": ""}, "Choose the clients to message."),
        ("no text", "Write a message to send."),
        ("too long", "A message can be at most 4000 characters"),
    ],
)
def test_bulk_message_refuses_a_bad_form_and_sends_nothing(clients_of, coach, data, error):
    [amy] = clients_of("Amy")
    if data == "no text":
        data = {"clients": [amy.pk], "text": " "}
    elif data == "too long":
        data = {"clients": [amy.pk], "text": "x" * 4001}
    response = browser(coach).post(reverse("bulk_message"), data, follow=True)
    assert error in response.content.decode()
    assert not Message.objects.exists()


def test_bulk_message_is_one_transaction(clients_of, coach, monkeypatch):
    amy, bea = clients_of("Amy", "Bea")
    real = conversation._notify
    calls = []

    def fails_the_second_time(*args):
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real(*args)

    monkeypatch.setattr(conversation, "_notify", fails_the_second_time)
    client = browser(coach)
    with pytest.raises(RuntimeError):
        client.post(reverse("bulk_message"), {"clients": [amy.pk, bea.pk], "text": "Hi"})
    assert not Message.objects.exists()
    assert not Notification.objects.exists()


def test_the_dashboard_offers_the_message_with_the_selection(clients_of, coach):
    clients_of("Amy")
    content = browser(coach).get(reverse("dashboard")).content.decode()
    form = content[content.index(f'action="{reverse("bulk_pause")}"') :]
    form = form[: form.index("</form>")]
    assert f'formaction="{reverse("bulk_message")}"' in form
    assert 'name="text"' in form and "required" not in form.split('name="text"')[1][:80]


# Her data


def test_her_export_holds_both_sides_of_the_thread(enrolment, user):
    write(enrolment, "coach", "How are you?")
    write(enrolment, "client", SECRET)
    data = browser(user).get(reverse("account_export")).json()
    assert data["enrolments"][0]["messages"] == [
        {"from": "your coach", "at": "2026-03-10T09:00:00+00:00", "text": "How are you?"},
        {"from": "you", "at": "2026-03-10T09:00:00+00:00", "text": SECRET},
    ]


def test_deleting_her_account_deletes_her_thread(enrolment, user):
    from programs.views.account import delete_account

    write(enrolment, "coach")
    write(enrolment, "client")
    delete_account(user)
    assert not Message.objects.exists()
    assert not ThreadRead.objects.exists()


# The coach's emailed messages, from before the thread


def test_the_migration_moves_emailed_messages_into_her_thread(enrolment, coach, user):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("programs.migrations.0012_conversation")
    at = datetime(2026, 3, 9, 18, tzinfo=UTC)
    old = [
        CoachAction.objects.create(
            enrolment=enrolment, actor=coach, kind="message", detail=text, at=at
        )
        for text in ("Welcome!", "How was week 1?")
    ]
    CoachAction.objects.create(enrolment=enrolment, actor=coach, kind="note", detail=NOTE, at=at)
    Notification.objects.create(
        enrolment=enrolment,
        recipient=user,
        kind="coach_message",
        key=f"message-{old[0].pk}",
        scheduled_for=at,
        due_at=at,
        status="sent",
    )

    migration.messages_into_threads(apps, None)

    assert [(m.side, m.author, m.body, m.created_at) for m in Message.objects.all()] == [
        ("coach", coach, "Welcome!", at),
        ("coach", coach, "How was week 1?", at),
    ]
    # She had them in full by email: read.
    assert ThreadRead.objects.get(side="client").up_to == Message.objects.last().pk
    assert list(CoachAction.objects.values_list("kind", flat=True)) == ["note"]
    assert Notification.objects.get().kind == "new_message"
    page = browser(user).get(reverse("today", args=[enrolment.pk]))
    assert texts(page) == ["Welcome!", "How was week 1?"]
    assert page.context["thread"].unread == 0


def test_a_closed_thread_says_why_no_message_can_be_sent(make_enrolment, user, coach):
    left = make_enrolment(coach=coach)
    write(left, "coach", "Take care")
    left.withdraw(datetime.now(UTC))
    for client, name in ((browser(user), "today"), (browser(coach), "client")):
        content = client.get(reverse(name, args=[left.pk])).content.decode()
        assert "Take care" in content
        assert "left this program, so its messages are closed" in content
        assert 'id="message_text"' not in content
    left.coach = None
    left.save()
    content = browser(user).get(reverse("today", args=[left.pk])).content.decode()
    assert "You have no coach on this program now" in content


def test_polling_stops_once_the_thread_is_no_longer_the_pollers(enrolment, coach, user):
    as_coach = browser(coach)
    assert (
        as_coach.get(reverse("client_thread", args=[enrolment.pk]), headers=HTMX).status_code == 200
    )
    # She removes her coach: her former coach's page stops asking, and is told nothing more.
    browser(user).post(reverse("remove_coach", args=[enrolment.pk]))
    response = as_coach.get(reverse("client_thread", args=[enrolment.pk]), headers=HTMX)
    assert (response.status_code, response["HX-Reswap"], response.content) == (286, "none", b"")
    # Without htmx, the answer is the page's own.
    assert as_coach.get(reverse("client_thread", args=[enrolment.pk])).status_code == 404
    staff = browser(make("staff"))
    assert staff.get(reverse("client_thread", args=[enrolment.pk]), headers=HTMX).status_code == 286
    assert staff.get(reverse("client_thread", args=[enrolment.pk])).status_code == 403


def test_clinical_staff_see_why_a_client_without_a_coach_has_no_messages(make_enrolment):
    alone = make_enrolment()
    content = browser(make("clinical staff")).get(reverse("client", args=[alone.pk]))
    assert "She has no coach on this program, so no messages can be sent here." in (
        content.content.decode()
    )


def test_a_coach_enrolled_herself_sees_her_today_and_its_new_messages_on_coach_pages(
    make_enrolment, coach, django_assert_max_num_queries
):
    from programs.context_processors import header_links

    other = make("another coach")
    hers = make_enrolment(user=coach, coach=other)
    write(hers, "coach")  # from her own coach
    page = browser(coach).get(reverse("dashboard")).content.decode()
    assert f'<a href="{reverse("today_redirect")}">Today <span class="badge">1' in page
    with django_assert_max_num_queries(2):
        assert header_links(coach, True) == {"coach": True, "today": True, "unread": 1}


def test_a_coach_not_enrolled_has_no_today_and_the_header_asks_once(
    coach, django_assert_num_queries
):
    from programs.context_processors import header_links

    page = browser(coach).get(reverse("dashboard")).content.decode()
    assert reverse("today_redirect") not in page
    assert f'<a href="{reverse("dashboard")}">Clients</a>' in page
    with django_assert_num_queries(1):
        assert header_links(coach, True) == {"coach": True, "today": False, "unread": 0}


def test_staff_see_new_messages_only_on_their_own_clients_rows(make_enrolment, coach):
    clinician = make("clinical staff")
    theirs = make_enrolment(user=person("theirs@example.com"), coach=clinician)
    someone_elses = make_enrolment(user=person("else@example.com"), coach=coach)
    for enrolment in (theirs, someone_elses):
        write(enrolment, "client")
    page = browser(clinician).get(reverse("dashboard"), {"coach": "all"}).content.decode()
    assert f'href="/coach/clients/{theirs.pk}/#messages">1 new message</a>' in page
    assert f'href="/coach/clients/{someone_elses.pk}/#messages"' not in page
