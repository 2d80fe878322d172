"""The program catalogue: what each program is and what each week brings."""

from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, render

from programs.models import Enrolment, Program, Stage


def home(request):
    programs = Program.objects.filter(is_published=True).annotate(stage_count=Count("stages"))
    current = []
    if request.user.is_authenticated:
        current = list(
            Enrolment.objects.filter(user=request.user, status__in=Enrolment.CURRENT)
            .select_related("program")
            .order_by("-created_at")
        )
    return render(request, "programs/catalogue.html", {"programs": programs, "current": current})


def program_detail(request, slug):
    program = get_object_or_404(
        Program.objects.prefetch_related(
            Prefetch("stages", queryset=Stage.objects.with_prescriptions())
        ),
        slug=slug,
        is_published=True,
    )
    enrolment = None
    if request.user.is_authenticated:
        enrolment = Enrolment.objects.filter(
            user=request.user, program=program, status__in=Enrolment.CURRENT
        ).first()
    return render(
        request, "programs/program_detail.html", {"program": program, "enrolment": enrolment}
    )
