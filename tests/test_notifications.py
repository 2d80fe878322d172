"""Each kind of email is declared once, and everything else finds it there."""

from pathlib import Path

import pytest
from django.conf import settings

from programs import notifications
from programs.models import Enrolment, Notification

TEMPLATES = Path(settings.BASE_DIR) / "templates"


@pytest.mark.parametrize("kind", notifications.KINDS.values(), ids=str)
def test_every_kind_has_its_subject_text_and_html_templates(kind):
    for suffix in ("_subject.txt", ".txt", ".html"):
        assert (TEMPLATES / f"{kind.template}{suffix}").is_file()


def test_the_stored_kinds_are_the_declared_ones():
    field = Notification._meta.get_field("kind")
    assert [key for key, _ in field.choices] == list(notifications.KINDS)
    assert max(len(key) for key in notifications.KINDS) <= field.max_length


@pytest.mark.parametrize("preference", notifications.PREFERENCES.values(), ids=str)
def test_every_preference_is_a_field_of_hers_with_its_label(preference):
    field = Enrolment._meta.get_field(preference.field)
    assert field.verbose_name == preference.label
    assert field.default is True


def test_kinds_she_can_turn_off_are_hers_not_her_coachs():
    for kind in notifications.KINDS.values():
        if kind.preference is not None:
            assert not kind.to_coach


def test_freshness():
    from datetime import timedelta

    assert notifications.SESSION.is_stale(timedelta(hours=7))
    assert not notifications.SESSION.is_stale(timedelta(hours=5))
    assert not notifications.CHECKIN.is_stale(timedelta(days=3))


def test_an_undeclared_kind_is_refused():
    with pytest.raises(KeyError):
        notifications.kind("fax")
