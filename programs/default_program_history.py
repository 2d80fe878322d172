"""
What earlier versions of the default program shipped, so that loading a newer version can
tell a shipped value (safe to replace) from a value staff edited in the admin (kept).

`SHIPPED[n]` holds, for content version n, the value of each field that version n + 1
changed, and the rows that version n + 1 added. Fields not listed were the same as in the
next version.
"""

from __future__ import annotations

import copy
from typing import Any

from programs.default_program import CONTENT_VERSION, DEFAULT_PROGRAM, EXERCISES

SHIPPED: dict[int, dict[str, Any]] = {
    1: {
        "program": {},
        "stages": {
            "deep-core-heel-slides": {
                "ongoing": False,
                "description": "Your deep core is your breathing, your "
                "pelvic floor and the deep tummy muscle "
                "that wraps round you like a belt. "
                "Crunches and sit-ups work the outer "
                "muscles instead, so we leave them out.\n"
                "Now that you can breathe and let go, "
                "these small leg movements teach the deep "
                "core to switch on as you move. It will "
                "support every stage that follows.",
            },
            "hip-and-glute-mobility": {
                "goal": "Loosen tight hips, glutes and upper back so "
                "your pelvis can sit in neutral.",
                "description": "With your muscles relaxed and your deep "
                "core awake, the next step is room to "
                "move. Tight muscles at the front of the "
                "hip tip the pelvis forward and arch the "
                "lower back; a tight bottom can press on "
                "the sciatic nerve and send pain down "
                "the leg. Feeding and carrying round the "
                "upper back too.\n"
                "Stretches work best later in the day, "
                "for example before bed, when you are "
                "warm and can slow down.",
            },
            "hip-flexors": {
                "description": "Weak hip flexors let the pelvis tip forward, so "
                "the lower back over-arches and its muscles "
                "overwork, and that can add to sciatic pain. With "
                "your glutes stronger, now we balance the front of "
                "the hip.\n"
                "Keep it short and do it daily: about five minutes "
                "is plenty. A little every day beats a lot now and "
                "then."
            },
        },
        "exercises": {
            "pelvic-floor-lift-and-let-go": {
                "name": "Pelvic floor: lift and let go",
                "instructions": "Lie on your side or back, or "
                "sit tall, and take a few 360° "
                "breaths.\n"
                "As you breathe out, gently "
                "squeeze as if holding in "
                "wind, and lift up inside.\n"
                "Keep the lift soft and hold "
                "it for a few seconds while "
                "you keep breathing.\n"
                "Breathe in and let it all go, "
                "right down. Feel it drop and "
                "soften.\n"
                "Rest for a full breath before "
                "the next one.",
                "cues": "The letting go matters as much as the "
                "lift.\n"
                "Your bottom, thighs and jaw stay "
                "relaxed.\n"
                "Half effort is plenty.",
            },
            "heel-slide": {
                "instructions": "Lie on your back with knees bent and feet flat, "
                "pelvis in neutral.\n"
                "Breathe in to get ready.\n"
                "Breathe out, gently lift your pelvic floor and "
                "draw your lower tummy in a little.\n"
                "Slowly slide one heel along the floor until the "
                "leg is nearly straight.\n"
                "Breathe in as you slide it back.\n"
                "Swap legs.",
                "cues": "Your pelvis stays still, like a bowl of water you do "
                "not want to spill.\n"
                "Slide only as far as you can keep your back and tummy "
                "steady.\n"
                "Breathe out as you move.",
                "stop_if": "Your tummy domes, bulges or ridges up along the "
                "middle line\n"
                "Pain that is sharp, or that builds as you go\n"
                "Any leaking of wee or poo, or a sudden urge to rush "
                "to the toilet\n"
                "A heavy or dragging feeling low in your pelvis, or a "
                "bulge at your vagina",
            },
            "supported-toe-tap": {
                "stop_if": "Your tummy domes, bulges or ridges up along "
                "the middle line\n"
                "Pain that is sharp, or that builds as you go\n"
                "Any leaking of wee or poo, or a sudden urge "
                "to rush to the toilet\n"
                "A heavy or dragging feeling low in your "
                "pelvis, or a bulge at your vagina"
            },
            "pillow-squeeze": {
                "stop_if": "Pain that is sharp, or that builds as you go\n"
                "Pain at the front of your pubic bone\n"
                "Any leaking of wee or poo, or a sudden urge to "
                "rush to the toilet\n"
                "Your tummy domes, bulges or ridges up along the "
                "middle line"
            },
            "half-kneeling-hip-flexor-stretch": {
                "instructions": "Kneel on a cushion with "
                "one foot flat in front of "
                "you, both knees at right "
                "angles.\n"
                "Hold a chair or wall for "
                "balance if you like.\n"
                "Gently untuck your "
                "tailbone under you and "
                "squeeze the bottom on the "
                "kneeling side.\n"
                "Shift your weight forward "
                "a little until you feel a "
                "stretch at the front of "
                "the back hip.\n"
                "Hold and breathe slowly, "
                "then swap sides.",
                "cues": "Tall through your spine: no "
                "leaning back.\n"
                "A small shift forward is enough. "
                "The tuck does most of the work.\n"
                "A gentle stretch, never a "
                "strain.",
            },
            "glute-bridge": {
                "instructions": "Lie on your back with knees bent and feet "
                "flat, hip-width apart.\n"
                "Breathe in to get ready.\n"
                "Breathe out, lift your pelvic floor and press "
                "through your heels to lift your hips.\n"
                "Rise until your body makes a straight line "
                "from shoulders to knees.\n"
                "Pause at the top, then breathe in as you "
                "lower slowly.",
                "stop_if": "Your tummy domes, bulges or ridges up along the "
                "middle line\n"
                "Pain that is sharp, or that builds as you go\n"
                "Any leaking of wee or poo, or a sudden urge to "
                "rush to the toilet\n"
                "A heavy or dragging feeling low in your pelvis, or "
                "a bulge at your vagina\n"
                "Cramp in the back of your thigh",
            },
            "bridge-hold": {
                "instructions": "Set up as for the glute bridge.\n"
                "Breathe out and lift your hips into the "
                "bridge.\n"
                "Stay at the top and keep breathing slowly in "
                "and out.\n"
                "Lower slowly and rest before the next hold.\n"
                "When that feels easy, try gently marching: "
                "lift one foot a little, put it down, then the "
                "other.",
                "stop_if": "Your tummy domes, bulges or ridges up along the "
                "middle line\n"
                "Pain that is sharp, or that builds as you go\n"
                "Any leaking of wee or poo, or a sudden urge to rush "
                "to the toilet\n"
                "A heavy or dragging feeling low in your pelvis, or "
                "a bulge at your vagina\n"
                "Cramp in the back of your thigh",
            },
            "fire-hydrant": {
                "stop_if": "Your tummy domes, bulges or ridges up along the "
                "middle line\n"
                "Pain that is sharp, or that builds as you go\n"
                "Wrist pain (try resting on your fists)\n"
                "Any leaking of wee or poo, or a sudden urge to "
                "rush to the toilet"
            },
            "supine-march": {
                "cues": "Feel the front of the hip do the lifting.\n"
                "Your back stays quiet on the floor.\n"
                "Breathe out as the knee lifts.",
                "stop_if": "Your tummy domes, bulges or ridges up along the "
                "middle line\n"
                "Pain that is sharp, or that builds as you go\n"
                "Any leaking of wee or poo, or a sudden urge to "
                "rush to the toilet\n"
                "A heavy or dragging feeling low in your pelvis, or "
                "a bulge at your vagina",
            },
            "dead-bug": {
                "name": "Dead bug (easy version)",
                "instructions": "Lie on your back and lift both feet so your knees "
                "are over your hips, bent at right angles.\n"
                "Reach both arms up towards the ceiling.\n"
                "Breathe out, lift your pelvic floor and slowly "
                "lower one heel to tap the floor.\n"
                "Breathe in as you bring it back, then swap legs.\n"
                "When that is steady, lower the opposite arm "
                "overhead as the heel goes down.",
                "cues": "Only when heel slides and toe taps feel steady and calm.\n"
                "Your lower back stays gently on the floor the whole "
                "time.\n"
                "Stop the set as soon as your form goes. Quality over "
                "number.",
                "stop_if": "Your tummy domes, bulges or ridges up along the middle "
                "line\n"
                "Pain that is sharp, or that builds as you go\n"
                "Any leaking of wee or poo, or a sudden urge to rush to "
                "the toilet\n"
                "A heavy or dragging feeling low in your pelvis, or a "
                "bulge at your vagina\n"
                "You start holding your breath",
            },
            "hip-hinge-lift": {
                "stop_if": "Your tummy domes, bulges or ridges up along the "
                "middle line\n"
                "Pain that is sharp, or that builds as you go\n"
                "Any leaking of wee or poo, or a sudden urge to "
                "rush to the toilet\n"
                "A heavy or dragging feeling low in your pelvis, "
                "or a bulge at your vagina\n"
                "Pulling, pain or oozing at a caesarean scar"
            },
        },
        "prescriptions": {
            "breathing-and-reset/pelvic-floor-lift-and-let-go": {
                "reps": 8,
                "hold_seconds": 3,
                "note": "lift on the out-breath, then let go fully",
            },
            "breathing-and-reset/pelvic-rock": {"position": 3},
            "breathing-and-reset/stand-in-neutral": {"position": 4},
            "deep-core-heel-slides/heel-slide": {"days_per_week": 5},
            "deep-core-heel-slides/supported-toe-tap": {"days_per_week": 5},
            "deep-core-heel-slides/pillow-squeeze": {"days_per_week": 5},
        },
        "added": {
            "stages": [],
            "exercises": ["pelvic-floor-quick-squeezes", "tummy-gap-self-check", "marching-bridge"],
            "prescriptions": [
                "breathing-and-reset/pelvic-floor-quick-squeezes",
                "deep-core-heel-slides/tummy-gap-self-check",
                "glute-strength/marching-bridge",
            ],
        },
    },
}


def content_as_of(version: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The default program and its exercises as content version `version` shipped them,
    rebuilt from the current content by undoing each later version's changes."""
    data = copy.deepcopy(DEFAULT_PROGRAM)
    exercises = copy.deepcopy(EXERCISES)
    for later in range(CONTENT_VERSION - 1, version - 1, -1):
        record = SHIPPED[later]
        added = record["added"]
        data.update(record["program"])
        exercises = [e for e in exercises if e["slug"] not in added["exercises"]]
        for exercise in exercises:
            exercise.update(record["exercises"].get(exercise["slug"], {}))
        data["stages"] = [s for s in data["stages"] if s["slug"] not in added["stages"]]
        for stage in data["stages"]:
            stage.update(record["stages"].get(stage["slug"], {}))
            kept = []
            for item in stage["prescriptions"]:
                key = f"{stage['slug']}/{item['exercise']}"
                if key not in added["prescriptions"]:
                    item.update(record["prescriptions"].get(key, {}))
                    kept.append(item)
            stage["prescriptions"] = kept
    return data, exercises
