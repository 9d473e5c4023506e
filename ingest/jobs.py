"""Reads for the jobs page (admin and ``/api/v1/admin/jobs/``): every kind of background work —
the import pipeline's steps, activations (rescoring, ml.models.Activation) and training jobs
(ml TrainingJob, read only if that model exists) — with its active, waiting, failed and done
counts, throughput over the last ``WINDOW`` and an ETA. Nothing here writes.

The pipeline records no start or end time per step, so "done recently" at a step counts photos
that passed it and were last touched within the window (``Photo.updated_at`` moves with every
step's record): exact for photos that flow, an over-count for a photo that passed an early step
long ago and has just passed a later one."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.apps import apps
from django.db.models import Count, Q
from django.utils import timezone

from ml.models import Activation
from photos.models import Photo

from .models import PipelineSwitch
from .pipeline import step_names

WINDOW = timedelta(minutes=10)
PAUSED_REASON = "Ingestion paused: this photo waits at its step until an admin resumes it."
FINISHED = [Photo.Status.PUBLISHED, Photo.Status.REJECTED, Photo.Status.DUPLICATE]
ACTIVE_TRAINING = ("running",)
WAITING_TRAINING = ("queued",)


@dataclass(frozen=True)
class JobRow:
    """One running or waiting job (an activation, a training job)."""

    id: int
    label: str
    status: str
    done: int | None = None
    total: int | None = None
    progress: float | None = None  # 0-1
    detail: str = ""
    per_minute: float | None = None
    eta_seconds: float | None = None
    started_at: datetime | None = None


@dataclass(frozen=True)
class StepRow:
    name: str
    pipelines: list[str]
    waiting: int
    failed: int
    done_recent: int
    per_minute: float
    eta_seconds: float | None


@dataclass(frozen=True)
class Queue:
    """One kind of work. ``active`` is None where it is not known (a pipeline step runs for
    seconds inside a Celery task and leaves no trace until it records its result)."""

    key: str
    label: str
    available: bool
    active: int | None
    waiting: int
    failed: int
    done: int
    done_recent: int
    per_minute: float
    eta_seconds: float | None
    steps: list[StepRow] = field(default_factory=list)
    jobs: list[JobRow] = field(default_factory=list)


@dataclass(frozen=True)
class Overview:
    paused: bool
    changed_at: datetime | None
    generated_at: datetime
    window_minutes: int
    queues: list[Queue]


def per_minute(done_recent: int) -> float:
    return round(done_recent / (WINDOW.total_seconds() / 60), 2)


def eta_seconds(waiting: int, rate_per_minute: float) -> float | None:
    """Waiting work over the throughput; 0 when nothing waits, None when nothing moved."""
    if waiting == 0:
        return 0.0
    if rate_per_minute <= 0:
        return None
    return round(60 * waiting / rate_per_minute, 1)


def ingestion_switch() -> PipelineSwitch:
    """The switch's row, or an unsaved one (running) before anyone paused."""
    found = PipelineSwitch.objects.filter(pk=PipelineSwitch.SINGLETON_ID).first()
    return found or PipelineSwitch(pk=PipelineSwitch.SINGLETON_ID)


def ingestion_paused() -> bool:
    return PipelineSwitch.objects.filter(pk=PipelineSwitch.SINGLETON_ID, paused=True).exists()


def photo_ids_waiting(*, status: str, reason: str | None = None) -> list[int]:
    """Photos of ``status`` (pending or failed) that still have a step to run; only those
    whose status_reason is ``reason`` when given."""
    photos = Photo.objects.filter(status=status).exclude(pipeline_step="")
    if reason is not None:
        photos = photos.filter(status_reason=reason)
    return list(photos.order_by("pk").values_list("pk", flat=True))


def pipeline_queue(*, since: datetime) -> Queue:
    steps = list(dict.fromkeys(step_names("import") + step_names("generated")))
    counted = (
        Photo.objects.exclude(pipeline_step="")
        .values("pipeline_step")
        .annotate(
            waiting=Count("id", filter=Q(status=Photo.Status.PENDING)),
            failed=Count("id", filter=Q(status=Photo.Status.FAILED)),
        )
        .values_list("pipeline_step", "waiting", "failed")
    )
    in_step = {step: (waiting, failed) for step, waiting, failed in counted}
    recent = Photo.objects.filter(updated_at__gte=since)
    counts = recent.aggregate(
        **{
            f"step_{i}": Count("id", filter=Q(analysis__has_key=step))
            for i, step in enumerate(steps)
        }
    )
    done_at = {step: counts[f"step_{i}"] for i, step in enumerate(steps)}
    rows = []
    for step in steps:
        waiting, failed = in_step.get(step, (0, 0))
        rate = per_minute(done_at[step])
        rows.append(
            StepRow(
                name=step,
                pipelines=[p for p in ("import", "generated") if step in step_names(p)],
                waiting=waiting,
                failed=failed,
                done_recent=done_at[step],
                per_minute=rate,
                eta_seconds=eta_seconds(waiting, rate),
            )
        )
    totals = Photo.objects.aggregate(
        waiting=Count("id", filter=Q(status=Photo.Status.PENDING) & ~Q(pipeline_step="")),
        failed=Count("id", filter=Q(status=Photo.Status.FAILED)),
        done=Count("id", filter=Q(status__in=FINISHED)),
        done_recent=Count("id", filter=Q(status__in=FINISHED, updated_at__gte=since)),
    )
    rate = per_minute(totals["done_recent"])
    return Queue(
        key="pipeline",
        label="Import pipeline (photos)",
        available=True,
        active=None,
        per_minute=rate,
        eta_seconds=eta_seconds(totals["waiting"], rate),
        steps=rows,
        **totals,
    )


def _minutes_since(moment: datetime | None, now: datetime) -> float:
    return max((now - moment).total_seconds() / 60, 1 / 60) if moment else 0.0


def scoring_queue(*, since: datetime, now: datetime) -> Queue:
    """Activations: rescoring every photo with a new active version, then (city models)
    recomputing people's scores. They run at once or not at all: nothing waits."""
    running = [Activation.Status.RESCORING, Activation.Status.RECOMPUTING]
    totals = Activation.objects.aggregate(
        active=Count("id", filter=Q(status__in=running)),
        failed=Count("id", filter=Q(status=Activation.Status.FAILED)),
        done=Count("id", filter=Q(status=Activation.Status.DONE)),
        done_recent=Count("id", filter=Q(status=Activation.Status.DONE, finished_at__gte=since)),
    )
    jobs = []
    for activation in Activation.objects.filter(status__in=running).select_related("model_version"):
        minutes = _minutes_since(activation.started_at, now)
        rate = round(activation.photos_done / minutes, 2) if minutes else 0.0
        left = activation.photos_total - activation.photos_done
        version = activation.model_version
        jobs.append(
            JobRow(
                id=activation.pk,
                label=f"Activation of {version.name} ({version.kind})",
                status=activation.status,
                done=activation.photos_done,
                total=activation.photos_total,
                progress=round(activation.progress, 4),
                detail=f"profiles {activation.profiles_done} / {activation.profiles_total}",
                per_minute=rate,
                eta_seconds=eta_seconds(left, rate),
                started_at=activation.started_at,
            )
        )
    rate = round(sum(job.per_minute or 0 for job in jobs), 2)
    left = sum(job.total - job.done for job in jobs)
    return Queue(
        key="scoring",
        label="Scoring (model activations)",
        available=True,
        waiting=0,
        per_minute=rate,
        eta_seconds=eta_seconds(left, rate),
        jobs=jobs,
        **totals,
    )


def _training_model():
    """ml's TrainingJob when it exists (it is newer than this page; read it defensively)."""
    try:
        return apps.get_model("ml", "TrainingJob")
    except LookupError:
        return None


def training_queue(*, since: datetime) -> Queue:
    model = _training_model()
    if model is None:
        return Queue("training", "Training", False, None, 0, 0, 0, 0, 0.0, None)
    totals = model.objects.aggregate(
        active=Count("id", filter=Q(status__in=ACTIVE_TRAINING)),
        waiting=Count("id", filter=Q(status__in=WAITING_TRAINING)),
        failed=Count("id", filter=Q(status="failed")),
        done=Count("id", filter=Q(status="succeeded")),
        done_recent=Count("id", filter=Q(status="succeeded", finished_at__gte=since)),
    )
    jobs = [
        JobRow(
            id=job.pk,
            label=str(job),
            status=job.status,
            progress=getattr(job, "progress", None),
            detail=getattr(job, "phase", ""),
            eta_seconds=getattr(job, "eta_seconds", None),
            started_at=getattr(job, "started_at", None) or getattr(job, "created_at", None),
        )
        for job in model.objects.filter(status__in=ACTIVE_TRAINING + WAITING_TRAINING).order_by(
            "created_at", "pk"
        )[:20]
    ]
    rate = per_minute(totals["done_recent"])
    running_eta = sum(job.eta_seconds or 0 for job in jobs if job.status in ACTIVE_TRAINING)
    # a running job knows its own ETA; the jobs waiting behind it take theirs at the throughput
    queued_eta = eta_seconds(totals["waiting"], rate)
    return Queue(
        key="training",
        label="Training",
        available=True,
        per_minute=rate,
        eta_seconds=None if queued_eta is None else queued_eta + running_eta,
        jobs=jobs,
        **totals,
    )


def jobs_overview() -> Overview:
    now = timezone.now()
    since = now - WINDOW
    switch = ingestion_switch()
    return Overview(
        paused=switch.paused,
        changed_at=switch.changed_at,
        generated_at=now,
        window_minutes=int(WINDOW.total_seconds() // 60),
        queues=[
            pipeline_queue(since=since),
            scoring_queue(since=since, now=now),
            training_queue(since=since),
        ],
    )
