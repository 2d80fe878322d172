"""
Which check-in answers are warning signs, and what each one means for her program.

Two tiers, from public postnatal guidance:
- Tier 1: hold new stages and see a pelvic-health physiotherapist or GP. Stages already open
  stay open, to be done gently or not at all; her coach is told.
- Tier 2: stop exercising and get urgent medical help now. The program is held and her coach is
  told urgently.

Plain data and one pure function; views, models and emails ask it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

SEVERE_PAIN = 7  # on the 0-10 scale, where 10 is the worst imaginable
PAIN_RISE = 2  # points up since her previous check-in that count as "getting worse"


class Tier(IntEnum):
    NONE = 0
    SEE_CLINICIAN = 1
    URGENT = 2


# Code -> what she ticks. The codes are stored; the words can change.
WARNING_SIGNS: dict[str, str] = {
    "worse": "My pain is worse than last week",
    "leg": "Pain spreading down a leg",
    "numbness": "Numbness or tingling in a leg or foot",
    "lingering": "Back or pelvic pain that has lasted for months",
    "leaking": "Leaking urine or faeces, or a strong urgency to go",
    "heaviness": "Heaviness or dragging in the pelvis, or a bulge",
    "doming": "My tummy domes or bulges down the middle during the exercises",
    "bleeding": "Bleeding that isn't a period, more than 8 weeks after birth",
    "after_exercise": "Any of these started or got worse during or after the exercises",
}

URGENT_SIGNS: dict[str, str] = {
    "heavy_bleeding": "Sudden or heavy bleeding",
    "faint": "Feeling faint or dizzy, or a racing heart",
    "fever": "Fever or shivering, tummy pain, or foul-smelling discharge",
    "headache": "A bad headache with changes in vision, or vomiting",
    "calf": "Pain, redness or swelling in one calf",
    "breathless": "Breathlessness or chest pain",
    "wound": "A caesarean wound that is red, swollen, oozing or smells",
    "harm": "Thoughts of harming yourself or your baby",
}

PAIN_SITES: dict[str, str] = {
    "low_back": "Lower back",
    "pelvis": "Pelvis",
    "hip": "Hip",
    "leg": "Down a leg",
}


@dataclass(frozen=True)
class Assessment:
    tier: Tier
    reasons: tuple[str, ...]  # codes from WARNING_SIGNS or URGENT_SIGNS, plus "severe"/"rising"

    @property
    def holds_program(self) -> bool:
        return self.tier >= Tier.SEE_CLINICIAN


def assess(
    pain: int,
    warning_signs: Iterable[str] = (),
    urgent_signs: Iterable[str] = (),
    previous_pain: int | None = None,
) -> Assessment:
    """Sort one check-in's answers into a tier, with the reasons in a stable order."""
    if not 0 <= pain <= 10:
        raise ValueError("pain is rated 0 to 10")
    urgent = [code for code in URGENT_SIGNS if code in set(urgent_signs)]
    if urgent:
        return Assessment(Tier.URGENT, tuple(urgent))
    reasons = [code for code in WARNING_SIGNS if code in set(warning_signs)]
    if pain >= SEVERE_PAIN:
        reasons.append("severe")
    if previous_pain is not None and pain - previous_pain >= PAIN_RISE:
        reasons.append("rising")
    return Assessment(Tier.SEE_CLINICIAN if reasons else Tier.NONE, tuple(reasons))


def describe(code: str) -> str:
    """Her own words for a reason code, for the page she sees after a check-in."""
    extra = {
        "severe": "Severe pain (7 or more out of 10)",
        "rising": f"Pain up {PAIN_RISE} or more points since your last check-in",
    }
    return WARNING_SIGNS.get(code) or URGENT_SIGNS.get(code) or extra.get(code, code)
