"""Model versions: what produced a photo's per-city probability array."""

from django.db import models


class ModelVersion(models.Model):
    class Kind(models.TextChoices):
        LABEL_PRIOR = "label_prior", "Label prior (no CNN: arrays derived from the photo's label)"
        KERAS = "keras", "Keras CNN"

    name = models.SlugField(
        max_length=64, unique=True, help_text="Unique version name, e.g. 'resnet50-2026-11-21'."
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    classes = models.JSONField(
        help_text="Ordered city slugs: entry i of a probability array belongs to classes[i]."
    )
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
