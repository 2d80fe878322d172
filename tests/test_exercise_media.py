"""Staff's own picture or video for an exercise: uploaded in the admin, checked, and shown in
place of the drawn figure."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from programs import media
from programs.models import Exercise

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64
WEBM = b"\x1a\x45\xdf\xa3" + b"\x00" * 64
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 64


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def staff():
    """Its own client, so a test can be staff and her at once."""
    admin = get_user_model().objects.create_superuser("admin@example.com", "admin@example.com", "x")
    client = Client()
    client.force_login(admin)
    return client


def upload(staff, exercise, file, description="Lying on her back, knees bent."):
    data = {
        "slug": exercise.slug,
        "name": exercise.name,
        "instructions": exercise.instructions,
        "cues": exercise.cues,
        "stop_if": exercise.stop_if,
        "timing": exercise.timing,
        "video_url": "",
        "media": file,
        "media_description": description,
    }
    return staff.post(reverse("admin:programs_exercise_change", args=[exercise.pk]), data)


@pytest.mark.parametrize(
    ("name", "head", "kind"),
    [("a.png", PNG, "image"), ("a.JPG", b"\xff\xd8\xff\xe0", "image"), ("a.webp", WEBP, "image"),
     ("a.mp4", MP4, "video"), ("a.webm", WEBM, "video")],
)  # fmt: skip
def test_accepted_formats(name, head, kind):
    assert media.check(name, 1000, head[:16]) == kind


@pytest.mark.parametrize(
    ("name", "head", "code"),
    [("a.gif", b"GIF89a", "type"), ("a.svg", b"<svg", "type"), ("noname", PNG, "type"),
     ("a.png", b"\xff\xd8\xff\xe0", "content"), ("a.mp4", WEBM, "content")],
)  # fmt: skip
def test_refused_formats(name, head, code):
    with pytest.raises(ValidationError) as refused:
        media.check(name, 1000, head[:16])
    assert refused.value.code == code


def test_size_limit_says_how_big_and_how_big_it_may_be(settings):
    settings.EXERCISE_IMAGE_MAX_BYTES = 5_000_000
    with pytest.raises(ValidationError) as refused:
        media.check("big.png", 7_250_000, PNG[:16])
    assert refused.value.messages == [
        "This file is 7.2 MB. A picture can be at most 5 MB: make it smaller or save it as JPEG "
        "or WebP."
    ]


def test_staff_upload_a_picture_in_the_admin(staff, program, media_root):
    exercise = Exercise.objects.get(slug="breathing-1")
    response = upload(staff, exercise, SimpleUploadedFile("bridge.png", PNG, "image/png"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    exercise.refresh_from_db()
    assert exercise.media.name.startswith("exercises/bridge")
    assert exercise.media_kind == "image"
    assert (media_root / exercise.media.name).read_bytes() == PNG


def test_the_admin_refuses_a_wrong_type_with_a_clear_message(staff, program, media_root):
    exercise = Exercise.objects.get(slug="breathing-1")
    response = upload(staff, exercise, SimpleUploadedFile("clip.gif", b"GIF89a...", "image/gif"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["media"] == [
        "Upload a picture (PNG, JPEG or WebP) or a short video (MP4 or WebM)."
    ]
    exercise.refresh_from_db()
    assert not exercise.media
    assert not (media_root / "exercises").exists()


def test_the_admin_refuses_a_file_too_big(staff, program, settings):
    settings.EXERCISE_VIDEO_MAX_BYTES = 50
    exercise = Exercise.objects.get(slug="breathing-1")
    response = upload(staff, exercise, SimpleUploadedFile("clip.mp4", MP4, "video/mp4"))
    assert "A video can be at most" in response.context["adminform"].form.errors["media"][0]


def test_a_picture_needs_its_description(staff, program):
    exercise = Exercise.objects.get(slug="breathing-1")
    response = upload(staff, exercise, SimpleUploadedFile("a.png", PNG), description="")
    assert response.context["adminform"].form.errors["media_description"]


def test_the_file_picker_offers_the_accepted_formats(staff, program):
    exercise = Exercise.objects.get(slug="breathing-1")
    page = staff.get(reverse("admin:programs_exercise_change", args=[exercise.pk])).content
    assert b'accept=".png,.jpg,.jpeg,.webp,.mp4,.webm"' in page


def test_today_and_the_session_show_the_media_instead_of_the_drawing(
    staff, member, program, make_enrolment
):
    Exercise.objects.filter(slug="breathing-1").update(slug="360-breathing")  # one with a drawing
    exercise = Exercise.objects.get(slug="360-breathing")
    today = timezone.localdate(timezone=timezone.get_fixed_timezone(0))
    enrolment = make_enrolment(start_date=today - timedelta(days=2), timezone="UTC")
    before = member.get(reverse("today", args=[enrolment.pk])).content.decode()
    assert "<svg" in before and "exercises/" not in before

    upload(staff, exercise, SimpleUploadedFile("breath.mp4", MP4, "video/mp4"), "Breathing in.")
    exercise.refresh_from_db()
    for name in ["today", "guided_session"]:
        page = member.get(reverse(name, args=[enrolment.pk])).content.decode()
        assert f'<video src="/media/{exercise.media.name}"' in page, name
        assert 'aria-label="Video: Breathing in."' in page

    upload(staff, exercise, SimpleUploadedFile("breath.png", PNG, "image/png"), "Lying down.")
    exercise.refresh_from_db()
    page = member.get(reverse("today", args=[enrolment.pk])).content.decode()
    assert f'<img src="/media/{exercise.media.name}" alt="Lying down."' in page
    assert 'class="exercise-figure"><svg' not in page
