"""Signing up, logging in and out, and resetting a password."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
User = get_user_model()


def signup_data(**overrides):
    data = {
        "first_name": "Chloe",
        "email": "Chloe@Example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    data.update(overrides)
    return data


def confirm_link(message) -> str:
    return re.search(r"http://\S+(/accounts/signup/confirm/\S+)", message.body).group(1)


def sign_up(client, **overrides):
    """Sign up and follow the emailed link: she is then logged in."""
    response = client.post(reverse("signup"), signup_data(**overrides))
    assert response["Location"] == reverse("signup_sent")
    link = confirm_link(mail.outbox[-1])
    page = client.get(link)
    assert page.status_code == 200
    return client.post(link, {"next": page.context["next"]})


def test_signup_creates_an_inactive_account_and_emails_a_link(client):
    response = client.post(reverse("signup"), signup_data())
    assert response["Location"] == reverse("signup_sent")
    user = User.objects.get()
    assert user.username == user.email == "chloe@example.com"
    assert user.first_name == "Chloe"
    assert not user.is_active
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"]).content.decode()
    assert "Check your email" in page
    assert "already" not in page

    [message] = mail.outbox
    assert message.to == ["chloe@example.com"]
    assert message.subject == "Confirm your email for Postpartum Recovery"
    assert confirm_link(message) in message.alternatives[0].content


def test_the_emailed_link_confirms_her_address_and_logs_her_in(client):
    response = sign_up(client)
    user = User.objects.get()
    assert response["Location"] == reverse("home")
    assert user.is_active
    assert int(client.session["_auth_user_id"]) == user.pk
    assert client.get(reverse("account")).status_code == 200


def test_opening_the_link_confirms_nothing_until_she_presses_the_button(client):
    """A mail scanner that opens every link must not open her account."""
    client.post(reverse("signup"), signup_data())
    client.get(confirm_link(mail.outbox[0]))
    assert not User.objects.get().is_active
    assert "_auth_user_id" not in client.session


def test_the_link_works_once(client):
    sign_up(client)
    link = confirm_link(mail.outbox[0])
    client.logout()
    response = client.get(link)
    assert response.status_code == 400
    assert "expired or has already been used" in response.content.decode()
    assert client.post(link).status_code == 400
    assert "_auth_user_id" not in client.session


def test_a_tampered_link_is_refused(client):
    client.post(reverse("signup"), signup_data())
    link = confirm_link(mail.outbox[0])
    response = client.post(link[:-3] + "xx/")
    assert response.status_code == 400
    assert not User.objects.get().is_active


def test_an_unconfirmed_account_cannot_log_in(client):
    client.post(reverse("signup"), signup_data())
    response = client.post(
        reverse("login"), {"username": "chloe@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_signup_follows_a_safe_next(client, program):
    target = reverse("enrol", args=[program.slug])
    response = sign_up(client, next=target)
    assert response["Location"] == target


def test_signup_ignores_an_offsite_next(client):
    response = sign_up(client, next="https://evil.example/")
    assert response["Location"] == reverse("home")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "not-an-email"}, "Enter a valid email address"),
        ({"password2": "something-else-42"}, "didn’t match"),
        ({"password1": "short", "password2": "short"}, "too short"),
        ({"first_name": ""}, "This field is required"),
    ],
)
def test_bad_signup_gets_a_message_and_creates_nothing(client, overrides, message):
    response = client.post(reverse("signup"), signup_data(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.exists()
    assert mail.outbox == []


def test_signup_with_a_taken_email_looks_the_same_and_emails_the_owner(client, user):
    new = client.post(reverse("signup"), signup_data(email="new@example.com"))
    taken = client.post(reverse("signup"), signup_data(email="AMIRA@example.com"))
    assert taken.status_code == new.status_code == 302
    assert taken["Location"] == new["Location"] == reverse("signup_sent")
    assert User.objects.filter(email="amira@example.com").count() == 1
    user.refresh_from_db()
    assert user.check_password(PASSWORD)  # her account is untouched

    notice = mail.outbox[-1]
    assert notice.to == ["amira@example.com"]
    assert notice.subject == "Someone tried to sign up to Postpartum Recovery with your email"
    assert "http://127.0.0.1:8000/accounts/login/" in notice.body
    assert "http://127.0.0.1:8000/accounts/password_reset/" in notice.body
    html = notice.alternatives[0].content
    assert "/accounts/login/" in html and "/accounts/password_reset/" in html
    assert "/accounts/signup/confirm/" not in notice.body


def test_signing_up_again_before_confirming_sends_the_link_again(client):
    client.post(reverse("signup"), signup_data())
    client.post(
        reverse("signup"), signup_data(password1="x-other-pass-99", password2="x-other-pass-99")
    )
    assert User.objects.count() == 1
    assert len(mail.outbox) == 2
    assert confirm_link(mail.outbox[1])


def test_a_deactivated_account_is_not_reopened_by_signing_up(client, user):
    client.force_login(user)
    client.logout()  # she has logged in before
    User.objects.filter(pk=user.pk).update(is_active=False)
    client.post(reverse("signup"), signup_data(email=user.email))
    assert "/accounts/signup/confirm/" not in mail.outbox[-1].body


def test_sign_up_emails_are_throttled_per_address(client, user, settings):
    for n in range(30):
        response = client.post(
            reverse("signup"), signup_data(email=user.email), REMOTE_ADDR=f"198.51.100.{n}"
        )
        assert response["Location"] == reverse("signup_sent")
    assert len(mail.outbox) == settings.ACCOUNT_EMAIL_LIMITS["per_address"]


def test_login_with_email_in_any_case(client, user):
    response = client.post(
        reverse("login"), {"username": "Amira@Example.COM", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk


def test_login_with_a_wrong_password_fails(client, user):
    response = client.post(reverse("login"), {"username": user.email, "password": "wrong"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post(member):
    assert member.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in member.session


def test_password_reset_end_to_end(client, user):
    client.post(reverse("password_reset"), {"email": user.email})
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    link = re.search(r"https?://[^\s]+/reset/[^\s]+/", message.body).group(0)
    path = link.split("testserver", 1)[1]
    form_page = client.get(path, follow=True)
    new_password = "another-long-passphrase-77"
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    user.refresh_from_db()
    assert user.check_password(new_password)


def test_password_reset_for_an_unknown_email_sends_nothing_and_tells_nothing(client, db):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_thirty_password_resets_for_one_address_send_at_most_three(client, user):
    pages = set()
    for n in range(30):
        response = client.post(
            reverse("password_reset"), {"email": user.email}, REMOTE_ADDR=f"198.51.100.{n}"
        )
        pages.add((response.status_code, response["Location"]))
    assert len(mail.outbox) == 3
    assert pages == {(302, reverse("password_reset_done"))}  # the same answer every time


def test_thirty_password_resets_from_one_client_send_at_most_ten(client, db):
    for n in range(30):
        email = f"person{n}@example.com"
        User.objects.create_user(email, email, PASSWORD)
        response = client.post(reverse("password_reset"), {"email": email})
        assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 10


def test_the_reset_throttle_lifts_after_an_hour(client, user, clock):
    clock("2026-03-10 09:00")
    for _ in range(5):
        client.post(reverse("password_reset"), {"email": user.email})
    assert len(mail.outbox) == 3
    clock("2026-03-10 10:01")
    client.post(reverse("password_reset"), {"email": user.email})
    assert len(mail.outbox) == 4


def test_other_addresses_are_not_throttled_by_one_address(client, user, other_user):
    for _ in range(5):
        client.post(reverse("password_reset"), {"email": user.email}, REMOTE_ADDR="203.0.113.1")
    client.post(reverse("password_reset"), {"email": other_user.email}, REMOTE_ADDR="203.0.113.2")
    assert mail.outbox[-1].to == [other_user.email]
