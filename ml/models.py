"""Model versions of three kinds, one active version per kind: the city model (a photo's
per-city probability array), the attribute model (one independent probability per attribute:
water, night, fog, ...) and the generic ImageNet classifier."""

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
