"""
The default program, shipped as plain data and loaded by `programs.loading.load_program`.

Stages refer to exercises by slug; `EXERCISES` holds each exercise once, even when two stages
prescribe it. Text fields that the app shows as lists (instructions, cues, stop_if) are one
item a line.

The content is versioned. To change it: record each field's current value in
`programs.default_program_history` under the current `CONTENT_VERSION`, then edit it here and
raise `CONTENT_VERSION`. `manage.py load_default_program` then brings an install up to date,
field by field, wherever staff have not edited the shipped value in the admin.
"""

from __future__ import annotations

from typing import Any

CONTENT_VERSION = 2


def _lines(*lines: str) -> str:
    """Join lines into the one-item-a-line text the models store."""
    return "\n".join(lines)


# Warning signs shared by many exercises. Each exercise lists the ones that fit it.
SHARP_PAIN = "Pain that is sharp, or that builds as you go"
LEAKING = "Any leaking of wee or poo, or a sudden urge to rush to the toilet"
HEAVINESS = "A heavy or dragging feeling low in your pelvis, or a bulge at your vagina"
DOMING = (
    "Your tummy still domes, bulges or ridges up along the middle line after you make the "
    "move smaller and breathe out on the effort"
)
LEG_NERVE = "Pain, tingling or numbness that runs down a leg"
DIZZY = "You feel dizzy, faint or short of breath"
SCAR = "Pulling, pain or oozing at a caesarean scar"


EXERCISES: list[dict[str, Any]] = [
    # Stage 1: breathing and reset (open before clearance: nothing loaded here)
    {
        "slug": "360-breathing",
        "name": "360° breathing",
        "instructions": _lines(
            "Lie on your back with knees bent, or sit tall on a firm chair.",
            "Rest one hand on your ribs and one on your belly.",
            "Breathe in slowly through your nose and let your ribs widen to the front, "
            "sides and back.",
            "Let your tummy and pelvic floor soften and drop as the air comes in.",
            "Breathe out gently through your mouth, as if fogging a mirror.",
            "Let your ribs settle back down. Rest, then take the next breath.",
        ),
        "cues": _lines(
            "Think of your ribs opening like an umbrella, all the way round.",
            "Your shoulders stay soft and low.",
            "Slow and easy. There is nothing to push.",
        ),
        "stop_if": _lines(DIZZY, SHARP_PAIN, HEAVINESS),
        "timing": "any",
        "video_url": "",
    },
    {
        "slug": "pelvic-floor-lift-and-let-go",
        "name": "Pelvic floor: slow squeezes",
        "instructions": _lines(
            "Lie on your side or back, or sit tall, and take a few 360° breaths.",
            "As you breathe out, squeeze as if holding in wind and a wee, and lift up inside.",
            "Hold the lift while you keep breathing: only as long as you can hold it well.",
            "Breathe in and let it all go, right down. Feel it drop and soften.",
            "Rest for a full breath before the next one.",
            "Start with what you can do, even 3 seconds and a few squeezes. Add a second or "
            "a squeeze every few days, working up over the weeks to 10 squeezes of 10 seconds.",
            "Do a round about 3 times a day: for example at a feed, at a nappy change and in bed.",
        ),
        "cues": _lines(
            "The letting go matters as much as the lift.",
            "Your bottom, thighs and jaw stay relaxed.",
            "When the squeeze fades, stop the hold there: a short good one beats a long weak one.",
        ),
        "stop_if": _lines(SHARP_PAIN, HEAVINESS, LEAKING),
        "timing": "any",
        "video_url": "",
    },
    {
        "slug": "pelvic-floor-quick-squeezes",
        "name": "Pelvic floor: quick squeezes and the knack",
        "instructions": _lines(
            "Sit tall, stand or lie on your side, after your slow squeezes.",
            "Squeeze and lift your pelvic floor quickly and firmly, then let it go at once.",
            "Let it relax fully before the next one.",
            "Work up over the weeks to 10 quick squeezes, about 3 times a day.",
            "Then use it: squeeze and lift just before you cough, sneeze, laugh or lift your "
            "baby, and hold until it is over. This is called the knack.",
        ),
        "cues": _lines(
            "Quick up, full let-go, every time.",
            "Keep breathing: no holding your breath.",
            "The knack becomes a habit with practice: cough, squeeze first.",
        ),
        "stop_if": _lines(SHARP_PAIN, HEAVINESS, LEAKING),
        "timing": "any",
        "video_url": "",
    },
    {
        "slug": "pelvic-rock",
        "name": "Gentle pelvic rock, lying down",
        "instructions": _lines(
            "Lie on your back with knees bent and feet flat, hip-width apart.",
            "Gently rock your pelvis so your lower back presses into the floor.",
            "Then rock the other way so a small gap opens under your lower back.",
            "Make the rocks smaller and smaller, and settle halfway between the two.",
            "That middle spot is your neutral pelvis. Rest there and breathe.",
        ),
        "cues": _lines(
            "Tiny movements. No lifting your bottom off the floor.",
            "Your glutes stay soft: no clenching.",
            "Breathe out as you rock, breathe in as you settle.",
        ),
        "stop_if": _lines(SHARP_PAIN, LEG_NERVE, SCAR),
        "timing": "any",
        "video_url": "",
    },
    {
        "slug": "stand-in-neutral",
        "name": "Standing tall in neutral",
        "instructions": _lines(
            "Stand with your feet hip-width apart and your knees soft, not locked.",
            "Let your bottom relax and untuck your tailbone, so your bottom sits behind you.",
            "Stack your ribs over your pelvis: not flared up, not slumped down.",
            "Let your weight rest through the middle of your feet.",
            "Grow tall through the top of your head and take a few easy breaths.",
        ),
        "cues": _lines(
            "Bottom behind you, ribs over hips.",
            "If your glutes are clenched, let them go.",
            "Check in whenever you are standing still: at the kettle, at the changing table.",
        ),
        "stop_if": _lines(SHARP_PAIN, DIZZY, HEAVINESS),
        "timing": "any",
        "video_url": "",
    },
    # Stage 2: deep core
    {
        "slug": "heel-slide",
        "name": "Heel slides",
        "instructions": _lines(
            "Lie on your back with knees bent and feet flat, pelvis in neutral.",
            "Breathe in to get ready.",
            "Breathe out, gently lift your pelvic floor and draw your lower tummy in a little.",
            "Slowly slide one heel along the floor until the leg is nearly straight.",
            "Breathe in as you slide it back.",
            "Swap legs. When you have finished, roll onto your side to get up.",
        ),
        "cues": _lines(
            "Your pelvis stays still, like a bowl of water you do not want to spill.",
            "Slide only as far as you can keep your back and tummy steady.",
            "If your tummy domes along the middle, slide less far and breathe out as you move.",
        ),
        "stop_if": _lines(DOMING, SHARP_PAIN, LEAKING, HEAVINESS),
        "timing": "session",
        "video_url": "",
    },
    {
        "slug": "supported-toe-tap",
        "name": "Supported toe taps",
        "instructions": _lines(
            "Lie on your back with knees bent and feet flat, pelvis in neutral.",
            "Breathe out, lift your pelvic floor and lift one foot so the knee is over the hip.",
            "Breathe in and hold the leg there.",
            "Breathe out and slowly lower the toes to tap the floor.",
            "Bring the foot back down to rest, then swap legs.",
        ),
        "cues": _lines(
            "Keep your hands on your hip bones to feel that they stay level.",
            "Low and slow beats big and fast.",
            "If one leg at a time is easy and steady, that is all you need for now.",
        ),
        "stop_if": _lines(DOMING, SHARP_PAIN, LEAKING, HEAVINESS),
        "timing": "session",
        "video_url": "",
    },
    {
        "slug": "pillow-squeeze",
        "name": "Pillow squeeze",
        "instructions": _lines(
            "Lie on your back with knees bent and a pillow or soft ball between your knees.",
            "Breathe in to get ready.",
            "Breathe out, lift your pelvic floor and gently squeeze the pillow.",
            "Hold the squeeze while you breathe easily.",
            "Let go of the squeeze and the pelvic floor together, and rest.",
        ),
        "cues": _lines(
            "A gentle squeeze, about half your strength.",
            "Your bottom stays relaxed on the floor.",
            "Never hold your breath.",
        ),
        "stop_if": _lines(SHARP_PAIN, "Pain at the front of your pubic bone", LEAKING, DOMING),
        "timing": "session",
        "video_url": "",
    },
    {
        "slug": "tummy-gap-self-check",
        "name": "Tummy gap self-check",
        "instructions": _lines(
            "Lie on your back with knees bent and feet flat, head on a thin pillow.",
            "Rest the fingertips of one hand across the middle line of your tummy, "
            "just above your belly button.",
            "Breathe out and lift only your head a little, chin gently tucked.",
            "Feel for a gap between the two sides of your tummy muscle: how many fingers wide, "
            "and whether the middle feels firm or soft and deep.",
            "Lower your head, then check again at your belly button and just below it.",
            "When you have finished, roll onto your side and push up with your arms to get up.",
        ),
        "cues": _lines(
            "A small gap that firms up under your fingers is normal after pregnancy and "
            "usually narrows with this kind of work.",
            "Doming or a ridge down the middle during effort means ease off and breathe out "
            "as you move.",
            "See a pelvic-health physiotherapist if the gap is wider than about two fingers, "
            "if you cannot make the middle firm, or if it is not narrowing over the weeks.",
        ),
        "stop_if": _lines(SHARP_PAIN, "Pain or pulling along the middle of your tummy", SCAR),
        "timing": "session",
        "video_url": "",
    },
    # Stage 3: hip and glute mobility
    {
        "slug": "half-kneeling-hip-flexor-stretch",
        "name": "Kneeling hip-flexor stretch",
        "instructions": _lines(
            "Kneel on a cushion with one foot flat in front of you, both knees at right angles.",
            "Hold a chair or wall for balance if you like.",
            "Gently tilt the top of your pelvis back, as if zipping up tight jeans, and firm "
            "the bottom on the kneeling side.",
            "Only then shift your weight forward a little, until you feel a stretch at the "
            "front of the back hip.",
            "Hold and breathe slowly, then swap sides.",
        ),
        "cues": _lines(
            "Tall through your spine: no leaning back or arching.",
            "The small pelvic tilt does most of the work. A small shift forward is enough.",
            "A gentle stretch, never a strain.",
        ),
        "stop_if": _lines(SHARP_PAIN, LEG_NERVE, "Knee pain that does not ease with padding", SCAR),
        "timing": "evening",
        "video_url": "",
    },
    {
        "slug": "figure-4-stretch",
        "name": "Figure-4 glute stretch",
        "instructions": _lines(
            "Lie on your back with both knees bent and feet flat.",
            "Cross one ankle over the other knee, making a figure 4.",
            "Stay there, or thread your hands behind the lower thigh and draw it gently "
            "towards you.",
            "Feel the stretch deep in the buttock of the crossed leg.",
            "Hold and breathe slowly, then swap sides.",
        ),
        "cues": _lines(
            "Let your head and shoulders rest on the floor.",
            "Soften into it with each breath out.",
            "You can do this sitting on a chair instead.",
        ),
        "stop_if": _lines(SHARP_PAIN, LEG_NERVE, "Pinching at the front of the hip"),
        "timing": "evening",
        "video_url": "",
    },
    {
        "slug": "childs-pose",
        "name": "Child's pose",
        "instructions": _lines(
            "Kneel on a soft surface with your knees wide and big toes touching.",
            "Sit back towards your heels and walk your hands forward.",
            "Rest your forehead on the floor, a cushion or your stacked hands.",
            "Breathe into your back and feel it widen with each breath in.",
            "To come up, walk your hands back and rise slowly.",
        ),
        "cues": _lines(
            "Knees wide leaves room for your tummy and breasts.",
            "Put a pillow between your bottom and heels if they do not meet.",
            "This is a rest. Use it whenever your back is tired.",
        ),
        "stop_if": _lines(SHARP_PAIN, "Knee pain that does not ease with padding", SCAR, DIZZY),
        "timing": "any",
        "video_url": "",
    },
    {
        "slug": "open-book",
        "name": "Open book (upper back opener)",
        "instructions": _lines(
            "Lie on your side with knees bent up in front of you and a pillow under your head.",
            "Stretch both arms out in front of you, palms together.",
            "Breathe in and sweep the top arm up and over to open your chest to the ceiling.",
            "Let your head turn with it, and let the arm rest wherever it reaches.",
            "Breathe out and bring the arm back. Do all your turns, then change sides.",
        ),
        "cues": _lines(
            "Your knees stay stacked together.",
            "Open through your upper back, not your lower back.",
            "Good after a day of feeding and carrying.",
        ),
        "stop_if": _lines(SHARP_PAIN, "Tingling or numbness in your arm or hand", DIZZY),
        "timing": "evening",
        "video_url": "",
    },
    # Stage 4: glute strength
    {
        "slug": "glute-bridge",
        "name": "Glute bridge",
        "instructions": _lines(
            "Lie on your back with knees bent and feet flat, hip-width apart.",
            "Breathe in to get ready.",
            "Breathe out, lift your pelvic floor and press through your heels to lift your hips.",
            "Rise until your body makes a straight line from shoulders to knees.",
            "Pause at the top, then breathe in as you lower slowly.",
            "Roll onto your side to get up when you have finished.",
        ),
        "cues": _lines(
            "Feel it in your bottom, not your lower back.",
            "Ribs stay down: do not arch to go higher.",
            "Breathe out as you lift.",
        ),
        "stop_if": _lines(
            DOMING, SHARP_PAIN, LEAKING, HEAVINESS, "Cramp in the back of your thigh"
        ),
        "timing": "session",
        "video_url": "",
    },
    {
        "slug": "bridge-hold",
        "name": "Bridge hold",
        "instructions": _lines(
            "Set up as for the glute bridge.",
            "Breathe out and lift your hips into the bridge.",
            "Stay at the top and keep breathing slowly in and out.",
            "Lower slowly and rest before the next hold.",
            "Roll onto your side to get up when you have finished.",
        ),
        "cues": _lines(
            "Hips stay level the whole time.",
            "Keep breathing. No holding your breath to stay up.",
            "Shorter holds done well beat long, shaky ones.",
        ),
        "stop_if": _lines(
            DOMING, SHARP_PAIN, LEAKING, HEAVINESS, "Cramp in the back of your thigh"
        ),
        "timing": "session",
        "video_url": "",
    },
    {
        "slug": "marching-bridge",
        "name": "Marching bridge",
        "instructions": _lines(
            "Only once you can hold a two-leg bridge steady for 20 seconds, three times, "
            "with no symptoms.",
            "Lift into your bridge and breathe out.",
            "Keeping your hips level, lift one foot just off the floor, then put it down.",
            "Then lift the other foot. One foot at a time, slowly.",
            "Lower your hips slowly and rest. Roll onto your side to get up.",
        ),
        "cues": _lines(
            "Your hips stay level, as if balancing a tray across them.",
            "A small lift of the foot is enough: steadiness matters, not height.",
            "If your hips drop or twist, go back to bridge holds for another week.",
        ),
        "stop_if": _lines(
            DOMING, SHARP_PAIN, LEAKING, HEAVINESS, "Cramp in the back of your thigh"
        ),
        "timing": "session",
        "video_url": "",
    },
    {
        "slug": "clamshell",
        "name": "Clamshells",
        "instructions": _lines(
            "Lie on your side with hips and knees bent, heels in line with your bottom.",
            "Rest your head on your arm or a pillow.",
            "Keep your feet together and breathe out as you open your top knee.",
            "Open only as far as your pelvis can stay still.",
            "Breathe in as you lower the knee. Do all of them, then change sides.",
        ),
        "cues": _lines(
            "Stack your hips as if your back were against a wall.",
            "Feel the side of your bottom working.",
            "Slow on the way down.",
        ),
        "stop_if": _lines(SHARP_PAIN, "Pain at the front of your pubic bone", LEG_NERVE),
        "timing": "session",
        "video_url": "",
    },
    {
        "slug": "fire-hydrant",
        "name": "Fire hydrants",
        "instructions": _lines(
            "Kneel on all fours, hands under shoulders and knees under hips.",
            "Find a long, neutral back: not sagging, not rounded.",
            "Breathe out, lift your pelvic floor and lift one bent knee out to the side.",
            "Go only as high as you can without tipping your body.",
            "Breathe in as you lower. Do all of them, then change sides.",
        ),
        "cues": _lines(
            "Imagine a cup of tea on your lower back that must not spill.",
            "Press the floor away with your hands.",
            "A small lift done steadily is plenty.",
        ),
        "stop_if": _lines(DOMING, SHARP_PAIN, "Wrist pain (try resting on your fists)", LEAKING),
        "timing": "session",
        "video_url": "",
    },
    # Stage 5: hip flexors
    {
        "slug": "supine-march",
        "name": "Lying marches",
        "instructions": _lines(
            "Lie on your back with knees bent and feet flat, pelvis in neutral.",
            "Breathe out, lift your pelvic floor and slowly float one foot up until "
            "the knee is over the hip.",
            "Breathe in and lower it with control.",
            "Swap legs, like a slow march.",
        ),
        "cues": _lines(
            "Feel the front of the hip do the lifting.",
            "Keep your pelvis level and neutral: a small natural curve under your back, "
            "neither pressed flat nor arching up.",
            "Breathe out as the knee lifts.",
        ),
        "stop_if": _lines(DOMING, SHARP_PAIN, LEAKING, HEAVINESS),
        "timing": "session",
        "video_url": "",
    },
    {
        "slug": "standing-knee-lift",
        "name": "Standing knee lifts",
        "instructions": _lines(
            "Stand tall in neutral, with one hand on a wall or counter.",
            "Breathe out, lift your pelvic floor and raise one knee towards hip height.",
            "Hold it up for a moment without leaning back.",
            "Lower slowly and swap legs.",
        ),
        "cues": _lines(
            "Stay tall: ribs over hips, bottom behind you.",
            "Lift only as high as you can without your back arching.",
            "Easy to slip into the day, e.g. while the kettle boils.",
        ),
        "stop_if": _lines(SHARP_PAIN, LEAKING, HEAVINESS, DIZZY),
        "timing": "session",
        "video_url": "",
    },
    {
        "slug": "dead-bug",
        "name": "Dead bug, one leg at a time",
        "instructions": _lines(
            "Lie on your back with knees bent and feet flat, pelvis in neutral.",
            "Reach both arms up towards the ceiling.",
            "Breathe out, lift your pelvic floor and float one foot up until the knee is "
            "over the hip. The other foot stays on the floor.",
            "Breathe out again and slowly reach that heel away, then bring it back and "
            "lower the foot.",
            "Swap legs. When that is steady, lower the opposite arm overhead as the heel "
            "reaches away.",
            "Roll onto your side to get up when you have finished.",
        ),
        "cues": _lines(
            "Only when heel slides and toe taps feel steady and calm.",
            "Keep a neutral pelvis: a small natural curve under your lower back, not pressed "
            "flat into the floor and not arching up.",
            "One leg moves at a time. Stop the set as soon as your form goes.",
        ),
        "stop_if": _lines(DOMING, SHARP_PAIN, LEAKING, HEAVINESS, "You start holding your breath"),
        "timing": "session",
        "video_url": "",
    },
    # Stage 6: everyday movement
    {
        "slug": "hip-hinge-lift",
        "name": "Hip hinge to lift from the floor",
        "instructions": _lines(
            "Stand close to what you are picking up, feet hip-width apart.",
            "Soften your knees and push your bottom back, as if closing a drawer behind you.",
            "Keep your back long and bend the knees as much as you need to reach.",
            "Hold the load (a laundry basket, a car seat, your baby) close to your body.",
            "Breathe out and lift your pelvic floor as you stand up, pushing through your heels.",
        ),
        "cues": _lines(
            "Bottom goes back, chest goes forward: the bend is at your hips.",
            "Close to your body is lighter on your back.",
            "Breathe out on the effort.",
        ),
        "stop_if": _lines(DOMING, SHARP_PAIN, LEAKING, HEAVINESS, SCAR),
        "timing": "session",
        "video_url": "",
        "lifting": True,
    },
    {
        "slug": "carry-with-your-arms",
        "name": "Carrying your baby with your arms",
        "instructions": _lines(
            "Stand tall in neutral before you pick your baby up.",
            "Hold your baby close to your chest, with your arms doing the carrying.",
            "Keep your ribs over your hips instead of leaning back to prop your baby on "
            "your tummy.",
            "Swap sides often, and avoid resting your baby on one jutting hip.",
            "When your arms tire, sit down or use a sling or pram.",
        ),
        "cues": _lines(
            "Arms carry, back stays tall.",
            "Baby close in: the closer, the lighter.",
            "Check yourself in a mirror or window now and then.",
        ),
        "stop_if": _lines(SHARP_PAIN, HEAVINESS, LEAKING, SCAR),
        "timing": "any",
        "video_url": "",
    },
    {
        "slug": "sit-tall-to-feed",
        "name": "Sitting tall to feed",
        "instructions": _lines(
            "Sit right back in a firm chair, feet flat on the floor or on a low stool.",
            "Put a cushion behind your lower back and one on your lap.",
            "Raise your baby to you on the cushions, rather than leaning down to your baby.",
            "Let your shoulders drop and take a slow 360° breath.",
            "Every so often, lift your chest and gently roll your shoulders back.",
        ),
        "cues": _lines(
            "Bring baby to you, not you to baby.",
            "Sit on your sit bones, not your tailbone.",
            "A quick posture check at the start of each feed is enough.",
        ),
        "stop_if": _lines(SHARP_PAIN, LEG_NERVE, "Tingling or numbness in your arm or hand"),
        "timing": "any",
        "video_url": "",
    },
]


DEFAULT_PROGRAM: dict[str, Any] = {
    "slug": "postpartum-core-and-hips",
    "name": "Postpartum core and hips",
    "summary": (
        "Eight gentle weeks to ease back and hip pain after birth: breathing and deep core "
        "first, then hip mobility, strength and everyday movement. This is information, not "
        "medical advice. We recommend every new mother has a pelvic-floor physiotherapy check."
    ),
    "description": _lines(
        "Back pain after having a baby is very common, and it often starts somewhere other "
        "than your back. Your bottom (the glutes), the muscles at the front of your hips and "
        "the deep core that wraps around your middle all share the load. After months of "
        "pregnancy, birth and now lifting, feeding and carrying, they need a gentle reset.",
        "This program goes one step at a time. First you learn to let go of muscles that have "
        "been clenched for months and to find a neutral pelvis. Then you loosen your hips, "
        "then you build strength in your glutes and hip flexors, and last you bring it all "
        "into everyday life. Deep core breathing sits underneath every stage.",
        "A new stage opens each week or so. Until you tell us your doctor, midwife or "
        "physiotherapist has cleared you to exercise, only the breathing and pelvic-floor "
        "stage is open. A little every day does more than a lot now and then.",
        "There is no running or jumping in this program. Guidance suggests waiting until at "
        "least about three months after birth, with no symptoms, before any impact exercise.",
        "Please read this first: this program is information, not medical advice, and it does "
        "not replace care from your own clinician. We recommend that every new mother sees a "
        "pelvic-floor physiotherapist for a check, whatever kind of birth she had. If you "
        "have severe pain, pain that keeps getting worse or lingers, leaking, or heaviness in "
        "your pelvis, stop and get checked.",
    ),
    "weeks": 8,
    "is_published": True,
    "stages": [
        {
            "slug": "breathing-and-reset",
            "position": 1,
            "title": "Breathing and reset",
            "unlock_week": 1,
            "open_before_clearance": True,
            "ongoing": True,
            "loaded": False,
            "goal": "Breathe fully, let your pelvic floor and bottom relax, and find a "
            "neutral pelvis.",
            "description": _lines(
                "Everything else is built on this. In pregnancy many of us tuck our tailbone "
                "and keep our bottom and pelvic floor clenched all day, which can feed back, "
                "hip and pelvic pain. So the first step is to let go, breathe deeply and find "
                "the middle, neutral position of your pelvis.",
                "These exercises are gentle enough to start before your postnatal check, and "
                "they stay on your list for the whole program.",
                "This week, also take a moment to note where you hurt, how much (0 to 10), "
                "and what you would like to be able to do by the end of the eight weeks. "
                "You will look back at it later.",
            ),
            "prescriptions": [
                {
                    "exercise": "360-breathing",
                    "position": 1,
                    "sets": 1,
                    "reps": 10,
                    "hold_seconds": None,
                    "days_per_week": 7,
                    "note": "slow breaths",
                },
                {
                    "exercise": "pelvic-floor-lift-and-let-go",
                    "position": 2,
                    "sets": 1,
                    "reps": 10,
                    "hold_seconds": 10,
                    "days_per_week": 7,
                    "note": "working up to this over the weeks; about 3 times a day",
                },
                {
                    "exercise": "pelvic-floor-quick-squeezes",
                    "position": 3,
                    "sets": 1,
                    "reps": 10,
                    "hold_seconds": None,
                    "days_per_week": 7,
                    "note": "working up to this over the weeks; about 3 times a day",
                },
                {
                    "exercise": "pelvic-rock",
                    "position": 4,
                    "sets": 1,
                    "reps": 10,
                    "hold_seconds": None,
                    "days_per_week": 7,
                    "note": "small and easy",
                },
                {
                    "exercise": "stand-in-neutral",
                    "position": 5,
                    "sets": 1,
                    "reps": None,
                    "hold_seconds": 60,
                    "days_per_week": 7,
                    "note": "any time you are standing still",
                },
            ],
        },
        {
            "slug": "deep-core-heel-slides",
            "position": 2,
            "title": "Deep core: heel slides",
            "unlock_week": 2,
            "open_before_clearance": False,
            "ongoing": True,
            "loaded": False,
            "goal": "Wake up the deep core by pairing each small leg movement with a breath out.",
            "description": _lines(
                "Your deep core is your breathing, your pelvic floor and the deep tummy muscle "
                "that wraps round you like a belt. Crunches and sit-ups work the outer muscles "
                "instead, so we leave them out.",
                "Now that you can breathe and let go, these small leg movements teach the deep "
                "core to switch on as you move. They stay on your list to the end of the "
                "program, as the warm-up before each later stage.",
                "If your tummy domes or a ridge shows down the middle as you move, make the "
                "movement smaller and breathe out on the effort. Check the gap in your tummy "
                "muscle once a week, and see a pelvic-health physiotherapist if it is wide or "
                "will not firm up. Roll onto your side to get up from the floor.",
            ),
            "prescriptions": [
                {
                    "exercise": "heel-slide",
                    "position": 1,
                    "sets": 2,
                    "reps": 8,
                    "hold_seconds": None,
                    "days_per_week": 7,
                    "note": "each side, breathe out as you move",
                },
                {
                    "exercise": "supported-toe-tap",
                    "position": 2,
                    "sets": 2,
                    "reps": 6,
                    "hold_seconds": None,
                    "days_per_week": 7,
                    "note": "each side, breathe out as you move",
                },
                {
                    "exercise": "pillow-squeeze",
                    "position": 3,
                    "sets": 1,
                    "reps": 8,
                    "hold_seconds": 5,
                    "days_per_week": 7,
                    "note": "breathe out as you squeeze",
                },
                {
                    "exercise": "tummy-gap-self-check",
                    "position": 4,
                    "sets": 1,
                    "reps": 3,
                    "hold_seconds": None,
                    "days_per_week": 1,
                    "note": "once a week: above, at and below the belly button",
                },
            ],
        },
        {
            "slug": "hip-and-glute-mobility",
            "position": 3,
            "title": "Hip and glute mobility",
            "unlock_week": 3,
            "open_before_clearance": False,
            "ongoing": False,
            "loaded": False,
            "goal": "Give your hips, glutes and upper back room to move so your pelvis can sit "
            "in neutral.",
            "description": _lines(
                "With your muscles relaxed and your deep core awake, the next step is room to "
                "move. Long hours of sitting and feeding leave the front of the hips short and "
                "stiff, though not strong: they get their strength back in a later stage. A "
                "bottom clenched for months grips too, and a tight muscle deep in the buttock "
                "can press on the sciatic nerve and send pain down the leg. Feeding and "
                "carrying round the upper back.",
                "Stretches work best later in the day, for example before bed, when you are "
                "warm and can slow down.",
            ),
            "prescriptions": [
                {
                    "exercise": "half-kneeling-hip-flexor-stretch",
                    "position": 1,
                    "sets": 2,
                    "reps": None,
                    "hold_seconds": 30,
                    "days_per_week": 7,
                    "note": "each side",
                },
                {
                    "exercise": "figure-4-stretch",
                    "position": 2,
                    "sets": 2,
                    "reps": None,
                    "hold_seconds": 30,
                    "days_per_week": 7,
                    "note": "each side",
                },
                {
                    "exercise": "open-book",
                    "position": 3,
                    "sets": 1,
                    "reps": 6,
                    "hold_seconds": None,
                    "days_per_week": 7,
                    "note": "each side",
                },
                {
                    "exercise": "childs-pose",
                    "position": 4,
                    "sets": 1,
                    "reps": None,
                    "hold_seconds": 60,
                    "days_per_week": 7,
                    "note": "breathe into your back",
                },
            ],
        },
        {
            "slug": "glute-strength",
            "position": 4,
            "title": "Glute strength",
            "unlock_week": 4,
            "open_before_clearance": False,
            "ongoing": True,
            "loaded": True,
            "goal": "Build strong glutes so your lower back and hamstrings no longer carry "
            "their load.",
            "description": _lines(
                "When the glutes are weak, the muscles of the lower back and the backs of the "
                "thighs take over and tire, and you feel it when you walk, stand or lift. Now "
                "that your hips move more freely, it is time to make them strong.",
                "Do these as your main session, with a rest day in between. Keep breathing out "
                "on the effort, with your deep core underneath each lift. They stay on your "
                "list to the end of the program: strength fades if it is not used.",
            ),
            "prescriptions": [
                {
                    "exercise": "glute-bridge",
                    "position": 1,
                    "sets": 2,
                    "reps": 10,
                    "hold_seconds": None,
                    "days_per_week": 3,
                    "note": "breathe out as you lift",
                },
                {
                    "exercise": "clamshell",
                    "position": 2,
                    "sets": 2,
                    "reps": 10,
                    "hold_seconds": None,
                    "days_per_week": 3,
                    "note": "each side",
                },
                {
                    "exercise": "fire-hydrant",
                    "position": 3,
                    "sets": 2,
                    "reps": 8,
                    "hold_seconds": None,
                    "days_per_week": 3,
                    "note": "each side",
                },
                {
                    "exercise": "bridge-hold",
                    "position": 4,
                    "sets": 3,
                    "reps": None,
                    "hold_seconds": 20,
                    "days_per_week": 3,
                    "note": "once 10 bridges feel easy",
                },
                {
                    "exercise": "marching-bridge",
                    "position": 5,
                    "sets": 2,
                    "reps": 6,
                    "hold_seconds": None,
                    "days_per_week": 3,
                    "note": "each side; only once a two-leg bridge is steady and symptom-free",
                },
            ],
        },
        {
            "slug": "hip-flexors",
            "position": 5,
            "title": "Hip flexors",
            "unlock_week": 6,
            "open_before_clearance": False,
            "ongoing": False,
            "loaded": True,
            "goal": "Strengthen the front of your hips, about five minutes a day, to steady "
            "your pelvis and ease an over-arched back.",
            "description": _lines(
                "Weak hip flexors let the pelvis tip forward, so the lower back over-arches and "
                "its muscles overwork, and that can add to sciatic pain. You gave the front of "
                "your hips back their length in the mobility stage; with your glutes stronger, "
                "now they get their strength back too.",
                "Keep a neutral pelvis and move one leg at a time. Your deep-core warm-up comes "
                "first.",
                "Keep it short and do it daily: about five minutes is plenty. A little every "
                "day beats a lot now and then.",
            ),
            "prescriptions": [
                {
                    "exercise": "supine-march",
                    "position": 1,
                    "sets": 1,
                    "reps": 8,
                    "hold_seconds": None,
                    "days_per_week": 7,
                    "note": "each side, breathe out as the knee lifts",
                },
                {
                    "exercise": "standing-knee-lift",
                    "position": 2,
                    "sets": 1,
                    "reps": 8,
                    "hold_seconds": 2,
                    "days_per_week": 7,
                    "note": "each side",
                },
                {
                    "exercise": "dead-bug",
                    "position": 3,
                    "sets": 1,
                    "reps": 6,
                    "hold_seconds": None,
                    "days_per_week": 7,
                    "note": "each side; only once your deep core is steady",
                },
            ],
        },
        {
            "slug": "everyday-movement",
            "position": 6,
            "title": "Everyday movement",
            "unlock_week": 7,
            "open_before_clearance": False,
            "ongoing": False,
            "loaded": True,
            "goal": "Carry what you have built into lifting, carrying, feeding and standing, "
            "every day.",
            "description": _lines(
                "The last step takes your relaxed pelvis, looser hips, stronger glutes and "
                "steady deep core into the things you do dozens of times a day: picking things "
                "up, holding your baby, feeding and standing.",
                "These are habits more than workouts. Practise them on purpose for a few days "
                "and they soon become the way you move.",
            ),
            "prescriptions": [
                {
                    "exercise": "hip-hinge-lift",
                    "position": 1,
                    "sets": 2,
                    "reps": 8,
                    "hold_seconds": None,
                    "days_per_week": 5,
                    "note": "practise with something light first",
                },
                {
                    "exercise": "carry-with-your-arms",
                    "position": 2,
                    "sets": 1,
                    "reps": 5,
                    "hold_seconds": None,
                    "days_per_week": 7,
                    "note": "quick checks through the day, swapping sides",
                },
                {
                    "exercise": "sit-tall-to-feed",
                    "position": 3,
                    "sets": 1,
                    "reps": None,
                    "hold_seconds": 60,
                    "days_per_week": 7,
                    "note": "a posture check as each feed begins",
                },
            ],
        },
    ],
}


RELIEF_TIPS: list[str] = [
    "Sit tall: right back in the chair, feet flat, a cushion behind your lower back.",
    "Stretch your upper back: lace your fingers, reach forward and round, then open your chest.",
    "Rest in child's pose for a few slow breaths, knees wide.",
    "Carry your baby with your arms, close to your chest, instead of leaning back.",
    "Stand with your bottom behind you and let your glutes unclench.",
    "Take five slow 360° breaths and let your pelvic floor soften.",
]
