"""Red flags, pure."""

import pytest

from programs.safety import URGENT_SIGNS, WARNING_SIGNS, Tier, assess, describe


def test_no_signs_and_mild_pain_is_fine():
    result = assess(3)
    assert result.tier is Tier.NONE
    assert not result.holds_program


@pytest.mark.parametrize("sign", sorted(WARNING_SIGNS))
def test_every_warning_sign_holds_the_program(sign):
    result = assess(0, warning_signs=[sign])
    assert result.tier is Tier.SEE_CLINICIAN
    assert result.reasons == (sign,)


@pytest.mark.parametrize("sign", sorted(URGENT_SIGNS))
def test_every_urgent_sign_is_tier_two(sign):
    assert assess(0, urgent_signs=[sign]).tier is Tier.URGENT


def test_urgent_outranks_warning_signs():
    result = assess(8, warning_signs=["leaking"], urgent_signs=["calf"])
    assert result.tier is Tier.URGENT
    assert result.reasons == ("calf",)


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
