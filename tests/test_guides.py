"""The everyday-guidance pages and the relief tips, where she can find them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from programs.default_program import RELIEF_TIPS
from programs.views.guides import GUIDES
from tests.test_security import assert_nothing_inline

# A phrase each guide must carry, from the content brief.
MUST_SAY = {
    "getting-up": ["roll onto your side", "breathe out", "pelvic-health physiotherapist"],
    "bladder": ["just in case", "straining", "The knack", "pain with sex"],
    "scar-care": ["scar massage", "red, swollen", "Lift nothing heavier than your baby"],
    "walking": ["5 to 10 minutes", "Add about 5 minutes", "About 30 minutes"],
    "after-the-program": ["three months", "load and impact tests", "sex is painful"],
}


def test_every_guide_is_listed_and_covered():
    assert {g.slug for g in GUIDES} == set(MUST_SAY)


@pytest.mark.django_db
def test_the_guide_list_links_each_guide_and_shows_the_relief_tips(client):
    response = client.get(reverse("guides"))
    assert_nothing_inline("guides", response)
    content = response.content.decode()
    for guide in GUIDES:
        assert reverse("guide", args=[guide.slug]) in content
        assert guide.title in content
    for tip in RELIEF_TIPS:
        assert tip.replace("'", "&#x27;") in content


@pytest.mark.django_db
@pytest.mark.parametrize("slug", sorted(MUST_SAY))
def test_each_guide_says_what_it_must_without_logging_in(client, slug):
    response = client.get(reverse("guide", args=[slug]))
    assert_nothing_inline(slug, response)
    content = response.content.decode()
    for phrase in MUST_SAY[slug]:
        assert phrase.lower() in content.lower(), phrase
    assert reverse("guides") in content
    assert reverse("help") in content


@pytest.mark.django_db
def test_an_unknown_guide_is_not_found(client):
    assert client.get(reverse("guide", args=["no-such-guide"])).status_code == 404


@pytest.mark.django_db
def test_the_guides_mention_no_running_inside_the_program_only_after_it(client):
    for guide in GUIDES:
        content = client.get(reverse("guide", args=[guide.slug])).content.decode().lower()
        if guide.slug != "after-the-program":
            assert "running" not in content, guide.slug


@pytest.mark.django_db
def test_today_shows_the_relief_tips_and_links_the_guides(member, make_enrolment, clock):
    enrolment = make_enrolment()
    clock("2026-03-10 09:00", "Europe/London")
    content = member.get(reverse("today", args=[enrolment.pk])).content.decode()
    assert "Sore back? Quick relief" in content
    assert "Rest in child&#x27;s pose" in content
    assert f'href="{reverse("guides")}"' in content


@pytest.mark.django_db
def test_the_program_page_links_the_guides(client, program):
    content = client.get(program.get_absolute_url()).content.decode()
    assert f'href="{reverse("guides")}"' in content
