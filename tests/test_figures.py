"""Exercise figures: a pose for each default exercise, drawn as SVG that moves only when the
user allows motion, on each exercise card; every figure rendered to PNG in a real browser."""

import base64
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.urls import reverse

from programs import figures, poses
from programs.default_program import EXERCISES
from programs.figures import BONE_LENGTHS, FRAMES, ON_FLOOR, between, bone_lengths, joints
from programs.models import Exercise

SVG = "{http://www.w3.org/2000/svg}"
CSS = Path(settings.BASE_DIR) / "static" / "css" / "figures.css"
DEFAULT_SLUGS = [exercise["slug"] for exercise in EXERCISES]


def all_frames(figure):
    return figures.frames(figure)


def on_floor(point) -> bool:
    return abs(point[1] - ON_FLOOR) < 0.3


def knee_angle(pose, side="near") -> float:
    """The angle at the knee, in the room (not as drawn)."""
    at = figures.joints3(pose)
    hip, knee, ankle = at[f"{side}_hip"], at[f"{side}_knee"], at[f"{side}_ankle"]
    a = [p - q for p, q in zip(hip, knee, strict=True)]
    b = [p - q for p, q in zip(ankle, knee, strict=True)]
    cosine = sum(p * q for p, q in zip(a, b, strict=True)) / (math.hypot(*a) * math.hypot(*b))
    return math.degrees(math.acos(max(-1, min(1, cosine))))


def test_every_default_exercise_has_a_start_and_end_pose_and_alt_text():
    assert set(DEFAULT_SLUGS) <= set(poses.FIGURES)
    assert len(DEFAULT_SLUGS) >= 21
    for slug in DEFAULT_SLUGS:
        figure = poses.figure_for(slug)
        assert figure.start.stance in figures.STANCES
        assert figure.end.stance in figures.STANCES
        assert figure.start != figure.end, slug
        assert len(figure.alt) > 40, slug


def test_an_exercise_without_poses_has_no_drawing():
    assert poses.figure_for("made-in-the-admin") is None
    assert poses.svg_for("made-in-the-admin") is None


@pytest.mark.parametrize("slug", DEFAULT_SLUGS)
def test_svg_is_well_formed_with_alt_text_and_every_frame(slug):
    figure = poses.figure_for(slug)
    root = ET.fromstring(poses.svg_for(slug))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label") == figure.alt
    assert root.find(f"{SVG}title").text == figure.alt
    assert len(root.get("viewBox").split()) == 4
    assert root.get("style") is None
    groups = root.findall(f"{SVG}g")
    assert [g.get("class") for g in groups] == [f"frame frame-{i}" for i in range(FRAMES)]
    assert root.find(f"{SVG}line[@class='floor']") is not None
    # Head, trunk, arms and legs in each frame.
    for group in groups:
        assert len(group.findall(f"{SVG}circle")) >= 1
        assert len(group.findall(f"{SVG}line")) >= 11


def test_alt_text_is_escaped_in_the_svg():
    figure = poses.figure_for("heel-slide")
    drawn = figures.svg(figure, label='Heel "slide" <b>')
    root = ET.fromstring(drawn)
    assert root.get("aria-label") == 'Heel "slide" <b>'
    assert "<b>" not in drawn


@pytest.mark.parametrize("slug", DEFAULT_SLUGS)
def test_bone_lengths_never_change(slug):
    for pose in all_frames(poses.figure_for(slug)):
        for bone, length in bone_lengths(pose).items():
            assert length == pytest.approx(BONE_LENGTHS[bone], abs=1e-6), (slug, bone)


@pytest.mark.parametrize("slug", DEFAULT_SLUGS)
def test_nothing_goes_through_the_floor(slug):
    for pose in all_frames(poses.figure_for(slug)):
        if pose.elevation:
            continue  # seen from above: nearer points are drawn lower
        for name, (_, y) in joints(pose).items():
            lowest = figures.HEAD_R if name == "head" else ON_FLOOR
            assert y >= lowest - 0.6, (slug, name, y)


def test_feet_on_the_floor_stay_on_the_floor_all_the_way():
    """Lying figures with a foot on the floor at both ends keep it there in every frame
    (a straight mix of the angles would dip the heel through the floor)."""
    checked = 0
    for figure in poses.FIGURES.values():
        if figure.start.stance != "lying" or figure.start.elevation:
            continue
        first, last = joints(figure.start), joints(figure.end)
        for side in ("near", "far"):
            ankle = f"{side}_ankle"
            if on_floor(first[ankle]) and on_floor(last[ankle]):
                checked += 1
                for pose in all_frames(figure):
                    assert on_floor(joints(pose)[ankle]), (figure.slug, ankle)
    assert checked >= 15


def test_a_heel_slide_slides_one_heel_out_to_a_nearly_straight_leg():
    figure = poses.figure_for("heel-slide")
    start, end = joints(figure.start), joints(figure.end)
    assert figure.start.stance == figure.end.stance == "lying"
    assert knee_angle(figure.start) < 100  # knees bent
    assert knee_angle(figure.end) > 150  # nearly straight
    assert knee_angle(figure.end, "far") < 100  # the other leg stays bent
    assert end["near_ankle"][0] - start["near_ankle"][0] > 15
    assert on_floor(start["near_ankle"]) and on_floor(end["near_ankle"])
    assert start["hip"] == end["hip"]


def test_a_glute_bridge_lifts_the_hips_to_a_line_from_shoulders_to_knees():
    figure = poses.figure_for("glute-bridge")
    start, end = joints(figure.start), joints(figure.end)
    assert end["hip"][1] > start["hip"][1] + 10
    shoulder, hip, knee = end["shoulder"], end["hip"], end["near_knee"]
    cross = (hip[0] - shoulder[0]) * (knee[1] - shoulder[1]) - (hip[1] - shoulder[1]) * (
        knee[0] - shoulder[0]
    )
    assert abs(cross) < 1e-6
    assert end["near_ankle"] == pytest.approx(start["near_ankle"])
    # On the way up the trunk swings the short way, its shoulders staying near the floor.
    for pose in all_frames(figure):
        assert joints(pose)["shoulder"][1] < 8


def test_a_clamshell_opens_the_top_knee_with_the_feet_together():
    figure = poses.figure_for("clamshell")
    assert figure.start.stance == "side-lying"
    start, end = figures.joints3(figure.start), figures.joints3(figure.end)
    assert end["near_knee"][1] > start["near_knee"][1] + 8
    assert end["near_ankle"] == pytest.approx(start["near_ankle"])
    assert end["far_knee"] == pytest.approx(start["far_knee"])


def test_the_hip_flexor_stretch_kneels_on_one_knee_and_shifts_forward_upright():
    figure = poses.figure_for("half-kneeling-hip-flexor-stretch")
    for pose in all_frames(figure):
        at = joints(pose)
        assert on_floor(at["far_knee"])  # the back knee stays down
        assert on_floor(at["near_ankle"])  # the front foot stays flat
        assert pose.trunk == pytest.approx(90)  # tall: no leaning back
    assert joints(figure.end)["hip"][0] > joints(figure.start)["hip"][0] + 3


def test_a_fire_hydrant_lifts_a_bent_knee_on_all_fours():
    figure = poses.figure_for("fire-hydrant")
    start, end = figures.joints3(figure.start), figures.joints3(figure.end)
    assert figure.start.stance == "all-fours"
    for side in ("near", "far"):
        assert on_floor(start[f"{side}_knee"]) and on_floor(start[f"{side}_wrist"])
    assert end["near_knee"][1] > start["near_knee"][1] + 8
    assert end["near_knee"][2] > 10  # out to the side, towards the viewer
    assert knee_angle(figure.end) == pytest.approx(knee_angle(figure.start), abs=1)


def test_childs_pose_sits_back_towards_the_heels_with_the_head_down():
    figure = poses.figure_for("childs-pose")
    start, end = joints(figure.start), joints(figure.end)
    assert end["hip"][0] < start["hip"][0] - 15  # sits back
    assert end["head"][1] < start["head"][1] - 15  # head down
    for pose in all_frames(figure):
        assert on_floor(joints(pose)["near_knee"])


def test_between_mixes_angles_the_short_way_round():
    start = poses.figure_for("heel-slide").start
    end = figures.replace(start, trunk=-170.0)
    assert between(start, end, 0.5).trunk == pytest.approx(185)


def test_stylesheet_moves_the_figure_only_when_motion_is_allowed():
    css = CSS.read_text()
    allowed = css.index("@media (prefers-reduced-motion: no-preference)")
    still = css[:allowed]
    # Without the media query, only the start pose shows and nothing is animated.
    assert ".exercise-figure .frame { opacity: 0; }" in still
    assert ".exercise-figure .frame-0 { opacity: 1; }" in still
    assert "animation" not in still
    moving = css[allowed:]
    for i in range(FRAMES):
        assert f"@keyframes figure-frame-{i} " in moving
        assert f".exercise-figure .frame-{i} {{ animation-name: figure-frame-{i}; }}" in moving


def test_figure_template_falls_back_to_nothing_for_an_exercise_without_poses():
    template = Template('{% include "programs/_figure.html" %}')
    drawn = template.render(Context({"exercise": Exercise(slug="heel-slide", name="Heel")}))
    assert 'class="exercise-figure"' in drawn
    assert poses.figure_for("heel-slide").alt in drawn
    custom = template.render(Context({"exercise": Exercise(slug="my-own", name="Mine")}))
    assert custom.strip() == ""


@pytest.mark.django_db
def test_exercise_card_shows_the_figure(member, make_enrolment, clock):
    Exercise.objects.filter(slug="breathing-1").update(slug="heel-slide")
    enrolment = make_enrolment()
    clock("2026-03-10 09:00", "Europe/London")
    response = member.get(reverse("today", args=[enrolment.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="exercise-figure"') == 1  # breathing-2 has no poses
    assert 'aria-label="Lying on her back, knees bent and feet flat: she slides' in html
    assert "css/figures.css" in html
    assert "Breathing 2" in html


def test_the_figures_stylesheet_is_linked_next_to_the_sites():
    base = (Path(settings.BASE_DIR) / "templates" / "base.html").read_text()
    assert "{% static 'css/figures.css' %}" in base


def page_with_figures(page, body: str) -> None:
    page.set_content(
        f"<!doctype html><html><head><style>{CSS.read_text()}"
        "body{margin:0;background:#fff}.exercise-figure{width:360px;max-width:none}</style>"
        f"</head><body>{body}</body></html>"
    )


def ink(page, png: bytes) -> float:
    """The share of the PNG's pixels that are not white."""
    data = base64.b64encode(png).decode()
    return page.evaluate(
        """async (data) => {
            const img = new Image();
            img.src = "data:image/png;base64," + data;
            await img.decode();
            const canvas = document.createElement("canvas");
            canvas.width = img.width; canvas.height = img.height;
            const ctx = canvas.getContext("2d");
            ctx.drawImage(img, 0, 0);
            const px = ctx.getImageData(0, 0, img.width, img.height).data;
            let inked = 0;
            for (let i = 0; i < px.length; i += 4) {
                if (px[i] < 240 || px[i + 1] < 240 || px[i + 2] < 240) inked++;
            }
            return inked / (px.length / 4);
        }""",
        data,
    )


@pytest.mark.browser
def test_every_figure_renders_to_a_png_for_review(browser):
    """Start, middle and end of each figure side by side, in var/figures/, to look at."""
    out = Path(settings.VAR_DIR) / "figures"
    out.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 3 * 360, "height": 240})
    page = context.new_page()
    page.emulate_media(reduced_motion="reduce")
    try:
        for slug in DEFAULT_SLUGS:
            drawing = poses.svg_for(slug)
            cells = "".join(
                f'<div class="exercise-figure show-{i}">{drawing}</div>'
                for i in (0, FRAMES // 2, FRAMES - 1)
            )
            shown = "".join(
                f".show-{i} .frame{{opacity:0}} .show-{i} .frame-{i}{{opacity:1}}"
                for i in range(FRAMES)
            )
            page_with_figures(
                page, f"<style>{shown}</style><div style='display:flex'>{cells}</div>"
            )
            png = page.screenshot(path=str(out / f"{slug}.png"))
            share = ink(page, png)
            assert 0.01 < share < 0.5, (slug, share)
        blank = page.screenshot()
        page_with_figures(page, "")
        assert ink(page, page.screenshot()) == 0 < ink(page, blank)
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("motion", ["reduce", "no-preference"])
def test_the_figure_moves_only_when_motion_is_allowed(browser, motion):
    context = browser.new_context(viewport={"width": 390, "height": 400})
    page = context.new_page()
    page.emulate_media(reduced_motion=motion)
    try:
        page_with_figures(page, f'<div class="exercise-figure">{poses.svg_for("heel-slide")}</div>')
        names = page.evaluate(
            "[...document.querySelectorAll('.frame')].map(g => getComputedStyle(g).animationName)"
        )
        shown = page.evaluate(
            "[...document.querySelectorAll('.frame')].map(g => getComputedStyle(g).opacity)"
        )
        if motion == "reduce":
            assert set(names) == {"none"}
            assert shown == ["1"] + ["0"] * (FRAMES - 1)
        else:
            assert names == [f"figure-frame-{i}" for i in range(FRAMES)]
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_today_with_figures_fits_a_phone_and_passes_axe(phone, user, make_enrolment):
    from datetime import timedelta

    from django.utils import timezone

    from tests.browser import accessibility_problems, overflow

    Exercise.objects.filter(slug="breathing-1").update(slug="heel-slide")
    Exercise.objects.filter(slug="breathing-2").update(slug="glute-bridge")
    today = timezone.localdate(timezone=timezone.get_fixed_timezone(0))
    enrolment = make_enrolment(start_date=today - timedelta(days=2), timezone="UTC")
    phone.log_in(user)
    phone.goto(f"/enrolments/{enrolment.pk}/")
    figure = phone.get_by_role("img", name=poses.figure_for("heel-slide").alt)
    assert figure.is_visible()
    assert figure.bounding_box()["width"] > 200
    assert overflow(phone) == 0
    assert accessibility_problems(phone) == []
    out = Path(settings.VAR_DIR) / "figures"
    out.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(out / "today-at-phone-size.png"), full_page=True)
