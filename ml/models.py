"""Model versions: what produced a photo's per-city probability array."""

from django.db import models


class ModelVersion(models.Model):
    class Kind(models.TextChoices):
        LABEL_PRIOR = "label_prior", "Label prior (no CNN: arrays derived from the photo's label)"
        KERAS = "keras", "Keras CNN"

    class Status(models.TextChoices):
        TRAINING = "training", "Training"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    name = models.SlugField(
        max_length=64, unique=True, help_text="Unique version name, e.g. 'resnet50-2026-11-21'."
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    classes = models.JSONField(
        help_text="Ordered city slugs: entry i of a probability array belongs to classes[i]."
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.READY, db_index=True
    )
    artifact = models.FileField(
        upload_to="models/", blank=True, help_text="The trained Keras model (.keras file)."
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
        default=False, help_text="The active version scores new photos. Exactly one is active."
    )
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=models.Q(is_active=True),
                name="ml_one_active_model_version",
            )
        ]

    def __str__(self) -> str:
        return self.name + (" (active)" if self.is_active else "")
