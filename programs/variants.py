"""
Variants of a program (after a caesarean, for twins): a copy of its stages and prescriptions under
a new name and slug, for staff to edit before anyone sees it. Exercises are shared, not copied.
"""

from __future__ import annotations

from django.db import models, transaction

from programs.models import Prescription, Program, Stage

COPY_SUFFIX = "-copy"


def copy_program(program: Program, *, name: str, slug: str) -> Program:
    """
    A new, unpublished program with every field, stage and prescription of `program`, under
    `name` and `slug`. Nothing is created if any row is refused (a slug in use, say).
    """
    with transaction.atomic():
        copy = Program(**{**_fields(program), "name": name, "slug": slug, "is_published": False})
        copy.validate_unique()  # a slug in use: a ValidationError to show, not a database error
        copy.save()
        stages = list(program.stages.order_by("position"))
        new_stages = Stage.objects.bulk_create(
            Stage(**_fields(stage, "program"), program=copy) for stage in stages
        )
        new_stage_ids = {old.pk: new.pk for old, new in zip(stages, new_stages, strict=True)}
        Prescription.objects.bulk_create(
            Prescription(**_fields(p, "stage"), stage_id=new_stage_ids[p.stage_id])
            for p in program_prescriptions(program)
        )
    return copy


def program_prescriptions(program: Program) -> models.QuerySet[Prescription]:
    """The program's own prescriptions, in stage order: none tailored for one woman."""
    return (
        Prescription.objects.of_programs()
        .filter(stage__program=program)
        .order_by("stage__position", "position", "pk")
    )


def free_slug(program: Program) -> str:
    """The first of "<slug>-copy", "<slug>-copy-2", ... that no program uses yet."""
    limit = Program._meta.get_field("slug").max_length
    n = 1
    while True:
        suffix = COPY_SUFFIX if n == 1 else f"{COPY_SUFFIX}-{n}"
        slug = program.slug[: limit - len(suffix)] + suffix
        if not Program.objects.filter(slug=slug).exists():
            return slug
        n += 1


def _fields(instance: models.Model, *parent: str) -> dict:
    """Every stored field of `instance` but its id and the `parent` foreign key, so fields added
    later are copied too."""
    skip = {instance._meta.pk.name, *parent}
    return {
        field.attname: getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
        if field.name not in skip
    }
