"""The training-jobs API (staff only): start training a model version in the background, follow
it (phase, progress, curves, throughput, time left) and cancel it. The admin's training pages
use it; the work itself is ml.jobs and ml.job_runner."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from core.api import error_responses

from . import jobs, selectors
from .backbones import BACKBONE_NAMES
from .models import TrainingJob


class TrainingJobInputSerializer(serializers.Serializer):
    # A pattern, not a choice: an enum named "kind" exists already (ModelVersion's three kinds).
    kind = serializers.RegexField(
        rf"^({'|'.join(TrainingJob.Kind.values)})$",
        error_messages={"invalid": f"Choose one of {', '.join(TrainingJob.Kind.values)}."},
        help_text="city or attributes.",
    )
    name = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=64,
        help_text="The version to create (a free slug); empty: <backbone>-<timestamp> or "
        "attributes-<timestamp>.",
    )
    backbone = serializers.ChoiceField(
        choices=sorted(BACKBONE_NAMES),
        required=False,
        default="efficientnetlite0",
        help_text="The attribute model takes efficientnetlite0 only.",
    )
    weights = serializers.ChoiceField(
        choices=["imagenet"],
        required=False,
        allow_null=True,
        default="imagenet",
        help_text="'imagenet' (pretrained) or null (from scratch; city models only).",
    )
    image_size = serializers.IntegerField(
        min_value=jobs.IMAGE_SIZES[0], max_value=jobs.IMAGE_SIZES[1], default=128
    )
    epochs = serializers.IntegerField(
        min_value=jobs.EPOCHS[0], max_value=jobs.EPOCHS[1], default=60
    )
    cities = serializers.ListField(
        child=serializers.SlugField(max_length=128),
        required=False,
        default=list,
        max_length=1000,
        help_text="City slugs to train on; empty: every city with photos. City models only.",
    )
    mixed_styles = serializers.IntegerField(
        min_value=jobs.MIXED_STYLES[0],
        max_value=jobs.MIXED_STYLES[1],
        default=0,
        help_text="Attribute models: this many more photos drawn in mixed styles.",
    )


class TrainingEpochSerializer(serializers.Serializer):
    epoch = serializers.IntegerField()
    loss = serializers.FloatField(allow_null=True)
    val_loss = serializers.FloatField(allow_null=True)
    accuracy = serializers.FloatField(required=False, allow_null=True, help_text="City models.")
    val_accuracy = serializers.FloatField(required=False, allow_null=True)
    auc = serializers.FloatField(required=False, allow_null=True, help_text="Attribute models.")
    val_auc = serializers.FloatField(required=False, allow_null=True)
    seconds = serializers.FloatField(help_text="Since the job started.")


class TrainingJobVersionSerializer(serializers.Serializer):
    name = serializers.CharField()
    status = serializers.CharField()
    is_active = serializers.BooleanField()
    metrics = serializers.DictField(help_text="Validation (and held-out) metrics.")
    url = serializers.SerializerMethodField()

    def get_url(self, version) -> str:
        return reverse(
            "api-v1:model-detail", args=[version.name], request=self.context.get("request")
        )


class TrainingJobUrlsSerializer(serializers.Serializer):
    self = serializers.CharField()
    cancel = serializers.CharField()


class TrainingJobOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="city or attributes.")
    name = serializers.CharField(help_text="The model version it creates.")
    status = serializers.CharField(help_text="queued, running, succeeded, failed or cancelled.")
    phase = serializers.CharField(help_text="loading photos, training, evaluating, saving.")
    progress = serializers.FloatField(help_text="0-1.")
    params = serializers.DictField()
    photos_total = serializers.IntegerField()
    photos_loaded = serializers.IntegerField()
    epoch = serializers.IntegerField(help_text="Epochs done.")
    epochs = serializers.IntegerField(help_text="Planned; early stopping may end sooner.")
    history = TrainingEpochSerializer(many=True, help_text="One entry per epoch.")
    photos_per_second = serializers.FloatField()
    eta_seconds = serializers.FloatField(allow_null=True)
    cancel_requested = serializers.BooleanField()
    error = serializers.CharField()
    model_version = TrainingJobVersionSerializer(
        allow_null=True, help_text="The version made, once the job succeeded."
    )
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    urls = serializers.SerializerMethodField()

    @extend_schema_field(TrainingJobUrlsSerializer)
    def get_urls(self, job) -> dict:
        request = self.context.get("request")
        return {
            "self": reverse("api-v1:training-job", args=[job.pk], request=request),
            "cancel": reverse("api-v1:training-job-cancel", args=[job.pk], request=request),
        }


def _job_response(job: TrainingJob, request, status: int, **headers) -> Response:
    data = TrainingJobOutputSerializer(job, context={"request": request}).data
    return Response(data, status=status, headers=headers or None)


class TrainingJobListApi(generics.ListAPIView):
    permission_classes = [IsAdminUser]
    serializer_class = TrainingJobOutputSerializer

    def get_queryset(self):
        return selectors.training_job_list()

    @extend_schema(
        tags=["admin"],
        summary="Training jobs, newest first (staff)",
        responses={200: TrainingJobOutputSerializer(many=True), **error_responses(401, 403)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=["admin"],
        summary="Train a model version in the background (staff)",
        description=(
            "Checks the request and queues the job: 202 with the job (status `queued`) and its "
            "address in `Location`; follow it there. The training runs in a worker of the ml "
            "queue, or without a broker in a background thread of the server, never in this "
            "request. 400 says what is wrong (unknown city, a taken name, too few photos...)."
        ),
        request=TrainingJobInputSerializer,
        responses={202: TrainingJobOutputSerializer, **error_responses(400, 401, 403)},
        parameters=[
            OpenApiParameter(
                "Location",
                OpenApiTypes.URI,
                location=OpenApiParameter.HEADER,
                response=[202],
                description="The job's address.",
            )
        ],
    )
    def post(self, request):
        data = TrainingJobInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = jobs.training_job_start(user=request.user, **data.validated_data)
        location = reverse("api-v1:training-job", args=[job.pk], request=request)
        return _job_response(job, request, 202, Location=location)


@extend_schema(
    tags=["admin"],
    summary="A training job's progress, curves and result (staff)",
    responses={200: TrainingJobOutputSerializer, **error_responses(401, 403, 404)},
)
class TrainingJobDetailApi(generics.RetrieveAPIView):
    permission_classes = [IsAdminUser]
    serializer_class = TrainingJobOutputSerializer

    def get_queryset(self):
        return selectors.training_job_list()


@extend_schema(
    tags=["admin"],
    summary="Cancel a training job (staff)",
    description=(
        "A queued job is cancelled at once; a running one stops after its current photo or "
        "epoch and leaves no version behind. 409 when the job has finished already."
    ),
    request=None,
    responses={202: TrainingJobOutputSerializer, **error_responses(401, 403, 404, 409)},
)
class TrainingJobCancelApi(APIView):
    permission_classes = [IsAdminUser]

    def post(self, request, pk: int):
        job = jobs.training_job_cancel(job_id=pk)
        return _job_response(job, request, 202)
