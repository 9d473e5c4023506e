"""Cities (the catalog and the classes a model predicts) and photos (what people swipe on)."""

from django.conf import settings
from django.db import models

from core.storage import private_storage


class City(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "cities"

    def __str__(self) -> str:
        return self.name


class ImportBatch(models.Model):
    """Photos imported together (a URL list, a CSV, uploads, a zip, a folder). Its counts are
    read from its photos' states (photos.selectors.batch_counts), so they always add up."""

    class Source(models.TextChoices):
        URLS = "urls", "URL list or CSV"
        UPLOAD = "upload", "File upload"
        ZIP = "zip", "Zip archive"
        FOLDER = "folder", "Folder tree"

    class Status(models.TextChoices):
        UNPACKING = "unpacking", "Unpacking the archive"
        QUEUED = "queued", "Photos queued in the pipeline"
        FAILED = "failed", "Failed before any photo was queued"

    source = models.CharField(max_length=16, choices=Source.choices)
    label = models.CharField(max_length=200, blank=True, help_text="What was imported.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True, help_text="Why the batch failed, when it did.")
    archive = models.FileField(
        upload_to="imports/",
        storage=private_storage,
        blank=True,
        help_text="An uploaded zip waiting to be unpacked by a worker (private storage; "
        "deleted once unpacked).",
    )
    skipped = models.JSONField(
        default=list,
        blank=True,
        help_text="Archive entries that were not imported: [{entry, reason}].",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    total = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "import batches"

    def __str__(self) -> str:
        return f"Import #{self.pk} ({self.get_source_display()}, {self.total} photos)"


class Photo(models.Model):
    """A city photo. It enters the swipe deck only through the pipeline's publish step, which
    needs a stored, re-encoded image, a probability array (from a model version) and a position in
    the global queue."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending (waiting to be scored)"
        PUBLISHED = "published", "Published (in the swipe deck)"
        REJECTED = "rejected", "Rejected (kept out of the deck)"
        DUPLICATE = "duplicate", "Duplicate (of another photo; linked, not added)"
        FAILED = "failed", "Failed (a step kept failing; can be retried)"

    class Pipeline(models.TextChoices):
        IMPORT = "import", "Import (settings.PHOTO_PIPELINE)"
        GENERATED = "generated", "Generated demo photo (settings.PHOTO_PIPELINE_GENERATED)"

    incoming = models.FileField(
        upload_to="incoming/",
        storage=private_storage,
        blank=True,
        help_text="The bytes as uploaded or downloaded, kept (in the private storage, never "
        "served) only until the validate step has decoded them.",
    )
    image = models.ImageField(
        upload_to="photos/%Y/%m/",
        blank=True,
        help_text="The image as the validate step decoded and re-encoded it (upright, no "
        "metadata, the decoded format's extension).",
    )
    image_url = models.URLField(
        max_length=2000,
        blank=True,
        help_text="Where the image is hosted, when it is not stored here.",
    )
    city = models.ForeignKey(
        City,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="photos",
        help_text="The city this photo was collected for: the training label. Optional.",
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    status_reason = models.TextField(
        blank=True, help_text="Why the photo is pending or rejected, when there is a reason."
    )
    queue_position = models.PositiveIntegerField(
        null=True,
        blank=True,
        unique=True,
        help_text="Position in the global photo queue; set when the photo is published.",
    )
    probabilities = models.JSONField(
        null=True,
        blank=True,
        help_text="Per-city probability array, aligned with the model version's class list.",
    )
    model_version = models.ForeignKey(
        "ml.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="photos",
        help_text="The model version that produced the probability array.",
    )
    is_synthetic = models.BooleanField(
        default=False, help_text="Generated by the demo generator, not a real photograph."
    )
    source = models.CharField(max_length=64, blank=True, help_text="How the photo arrived.")
    batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="photos"
    )
    pipeline = models.CharField(
        max_length=16,
        choices=Pipeline.choices,
        default=Pipeline.IMPORT,
        help_text="Which list of analysis steps this photo goes through.",
    )
    pipeline_step = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="The next analysis step to run; empty when the pipeline is over.",
    )
    analysis = models.JSONField(
        default=dict,
        blank=True,
        help_text="Per pipeline step: {output, duration_ms, error}.",
    )
    normalized = models.ImageField(
        upload_to="photos/normalized/",
        blank=True,
        help_text="RGB JPEG, EXIF orientation applied, longest side capped (validate step).",
    )
    thumbnail = models.ImageField(upload_to="photos/thumbnails/", blank=True)
    content_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    perceptual_hash = models.CharField(
        max_length=16, blank=True, db_index=True, help_text="64-bit pHash, hex."
    )
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["queue_position", "id"]
        constraints = [
            # The deck shows only images this site decoded and re-encoded itself.
            models.CheckConstraint(
                condition=~models.Q(status="published")
                | (
                    models.Q(probabilities__isnull=False, queue_position__isnull=False)
                    & ~models.Q(normalized="")
                ),
                name="photos_published_photo_is_stored_scored_and_queued",
            ),
        ]

    def __str__(self) -> str:
        label = self.city.name if self.city_id else "unlabelled"
        return f"Photo #{self.pk} ({label})"

    def probability_by_slug(self) -> dict[str, float]:
        """The probability array as {city slug: probability} (empty when not scored)."""
        if self.probabilities is None or self.model_version is None:
            return {}
        return dict(zip(self.model_version.classes, self.probabilities, strict=True))


class PhotoPrediction(models.Model):
    """What a model of another kind than the city model said about a photo: the attribute
    model's probability per attribute, or the ImageNet classifier's top classes. The city
    model's array stays on the photo (``Photo.probabilities``): the swipe arithmetic reads it.

    ``scores`` is {label: probability} with the labels as the version names them (attribute
    names such as "waterfront"; ImageNet class names), so readers need no model to interpret it.
    """

    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="predictions")
    kind = models.CharField(max_length=32, help_text="The model kind: attributes or imagenet.")
    model_version = models.ForeignKey(
        "ml.ModelVersion", on_delete=models.PROTECT, related_name="photo_predictions"
    )
    scores = models.JSONField(
        help_text="{label: probability}; read it through photos.predictions, which orders it."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["photo", "kind"], name="photos_one_prediction_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind} of photo #{self.photo_id}"
