"""Short everyday-guidance pages: getting up, bladder habits, scar care, walking, and what
comes after the program. General information for anyone, so no log-in and no health data."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404
from django.shortcuts import render

from programs.default_program import RELIEF_TIPS


@dataclass(frozen=True)
class Guide:
    slug: str
    title: str
    summary: str

    @property
    def template(self) -> str:
        return f"programs/guide_{self.slug.replace('-', '_')}.html"


GUIDES = (
    Guide(
        "getting-up",
        "Getting up and down",
        "Roll onto your side to get out of bed or up from the floor, and what doming means.",
    ),
    Guide(
        "bladder",
        "Bladder and bowel habits",
        "No straining, no trips just in case, and the knack before a cough or a sneeze.",
    ),
    Guide(
        "scar-care",
        "Caring for a caesarean scar",
        "Keeping it comfortable while it heals, and gentle scar massage once it has.",
    ),
    Guide(
        "walking",
        "A walking plan",
        "Start short and flat, and add a little each week.",
    ),
    Guide(
        "after-the-program",
        "After the program",
        "Keeping it up, and when running and jumping can come next.",
    ),
)
BY_SLUG = {guide.slug: guide for guide in GUIDES}


def guide_list(request):
    return render(request, "programs/guides.html", {"guides": GUIDES, "tips": RELIEF_TIPS})


def guide(request, slug):
    found = BY_SLUG.get(slug)
    if found is None:
        raise Http404("No such guide.")
    return render(request, found.template, {"guide": found, "guides": GUIDES})
