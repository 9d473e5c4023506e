"""Train a city CNN and store it as a new (inactive) model version."""

from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from rich.progress import Progress

from ml import selectors, versions
from ml.cnn import BACKBONES, OFFLINE_IMAGENET_BACKBONES, weights_source
from ml.training import TrainingConfig

DEFAULTS = TrainingConfig()


class Command(BaseCommand):
    help = (
        "Train a city CNN (backbone + global average pooling + softmax over the cities) on the "
        "labelled photos in the database, or on a folder tree <city>/<image> with --folder. "
        "The new model version is stored but not activated (see activate_model)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", help="Version name (default: <backbone>-<timestamp>).")
        parser.add_argument("--folder", type=Path, help="Train on <city>/<image> files instead.")
        parser.add_argument("--backbone", choices=sorted(BACKBONES), default=DEFAULTS.backbone)
        parser.add_argument("--image-size", type=int, default=DEFAULTS.image_size)
        parser.add_argument(
            "--weights",
            default=settings.ML_BACKBONE_WEIGHTS,
            help="'imagenet' (offline for "
            f"{', '.join(sorted(OFFLINE_IMAGENET_BACKBONES))}; a Keras download for the others), "
            "a local backbone weights file, or 'none' (train from scratch). Default: the "
            "ML_BACKBONE_WEIGHTS setting.",
        )
        parser.add_argument(
            "--head-epochs",
            type=int,
            default=DEFAULTS.head_epochs,
            help="Epochs for the softmax head (on cached features when the backbone is "
            "pretrained: seconds each) or, from scratch, for the whole network.",
        )
        parser.add_argument(
            "--finetune-epochs",
            type=int,
            default=DEFAULTS.finetune_epochs,
            help="Then epochs of the whole network at a low learning rate (0: none).",
        )
        parser.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size)
        parser.add_argument(
            "--validation-fraction", type=float, default=DEFAULTS.validation_fraction
        )
        parser.add_argument("--patience", type=int, default=DEFAULTS.patience)
        parser.add_argument("--seed", type=int, default=DEFAULTS.seed)

    def handle(self, *args, **options):
        weights = None if options["weights"] in (None, "", "none") else options["weights"]
        config = TrainingConfig(
            backbone=options["backbone"],
            image_size=options["image_size"],
            weights=weights,
            head_epochs=options["head_epochs"],
            finetune_epochs=options["finetune_epochs"],
            batch_size=options["batch_size"],
            validation_fraction=options["validation_fraction"],
            patience=options["patience"],
            seed=options["seed"],
        )
        name = options["name"] or f"{config.backbone}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
        if selectors.model_version_get(name=name) is not None:
            raise CommandError(f"A model version named '{name}' exists already.")
        try:
            config.validate()
            if options["folder"]:
                pixels, slugs, problems = versions.training_data_from_folder(
                    root=options["folder"], image_size=config.image_size
                )
            else:
                pixels, slugs, problems = versions.training_data_from_database(
                    image_size=config.image_size
                )
            for problem in problems:
                self.stderr.write(f"skipped: {problem}")
            self.stdout.write(
                f"Training {name} on {len(slugs)} photos of {len(set(slugs))} cities: "
                f"{config.backbone} at {config.image_size} px, starting weights "
                f"{weights_source(config.backbone, config.weights)}."
            )
            with Progress() as progress:
                bars = {}

                def on_epoch(phase, epoch, epochs, logs):
                    if phase not in bars:
                        bars[phase] = progress.add_task(f"{phase} epochs", total=epochs)
                    accuracy = logs.get("val_accuracy", 0.0)
                    progress.update(
                        bars[phase],
                        completed=epoch,
                        description=f"{phase} epochs (val acc {accuracy:.2f})",
                    )

                version = versions.model_version_train(
                    name=name, config=config, pixels=pixels, slugs=slugs, on_epoch=on_epoch
                )
        except ValueError as error:
            raise CommandError(str(error)) from error
        metrics = version.metrics
        self.stdout.write(
            self.style.SUCCESS(
                f"Model version {version.name}: top-1 {metrics['top1_accuracy']:.3f}, "
                f"top-5 {metrics['top5_accuracy']:.3f} on {metrics['validation_count']} "
                f"validation photos (chance {metrics['chance_accuracy']:.3f}), "
                f"{metrics['training_seconds']} s. Not active yet: activate_model {version.name}"
            )
        )
