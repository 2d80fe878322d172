"""The default program's loaded stages and lifting exercise, marked on installs that loaded it
before those fields existed (new fields: nothing staff chose is overwritten)."""

from django.db import migrations

PROGRAM = "postpartum-core-and-hips"
LOADED_STAGES = ("glute-strength", "hip-flexors", "everyday-movement")
LIFTING_EXERCISES = ("hip-hinge-lift",)


def mark(apps, schema_editor):
    Stage = apps.get_model("programs", "Stage")
    Exercise = apps.get_model("programs", "Exercise")
    Stage.objects.filter(program__slug=PROGRAM, slug__in=LOADED_STAGES).update(loaded=True)
    Exercise.objects.filter(slug__in=LIFTING_EXERCISES).update(lifting=True)


class Migration(migrations.Migration):
    dependencies = [("programs", "0006_safety_alerts_and_timing")]

    operations = [migrations.RunPython(mark, migrations.RunPython.noop)]
