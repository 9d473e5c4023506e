"""Model versions of three kinds, one active version per kind: the city model (a photo's
per-city probability array), the attribute model (one independent probability per attribute:
water, night, fog, ...) and the generic ImageNet classifier."""

from django.conf import settings
from django.db import models

from core.storage import private_storage


class ModelVersion(models.Model):
    class Kind(models.TextChoices):
        """What a version answers; /classify?models= names kinds."""

        CITY = "city", "City model (softmax over the city catalog)"
        ATTRIBUTES = "attributes", "Attribute model (one sigmoid per attribute)"
        IMAGENET = "imagenet", "ImageNet classifier (1000 everyday classes)"

    class Architecture(models.TextChoices):
        """How a version computes its answer."""

        LABEL_PRIOR = "label_prior", "Label prior (no CNN: arrays derived from the photo's label)"
        KERAS = "keras", "Keras CNN"

    class Status(models.TextChoices):
        TRAINING = "training", "Training"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    name = models.SlugField(
        max_length=64, unique=True, help_text="Unique version name, e.g. 'resnet50-2026-11-21'."
    )
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.CITY)
    architecture = models.CharField(
        max_length=32, choices=Architecture.choices, default=Architecture.KERAS
    )
    classes = models.JSONField(
        help_text="Ordered class ids: entry i of a probability array belongs to classes[i] "
        "(city slugs; attribute names; WordNet ids for the ImageNet classifier)."
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.READY, db_index=True
    )
    artifact = models.FileField(
        upload_to="models/",
        storage=private_storage,
        blank=True,
        help_text="The trained Keras model (.keras file), in the private storage.",
    )
    backbone = models.CharField(max_length=32, blank=True, help_text="e.g. resnet50.")
    image_size = models.PositiveIntegerField(
        null=True, blank=True, help_text="Side of the square RGB input, in pixels."
    )
    preprocessing = models.JSONField(
        default=dict, blank=True, help_text="How raw images become model input."
    )
    training_params = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True, help_text="Validation metrics.")
    is_active = models.BooleanField(
        default=False,
        help_text="The active version of its kind scores new photos and answers /classify. "
        "At most one per kind.",
    )
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=models.Q(is_active=True),
                name="ml_one_active_model_version_per_kind",
            )
        ]

    def __str__(self) -> str:
        return self.name + (f" (active {self.kind})" if self.is_active else "")


class Activation(models.Model):
    """Making a model version the active one of its kind: every photo is rescored with it (in
    chunked tasks), then, for a city model, every person's running scores are recomputed from
    their swipes."""

    class Status(models.TextChoices):
        RESCORING = "rescoring", "Rescoring photos"
        RECOMPUTING = "recomputing", "Recomputing people's scores"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="activations"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RESCORING)
    photos_total = models.PositiveIntegerField(default=0)
    photos_done = models.PositiveIntegerField(default=0)
    photos_scored = models.PositiveIntegerField(
        default=0, help_text="Photos that got an array from this version (others keep theirs)."
    )
    profiles_total = models.PositiveIntegerField(default=0)
    profiles_done = models.PositiveIntegerField(default=0)
    profiles_drifted = models.PositiveIntegerField(
        default=0, help_text="Profiles whose running scores changed with the new arrays."
    )
    finished_chunks = models.JSONField(
        default=list, blank=True, help_text="Chunk keys done, so a redelivered task is a no-op."
    )
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Activation of {self.model_version.name} ({self.status})"

    @property
    def progress(self) -> float:
        """0-1 over both phases (photos count as much as profiles); a version of another kind
        than the city model has the photos' phase only."""
        photos = self.photos_done / self.photos_total if self.photos_total else 1.0
        profiles = self.profiles_done / self.profiles_total if self.profiles_total else 1.0
        if self.status == self.Status.DONE:
            return 1.0
        if self.model_version.kind != ModelVersion.Kind.CITY:
            return photos
        return (photos + (profiles if self.status == self.Status.RECOMPUTING else 0.0)) / 2


class TrainingJob(models.Model):
    """Training a new model version in the background, started from the admin (ml.jobs): what
    was asked, how far it is (photos loaded, epochs with their curves, throughput, time left)
    and how it ended. Run by ml.job_runner.training_job_run, in a Celery worker (ml queue) or,
    without a broker, in a thread of the process that started it."""

    class Kind(models.TextChoices):
        CITY = ModelVersion.Kind.CITY.value, "City model"
        ATTRIBUTES = ModelVersion.Kind.ATTRIBUTES.value, "Attribute model"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    kind = models.CharField(max_length=32, choices=Kind.choices)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    name = models.SlugField(max_length=64, help_text="The model version it creates.")
    params = models.JSONField(
        default=dict,
        blank=True,
        help_text="backbone, weights, image_size, epochs, cities (empty: all), mixed_styles.",
    )
    phase = models.CharField(
        max_length=32, blank=True, help_text="loading photos, training, evaluating, saving."
    )
    photos_total = models.PositiveIntegerField(default=0)
    photos_loaded = models.PositiveIntegerField(default=0)
    epoch = models.PositiveIntegerField(default=0, help_text="Epochs done.")
    epochs = models.PositiveIntegerField(
        default=0, help_text="Epochs planned (early stopping may end sooner)."
    )
    history = models.JSONField(
        default=list,
        blank=True,
        help_text="One entry per epoch: epoch, loss, val_loss, accuracy and val_accuracy (city) "
        "or auc and val_auc (attributes), seconds since the job started.",
    )
    photos_per_second = models.FloatField(
        default=0.0,
        help_text="While loading: photos loaded per second; while training: photos trained on "
        "per second over the epochs so far.",
    )
    eta_seconds = models.FloatField(null=True, blank=True, help_text="Seconds left, estimated.")
    cancel_requested = models.BooleanField(default=False)
    model_version = models.ForeignKey(
        ModelVersion,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="training_jobs",
    )
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Training {self.name} ({self.status})"

    @property
    def progress(self) -> float:
        """0-1: loading the photos counts for a tenth, the epochs for most of the rest, the
        evaluation and saving for the last tenth."""
        if self.status == self.Status.SUCCEEDED:
            return 1.0
        if self.phase == "loading photos":
            return 0.1 * (self.photos_loaded / self.photos_total if self.photos_total else 0.0)
        if self.phase == "training":
            return 0.1 + 0.8 * (min(self.epoch, self.epochs) / self.epochs if self.epochs else 0.0)
        if self.phase in ("saving", "evaluating"):
            return 0.9
        return 0.0
