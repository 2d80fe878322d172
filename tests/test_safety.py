"""Red flags, pure."""

import pytest

from programs.safety import (
    NOT_HOLDING,
    URGENT_ADVICE,
    URGENT_SIGNS,
    WARNING_SIGNS,
    Tier,
    assess,
    assess_urgent,
    describe,
)


def test_no_signs_and_mild_pain_is_fine():
    result = assess(3)
    assert result.tier is Tier.NONE
    assert not result.holds_program


@pytest.mark.parametrize("sign", sorted(set(WARNING_SIGNS) - NOT_HOLDING))
def test_every_warning_sign_holds_the_program(sign):
    result = assess(0, warning_signs=[sign])
    assert result.tier is Tier.SEE_CLINICIAN
    assert result.reasons == (sign,)
    assert result.holds_program and result.hold_tier is Tier.SEE_CLINICIAN


def test_low_mood_is_tier_one_without_a_hold():
    result = assess(0, warning_signs=["low_mood"])
    assert result.tier is Tier.SEE_CLINICIAN and result.low_mood
    assert not result.holds_program
    assert result.hold_tier is Tier.NONE
    with_leaking = assess(0, warning_signs=["low_mood", "leaking"])
    assert with_leaking.holds_program and with_leaking.low_mood


@pytest.mark.parametrize("sign", sorted(URGENT_SIGNS))
def test_every_urgent_sign_is_tier_two_and_holds(sign):
    result = assess(0, urgent_signs=[sign])
    assert result.tier is Tier.URGENT
    assert result.holds_program and result.hold_tier is Tier.URGENT
    assert assess_urgent([sign]).reasons == (sign,)


def test_urgent_outranks_warning_signs_and_comes_first():
    result = assess(8, warning_signs=["leaking"], urgent_signs=["calf"])
    assert result.tier is Tier.URGENT
    assert result.reasons == ("calf", "leaking", "severe")
    assert result.urgent == ("calf",)
    assert result.warnings == ("leaking", "severe")


def test_thoughts_of_harm_alone_are_not_the_emergency_screen():
    harm = assess(0, urgent_signs=["harm"])
    assert harm.harm and not harm.emergency and harm.tier is Tier.URGENT
    both = assess(0, urgent_signs=["harm", "calf"])
    assert both.harm and both.emergency


# Stored codes keep their meaning: check-ins already saved use them.
STORED_BEFORE = {
    "worse": "worse",
    "leg": "leg",
    "numbness": "Numbness",
    "lingering": "months",
    "leaking": "Leaking",
    "heaviness": "Heaviness",
    "doming": "domes",
    "bleeding": "Bleeding",
    "after_exercise": "during or after",
    "heavy_bleeding": "heavy bleeding",
    "faint": "faint",
    "fever": "Fever",
    "headache": "headache",
    "calf": "calf",
    "breathless": "Breathlessness",
    "wound": "caesarean wound",
    "harm": "harming yourself or your baby",
}


@pytest.mark.parametrize(("code", "words"), sorted(STORED_BEFORE.items()))
def test_existing_codes_keep_their_meaning(code, words):
    assert words.lower() in describe(code).lower()


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("saddle_numbness", "numbness around your genitals or back passage"),
        ("cannot_pass_urine", "unable to pass urine"),
        ("bladder_bowel_control", "new loss of control of your bladder or bowels"),
        ("weak_legs", "weakness in both legs"),
        ("perineal_wound", "perineal wound"),
    ],
)
def test_the_signs_in_full_tier_two(code, words):
    assert words in URGENT_SIGNS[code].lower()


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("low_mood", "more than two weeks"),
        ("pelvic_girdle", "pubic bone"),
        ("sex_pain", "sex"),
    ],
)
def test_the_signs_in_full_tier_one(code, words):
    assert words in WARNING_SIGNS[code]


def test_every_urgent_sign_says_what_to_do_without_a_number():
    assert set(URGENT_ADVICE) == set(URGENT_SIGNS)
    for advice in URGENT_ADVICE.values():
        assert advice and not any(ch.isdigit() for ch in advice)


def test_changed_answers_escalate_only_with_something_new_or_more_serious():
    leaking = assess(0, warning_signs=["leaking"])
    assert not assess(2, warning_signs=["leaking"]).escalates(leaking)
    assert not assess(0).escalates(leaking)
    assert assess(0, warning_signs=["leaking", "heaviness"]).escalates(leaking)
    assert assess(0, urgent_signs=["calf"]).escalates(leaking)
    assert not assess(0, warning_signs=["low_mood"]).escalates(assess(0))
    assert assess(0, warning_signs=["leaking"]).escalates(assess(0, warning_signs=["low_mood"]))


def test_severe_pain_alone_is_tier_one():
    assert assess(7).reasons == ("severe",)
    assert assess(6).tier is Tier.NONE


def test_pain_rising_two_points_is_tier_one():
    assert assess(4, previous_pain=2).reasons == ("rising",)
    assert assess(3, previous_pain=2).tier is Tier.NONE
    assert assess(2, previous_pain=5).tier is Tier.NONE


def test_unknown_codes_are_ignored():
    assert assess(0, warning_signs=["made-up"], urgent_signs=["also-made-up"]).tier is Tier.NONE


def test_pain_outside_the_scale_is_refused():
    with pytest.raises(ValueError):
        assess(11)


def test_reasons_read_as_her_own_words():
    assert describe("leaking").startswith("Leaking")
    assert "7 or more" in describe("severe")
