from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config import objectstore
from generation.models import Batch, Job, JobKind, JobState, WebhookDelivery, WebhookEndpoint


class JobCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=JobKind.choices)
    inputs = serializers.DictField(
        help_text="References to your objects, by kind: swap {face, product_shot}; restore {product_shot}; "
        "makeup {product_shot, reference_face}; pipeline {face, product_shot, preset?, reference_face?}; "
        "generate_face {preset} or {faces: [≥3 ids]}; second_generation {parent_a, parent_b}."
    )
    params = serializers.DictField(required=False, default=dict)


_TIMESTAMP = serializers.DateTimeField()  # formats a timestamp as every other field of the API does


def _timestamp(value):
    return _TIMESTAMP.to_representation(value) if value is not None else None


class JobSerializer(serializers.Serializer):
    """The declared fields document the shape (OpenAPI); ``to_representation`` builds it directly.

    Every job creation answers with one, and DRF deep-copies and walks all declared fields of each serializer:
    a measurable share of POST /api/v1/jobs/. tests/generation/test_jobs_api.py holds the two to the same output.
    """

    id = serializers.UUIDField(read_only=True)
    kind = serializers.ChoiceField(choices=JobKind.choices, read_only=True)
    state = serializers.ChoiceField(choices=JobState.choices, read_only=True)
    progress = serializers.IntegerField(read_only=True, help_text="0-100")
    inputs = serializers.JSONField(read_only=True)
    params = serializers.JSONField(read_only=True)
    outputs = serializers.SerializerMethodField()
    outputs_discarded_at = serializers.DateTimeField(read_only=True, allow_null=True)
    error = serializers.SerializerMethodField()
    metrics = serializers.JSONField(read_only=True)
    attempts = serializers.IntegerField(read_only=True)
    batch = serializers.UUIDField(source="batch_id", allow_null=True, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    started_at = serializers.DateTimeField(read_only=True, allow_null=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def to_representation(self, job: Job) -> dict:
        return {
            "id": str(job.pk),
            "kind": job.kind,
            "state": job.state,
            "progress": job.progress,
            "inputs": job.inputs,
            "params": job.params,
            "outputs": self.get_outputs(job),
            "outputs_discarded_at": _timestamp(job.outputs_discarded_at),
            "error": self.get_error(job),
            "metrics": job.metrics,
            "attempts": job.attempts,
            "batch": str(job.batch_id) if job.batch_id else None,
            "created_at": _timestamp(job.created_at),
            "started_at": _timestamp(job.started_at),
            "finished_at": _timestamp(job.finished_at),
        }

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_outputs(self, job: Job) -> dict:
        """Each output as ``{"key": storage key, "url": short-lived download URL}``."""
        return {name: {"key": key, "url": objectstore.download_url(key)} for name, key in job.outputs.items()}

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_error(self, job: Job) -> dict | None:
        if not job.error_code:
            return None
        return {"code": job.error_code, "message": job.error_message}


class BatchCreateSerializer(serializers.Serializer):
    face = serializers.IntegerField(help_text="A face of your store or a published gallery face.")
    product_shots = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=200)
    preset = serializers.IntegerField(required=False, allow_null=True)
    params = serializers.DictField(required=False, default=dict)


class BatchSerializer(serializers.ModelSerializer):
    counts = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    jobs = serializers.SerializerMethodField()

    class Meta:
        model = Batch
        fields = ["id", "kind", "face", "params", "created_at", "counts", "progress", "jobs"]

    def _jobs(self, batch: Batch) -> list[Job]:
        cache = self.context.setdefault("_jobs", {})
        if batch.pk not in cache:
            cache[batch.pk] = list(batch.jobs.order_by("created_at"))
        return cache[batch.pk]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_counts(self, batch: Batch) -> dict:
        counts = {state: 0 for state in JobState.values}
        for job in self._jobs(batch):
            counts[job.state] += 1
        return {"total": len(self._jobs(batch)), **counts}

    def get_progress(self, batch: Batch) -> int:
        jobs = self._jobs(batch)
        return round(sum(100 if job.is_terminal else job.progress for job in jobs) / len(jobs)) if jobs else 0

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_jobs(self, batch: Batch) -> list[str]:
        return [str(job.pk) for job in self._jobs(batch)]


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEndpoint.Event.choices),
        required=False,
        default=list,
        help_text="Event types to send; empty sends all.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "is_active", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_url(self, url: str) -> str:
        if not url.startswith(("https://", "http://")):
            raise serializers.ValidationError("Use an http(s) URL.")
        return url


class WebhookEndpointSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="Signing secret (Standard Webhooks, whsec_…).")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "event_type",
            "payload",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "created_at",
            "delivered_at",
        ]
