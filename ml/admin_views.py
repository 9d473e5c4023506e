"""The admin's ML workbench pages beside the model version admin: train a model (the form
starts a background job, ml.jobs.training_job_start), compare a version with the active one of
its kind, and activate a version after a confirmation page that says what will happen. Thin:
each validates, calls one service or selector, and renders or redirects."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from core.errors import ApplicationError

from . import activation as activations
from . import admin_charts, admin_selectors
from .admin_forms import TrainForm
from .models import ModelVersion
from .selectors import model_version_active


def _context(model_admin, request, title: str, **extra) -> dict:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        **extra,
    }


def train_view(model_admin, request):
    """GET: the form; POST: start a training job and go to its page (never trained here)."""
    from . import jobs

    form = TrainForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = jobs.training_job_start(user=request.user, **form.training_arguments())
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Training {job.name} started.")
            return redirect(reverse("admin:ml_trainingjob_change", args=[job.pk]))
    return TemplateResponse(
        request,
        "admin/ml/modelversion/train.html",
        _context(
            model_admin,
            request,
            "Train a model",
            form=form,
            notice=admin_selectors.retraining_notice(),
        ),
    )


def version_report(version: ModelVersion) -> dict:
    """A version's metrics as the page's tables and charts."""
    metrics = version.metrics or {}
    report = {
        "headlines": admin_selectors.headline_rows(metrics, version.kind),
        "held_out": metrics.get("synthetic_held_out") or {},
    }
    if version.kind == ModelVersion.Kind.ATTRIBUTES:
        report["attributes"] = admin_selectors.attribute_rows(metrics)
        report["held_out_groups"] = admin_selectors.held_out_groups(metrics)
        report["attribute_chart"] = admin_charts.bar_chart(
            {row["name"]: row["auc"] for row in report["attributes"]}
        )
    else:
        per_city = metrics.get("per_city_accuracy") or {}
        report["per_city"] = sorted(per_city.items())
        report["per_city_chart"] = admin_charts.bar_chart(dict(report["per_city"]))
        report["confused"] = metrics.get("most_confused") or []
        report["calibration"] = admin_charts.reliability_diagram(metrics.get("calibration"))
        held_out = report["held_out"]
        report["held_out_headlines"] = admin_selectors.headline_rows(held_out, version.kind)
        report["held_out_chart"] = admin_charts.bar_chart(
            dict(sorted((held_out.get("per_city_accuracy") or {}).items()))
        )
    return report


def compare_view(model_admin, request, object_id):
    version = get_object_or_404(ModelVersion, pk=object_id)
    active = model_version_active(version.kind)
    context = _context(
        model_admin,
        request,
        f"{version.name} beside the active {version.kind} version",
        version=version,
        active=active,
    )
    if active is not None and active.pk != version.pk:
        context.update(
            rows=admin_selectors.version_comparison(version=version, active=active),
            classes=admin_selectors.classes_difference(version=version, active=active),
            version_report=version_report(version),
            active_report=version_report(active),
        )
    return TemplateResponse(request, "admin/ml/modelversion/compare.html", context)


def activate_view(model_admin, request, object_id):
    """GET: what activating will do; POST: activate, then the activation's progress page."""
    version = get_object_or_404(ModelVersion, pk=object_id)
    change_url = reverse("admin:ml_modelversion_change", args=[version.pk])
    if request.method == "POST":
        try:
            activation = activations.model_version_activate(version_id=version.pk)
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect(change_url)
        messages.success(request, f"{version.name} is active; rescoring in the background.")
        return redirect(reverse("admin:ml_activation_change", args=[activation.pk]))
    return TemplateResponse(
        request,
        "admin/ml/modelversion/activate.html",
        _context(
            model_admin,
            request,
            f"Activate {version.name}?",
            version=version,
            active=model_version_active(version.kind),
            preview=admin_selectors.activation_preview(version=version),
            change_url=change_url,
        ),
    )


def by_name_view(model_admin, request, name):
    """A version's page by its name (a training job knows its version by name)."""
    version = get_object_or_404(ModelVersion, name=name)
    return redirect(reverse("admin:ml_modelversion_change", args=[version.pk]))
