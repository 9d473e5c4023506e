"""Reads of model versions."""

from .models import ModelVersion


def model_version_active() -> ModelVersion | None:
    return ModelVersion.objects.filter(is_active=True).first()


def model_version_get(*, name: str) -> ModelVersion | None:
    return ModelVersion.objects.filter(name=name).first()


def model_version_list():
    return ModelVersion.objects.order_by("-created_at", "-pk")
