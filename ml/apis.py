"""REST endpoints of the ml app: image classification with a city model, and model versions."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import APIException
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses

from . import scoring, selectors
from .models import ModelVersion


class PayloadTooLarge(APIException):
    status_code = 413
    default_code = "payload_too_large"


class ClassifyQuerySerializer(serializers.Serializer):
    model = serializers.SlugField(
        required=False, max_length=64, help_text="A model version name; default: the active one."
    )
    top_k = serializers.IntegerField(
        required=False, default=5, min_value=1, max_value=1000, help_text="How many classes."
    )


class ClassifyInputSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True,  # the image checks give the clearer message
        help_text="A JPEG, PNG, WebP, GIF or BMP image.",
    )


class ClassifyMetaSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["success"])
    code = serializers.IntegerField()
    model = serializers.CharField(help_text="The model version that classified the image.")
    kind = serializers.ChoiceField(
        choices=ModelVersion.Kind.choices, help_text="keras: a city CNN; imagenet: ImageNet."
    )


ClassifyItemSerializer = type(
    "ClassifyItemSerializer",
    (serializers.Serializer,),
    {  # "class" is a Python keyword, hence the type() call
        "class": serializers.CharField(
            help_text="City name, or the ImageNet class's names ('espresso')."
        ),
        "slug": serializers.CharField(help_text="City slug, or the WordNet id ('n07920052')."),
        "score": serializers.FloatField(help_text="Probability, 0-1."),
    },
)


class ClassifyOutputSerializer(serializers.Serializer):
    meta = ClassifyMetaSerializer()
    data = ClassifyItemSerializer(many=True, help_text="Most likely class first.")


class ClassifyApi(APIView):
    permission_classes = [AllowAny]
    throttle_scope = "classify"
    parser_classes = [MultiPartParser]

    @extend_schema(
        tags=["classify"],
        summary="Which cities (or ImageNet classes) does this photo look like?",
        description=(
            "Send an image as multipart field `file`; get the top cities of the active model "
            "version, or the top classes of the version named by `?model=` (a city CNN, or the "
            "ImageNet classifier listed by /api/v1/models/ with kind `imagenet`). Empty, "
            "truncated, non-image and decompression-bomb files are refused with 400; files "
            "over the size limit with 413."
        ),
        parameters=[ClassifyQuerySerializer],
        request={"multipart/form-data": ClassifyInputSerializer},
        responses={
            200: ClassifyOutputSerializer,
            **error_responses(400, 409, 413, 415, 429),
        },
    )
    def post(self, request):
        # Bodies over the limit were refused before being read (RequestBodyLimitMiddleware).
        limit = settings.ML_CLASSIFY_MAX_BYTES
        query = ClassifyQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        upload = ClassifyInputSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        image_file = upload.validated_data["file"]
        if image_file.size > limit:
            raise PayloadTooLarge(f"The file is larger than the limit of {limit:,} bytes.")
        version, top = scoring.image_classify(
            image_file=image_file,
            model_name=query.validated_data.get("model"),
            top_k=query.validated_data["top_k"],
        )
        meta = {"type": "success", "code": 200, "model": version.name, "kind": version.kind}
        body = {"meta": meta, "data": top}
        return Response(ClassifyOutputSerializer(body).data)


class ModelVersionOutputSerializer(serializers.ModelSerializer):
    class_count = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = [
            "name", "kind", "status", "is_active", "description", "backbone", "image_size",
            "class_count", "classes", "preprocessing", "training_params", "metrics", "created_at",
        ]  # fmt: skip

    def get_class_count(self, version) -> int:
        return len(version.classes)


@extend_schema(tags=["models"], responses={200: ModelVersionOutputSerializer(many=True)})
class ModelVersionListApi(generics.ListAPIView):
    """Every model version, newest first, with its validation metrics; `is_active` marks the
    one that scores photos and answers /classify."""

    permission_classes = [AllowAny]
    serializer_class = ModelVersionOutputSerializer

    def get_queryset(self):
        return selectors.model_version_list()


@extend_schema(
    tags=["models"],
    responses={200: ModelVersionOutputSerializer, **error_responses(404)},
)
class ModelVersionDetailApi(generics.RetrieveAPIView):
    permission_classes = [AllowAny]
    serializer_class = ModelVersionOutputSerializer
    lookup_field = "name"

    def get_queryset(self):
        return selectors.model_version_list()
