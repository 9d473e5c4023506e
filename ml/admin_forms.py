"""The admin's "train a model" form: what ml.jobs.training_job_start needs, with the choices
(backbones, cities with stored labelled photos) and suggested defaults filled in."""

from django import forms
from django.utils import timezone

from . import admin_selectors
from .backbones import BACKBONE_NAMES
from .models import ModelVersion

KINDS = [
    (ModelVersion.Kind.CITY.value, "City model (which city a photo shows)"),
    (ModelVersion.Kind.ATTRIBUTES.value, "Attribute model (water, night, fog, ...)"),
]
WEIGHTS = [
    ("imagenet", "ImageNet-pretrained (frozen backbone, the head trained on its features)"),
    ("none", "None (train the whole network from scratch)"),
]


def suggested_name(kind: str = ModelVersion.Kind.CITY) -> str:
    return f"{kind}-{timezone.localtime():%Y%m%d-%H%M}"


class TrainForm(forms.Form):
    kind = forms.ChoiceField(choices=KINDS, initial=ModelVersion.Kind.CITY.value)
    name = forms.SlugField(
        max_length=64, help_text="The new model version's unique name (letters, digits, -, _)."
    )
    backbone = forms.ChoiceField(
        choices=[(name, name) for name in BACKBONE_NAMES], initial="efficientnetlite0"
    )
    weights = forms.ChoiceField(
        choices=WEIGHTS,
        initial="imagenet",
        widget=forms.RadioSelect,
        help_text="Pretrained weights are bundled for efficientnetlite0 only; the others need "
        "Keras's download (or train from scratch).",
    )
    image_size = forms.IntegerField(
        min_value=32, max_value=512, initial=128, help_text="Side of the square input, in px."
    )
    epochs = forms.IntegerField(
        min_value=1,
        max_value=500,
        initial=60,
        help_text="At most; training stops early when validation stops improving.",
    )
    cities = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        help_text="Cities with stored labelled photos (their photo counts); all by default.",
    )
    mixed_styles = forms.IntegerField(
        min_value=0,
        max_value=5000,
        initial=0,
        required=False,
        label="Mixed-style photos",
        help_text="Attribute models only: synthetic photos in attribute combinations no city "
        "has, added to the training set.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        available = admin_selectors.cities_for_training()
        self.fields["cities"].choices = [
            (slug, f"{name} ({count} photo{'s' if count != 1 else ''})")
            for slug, name, count in available
        ]
        self.fields["cities"].initial = [slug for slug, _, _ in available]
        self.fields["name"].initial = suggested_name()

    def training_arguments(self) -> dict:
        """Keyword arguments for ml.jobs.training_job_start (less the user)."""
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "name": data["name"],
            "backbone": data["backbone"],
            "weights": None if data["weights"] == "none" else data["weights"],
            "image_size": data["image_size"],
            "epochs": data["epochs"],
            "cities": list(data["cities"]),
            "mixed_styles": (data.get("mixed_styles") or 0)
            if data["kind"] == ModelVersion.Kind.ATTRIBUTES
            else 0,
        }
