"""The start and end pose of each default exercise, keyed by its slug, with words for the
movement (the figure's alt text). Poses follow the instructions in programs/default_program.py.

Lying figures have the head on the left and the feet on the right; everyone else faces right.
"""

from __future__ import annotations

import math
from functools import cache

from programs.figures import (
    LYING,
    ON_FLOOR,
    SHIN,
    THIGH,
    TRUNK,
    Figure,
    Limb,
    Pose,
    angle_to,
    arm_to,
    leg_to,
    shoulder_of,
    step,
    svg,
)

ARM_BY_SIDE = Limb(-3, -1)  # lying, resting on the floor along the body
ARM_HANGING = Limb(-94, -80)
FEET = 24.0  # lying with knees bent: how far in front of the hip the feet rest
STAND = ON_FLOOR + THIGH + SHIN - 0.8  # hip height standing, knees soft
KNEEL = ON_FLOOR + THIGH  # hip height with a thigh upright on a knee on the floor
SEAT = 26.0  # hip height sitting on a chair


def lying(**parts) -> Pose:
    hip = parts.pop("hip", (0.0, LYING))
    bent = leg_to(hip, (hip[0] + FEET, ON_FLOOR))
    values = {
        "stance": "lying",
        "hip": hip,
        "trunk": 180.0,
        "head": 166.0,
        "near_arm": ARM_BY_SIDE,
        "far_arm": ARM_BY_SIDE,
        "near_leg": bent,
        "far_leg": bent,
    }
    values.update(parts)
    return Pose(**values)


def standing(hip=(0.0, STAND), trunk=90.0, **parts) -> Pose:
    leg = leg_to(hip, (0.0, ON_FLOOR))
    values = {
        "stance": "standing",
        "hip": hip,
        "trunk": trunk,
        "head": trunk,
        "near_arm": ARM_HANGING,
        "far_arm": ARM_HANGING,
        "near_leg": leg,
        "far_leg": leg,
    }
    values.update(parts)
    return Pose(**values)


def sitting(trunk=92.0, **parts) -> Pose:
    hip = (0.0, SEAT)
    leg = leg_to(hip, (22.0, ON_FLOOR))
    shoulder = shoulder_of(hip, trunk)
    hands = arm_to(shoulder, (16.0, SEAT + 3))
    values = {
        "stance": "sitting",
        "hip": hip,
        "trunk": trunk,
        "head": trunk,
        "near_arm": hands,
        "far_arm": hands,
        "near_leg": leg,
        "far_leg": leg,
        "props": ("chair",),
    }
    values.update(parts)
    return Pose(**values)


def on_knee(knee_x: float, thigh: float) -> tuple[float, float]:
    """The hip of a thigh at angle `thigh` (hip to knee) whose knee rests on the floor."""
    return step((knee_x, ON_FLOOR), thigh + 180, THIGH)


def kneeling_leg(thigh: float) -> Limb:
    """Knee on the floor, shin and foot flat behind it."""
    return Limb(thigh, 180.0, 180.0)


def side_lying(**parts) -> Pose:
    # The body plane is the floor: angles point towards the feet (0) or her front (90).
    legs = Limb(45.0, -45.0, 0.0)
    arms = Limb(80.0, 85.0)
    values = {
        "stance": "side-lying",
        "hip": (0.0, 0.0),
        "trunk": 180.0,
        "head": 180.0,
        "near_arm": arms,
        "far_arm": Limb(75.0, 95.0),
        "near_leg": legs,
        "far_leg": legs,
        "elevation": 28.0,
    }
    values.update(parts)
    return Pose(**values)


def bridge_top(shoulder, ankle) -> Pose:
    """Hips lifted until shoulders, hips and knees make one straight line; feet stay put."""
    reach = TRUNK + THIGH
    dx, dy = ankle[0] - shoulder[0], ankle[1] - shoulder[1]
    d = math.hypot(dx, dy)
    along = (reach**2 - SHIN**2 + d**2) / (2 * d)
    up = math.sqrt(max(reach**2 - along**2, 0.0))
    knee = (
        shoulder[0] + (along * dx - up * dy) / d,
        shoulder[1] + (along * dy + up * dx) / d,
    )
    hip = (
        shoulder[0] + (knee[0] - shoulder[0]) * TRUNK / reach,
        shoulder[1] + (knee[1] - shoulder[1]) * TRUNK / reach,
    )
    leg = leg_to(hip, ankle)
    return lying(hip=hip, trunk=angle_to(hip, shoulder), near_leg=leg, far_leg=leg)


def _figures() -> dict[str, Figure]:
    f: dict[str, Figure] = {}
    lie = lying()
    shoulder = shoulder_of(lie.hip, lie.trunk)

    def add(slug: str, start: Pose, end: Pose, alt: str) -> None:
        f[slug] = Figure(slug, start, end, alt)

    # Stage 1
    belly, ribs = (-8.0, 9.0), (-17.0, 10.0)
    add(
        "360-breathing",
        lying(near_arm=arm_to(shoulder, belly, 1), far_arm=arm_to(shoulder, ribs, 1)),
        lying(
            near_arm=arm_to(shoulder, (belly[0], belly[1] + 2.5), 1),
            far_arm=arm_to(shoulder, (ribs[0], ribs[1] + 2.5), 1),
            curve=1.6,
        ),
        "Lying on her back, knees bent, one hand on her ribs and one on her belly: "
        "her ribs and belly rise as she breathes in and settle as she breathes out.",
    )
    thighs = arm_to(shoulder_of((0.0, SEAT), 92.0), (14.0, SEAT + 2))
    add(
        "pelvic-floor-lift-and-let-go",
        sitting(near_arm=thighs, far_arm=thighs),
        sitting(near_arm=thighs, far_arm=thighs, curve=0.6),
        "Sitting tall on a chair, hands resting on her thighs, breathing easily: she gently "
        "lifts her pelvic floor as she breathes out, then lets it go completely.",
    )
    add(
        "pelvic-floor-quick-squeezes",
        sitting(near_arm=thighs, far_arm=thighs),
        sitting(near_arm=thighs, far_arm=thighs, curve=0.6),
        "Sitting tall on a chair, hands resting on her thighs: she squeezes and lifts her "
        "pelvic floor quickly, then lets it go at once, fully, before the next one.",
    )
    fingers = (-12.0, 9.5)
    add(
        "tummy-gap-self-check",
        lying(near_arm=arm_to(shoulder, fingers, 1), far_arm=arm_to(shoulder, fingers, 1)),
        lying(
            near_arm=arm_to(shoulder, fingers, 1),
            far_arm=arm_to(shoulder, fingers, 1),
            head=122.0,
        ),
        "Lying on her back, knees bent, fingertips across the middle of her tummy: she "
        "breathes out and lifts only her head a little to feel for a gap, then lowers it.",
    )
    add(
        "pelvic-rock",
        lying(curve=-1.2),
        lying(curve=0.3),
        "Lying on her back, knees bent and feet flat: she rocks her pelvis gently, so her "
        "lower back presses into the floor and then lifts a little, and settles in between.",
    )
    add(
        "stand-in-neutral",
        standing(hip=(3.0, STAND + 0.6), trunk=98.0, head=92.0),
        standing(),
        "Standing: from hips pushed forward and tailbone tucked under, she lets her bottom "
        "sit behind her, ribs stacked over her pelvis, knees soft, standing tall.",
    )

    # Stage 2
    add(
        "heel-slide",
        lying(),
        lying(near_leg=leg_to(lie.hip, (lie.hip[0] + 46.3, ON_FLOOR))),
        "Lying on her back, knees bent and feet flat: she slides one heel along the floor "
        "until that leg is nearly straight, then slides it back.",
    )
    tabletop = Limb(90.0, -2.0, 45.0)
    add(
        "supported-toe-tap",
        lying(near_leg=tabletop),
        lying(near_leg=leg_to(lie.hip, (lie.hip[0] + 24.0, ON_FLOOR + 5.5), end=-50.0)),
        "Lying on her back, one foot on the floor and the other leg lifted with the knee over "
        "the hip: she slowly lowers that foot to tap the toes on the floor, then lifts it back.",
    )
    add(
        "pillow-squeeze",
        lying(props=("ball",)),
        lying(props=("ball-squeezed",), curve=0.3),
        "Lying on her back, knees bent with a pillow between them: she gently squeezes the "
        "pillow as she breathes out, then lets go.",
    )

    # Stage 3
    knee_x = 0.0
    back = on_knee(knee_x, -90.0)
    shifted = on_knee(knee_x, -102.0)

    def half_kneeling(hip) -> Pose:
        hands = arm_to(shoulder_of(hip, 90.0), (hip[0] + 5, hip[1] + 5))
        return Pose(
            stance="kneeling",
            hip=hip,
            trunk=90.0,
            head=90.0,
            near_arm=hands,
            far_arm=hands,
            near_leg=leg_to(hip, (26.0, ON_FLOOR)),
            far_leg=kneeling_leg(angle_to(hip, (knee_x, ON_FLOOR))),
            props=("cushion",),
        )

    add(
        "half-kneeling-hip-flexor-stretch",
        half_kneeling(back),
        half_kneeling(shifted),
        "Kneeling on one knee on a cushion, the other foot flat in front, body upright: she "
        "shifts her hips a little forward, staying tall, to stretch the front of the back hip.",
    )
    far_planted = leg_to(lie.hip, (lie.hip[0] + FEET, ON_FLOOR))
    far_knee = step(lie.hip, far_planted.upper, THIGH)
    crossed = leg_to(lie.hip, (far_knee[0] + 6, far_knee[1] + 3), end=10.0, turn=90.0)
    pulled = Limb(112.0, 10.0, 20.0)
    pulled_knee = step(lie.hip, pulled.upper, THIGH)
    hands = arm_to(shoulder, (pulled_knee[0] - 8, pulled_knee[1] - 4), 1)
    add(
        "figure-4-stretch",
        lying(near_leg=crossed, far_leg=far_planted, elevation=25.0),
        lying(
            near_leg=leg_to(lie.hip, (pulled_knee[0] + 6, pulled_knee[1] + 3), end=10.0, turn=90.0),
            far_leg=pulled,
            near_arm=hands,
            far_arm=hands,
            elevation=25.0,
        ),
        "Lying on her back with one ankle crossed over the other knee: she draws the lower "
        "thigh gently towards her, hands behind it, to stretch the buttock of the crossed leg.",
    )
    fours = on_knee(0.0, -90.0)
    folded = on_knee(0.0, -28.0)
    shin_back = Limb(-90.0, 180.0, 180.0)
    add(
        "childs-pose",
        Pose(
            stance="all-fours",
            hip=fours,
            trunk=10.0,
            head=-5.0,
            near_arm=arm_to(shoulder_of(fours, 10.0), (31.5, ON_FLOOR)),
            far_arm=arm_to(shoulder_of(fours, 10.0), (31.5, ON_FLOOR)),
            near_leg=shin_back,
            far_leg=shin_back,
        ),
        Pose(
            stance="all-fours",
            hip=folded,
            trunk=-6.0,
            head=-32.0,
            near_arm=arm_to(shoulder_of(folded, -6.0), (40.0, ON_FLOOR), 1),
            far_arm=arm_to(shoulder_of(folded, -6.0), (40.0, ON_FLOOR), 1),
            near_leg=kneeling_leg(-28.0),
            far_leg=kneeling_leg(-28.0),
        ),
        "Kneeling on all fours: she sits back towards her heels and walks her hands forward, "
        "resting her forehead down, and breathes into her back.",
    )
    add(
        "open-book",
        side_lying(),
        side_lying(near_arm=Limb(80.0, 85.0, lift=150.0), head=160.0),
        "Lying on her side, knees bent and stacked, arms out in front: she sweeps the top arm "
        "up and over to open her chest to the ceiling, then brings it back.",
    )

    # Stage 4
    feet = (lie.hip[0] + 22.0, ON_FLOOR)
    bridged = bridge_top(shoulder, feet)
    flat = leg_to(lie.hip, feet)
    add(
        "glute-bridge",
        lying(near_leg=flat, far_leg=flat),
        bridged,
        "Lying on her back, knees bent and feet flat: she presses through her heels and lifts "
        "her hips until shoulders, hips and knees make a straight line, then lowers slowly.",
    )
    add(
        "bridge-hold",
        lying(near_leg=flat, far_leg=flat),
        bridged,
        "Lying on her back, knees bent: she lifts her hips into a bridge, a straight line from "
        "shoulders to knees, and stays there breathing slowly before lowering.",
    )
    marching = leg_to(bridged.hip, (feet[0] - 2.0, ON_FLOOR + 7.0), end=10.0)
    add(
        "marching-bridge",
        bridged,
        Pose(**{**bridged.__dict__, "near_leg": marching}),
        "Holding a bridge, hips level in a straight line from shoulders to knees: she lifts "
        "one foot just off the floor and puts it down, then the other.",
    )
    add(
        "clamshell",
        side_lying(),
        side_lying(near_leg=Limb(45.0, -45.0, 0.0, turn=-50.0)),
        "Lying on her side, hips and knees bent, feet together: she opens her top knee like "
        "a clamshell, keeping her pelvis still, and lowers it slowly.",
    )
    all_fours = Pose(
        stance="all-fours",
        hip=fours,
        trunk=10.0,
        head=0.0,
        near_arm=arm_to(shoulder_of(fours, 10.0), (31.5, ON_FLOOR)),
        far_arm=arm_to(shoulder_of(fours, 10.0), (31.5, ON_FLOOR)),
        near_leg=shin_back,
        far_leg=shin_back,
    )
    add(
        "fire-hydrant",
        all_fours,
        Pose(**{**all_fours.__dict__, "near_leg": Limb(-90.0, 180.0, 180.0, lift=-55.0)}),
        "On all fours with a long, flat back: she lifts one bent knee out to the side, "
        "keeping her body still, and lowers it.",
    )

    # Stage 5
    add(
        "supine-march",
        lying(),
        lying(near_leg=Limb(90.0, -8.0, 30.0)),
        "Lying on her back, knees bent and feet flat: she floats one foot up until the knee is "
        "over the hip, lowers it with control, then swaps legs like a slow march.",
    )
    counter = arm_to(shoulder_of((0.0, STAND), 90.0), (20.0, 58.0))
    add(
        "standing-knee-lift",
        standing(near_arm=counter, props=("counter",)),
        standing(near_arm=counter, near_leg=Limb(-8.0, -98.0, 0.0), props=("counter",)),
        "Standing tall with one hand on a counter: she raises one knee towards hip height "
        "without leaning back, holds it, and lowers it slowly.",
    )
    tabletop_bug = Limb(90.0, 0.0, 70.0)
    arms_up = Limb(90.0, 90.0)
    add(
        "dead-bug",
        lying(near_leg=tabletop_bug, near_arm=arms_up, far_arm=arms_up),
        lying(
            near_leg=leg_to(lie.hip, (lie.hip[0] + 40.0, ON_FLOOR + 12.0), end=30.0),
            near_arm=arms_up,
            far_arm=Limb(160.0, 170.0),
        ),
        "Lying on her back, one foot on the floor, the other knee over the hip and both arms "
        "reaching up: she slowly reaches that heel away, and, when that is steady, the "
        "opposite arm overhead, then brings them back. One leg at a time.",
    )

    # Stage 6
    low_hip = (-14.0, 27.0)
    add(
        "hip-hinge-lift",
        standing(
            hip=low_hip,
            trunk=26.0,
            head=35.0,
            near_arm=arm_to(shoulder_of(low_hip, 26.0), (12.0, 12.0)),
            far_arm=arm_to(shoulder_of(low_hip, 26.0), (12.0, 12.0)),
            near_leg=leg_to(low_hip, (0.0, ON_FLOOR)),
            far_leg=leg_to(low_hip, (0.0, ON_FLOOR)),
            props=("load",),
        ),
        standing(
            near_arm=arm_to(shoulder_of((0.0, STAND), 90.0), (9.0, 60.0)),
            far_arm=arm_to(shoulder_of((0.0, STAND), 90.0), (9.0, 60.0)),
            props=("load",),
        ),
        "Standing close to a basket on the floor: she pushes her bottom back and bends her "
        "knees, back long, to hold it, then stands up pushing through her heels, the basket "
        "held close to her body.",
    )
    leaning = (4.0, STAND + 0.5)
    add(
        "carry-with-your-arms",
        standing(
            hip=leaning,
            trunk=102.0,
            head=95.0,
            near_arm=arm_to(shoulder_of(leaning, 102.0), (10.0, 55.0)),
            far_arm=arm_to(shoulder_of(leaning, 102.0), (10.0, 55.0)),
            props=("baby",),
        ),
        standing(
            near_arm=arm_to(shoulder_of((0.0, STAND), 90.0), (9.0, 66.0)),
            far_arm=arm_to(shoulder_of((0.0, STAND), 90.0), (9.0, 66.0)),
            props=("baby",),
        ),
        "Standing with a baby: instead of leaning back with the baby propped on her tummy, "
        "she stands tall, ribs over hips, and holds the baby close to her chest with her arms.",
    )
    add(
        "sit-tall-to-feed",
        sitting(
            trunk=68.0,
            head=35.0,
            curve=-1.5,
            near_arm=arm_to(shoulder_of((0.0, SEAT), 68.0), (18.0, SEAT + 6)),
            far_arm=arm_to(shoulder_of((0.0, SEAT), 68.0), (18.0, SEAT + 6)),
            props=("chair", "baby"),
        ),
        sitting(
            near_arm=arm_to(shoulder_of((0.0, SEAT), 92.0), (12.0, SEAT + 20)),
            far_arm=arm_to(shoulder_of((0.0, SEAT), 92.0), (12.0, SEAT + 20)),
            props=("chair", "baby"),
        ),
        "Sitting on a chair with a baby: from slumped forward over the baby on her lap, she "
        "sits right back and tall, and brings the baby up to her chest.",
    )
    return f


FIGURES: dict[str, Figure] = _figures()


def figure_for(slug: str) -> Figure | None:
    return FIGURES.get(slug)


@cache
def svg_for(slug: str) -> str | None:
    """The drawing for an exercise's slug, or None for an exercise with no poses (one made in
    the admin, say). The same slug always draws the same SVG, so it is drawn once."""
    figure = FIGURES.get(slug)
    return svg(figure) if figure else None
