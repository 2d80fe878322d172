"""
Which check-in answers are warning signs, and what each one means for her program.

Two tiers, from public postnatal guidance:
- Tier 1: hold new stages and see a pelvic-health physiotherapist or GP. Stages already open
  stay open, to be done gently or not at all; her coach is told. Low mood is tier 1 without a
  hold: she is gently pointed to her GP or health visitor, and her exercises go on.
- Tier 2: stop exercising and get urgent medical help now. The program is held and her coach is
  told urgently. Thoughts of harm are tier 2 too, met with warmth and a crisis line.

Plain data and pure functions; views, models and emails ask them.
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


# Code -> what she ticks. The codes are stored in her check-ins: never rename or reuse one;
# the words can change.
WARNING_SIGNS: dict[str, str] = {
    "worse": "My pain is worse than last week",
    "leg": "Pain spreading down a leg",
    "numbness": "Numbness or tingling in a leg or foot",
    "lingering": "Back or pelvic pain that has lasted for months",
    "leaking": "Leaking urine or faeces, or a strong urgency to go",
    "heaviness": "Heaviness or dragging in the pelvis, or a bulge",
    "doming": "My tummy domes or bulges down the middle during the exercises",
    "bleeding": "Bleeding that isn't a period, more than 8 weeks after birth",
    "pelvic_girdle": (
        "Pain in the pubic bone or around the pelvis when walking, turning in bed or on stairs"
    ),
    "sex_pain": "Pain during or after sex",
    "low_mood": "Feeling low, anxious or unable to cope on most days for more than two weeks",
    "after_exercise": "Any of these started or got worse during or after the exercises",
}

# Tier 1, but not a reason to stop exercising: pointed to her GP or health visitor instead.
NOT_HOLDING = frozenset({"low_mood"})

URGENT_SIGNS: dict[str, str] = {
    "heavy_bleeding": "Sudden or heavy bleeding",
    "faint": "Feeling faint or dizzy, or a racing heart",
    "fever": "Fever or shivering, tummy pain, or foul-smelling discharge",
    "headache": "A bad headache with changes in vision, or vomiting",
    "calf": "Pain, redness or swelling in one calf",
    "breathless": "Breathlessness or chest pain",
    "wound": "A caesarean wound that is red, swollen, oozing or smells",
    "perineal_wound": (
        "Stitches between the vagina and back passage (a perineal wound) that are more and more "
        "painful, red, swollen, oozing or smell"
    ),
    "saddle_numbness": "New numbness around your genitals or back passage",
    "cannot_pass_urine": "Being unable to pass urine",
    "bladder_bowel_control": "A new loss of control of your bladder or bowels",
    "weak_legs": "Weakness in both legs",
    "harm": "Thoughts of harming yourself or your baby",
}

HARM = "harm"

# What to do about each urgent sign, for the "Get help now" page. No numbers here: the page
# adds the deployment's own (settings.EMERGENCY_NUMBER, URGENT_ADVICE_LINE, CRISIS_LINE).
_EMERGENCY = "Stop and call emergency services now."
_MIDWIFE_NOW = "Contact your midwife or GP now; if you can't reach them, call emergency services."
_CAUDA_EQUINA = (
    "This can be a sign of pressure on the nerves at the base of the spine (cauda equina "
    "syndrome), especially with back or leg pain. It is an emergency: go to an emergency "
    "department or call emergency services now."
)
URGENT_ADVICE: dict[str, str] = {
    "heavy_bleeding": _EMERGENCY,
    "faint": _EMERGENCY,
    "fever": _MIDWIFE_NOW,
    "headache": _MIDWIFE_NOW,
    "calf": "This can be a blood clot. Contact your midwife or GP now, or call emergency services.",
    "breathless": _EMERGENCY,
    "wound": _MIDWIFE_NOW,
    "perineal_wound": _MIDWIFE_NOW,
    "saddle_numbness": _CAUDA_EQUINA,
    "cannot_pass_urine": _CAUDA_EQUINA,
    "bladder_bowel_control": _CAUDA_EQUINA,
    "weak_legs": _CAUDA_EQUINA,
    "harm": (
        "You are not in trouble, and you are not alone: many new mothers have these thoughts. "
        "Please talk to someone today: a crisis line, your GP or your midwife."
    ),
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
    # Codes from URGENT_SIGNS, then WARNING_SIGNS, then "severe"/"rising".
    reasons: tuple[str, ...]

    @property
    def urgent(self) -> tuple[str, ...]:
        return tuple(code for code in self.reasons if code in URGENT_SIGNS)

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(code for code in self.reasons if code not in URGENT_SIGNS)

    @property
    def emergency(self) -> bool:
        """A physical urgent sign: the plain "stop and get help now" screen comes first."""
        return any(code != HARM for code in self.urgent)

    @property
    def harm(self) -> bool:
        return HARM in self.reasons

    @property
    def low_mood(self) -> bool:
        return bool(NOT_HOLDING & set(self.reasons))

    @property
    def holds_program(self) -> bool:
        return bool(self.urgent) or any(code not in NOT_HOLDING for code in self.warnings)

    @property
    def hold_tier(self) -> Tier:
        """The tier of the hold these answers call for (NONE: no hold)."""
        if self.urgent:
            return Tier.URGENT
        return Tier.SEE_CLINICIAN if self.holds_program else Tier.NONE

    def escalates(self, before: Assessment) -> bool:
        """Raises more than `before` did: a sign it did not have, or a higher hold tier. Her
        changed answers alert again only then."""
        return self.hold_tier > before.hold_tier or (
            self.holds_program and not set(self.reasons) <= set(before.reasons)
        )


def assess(
    pain: int,
    warning_signs: Iterable[str] = (),
    urgent_signs: Iterable[str] = (),
    previous_pain: int | None = None,
) -> Assessment:
    """Sort one check-in's answers into a tier, with the reasons in a stable order: urgent
    signs first, then warning signs, then what her pain scores show."""
    if not 0 <= pain <= 10:
        raise ValueError("pain is rated 0 to 10")
    urgent_signs, warning_signs = set(urgent_signs), set(warning_signs)
    reasons = [code for code in URGENT_SIGNS if code in urgent_signs]
    reasons += [code for code in WARNING_SIGNS if code in warning_signs]
    if pain >= SEVERE_PAIN:
        reasons.append("severe")
    if previous_pain is not None and pain - previous_pain >= PAIN_RISE:
        reasons.append("rising")
    if any(code in URGENT_SIGNS for code in reasons):
        tier = Tier.URGENT
    else:
        tier = Tier.SEE_CLINICIAN if reasons else Tier.NONE
    return Assessment(tier, tuple(reasons))


def assess_urgent(signs: Iterable[str]) -> Assessment:
    """Urgent signs reported on their own, outside a weekly check-in."""
    signs = set(signs)
    reasons = tuple(code for code in URGENT_SIGNS if code in signs)
    return Assessment(Tier.URGENT if reasons else Tier.NONE, reasons)


def describe(code: str) -> str:
    """Her own words for a reason code, for the page she sees after a check-in."""
    extra = {
        "severe": "Severe pain (7 or more out of 10)",
        "rising": f"Pain up {PAIN_RISE} or more points since your last check-in",
    }
    return WARNING_SIGNS.get(code) or URGENT_SIGNS.get(code) or extra.get(code, code)
