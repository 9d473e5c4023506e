"""The jobs page's API (staff only): every kind of background work with its counts, throughput
and ETA (``JobsOverviewApi``), and the ingestion switch: pause, resume, retry failed photos
(``IngestionSwitchApi``). Routed at /api/v1/admin/jobs/ and /api/v1/admin/ingestion/."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses

from . import jobs, switch


class JobRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()
    status = serializers.CharField()
    done = serializers.IntegerField(allow_null=True, help_text="Photos done (activations).")
    total = serializers.IntegerField(allow_null=True)
    progress = serializers.FloatField(allow_null=True, help_text="0-1.")
    detail = serializers.CharField()
    per_minute = serializers.FloatField(allow_null=True)
    eta_seconds = serializers.FloatField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)


class StepRowSerializer(serializers.Serializer):
    name = serializers.CharField()
    pipelines = serializers.ListField(child=serializers.CharField())
    waiting = serializers.IntegerField(help_text="Pending photos at this step.")
    failed = serializers.IntegerField(help_text="Photos that failed at this step.")
    done_recent = serializers.IntegerField(
        help_text="Photos past this step, last touched within the window."
    )
    per_minute = serializers.FloatField()
    eta_seconds = serializers.FloatField(allow_null=True)


class QueueSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=["pipeline", "scoring", "training"])
    label = serializers.CharField()
    available = serializers.BooleanField(help_text="False: this kind of work does not exist yet.")
    active = serializers.IntegerField(
        allow_null=True, help_text="Running now; null where it is not tracked (pipeline steps)."
    )
    waiting = serializers.IntegerField()
    failed = serializers.IntegerField()
    done = serializers.IntegerField(help_text="Finished, all time.")
    done_recent = serializers.IntegerField(help_text="Finished within the window.")
    per_minute = serializers.FloatField(help_text="Throughput: done per minute in the window.")
    eta_seconds = serializers.FloatField(
        allow_null=True, help_text="Waiting over throughput; null when nothing moved."
    )
    steps = StepRowSerializer(many=True)
    jobs = JobRowSerializer(many=True)


class JobsOverviewSerializer(serializers.Serializer):
    paused = serializers.BooleanField(help_text="Ingestion is paused: no pipeline step runs.")
    changed_at = serializers.DateTimeField(allow_null=True)
    generated_at = serializers.DateTimeField()
    window_minutes = serializers.IntegerField()
    queues = QueueSerializer(many=True)


class SwitchStateSerializer(serializers.Serializer):
    paused = serializers.BooleanField()
    changed_at = serializers.DateTimeField(allow_null=True)
    changed_by = serializers.CharField(source="changed_by.username", allow_null=True, default=None)
    queued = serializers.IntegerField(
        required=False, help_text="Photos queued by this request (resume or retry)."
    )


class SwitchInputSerializer(serializers.Serializer):
    paused = serializers.BooleanField(required=False, help_text="true: pause; false: resume.")
    retry_failed = serializers.BooleanField(
        required=False, help_text="true: queue every failed photo again at its failed step."
    )

    def validate(self, data):
        if ("paused" in data) == bool(data.get("retry_failed")):
            raise serializers.ValidationError(
                'Send {"paused": true|false} or {"retry_failed": true}, one of them.'
            )
        return data


@extend_schema(
    tags=["admin"],
    summary="Every background job: counts, throughput, ETA (staff)",
    responses={200: JobsOverviewSerializer, **error_responses(401, 403)},
)
class JobsOverviewApi(APIView):
    permission_classes = [IsAdminUser]

    def get(self, request):
        return Response(JobsOverviewSerializer(jobs.jobs_overview()).data)


class IngestionSwitchApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        tags=["admin"],
        summary="Whether ingestion is paused (staff)",
        responses={200: SwitchStateSerializer, **error_responses(401, 403)},
    )
    def get(self, request):
        return Response(SwitchStateSerializer(jobs.ingestion_switch()).data)

    @extend_schema(
        tags=["admin"],
        summary="Pause or resume ingestion, or retry failed photos (staff)",
        description='`{"paused": true}` stops pipeline steps (photos wait at their step); '
        '`{"paused": false}` resumes and queues every pending photo again; '
        '`{"retry_failed": true}` queues every failed photo again. `queued` says how many.',
        request=SwitchInputSerializer,
        responses={200: SwitchStateSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request):
        data = SwitchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        queued = None
        if data.validated_data.get("retry_failed"):
            queued = switch.photos_retry_failed()
        elif data.validated_data["paused"]:
            switch.ingestion_pause(user=request.user)
        else:
            queued = switch.ingestion_resume(user=request.user)
        state = SwitchStateSerializer(jobs.ingestion_switch()).data
        return Response({**state, **({} if queued is None else {"queued": queued})})
