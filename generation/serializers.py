from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core import objectstore
from generation.consistency import batch_consistency, job_consistency
from generation.credentials import OUTCOMES
from generation.models import Batch, Job, JobKind, JobState, ParentPhoto, WebhookDelivery, WebhookEndpoint
from generation.webhooks import check_endpoint_url
from gpu_worker.spec import JOB_PARAMS, MAX_CONTRIBUTORS, MIN_CONTRIBUTORS


def describe_job_params() -> str:
    """The parameters of each job kind, from gpu_worker.spec.JOB_PARAMS (the definition both tiers check)."""
    lines = ["Parameters by kind (anything else is refused):"]
    for kind, params in JOB_PARAMS.items():
        for name, param in params.items():
            if param.type == "choice":
                allowed = " | ".join("empty" if c is None else c for c in param.choices)
            elif param.type == "weights":
                allowed = f"{MIN_CONTRIBUTORS}–{MAX_CONTRIBUTORS} numbers ≥ 0"
            else:
                allowed = f"{param.type} {param.minimum}–{param.maximum}"
            default = f", default {param.default}" if param.default is not None else ""
            lines.append(f"- `{kind}.{name}`: {allowed}{default} — {param.description}")
    return "\n".join(lines)


class ConsentSerializer(serializers.Serializer):
    parent_a = serializers.BooleanField(required=False, help_text="The person in parent_a (a gallery face) agreed.")
    parent_b = serializers.BooleanField(required=False, help_text="The person in parent_b (a gallery face) agreed.")


class JobCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=JobKind.choices)
    inputs = serializers.DictField(
        help_text="References to your objects, by kind: swap {face, product_shot}; restore {product_shot}; "
        "makeup {product_shot, reference_face}; pipeline {face, product_shot, preset?, reference_face?}; "
        "generate_face {preset} or {faces: [≥3 ids]}; second_generation: each parent as an uploaded parent "
        "photo {parent_a_photo, parent_b_photo} (ids from POST /api/v1/parent-photos/, consent on record) or as "
        "a gallery face {parent_a, parent_b} (with consent), one of the two per parent."
    )
    params = serializers.DictField(required=False, default=dict, help_text=describe_job_params())
    consent = ConsentSerializer(
        required=False,
        help_text="second_generation with gallery-face parents only, and required there: confirm that the person in "
        "each parent photo agreed to this use of their face (uploaded parent photos carry their own consent).",
    )


class JobFilterSerializer(serializers.Serializer):
    """Query parameters of GET /api/v1/jobs/ (core/query_params.py)."""

    state = serializers.ChoiceField(choices=JobState.choices, required=False)
    kind = serializers.ChoiceField(choices=JobKind.choices, required=False)
    batch = serializers.UUIDField(required=False, help_text="Only the jobs of this batch.")


_TIMESTAMP = serializers.DateTimeField()  # formats a timestamp as every other field of the API does


def _timestamp(value):
    return _TIMESTAMP.to_representation(value) if value is not None else None


class ConsistencySerializer(serializers.Serializer):
    """How close the result's face is to the chosen model face (measured by the swap engine)."""

    distance = serializers.FloatField(help_text="Face-embedding distance between the result and the chosen face; "
                                      "lower is more alike.")
    threshold = serializers.FloatField(allow_null=True, help_text="Above this distance the result is flagged.")
    retried = serializers.BooleanField(help_text="The engine tried again because the first result was too far.")
    flagged = serializers.BooleanField(help_text="The face may not match the model: check this result.")


class BatchConsistencySerializer(serializers.Serializer):
    """The consistency of a batch's results so far (the jobs that carry a measurement)."""

    count = serializers.IntegerField(help_text="Results measured so far.")
    mean = serializers.FloatField(allow_null=True, help_text="Mean distance (null while none is measured).")
    spread = serializers.FloatField(allow_null=True, help_text="Largest minus smallest distance: how evenly the "
                                    "model's face was kept across the batch.")
    max = serializers.FloatField(allow_null=True, help_text="Largest distance.")
    flagged = serializers.IntegerField(help_text="Results whose face may not match the model.")


class JobErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A stable code, e.g. no_face, face_too_small, bad_parameter.")
    message = serializers.CharField()
    input = serializers.CharField(required=False, help_text="The input at fault, when the engine named one: "
                                  "face_0, face_1, … (the n-th contributor of generate_face), parent_a, parent_b, "
                                  "source, target.")


class ParentPhotoUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, help_text="The parent's photo: JPEG, PNG or WEBP.")
    relation = serializers.ChoiceField(choices=ParentPhoto.Relation.choices, required=False,
                                       default=ParentPhoto.Relation.PARENT,
                                       help_text="How the result page calls this parent: mother, father or parent.")
    consent_given_by = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="",
        help_text="Required: who confirmed that this parent agreed to this use of their face.",
    )
    consent_purpose = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default="", help_text="Required: what the parent agreed to.",
    )


class ParentPhotoSerializer(serializers.ModelSerializer):
    image_url = serializers.SerializerMethodField()

    class Meta:
        model = ParentPhoto
        fields = ["id", "image_url", "relation", "consent_given_by", "consent_purpose", "consent_given_at",
                  "created_at"]

    def get_image_url(self, photo: ParentPhoto) -> str:
        return objectstore.download_url(photo.image)


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
    consistency = serializers.SerializerMethodField(
        help_text="The result face's distance to the chosen model face (swap and pipeline jobs, once measured)."
    )
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
            "consistency": job_consistency(job),
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

    @extend_schema_field(JobErrorSerializer(allow_null=True))
    def get_error(self, job: Job) -> dict | None:
        if not job.error_code:
            return None
        error = {"code": job.error_code, "message": job.error_message}
        return {**error, "input": job.error_input} if job.error_input else error

    @extend_schema_field(ConsistencySerializer(allow_null=True))
    def get_consistency(self, job: Job) -> dict | None:
        return job_consistency(job)


class BatchCreateSerializer(serializers.Serializer):
    face = serializers.IntegerField(help_text="A face of your store or a published gallery face.")
    product_shots = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=200)
    preset = serializers.IntegerField(required=False, allow_null=True)
    params = serializers.DictField(required=False, default=dict)


class BatchSerializer(serializers.ModelSerializer):
    counts = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    jobs = serializers.SerializerMethodField()
    consistency = serializers.SerializerMethodField()

    class Meta:
        model = Batch
        fields = ["id", "kind", "face", "params", "created_at", "counts", "progress", "jobs", "consistency"]

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

    @extend_schema_field(BatchConsistencySerializer)
    def get_consistency(self, batch: Batch) -> dict:
        return batch_consistency(self._jobs(batch))


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEndpoint.Event.choices),
        required=False,
        default=list,
        allow_empty=True,
        help_text="Event types to send; empty (or left out) sends all.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "is_active", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_url(self, url: str) -> str:
        try:
            return check_endpoint_url(url)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["url"]) from exc


class WebhookEndpointSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="Signing secret (Standard Webhooks, whsec_…).")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookDeliveryFilterSerializer(serializers.Serializer):
    """Query parameters of GET /api/v1/webhook-deliveries/ (core/query_params.py)."""

    endpoint = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="Only the deliveries to this webhook endpoint."
    )


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


class CredentialSerializer(serializers.Serializer):
    """What a result's content credential says (generation.credentials.Verification)."""

    outcome = serializers.ChoiceField(choices=list(OUTCOMES))
    action = serializers.CharField(help_text="c2pa.created (a generated face) or c2pa.edited (a swapped shot)")
    source_type = serializers.CharField(help_text="generated | composite (IPTC digital source type)")
    agent = serializers.CharField(help_text="the software agent: Gasang and its engine chain")
    job_id = serializers.CharField()
    failures = serializers.ListField(child=serializers.CharField(), help_text="the C2PA validation failure codes")
