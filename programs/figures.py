"""Exercise figures: a pose, as plain numbers, drawn as a calm SVG line figure.

A pose holds the angle of each body segment in degrees, counterclockwise from pointing right,
in the figure's own body plane (a side view for lying, sitting, kneeling, standing and all
fours; for side-lying the body plane is the floor, seen from the front and a little above).
A limb can also swing out of that plane (`turn`, `lift`), which is how a clamshell's knee or a
fire hydrant's leg moves. Joints are computed in 3-D, so bone lengths never change between
poses, then projected flat. Units are arbitrary: a standing figure is about 100 tall, and the
floor is y = 0 with y pointing up. No ORM, no clock: the same pose always draws the same SVG.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from html import escape

STANCES = ("lying", "side-lying", "all-fours", "sitting", "kneeling", "standing")

HEAD_R = 6.0
NECK = 2.0
TRUNK = 32.0
UPPER_ARM = 16.0
FOREARM = 15.0
THIGH = 24.0
SHIN = 23.0
FOOT = 7.0
# The figure's lines have width; a joint resting on the floor sits half a line above it.
LIMB_WIDTH = 4.5
TRUNK_WIDTH = 7.0
ON_FLOOR = LIMB_WIDTH / 2
LYING = TRUNK_WIDTH / 2
# Side-lying: the top hip is a pelvis' width above the floor, the bottom leg below it.
SIDE_HIP = 10.0
SIDE_GAP = 6.0

COLOUR = "#2f6f62"
FRAMES = 8  # drawn poses from start to end; the stylesheet steps through them

BONES = {
    "trunk": ("hip", "shoulder"),
    "near_thigh": ("near_hip", "near_knee"),
    "near_shin": ("near_knee", "near_ankle"),
    "near_foot": ("near_ankle", "near_toe"),
    "far_thigh": ("far_hip", "far_knee"),
    "far_shin": ("far_knee", "far_ankle"),
    "far_foot": ("far_ankle", "far_toe"),
    "near_upper_arm": ("near_shoulder", "near_elbow"),
    "near_forearm": ("near_elbow", "near_wrist"),
    "far_upper_arm": ("far_shoulder", "far_elbow"),
    "far_forearm": ("far_elbow", "far_wrist"),
}
BONE_LENGTHS = {
    "trunk": TRUNK,
    "near_thigh": THIGH,
    "near_shin": SHIN,
    "near_foot": FOOT,
    "far_thigh": THIGH,
    "far_shin": SHIN,
    "far_foot": FOOT,
    "near_upper_arm": UPPER_ARM,
    "near_forearm": FOREARM,
    "far_upper_arm": UPPER_ARM,
    "far_forearm": FOREARM,
}

LIMB_ENDS = (("leg", "ankle", (THIGH, SHIN)), ("arm", "wrist", (UPPER_ARM, FOREARM)))

Point = tuple[float, float]
Point3 = tuple[float, float, float]


@dataclass(frozen=True)
class Limb:
    upper: float  # thigh or upper arm
    lower: float  # shin or forearm
    end: float = 0.0  # the foot (ignored for arms)
    turn: float = 0.0  # the knee or elbow rotated about the line from root to end
    lift: float = 0.0  # the whole limb rotated about the trunk's line through its root


@dataclass(frozen=True)
class Pose:
    stance: str
    hip: Point
    trunk: float
    head: float
    near_arm: Limb
    far_arm: Limb
    near_leg: Limb
    far_leg: Limb
    curve: float = 0.0  # the trunk bows by this much: a breath in, a lower back off the floor
    elevation: float = 0.0  # degrees the viewer looks down from
    props: tuple[str, ...] = ()


@dataclass(frozen=True)
class Figure:
    slug: str
    start: Pose
    end: Pose
    alt: str


def direction(angle: float) -> Point:
    radians = math.radians(angle)
    return math.cos(radians), math.sin(radians)


def step(point: Point, angle: float, length: float) -> Point:
    dx, dy = direction(angle)
    return point[0] + dx * length, point[1] + dy * length


def angle_to(a: Point, b: Point) -> float:
    return math.degrees(math.atan2(b[1] - a[1], b[0] - a[0]))


def reach(root: Point, target: Point, first: float, second: float, bend: int = 1):
    """The two segment angles that put a two-bone limb's end on `target` (or as near as it
    reaches); bend +1 puts the middle joint to the left of the line from root to target."""
    dx, dy = target[0] - root[0], target[1] - root[1]
    distance = min(max(math.hypot(dx, dy), abs(first - second) + 1e-6), first + second - 1e-6)
    base = math.degrees(math.atan2(dy, dx))
    cosine = (first**2 + distance**2 - second**2) / (2 * first * distance)
    offset = math.degrees(math.acos(max(-1.0, min(1.0, cosine))))
    upper = base + bend * offset
    middle = step(root, upper, first)
    return upper, angle_to(middle, target)


def leg_to(hip: Point, ankle: Point, end: float = 0.0, bend: int = 1, **swing) -> Limb:
    return Limb(*reach(hip, ankle, THIGH, SHIN, bend), end=end, **swing)


def arm_to(shoulder: Point, wrist: Point, bend: int = -1, **swing) -> Limb:
    return Limb(*reach(shoulder, wrist, UPPER_ARM, FOREARM, bend), **swing)


def shoulder_of(hip: Point, trunk: float) -> Point:
    return step(hip, trunk, TRUNK)


def _rotate(vector: Point3, axis: Point3, degrees: float) -> Point3:
    """Rodrigues' rotation of a vector about a unit axis."""
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    vx, vy, vz = vector
    kx, ky, kz = axis
    dot = kx * vx + ky * vy + kz * vz
    cross = (ky * vz - kz * vy, kz * vx - kx * vz, kx * vy - ky * vx)
    return tuple(
        v * c + cr * s + k * dot * (1 - c) for v, cr, k in zip(vector, cross, axis, strict=True)
    )  # type: ignore[return-value]


def _unit(v: Point3) -> Point3:
    n = math.sqrt(sum(c * c for c in v)) or 1.0
    return (v[0] / n, v[1] / n, v[2] / n)


def _sub(a: Point3, b: Point3) -> Point3:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _add(a: Point3, b: Point3) -> Point3:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def _place(pose: Pose, point: Point, side: str) -> Point3:
    """A body-plane point in the room: side views keep it, side-lying lays the plane flat."""
    if pose.stance == "side-lying":
        height = SIDE_HIP - (SIDE_GAP if side == "far" else SIDE_GAP / 2 if side == "mid" else 0)
        return (point[0], height, point[1] - pose.hip[1])
    return (point[0], point[1], 0.0)


def _limb(pose: Pose, root: Point, limb: Limb, lengths, side: str, trunk_axis: Point3):
    middle = step(root, limb.upper, lengths[0])
    end = step(middle, limb.lower, lengths[1])
    tip = step(end, limb.end, lengths[2]) if len(lengths) > 2 else end
    r, m, e, t = (_place(pose, p, side) for p in (root, middle, end, tip))
    if limb.turn:
        axis = _unit(_sub(e, r))
        m = _add(r, _rotate(_sub(m, r), axis, limb.turn))
    if limb.lift:
        m, e, t = (_add(r, _rotate(_sub(p, r), trunk_axis, limb.lift)) for p in (m, e, t))
    return r, m, e, t


def joints3(pose: Pose) -> dict[str, Point3]:
    """Every joint of the pose in the room, before projection."""
    shoulder = shoulder_of(pose.hip, pose.trunk)
    head = step(shoulder, pose.head, NECK + HEAD_R)
    hip3, shoulder3 = _place(pose, pose.hip, "mid"), _place(pose, shoulder, "mid")
    trunk_axis = _unit(_sub(shoulder3, hip3))
    found: dict[str, Point3] = {
        "hip": hip3,
        "shoulder": shoulder3,
        "head": _place(pose, head, "mid"),
    }
    for side in ("near", "far"):
        leg = getattr(pose, f"{side}_leg")
        r, k, a, t = _limb(pose, pose.hip, leg, (THIGH, SHIN, FOOT), side, trunk_axis)
        found.update({f"{side}_hip": r, f"{side}_knee": k, f"{side}_ankle": a, f"{side}_toe": t})
        arm = getattr(pose, f"{side}_arm")
        r, e, w, _ = _limb(pose, shoulder, arm, (UPPER_ARM, FOREARM), side, trunk_axis)
        found.update({f"{side}_shoulder": r, f"{side}_elbow": e, f"{side}_wrist": w})
    return found


def joints(pose: Pose) -> dict[str, Point]:
    """Every joint projected onto the page (y up), as the viewer sees it."""
    c, s = math.cos(math.radians(pose.elevation)), math.sin(math.radians(pose.elevation))
    return {name: (x, y * c - z * s) for name, (x, y, z) in joints3(pose).items()}


def bone_lengths(pose: Pose) -> dict[str, float]:
    """Each bone's length in the room: the same for every pose of the same body."""
    found = joints3(pose)
    return {bone: math.dist(found[a], found[b]) for bone, (a, b) in BONES.items()}


def _planted(start: dict[str, Point], end: dict[str, Point], name: str) -> bool:
    """A foot or hand that rests on the floor, or stays put, at both ends of the movement."""
    a, b = start[name], end[name]
    return math.dist(a, b) < 0.5 or (abs(a[1] - ON_FLOOR) < 0.5 and abs(b[1] - ON_FLOOR) < 0.5)


def _bend(limb: Limb, root: Point, first: float, second: float) -> int:
    middle = step(root, limb.upper, first)
    end = step(middle, limb.lower, second)
    cross = (end[0] - root[0]) * (middle[1] - root[1]) - (end[1] - root[1]) * (middle[0] - root[0])
    return 1 if cross > 0 else -1


def _turn(a: float, b: float) -> float:
    """b, moved by whole turns to within half a turn of a: angles mix the short way round."""
    return a + (b - a + 180) % 360 - 180


def between(start: Pose, end: Pose, t: float) -> Pose:
    """The pose a fraction `t` of the way from start to end. A foot or hand planted at both
    ends stays planted on the way: its limb is re-solved rather than swung through the floor."""

    def mix(a: float, b: float) -> float:
        return a + (b - a) * t

    limbs = {}
    for name in ("near_arm", "far_arm", "near_leg", "far_leg"):
        a, b = getattr(start, name), getattr(end, name)
        limbs[name] = Limb(
            mix(a.upper, _turn(a.upper, b.upper)),
            mix(a.lower, _turn(a.lower, b.lower)),
            mix(a.end, _turn(a.end, b.end)),
            mix(a.turn, b.turn),
            mix(a.lift, b.lift),
        )
    pose = replace(
        start if t < 0.5 else end,
        hip=(mix(start.hip[0], end.hip[0]), mix(start.hip[1], end.hip[1])),
        trunk=mix(start.trunk, _turn(start.trunk, end.trunk)),
        head=mix(start.head, _turn(start.head, end.head)),
        curve=mix(start.curve, end.curve),
        elevation=mix(start.elevation, end.elevation),
        **limbs,
    )
    if start.stance == "side-lying" or start.stance != end.stance:
        return pose
    first, last = joints(start), joints(end)
    kneeling = _planted(first, last, "far_knee") and abs(first["far_knee"][1] - ON_FLOOR) < 0.5
    if math.dist(first["shoulder"], last["shoulder"]) < 0.5 and start.hip != end.hip:
        # Shoulders that stay put (a bridge) stay put: the hips swing round them.
        pose = replace(pose, hip=step(first["shoulder"], pose.trunk + 180, TRUNK))
    if kneeling:
        # A knee on the floor stays there: the hip swings round it.
        knee = tuple(mix(p, q) for p, q in zip(first["far_knee"], last["far_knee"], strict=True))
        pose = replace(pose, hip=step(knee, pose.far_leg.upper + 180, THIGH))
    fixes = {}
    for side in ("near", "far"):
        for kind, tip, lengths in LIMB_ENDS:
            a, b = getattr(start, f"{side}_{kind}"), getattr(end, f"{side}_{kind}")
            if a.turn or a.lift or b.turn or b.lift:
                continue
            if not _planted(first, last, f"{side}_{tip}"):
                continue
            if kind == "leg" and _planted(first, last, f"{side}_knee") and kneeling:
                continue
            ends = first[f"{side}_{tip}"], last[f"{side}_{tip}"]
            target = tuple(mix(p, q) for p, q in zip(*ends, strict=True))
            root = pose.hip if kind == "leg" else shoulder_of(pose.hip, pose.trunk)
            current = getattr(pose, f"{side}_{kind}")
            upper, lower = reach(root, target, *lengths, _bend(a, root, *lengths))
            fixes[f"{side}_{kind}"] = replace(current, upper=upper, lower=lower)
    return replace(pose, **fixes)


def frames(figure: Figure, count: int = FRAMES) -> list[Pose]:
    """The poses drawn, start first, eased so the movement starts and ends gently."""
    out = []
    for i in range(count):
        x = i / (count - 1)
        out.append(between(figure.start, figure.end, x * x * (3 - 2 * x)))
    return out


def _line(a: Point, b: Point, **attrs) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<line x1="{a[0]:.1f}" y1="{-a[1]:.1f}" x2="{b[0]:.1f}" y2="{-b[1]:.1f}"{extra}/>'


def _props(pose: Pose, at: dict[str, Point]) -> list[str]:
    parts = []
    hip, wrist, knee = at["hip"], at["near_wrist"], at["near_knee"]
    for prop in pose.props:
        if prop == "chair":
            seat = hip[1] - 4
            x0, x1 = hip[0] - 8, hip[0] + 16
            parts.append(
                f'<path d="M{x0:.1f} {-(seat + 34):.1f} V{-seat:.1f} H{x1:.1f} M{x0 + 2:.1f} '
                f'{-seat:.1f} V0 M{x1 - 2:.1f} {-seat:.1f} V0" stroke-width="2.5" '
                f'stroke-opacity="0.45"/>'
            )
        elif prop in ("ball", "ball-squeezed"):
            far = at["far_knee"]
            # Between the knees, so seen from the side it shows round the near knee.
            x, y = (knee[0] + far[0]) / 2, (knee[1] + far[1]) / 2 - 2
            rx = 6.0 if prop == "ball" else 4.0
            parts.append(
                f'<ellipse cx="{x:.1f}" cy="{-y:.1f}" rx="{rx}" ry="5.5" stroke-width="2"/>'
            )
        elif prop == "load":
            parts.append(
                f'<rect x="{wrist[0] - 3:.1f}" y="{-wrist[1] - 2:.1f}" width="16" height="11" '
                f'rx="2" stroke-width="2.5"/>'
            )
        elif prop == "baby":
            parts.append(
                f'<ellipse cx="{wrist[0] - 1:.1f}" cy="{-wrist[1] - 3:.1f}" rx="7" ry="4.5" '
                f'stroke-width="2.5"/><circle cx="{wrist[0] + 6:.1f}" cy="{-wrist[1] - 8:.1f}" '
                f'r="3.5" stroke-width="2.5"/>'
            )
        elif prop == "counter":
            x = wrist[0] + 4
            parts.append(
                f'<path d="M{x - 12:.1f} {-wrist[1] + 2.5:.1f} H{x + 10:.1f} M{x + 6:.1f} '
                f'{-wrist[1] + 2.5:.1f} V0" stroke-width="2.5" stroke-opacity="0.45"/>'
            )
        elif prop == "cushion":
            x = at["far_knee"][0]
            parts.append(
                f'<rect x="{x - 7:.1f}" y="-1.5" width="14" height="3" rx="1.5" '
                f'stroke-width="2" stroke-opacity="0.45"/>'
            )
    return parts


def _trunk(pose: Pose, at: dict[str, Point]) -> str:
    (x1, y1), (x2, y2) = at["hip"], at["shoulder"]
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    # Bow to the body's front (its left when walking from hip to shoulder, seen from its right).
    nx, ny = -(y2 - y1) / length, (x2 - x1) / length
    if pose.stance == "lying":
        nx, ny = -nx, -ny
    cx, cy = (x1 + x2) / 2 + nx * pose.curve * 2, (y1 + y2) / 2 + ny * pose.curve * 2
    return (
        f'<path d="M{x1:.1f} {-y1:.1f} Q{cx:.1f} {-cy:.1f} {x2:.1f} {-y2:.1f}" '
        f'stroke-width="{TRUNK_WIDTH}"/>'
    )


def draw(pose: Pose) -> str:
    """One pose as SVG elements (no <svg> wrapper): far limbs faint, then trunk, near limbs."""
    at = joints(pose)
    far = 'stroke-opacity="0.45"'
    parts = [
        _line(at[a], at[b], stroke_width=LIMB_WIDTH).replace("/>", f" {far}/>")
        for bone, (a, b) in BONES.items()
        if bone.startswith("far_")
    ]
    parts.append(_trunk(pose, at))
    parts.append(_line(at["shoulder"], at["head"], stroke_width=LIMB_WIDTH))
    parts.extend(
        _line(at[a], at[b], stroke_width=LIMB_WIDTH)
        for bone, (a, b) in BONES.items()
        if bone.startswith("near_")
    )
    hx, hy = at["head"]
    parts.append(f'<circle cx="{hx:.1f}" cy="{-hy:.1f}" r="{HEAD_R}" fill="{COLOUR}"/>')
    parts.extend(_props(pose, at))
    return "".join(parts)


def _bounds(poses: list[Pose]) -> tuple[float, float, float, float]:
    xs, ys = [], []
    for pose in poses:
        for name, (x, y) in joints(pose).items():
            r = HEAD_R if name == "head" else LIMB_WIDTH
            xs += [x - r, x + r]
            ys += [y - r, y + r]
        if "chair" in pose.props:
            ys.append(pose.hip[1] + 30)
    return min(xs), max(xs), min(0.0, min(ys)), max(ys)


def floor_level(pose: Pose) -> float:
    """Where the floor line is drawn: y = 0, or under the nearest point seen from above."""
    if not pose.elevation:
        return 0.0
    return min(y for y in (p[1] for p in joints(pose).values())) - ON_FLOOR


def svg(figure: Figure, label: str | None = None) -> str:
    """The figure's SVG: every frame from start to end, each in <g class="frame frame-N">,
    frame 0 (the start) shown by default; the stylesheet moves through the others."""
    poses = frames(figure)
    x0, x1, y0, y1 = _bounds(poses)
    floor = min(min(floor_level(p) for p in poses), y0)
    pad = 6.0
    width, height = x1 - x0 + 2 * pad, y1 - floor + 2 * pad
    # One shape for every card, 2 wide by 1 high: the figure centred, standing on the floor.
    if width < height * 2:
        x0 -= (height * 2 - width) / 2
        width = height * 2
    else:
        y1 += width / 2 - height
        height = width / 2
    view = f"{x0 - pad:.1f} {-(y1 + pad):.1f} {width:.1f} {height:.1f}"
    text = escape(label or figure.alt)
    floor_y = -floor_level(figure.start)
    body = "".join(f'<g class="frame frame-{i}">{draw(pose)}</g>' for i, pose in enumerate(poses))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="figure" viewBox="{view}" '
        f'role="img" aria-label="{text}" fill="none" stroke="{COLOUR}" '
        f'stroke-linecap="round" stroke-linejoin="round"><title>{text}</title>'
        f'<line class="floor" x1="{x0 - pad:.1f}" y1="{floor_y:.1f}" x2="{x0 - pad + width:.1f}" '
        f'y2="{floor_y:.1f}" stroke-width="1.5" stroke-opacity="0.35"/>{body}</svg>'
    )
