"""Reads of model versions."""

from .models import ModelVersion


def model_version_active(kind: str = ModelVersion.Kind.CITY) -> ModelVersion | None:
    """The active version of a kind (by default the city model, which scores the deck)."""
    return ModelVersion.objects.filter(kind=kind, is_active=True).first()


def model_versions_active() -> dict[str, ModelVersion]:
    """{kind: its active version}, for the kinds that have one."""
    return {version.kind: version for version in ModelVersion.objects.filter(is_active=True)}


def model_version_get(*, name: str) -> ModelVersion | None:
    return ModelVersion.objects.filter(name=name).first()


def model_version_list():
    return ModelVersion.objects.order_by("-created_at", "-pk")
