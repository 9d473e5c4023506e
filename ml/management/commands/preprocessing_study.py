"""The preprocessing study on the database's model versions (ml.preprocessing_study)."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ml import preprocessing_report as report
from ml import preprocessing_study as study
from ml import preprocessing_thresholds as threshold_rules
from ml import runtime, selectors
from ml.imagenet import IMAGENET_VERSION_NAME
from ml.models import ModelVersion
from ml.synthetic import DEMO_CITIES

MEASURES = {ModelVersion.Kind.CITY: "accuracy", ModelVersion.Kind.IMAGENET: "agreement"}


class Command(BaseCommand):
    help = (
        "Top-1 accuracy (city CNNs, on held-out SYNTHETIC photos of their cities) or top-1 "
        "agreement with the untouched photo (the ImageNet classifier) and mean confidence "
        "against brightness, blur, noise and JPEG quality, with the quality gate's measures of "
        "the perturbed photos and the gate thresholds the curves give. Writes "
        "preprocessing-study.json and .png to --out. See docs/EVALUATION.md."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--model",
            action="append",
            dest="models",
            help="Model version name (repeatable). Default: the active version (if a CNN) and "
            f"{IMAGENET_VERSION_NAME} if installed.",
        )
        parser.add_argument("--per-city", type=int, default=5, help="Held-out photos per city.")
        parser.add_argument("--out", type=Path, default=Path("test-artifacts/preprocessing"))
        parser.add_argument(
            "--drop", type=float, default=study.ACCURACY_DROP, help="The rule's accuracy drop."
        )

    def handle(self, *args, models, per_city, out, drop, **options):
        if per_city < 1:
            raise CommandError("--per-city must be at least 1.")
        versions = self._versions(models)
        subjects = []
        for version in versions:
            if version.kind not in MEASURES or not version.artifact:
                raise CommandError(f"{version.name} is not a trained CNN or ImageNet classifier.")
            subjects.append(
                study.Subject(
                    version.name,
                    runtime.model_for(version),
                    version.image_size,
                    list(version.classes),
                    MEASURES[version.kind],
                )
            )
        labelled = [s for s in subjects if s.measure == "accuracy"]
        slugs = list(dict.fromkeys(c for s in labelled for c in s.classes)) or DEMO_CITIES[:24]
        self.stdout.write(
            f"{', '.join(s.name for s in subjects)} on {per_city} held-out synthetic photos of "
            f"each of {len(slugs)} cities, {len(study.conditions())} conditions."
        )
        photos = study.held_out_photos(slugs, per_city)
        results = report.run_with_progress_bar(
            photos, subjects, max_side=settings.PHOTO_NORMALIZED_MAX_SIDE
        )
        results.update({"photos_per_city": per_city, "cities": slugs})
        if labelled:
            thresholds = threshold_rules.derive_thresholds(results, labelled[0].name, drop=drop)
            results["thresholds"] = thresholds
            gate = {k: v for k, v in settings.PHOTO_QUALITY_GATE.items() if k != "min_side"}
            results["gate_effect"] = threshold_rules.gate_effect(results, labelled[0].name, gate)
        out.mkdir(parents=True, exist_ok=True)
        (out / "preprocessing-study.json").write_text(json.dumps(results, indent=1) + "\n")
        if labelled:
            report.plot(results, results["thresholds"], out / "preprocessing-study.png")
        self.stdout.write(report.markdown_table(results))
        if labelled:
            gate = settings.PHOTO_QUALITY_GATE
            for key, value in results["thresholds"]["gate"].items():
                self.stdout.write(f"{key}: the curves give {value}; the gate has {gate.get(key)}")
        else:
            self.stdout.write("No city CNN among the models: no gate thresholds derived.")
        self.stdout.write(self.style.SUCCESS(f"Wrote {out}/preprocessing-study.json"))

    def _versions(self, names):
        if names:
            found = [selectors.model_version_get(name=name) for name in names]
            missing = [n for n, v in zip(names, found, strict=True) if v is None]
            if missing:
                raise CommandError(f"No model version named {', '.join(missing)}.")
            return found
        active = selectors.model_version_active()
        versions = [active] if active is not None and active.kind in MEASURES else []
        imagenet = selectors.model_version_get(name=IMAGENET_VERSION_NAME)
        versions += [imagenet] if imagenet is not None else []
        if not versions:
            raise CommandError("No active CNN and no ImageNet classifier: name one with --model.")
        return versions
