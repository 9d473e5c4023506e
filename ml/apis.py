"""REST endpoints of the ml app: image classification with one or several model kinds in one
answer, and the model kinds and versions."""

from django.conf import settings
from drf_spectacular.utils import (
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import generics, serializers
from rest_framework.exceptions import APIException
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses

from . import classify, runtime, selectors
from .models import ModelVersion


class PayloadTooLarge(APIException):
    status_code = 413
    default_code = "payload_too_large"


class ClassifyQuerySerializer(serializers.Serializer):
    models = serializers.CharField(
        required=False,
        max_length=200,
        help_text="Comma-separated model kinds to answer with, each by its active version: "
        f"{', '.join(classify.KINDS)} (default: city). Then `data` is keyed by kind.",
    )
    model = serializers.SlugField(
        required=False,
        max_length=64,
        help_text="One model version by name instead (any kind); `data` is then its list.",
    )
    top_k = serializers.IntegerField(
        required=False, default=5, min_value=1, max_value=1000, help_text="How many classes."
    )

    def validate(self, attrs):
        if "models" in attrs:
            if "model" in attrs:
                raise serializers.ValidationError("Send `models` (kinds) or `model` (a version).")
            kinds = [kind.strip() for kind in attrs["models"].split(",")]
            if not all(kinds):
                raise serializers.ValidationError({"models": ["An empty kind in the list."]})
            attrs["kinds"] = kinds
        return attrs


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
        choices=ModelVersion.Kind.choices, help_text="What the model answers."
    )


class ClassifyKindsMetaSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["success"])
    code = serializers.IntegerField()
    models = serializers.DictField(
        child=serializers.CharField(), help_text="{kind: the version that answered}."
    )


ClassifyItemSerializer = type(
    "ClassifyItemSerializer",
    (serializers.Serializer,),
    {  # "class" is a Python keyword, hence the type() call
        "class": serializers.CharField(
            help_text="City name, or the ImageNet class's names ('espresso')."
        ),
        "slug": serializers.CharField(help_text="City slug, or the WordNet id ('n07920052')."),
        "score": serializers.FloatField(
            help_text="Probability, 0-1: of the class among all (city, ImageNet); of the "
            "attribute being shown, independently of the others (attributes)."
        ),
        "present": serializers.BooleanField(
            required=False, help_text="Attributes only: the score passes the model's threshold."
        ),
    },
)


class ClassifyOutputSerializer(serializers.Serializer):
    meta = ClassifyMetaSerializer()
    data = ClassifyItemSerializer(many=True, help_text="Most likely class first.")


class KindAnswerSerializer(serializers.Serializer):
    model = serializers.CharField(help_text="The version that answered.")
    top = ClassifyItemSerializer(many=True, help_text="Most likely first.")


class ClassifyKindsOutputSerializer(serializers.Serializer):
    meta = ClassifyKindsMetaSerializer()
    data = serializers.DictField(child=KindAnswerSerializer(), help_text="Keyed by kind.")


class ClassifyApi(APIView):
    permission_classes = [AllowAny]
    throttle_scope = "classify"
    parser_classes = [MultiPartParser]

    @extend_schema(
        tags=["classify"],
        summary="What does this photo show: cities, attributes, everyday classes?",
        description=(
            "Send an image as multipart field `file`. By default the active city model answers "
            "with the top cities. `?models=city,attributes,imagenet` answers with the active "
            "version of each kind in one response (the image decoded once): `data` keyed by "
            "kind, each with its version and top classes; attributes have independent "
            "probabilities. `?model=<name>` asks one version by name. Unknown kinds and bad "
            "`top_k` get 400; a kind with no active version 409. Empty, truncated, non-image and "
            "decompression-bomb files are refused with 400; files over the size limit with 413."
        ),
        parameters=[ClassifyQuerySerializer],
        request={"multipart/form-data": ClassifyInputSerializer},
        responses={
            200: PolymorphicProxySerializer(
                component_name="ClassifyResult",
                serializers=[ClassifyOutputSerializer, ClassifyKindsOutputSerializer],
                resource_type_field_name=None,
            ),
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
        kinds = query.validated_data.get("kinds")
        answers = classify.image_classify(
            image_file=image_file,
            kinds=kinds,
            model_name=query.validated_data.get("model"),
            top_k=query.validated_data["top_k"],
        )
        if kinds is None:  # one model: the envelope as before
            version, top = answers[0].version, answers[0].top
            meta = {"type": "success", "code": 200, "model": version.name, "kind": version.kind}
            return Response(ClassifyOutputSerializer({"meta": meta, "data": top}).data)
        meta = {
            "type": "success",
            "code": 200,
            "models": {answer.version.kind: answer.version.name for answer in answers},
        }
        data = {
            answer.version.kind: {"model": answer.version.name, "top": answer.top}
            for answer in answers
        }
        return Response(ClassifyKindsOutputSerializer({"meta": meta, "data": data}).data)


class ModelVersionOutputSerializer(serializers.ModelSerializer):
    class_count = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = [
            "name", "kind", "architecture", "status", "is_active", "description", "backbone",
            "image_size", "class_count", "classes", "preprocessing", "training_params", "metrics",
            "created_at",
        ]  # fmt: skip

    def get_class_count(self, version) -> int:
        return len(version.classes)


class ModelKindSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ModelVersion.Kind.choices)
    description = serializers.CharField()
    active = serializers.CharField(
        allow_null=True, help_text="The active version's name; null: none yet (409 on classify)."
    )
    loaded_here = serializers.BooleanField(
        help_text="The active version is loaded in the process that answered."
    )
    memory_bytes = serializers.IntegerField(
        allow_null=True,
        help_text="Resident memory that process grew by when it loaded the version.",
    )


@extend_schema_serializer(many=False)
class ModelCatalogSerializer(serializers.Serializer):
    kinds = ModelKindSerializer(many=True, help_text="Every kind, with its active version.")
    count = serializers.IntegerField(help_text="Versions in all.")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ModelVersionOutputSerializer(many=True, help_text="Versions, newest first.")


def model_kinds() -> list[dict]:
    active = selectors.model_versions_active()
    loaded = runtime.loaded_models()
    kinds = []
    for kind, description in ModelVersion.Kind.choices:
        version = active.get(kind)
        here = loaded.get(version.name) if version is not None else None
        kinds.append(
            {
                "kind": kind,
                "description": description,
                "active": version.name if version is not None else None,
                "loaded_here": here is not None,
                "memory_bytes": here["memory_bytes"] if here is not None else None,
            }
        )
    return kinds


@extend_schema(tags=["models"], responses={200: ModelCatalogSerializer})
class ModelVersionListApi(generics.ListAPIView):
    """The model kinds (city, attributes, imagenet), each with its active version, and every
    version, newest first, with its validation metrics."""

    permission_classes = [AllowAny]
    serializer_class = ModelVersionOutputSerializer

    def get_queryset(self):
        return selectors.model_version_list()

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        response.data = {"kinds": model_kinds(), **response.data}
        return response


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
