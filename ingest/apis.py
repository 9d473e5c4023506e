"""The import API (admins only): queue URLs, CSV lines, an image or a zip, and follow a batch
and its photos through the pipeline."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses
from core.drf import JSONParser
from core.errors import NotFoundError
from photos import selectors
from photos.models import ImportBatch

from . import imports


class ImportCountsSerializer(serializers.Serializer):
    queued = serializers.IntegerField(help_text="Still in the pipeline.")
    done = serializers.IntegerField(help_text="Published into the deck.")
    rejected = serializers.IntegerField()
    duplicate = serializers.IntegerField(help_text="Linked to an earlier copy, not added.")
    failed = serializers.IntegerField(help_text="A step kept failing; can be resumed.")


class SkippedEntrySerializer(serializers.Serializer):
    entry = serializers.CharField(help_text="The archive entry or file.")
    reason = serializers.CharField()


class ImportBatchOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.CharField()
    label = serializers.CharField()
    status = serializers.ChoiceField(
        choices=ImportBatch.Status.choices,
        help_text="`unpacking`: a worker is unpacking the archive (total is what its directory "
        "lists); `queued`: every photo is in the pipeline; `failed`: nothing could be queued "
        "(see `error`).",
    )
    error = serializers.CharField()
    total = serializers.IntegerField()
    counts = serializers.SerializerMethodField()
    skipped = SkippedEntrySerializer(
        many=True, help_text="Entries that were not imported, and why."
    )
    finished = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(ImportCountsSerializer)
    def get_counts(self, batch) -> dict:
        return selectors.batch_counts(batch=batch)

    def get_finished(self, batch) -> bool:
        return selectors.batch_finished(batch=batch)


class ImportInputSerializer(serializers.Serializer):
    urls = serializers.ListField(
        child=serializers.CharField(max_length=2000),
        required=False,
        max_length=5000,
        help_text="Image URLs (JSON).",
    )
    lines = serializers.CharField(
        required=False, max_length=5_000_000, help_text="`url,city` CSV lines (JSON)."
    )
    file = serializers.FileField(
        required=False, help_text="An image or a zip of images (multipart; folders = cities)."
    )
    city = serializers.CharField(
        required=False, max_length=128, help_text="City (slug or name) for URLs and files."
    )


class ImportPhotoOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    status_reason = serializers.CharField()
    pipeline_step = serializers.CharField(help_text="Next step; empty when done.")
    duplicate_of = serializers.IntegerField(source="duplicate_of_id", allow_null=True)
    image_url = serializers.CharField()
    city = serializers.CharField(source="city.slug", allow_null=True, default=None)
    model_version = serializers.CharField(
        source="model_version.name",
        allow_null=True,
        default=None,
        help_text="The city model version whose array the photo has now.",
    )
    analysis = serializers.DictField()


@extend_schema(
    tags=["imports"],
    summary="Import photos (admins)",
    description=(
        'Send `{"urls": [...], "city": "paris"}` or `{"lines": "url,city\\n..."}` as '
        "JSON, or a multipart `file` (an image, or a zip whose folders are city names). Every "
        "photo goes through the analysis pipeline (fetch, validate, dedupe, quality, score, "
        "publish); follow the batch at `/api/v1/photos/imports/<id>/`."
    ),
    request={
        "application/json": ImportInputSerializer,
        "multipart/form-data": ImportInputSerializer,
    },
    responses={202: ImportBatchOutputSerializer, **error_responses(400, 401, 403, 413, 429)},
)
class PhotoImportApi(APIView):
    permission_classes = [IsAdminUser]
    throttle_scope = "imports"
    parser_classes = [JSONParser, MultiPartParser]

    def post(self, request):
        data = ImportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        batch = imports.photos_import_request(user=request.user, **data.validated_data)
        return Response(ImportBatchOutputSerializer(batch).data, status=202)


@extend_schema(
    tags=["imports"],
    summary="An import batch's progress (admins)",
    responses={200: ImportBatchOutputSerializer, **error_responses(401, 403, 404)},
)
class PhotoImportDetailApi(generics.RetrieveAPIView):
    permission_classes = [IsAdminUser]
    serializer_class = ImportBatchOutputSerializer

    def get_queryset(self):
        return selectors.batch_list()


@extend_schema(
    tags=["imports"],
    summary="The photos of an import batch, with each step's result (admins)",
    responses={200: ImportPhotoOutputSerializer(many=True), **error_responses(401, 403, 404)},
)
class PhotoImportPhotosApi(generics.ListAPIView):
    permission_classes = [IsAdminUser]
    serializer_class = ImportPhotoOutputSerializer

    def get_queryset(self):
        batch = selectors.batch_get(batch_id=self.kwargs["pk"])
        if batch is None:
            raise NotFoundError("No such import batch.")
        return selectors.batch_photos(batch=batch)
