"""Reads of model versions and training jobs."""

from django.db.models import Count

from .models import ModelVersion, TrainingJob


def model_version_active(kind: str = ModelVersion.Kind.CITY) -> ModelVersion | None:
    """The active version of a kind (by default the city model, which scores the deck)."""
    return ModelVersion.objects.filter(kind=kind, is_active=True).first()


def model_versions_active() -> dict[str, ModelVersion]:
    """{kind: its active version}, for the kinds that have one."""
    return {version.kind: version for version in ModelVersion.objects.filter(is_active=True)}


def model_version_get(*, name: str) -> ModelVersion | None:
    return ModelVersion.objects.filter(name=name).first()


def model_version_list():
    return ModelVersion.objects.order_by("-created_at", "-pk")


def training_job_get(*, job_id: int) -> TrainingJob | None:
    return (
        TrainingJob.objects.select_related("model_version", "created_by").filter(pk=job_id).first()
    )


def training_job_list():
    """Training jobs, newest first, with their versions and who started them."""
    return TrainingJob.objects.select_related("model_version", "created_by").order_by(
        "-created_at", "-pk"
    )


def training_jobs_counts() -> dict[str, int]:
    """{status: how many jobs}, every status included (0 for none)."""
    counts = dict.fromkeys(TrainingJob.Status.values, 0)
    rows = TrainingJob.objects.order_by().values_list("status").annotate(count=Count("pk"))
    counts.update(dict(rows))
    return counts


def training_job_name_taken(*, name: str) -> bool:
    """A model version has the name, or a queued or running job will create it."""
    return (
        ModelVersion.objects.filter(name=name).exists()
        or TrainingJob.objects.filter(
            name=name, status__in=[TrainingJob.Status.QUEUED, TrainingJob.Status.RUNNING]
        ).exists()
    )
