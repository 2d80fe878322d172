"""Each enrolment's dashboard row (programs.standing).

The rows are derived data: after every `migrate`, `programs.client_status.build_missing` builds one
for each enrolment without one, with today's code against today's tables.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("programs", "0012_conversation"),
    ]

    operations = [
        migrations.CreateModel(
            name="ClientStatus",
            fields=[
                (
                    "enrolment",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="standing",
                        serialize=False,
                        to="programs.enrolment",
                    ),
                ),
                ("computed_at", models.DateTimeField()),
                ("local_date", models.DateField(help_text="Her local date when it was computed.")),
                (
                    "rolls_over_at",
                    models.DateTimeField(help_text="When time alone changes it next (UTC)."),
                ),
                ("week", models.PositiveSmallIntegerField()),
                ("started", models.BooleanField()),
                ("finished", models.BooleanField()),
                ("progress_percent", models.PositiveSmallIntegerField()),
                ("recent_done", models.PositiveIntegerField()),
                ("recent_expected", models.PositiveIntegerField()),
                ("recent_percent", models.PositiveSmallIntegerField()),
                ("overall_done", models.PositiveIntegerField()),
                ("overall_expected", models.PositiveIntegerField()),
                ("overall_percent", models.PositiveSmallIntegerField()),
                ("last_activity", models.DateField(null=True)),
                ("last_pain", models.PositiveSmallIntegerField(null=True)),
                ("pains", models.JSONField(default=list)),
                ("urgent", models.BooleanField(default=False)),
                ("hold", models.BooleanField(default=False)),
                ("pain_up", models.BooleanField(default=False)),
                ("strain", models.BooleanField(default=False)),
                ("idle", models.BooleanField(default=False)),
                ("broken", models.BooleanField(default=False)),
                ("rank", models.PositiveSmallIntegerField(default=0)),
                ("neutral_rank", models.PositiveSmallIntegerField(default=0)),
            ],
            options={
                "verbose_name_plural": "client statuses",
                "indexes": [
                    models.Index(fields=["rolls_over_at"], name="clientstatus_rolls_over"),
                    models.Index(fields=["rank"], name="clientstatus_rank"),
                ],
            },
        ),
    ]
