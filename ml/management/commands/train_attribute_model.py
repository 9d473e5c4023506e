"""Train an attribute model (one sigmoid per attribute) and store it as a new inactive version."""

from datetime import UTC, datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from rich.progress import Progress

from core.errors import ApplicationError
from ml import attribute_versions, selectors
from ml.attributes import AttributeConfig

DEFAULTS = AttributeConfig()


class Command(BaseCommand):
    help = (
        "Train an attribute model (water, night, fog, ...: one independent probability each) on "
        "the ImageNet-pretrained EfficientNet-Lite0. Labels come from one of: --demo (the demo "
        "photos in the database, each showing its city's recorded style), --csv FILE (columns "
        "'image', a path relative to the CSV, and 'attributes', names separated by ';'), or "
        "--folder DIR (<attribute>/<image>: an image shows every attribute whose folder holds "
        "it; none/ for none). The version is stored but not activated (see activate_model)."
    )

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--demo", action="store_true", help="The demo photos' city styles.")
        source.add_argument("--csv", type=Path, help="An attributes CSV.")
        source.add_argument("--folder", type=Path, help="A folder per attribute.")
        parser.add_argument("--name", help="Version name (default: attributes-<timestamp>).")
        parser.add_argument("--image-size", type=int, default=DEFAULTS.image_size)
        parser.add_argument("--epochs", type=int, default=DEFAULTS.epochs)
        parser.add_argument("--patience", type=int, default=DEFAULTS.patience)
        parser.add_argument("--seed", type=int, default=DEFAULTS.seed)
        parser.add_argument(
            "--mixed-styles",
            type=int,
            default=480,
            help="With --demo: also this many photos drawn in mixed styles (each attribute on "
            "its own), so the model learns attributes rather than the cities that have them.",
        )
        parser.add_argument(
            "--evaluate-per-city",
            type=int,
            default=10,
            help="With --demo: then measure it on this many fresh held-out photos per demo "
            "city (0: do not).",
        )

    def handle(self, *args, demo, csv, folder, name, mixed_styles, evaluate_per_city, **options):
        config = AttributeConfig(
            image_size=options["image_size"],
            epochs=options["epochs"],
            patience=options["patience"],
            seed=options["seed"],
        )
        name = name or f"attributes-{datetime.now(UTC):%Y%m%d-%H%M%S}"
        if selectors.model_version_get(name=name) is not None:
            raise CommandError(f"A model version named '{name}' exists already.")
        try:
            config.validate()
            cities = None
            if demo:
                source = (
                    "demo photos, labelled by ml/data/demo_city_styles.json, and "
                    f"{mixed_styles} photos drawn in mixed styles"
                )
                cities = attribute_versions.demo_training_cities()
                loaded = attribute_versions.attribute_data_from_demo(
                    image_size=config.image_size, mixed_styles=mixed_styles, seed=config.seed
                )
            elif csv:
                source = f"CSV {csv.name}"
                loaded = attribute_versions.attribute_data_from_csv(
                    path=csv, image_size=config.image_size
                )
            else:
                source = f"folder {folder.name}"
                loaded = attribute_versions.attribute_data_from_folder(
                    root=folder, image_size=config.image_size
                )
            pixels, labels, problems = loaded
            for problem in problems:
                self.stderr.write(f"skipped: {problem}")
            self.stdout.write(f"Training {name} on {len(labels)} photos ({source}).")
            with Progress() as progress:
                bar = progress.add_task("epochs", total=config.epochs)

                def on_epoch(epoch, epochs, logs):
                    progress.update(
                        bar,
                        completed=epoch,
                        description=f"epochs (val AUC {logs.get('val_auc', 0.0):.3f})",
                    )

                version = attribute_versions.model_version_train_attributes(
                    name=name,
                    config=config,
                    pixels=pixels,
                    labels=labels,
                    source=source,
                    cities=cities,
                    on_epoch=on_epoch,
                )
            metrics = version.metrics
            self.stdout.write(
                self.style.SUCCESS(
                    f"Model version {version.name}: {len(version.classes)} attributes, mean AUC "
                    f"{metrics['mean_auc']:.3f} on {metrics['photo_count']} validation photos, "
                    f"{metrics['training_seconds']} s. Not active yet: activate_model {name}"
                )
            )
            if demo and evaluate_per_city > 0:
                held_out = attribute_versions.attribute_version_evaluate_synthetic(
                    version_id=version.pk, per_city=evaluate_per_city
                )
                line = (
                    f"On {held_out['photo_count']} fresh held-out demo photos: mean AUC "
                    f"{held_out['mean_auc']:.3f}"
                )
                for group in ("seen_cities", "new_cities", "mixed_styles"):
                    if group in held_out and held_out[group]["mean_auc"] is not None:
                        line += f"; {group.replace('_', ' ')} {held_out[group]['mean_auc']:.3f}"
                self.stdout.write(line + ".")
        except (ValueError, ApplicationError) as error:
            raise CommandError(str(error)) from error
