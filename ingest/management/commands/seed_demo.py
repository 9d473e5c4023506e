"""Load demo content: synthetic city photos, scored by the active model version."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from rich.progress import Progress

from ingest import demo
from ingest.runner import pipeline_resume
from ml import scoring
from ml import selectors as ml_selectors
from ml.models import ModelVersion
from photos import selectors as photo_selectors
from photos.models import Photo

DEMO_MODEL_NAME = "demo-efficientnetlite0"
DEMO_ATTRIBUTE_MODEL_NAME = "demo-attributes-efficientnetlite0"


class Command(BaseCommand):
    help = (
        "Create SYNTHETIC demo photos (drawn by ml.synthetic at 1080 x 1350 px, the swipe "
        "card's 4:5 at 3x phone density) for well-known cities, each through "
        "the generated photos' pipeline (validate, dedupe, score, publish), scored by the active "
        "model version (the label prior until a CNN is trained; --train "
        "trains and activates the demo city CNN and installs the ImageNet classifier). Does "
        "nothing if demo photos exist, unless --force. With DEBUG on, also creates the admin "
        "user 'admin' (password 'admin') when no superuser exists."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cities", type=int, default=24, help="How many demo cities (max 30).")
        parser.add_argument("--per-city", type=int, default=10, help="Photos per city.")
        parser.add_argument("--seed", type=int, default=7, help="Seed for the queue order.")
        parser.add_argument("--force", action="store_true", help="Add photos even if some exist.")
        parser.add_argument(
            "--train",
            action="store_true",
            help="Then train the demo city CNN on the photos (train_city_model's defaults: the "
            "ImageNet-pretrained EfficientNet-Lite0, offline, with a new head; well under a "
            "minute on 2 cores) and activate it, unless a trained version exists already; and "
            "install the ImageNet classifier (install_imagenet_model).",
        )

    def handle(self, *args, cities, per_city, seed, force, train, **options):
        version = scoring.model_version_label_prior_ensure()
        existing = photo_selectors.photo_count(source=demo.DEMO_SOURCE)
        if existing and not force:
            self.stdout.write(f"{existing} demo photos exist already; use --force to add more.")
            stalled = photo_selectors.photo_ids_stalled(source=demo.DEMO_SOURCE)
            if resumed := pipeline_resume(photo_ids=stalled):
                self.stdout.write(f"{resumed} of them were not through the pipeline: queued.")
        else:
            total = cities * per_city
            try:
                with Progress(transient=False) as progress:
                    bar = progress.add_task("Drawing and scoring demo photos", total=total)
                    demo.demo_photos_create(
                        city_count=cities,
                        per_city=per_city,
                        seed=seed,
                        on_progress=lambda done: progress.update(bar, completed=done),
                    )
            except ValueError as error:
                raise CommandError(str(error)) from error
            published = photo_selectors.photo_count(
                source=demo.DEMO_SOURCE, status=Photo.Status.PUBLISHED
            )
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created {total} synthetic photos; {published} in the deck "
                    f"(scored by model version {version.name})."
                )
            )
        with connection.cursor() as cursor:
            # Planner statistics for the new rows: SQLite keeps none until asked (without them it
            # sorts the whole deck instead of walking the queue-position index), and neither
            # does a PostgreSQL without autovacuum.
            cursor.execute("ANALYZE")
        if train:
            self._train_demo_model()
            self._train_demo_attribute_model()
            call_command("install_imagenet_model", stdout=self.stdout, stderr=self.stderr)
        self._ensure_demo_admin()

    def _train_demo_model(self):
        if (
            ml_selectors.model_version_list()
            .filter(kind=ModelVersion.Kind.CITY, architecture=ModelVersion.Architecture.KERAS)
            .exists()
        ):
            self.stdout.write("A trained model version exists already; not training another.")
            return
        call_command(
            "train_city_model", "--name", DEMO_MODEL_NAME, "--weights", "imagenet",
            stdout=self.stdout, stderr=self.stderr,
        )  # fmt: skip
        call_command("activate_model", DEMO_MODEL_NAME, stdout=self.stdout, stderr=self.stderr)
        call_command(
            "evaluate_model", DEMO_MODEL_NAME, "--per-city", "10",
            stdout=self.stdout, stderr=self.stderr,
        )  # fmt: skip

    def _train_demo_attribute_model(self):
        if ml_selectors.model_version_active(ModelVersion.Kind.ATTRIBUTES) is not None:
            self.stdout.write("An attribute model is active already; not training another.")
            return
        if ml_selectors.model_version_get(name=DEMO_ATTRIBUTE_MODEL_NAME) is None:
            call_command(
                "train_attribute_model", "--demo", "--name", DEMO_ATTRIBUTE_MODEL_NAME,
                stdout=self.stdout, stderr=self.stderr,
            )  # fmt: skip
        call_command(
            "activate_model", DEMO_ATTRIBUTE_MODEL_NAME, stdout=self.stdout, stderr=self.stderr
        )

    def _ensure_demo_admin(self):
        User = get_user_model()
        if not settings.DEBUG or User.objects.filter(is_superuser=True).exists():
            return
        User.objects.create_superuser("admin", "admin@example.com", "admin")
        self.stdout.write(
            self.style.WARNING("Demo admin created: user 'admin', password 'admin' (DEBUG only).")
        )
