"""Jobs, batches and webhooks under /api/v1/, shaped like the async inference APIs customers know.

POST /jobs/ accepts ``Idempotency-Key`` (same key + same body → the same job, 200; another body → 409)
and ``Prefer: wait=N`` (answer when the job finishes, or 202 with it still running; bounded in
generation/waiting.py so that waiting requests never starve the web tier).
"""

from __future__ import annotations

import io
import zipfile

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from accounts.models import ApiToken, Role
from accounts.tenancy import StoreScopedAPIView, StoreScopedViewSet
from catalog.apis import UPLOAD_ERRORS, ImageUploadMixin
from catalog.images import ImageRejected, read_limited
from core import objectstore
from core.query_params import validated_query
from generation import credentials, parents, selectors, services, waiting, webhooks
from generation.models import Batch, Job, JobState, ParentPhoto, WebhookDelivery, WebhookEndpoint
from generation.serializers import (
    BatchCreateSerializer,
    BatchSerializer,
    CredentialSerializer,
    JobCreateSerializer,
    JobFilterSerializer,
    JobSerializer,
    ParentPhotoSerializer,
    ParentPhotoUploadSerializer,
    WebhookDeliveryFilterSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointSecretSerializer,
    WebhookEndpointSerializer,
)


class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, StoreScopedViewSet):
    model = Job
    serializer_class = JobSerializer
    ordering = "-created_at"
    throttle_job_creation = True  # POST counts in the stricter job_create bucket (accounts/throttling.py)

    def scope_queryset(self, queryset):
        if self.action != "list":
            return queryset
        filters = validated_query(self.request, JobFilterSerializer)
        if "batch" in filters:
            filters["batch_id"] = filters.pop("batch")
        return queryset.filter(**filters)

    @extend_schema(parameters=[JobFilterSerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=JobCreateSerializer,
        responses={200: JobSerializer, 201: JobSerializer, 202: JobSerializer},
        parameters=[
            OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False),
            OpenApiParameter(
                "Prefer",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description=(
                    "wait=N (seconds, capped at 30 by default): answer when the job has finished. Honoured waits "
                    "answer with `Preference-Applied: wait=N`; when too many requests already wait, the answer "
                    "comes at once (202) with `Gasang-Wait-Skipped`."
                ),
            ),
        ],
    )
    def create(self, request):
        serializer = JobCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key") or None
        if key and len(key) > 255:
            raise exceptions.ValidationError({"Idempotency-Key": _("At most 255 characters.")})
        try:
            outcome = services.job_create(
                store=request.store,
                created_by=request.user,
                token=request.auth if isinstance(request.auth, ApiToken) else None,
                idempotency_key=key,
                **serializer.validated_data,
            )
        except services.IdempotencyConflict:
            return Response(
                {
                    "detail": _("This Idempotency-Key was already used with a different request body."),
                    "code": "idempotency_conflict",
                },
                status=status.HTTP_409_CONFLICT,
            )
        waited = waiting.job_wait_preferred(
            job=outcome.job,
            store_id=request.store.pk,
            prefer=request.headers.get("Prefer", ""),
            multithreaded=bool(request.META.get("wsgi.multithread")),
        )
        code = status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK
        if waited.asked and not waited.job.is_terminal:
            code = status.HTTP_202_ACCEPTED
        return Response(JobSerializer(waited.job).data, status=code, headers=waited.headers)

    @extend_schema(request=None, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = services.job_cancel(job=self.get_object())
        return Response(JobSerializer(job).data)

    @extend_schema(responses={200: CredentialSerializer})
    @action(detail=True, methods=["get"])
    def credential(self, request, pk=None):
        """The C2PA content credential of the job's result, checked against the operator's trust list: ``outcome``
        is ``trusted`` (signed by Gasang, unaltered), ``untrusted``, ``altered`` or ``none``."""
        job = self.get_object()
        key = (job.outputs or {}).get("image") if job.state == JobState.SUCCEEDED else None
        if not key:
            raise exceptions.NotFound(_("This job has no result to check yet."))
        verification = credentials.verify_image(data=objectstore.get_bytes(key))
        return Response(CredentialSerializer(verification).data)


class CredentialCheckApi(ImageUploadMixin, StoreScopedAPIView):
    """Check any image's C2PA content credential (a file a shop, a marketplace or a customer sent back)."""

    parser_classes = [MultiPartParser, FormParser]
    write_role = Role.VIEWER  # the check stores nothing; tokens still need the write scope, as for any upload

    @extend_schema(
        request={"multipart/form-data": {"type": "object", "required": ["file"],
                                         "properties": {"file": {"type": "string", "format": "binary"}}}},
        responses={200: CredentialSerializer, **UPLOAD_ERRORS},
        description="Upload an image as multipart form data (field `file`, PNG, JPEG or WEBP, up to 20 MB). "
        "`outcome`: `trusted` (Gasang signed it and it is unaltered), `untrusted` (a credential from a certificate "
        "this operator does not trust), `altered` (changed after signing) or `none` (no credential: a re-encode "
        "strips it). Nothing is stored.",
    )
    def post(self, request):
        self.refuse_oversized_body(request)
        upload = request.FILES.get("file")
        if upload is None:
            raise exceptions.ValidationError({"file": [_("Choose an image to check.")]})
        verification = credentials.verify_image(data=read_limited(upload))
        if verification.outcome == credentials.UNREADABLE:
            raise ImageRejected("unsupported_format", _("Only PNG, JPEG and WEBP images can be checked."))
        return Response(CredentialSerializer(verification).data)


class BatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, StoreScopedViewSet):
    model = Batch
    serializer_class = BatchSerializer
    ordering = "-created_at"
    throttle_job_creation = True

    @extend_schema(request=BatchCreateSerializer, responses={201: BatchSerializer})
    def create(self, request):
        serializer = BatchCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        batch = services.batch_create(
            store=request.store,
            face_id=data["face"],
            product_shot_ids=data["product_shots"],
            preset_id=data.get("preset"),
            params=data["params"],
            created_by=request.user,
            token=request.auth if isinstance(request.auth, ApiToken) else None,
        )
        return Response(BatchSerializer(batch).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """A zip of every finished result of the batch (jobs still running are left out)."""
        batch = self.get_object()
        done = batch.jobs.filter(state=JobState.SUCCEEDED).order_by("created_at")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            for entry, key in selectors.batch_result_files(batch=batch, jobs=done):
                archive.writestr(entry, objectstore.get_bytes(key))
        response = HttpResponse(buffer.getvalue(), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="gasang-batch-{batch.pk}.zip"'
        return response


class ParentPhotoViewSet(ImageUploadMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, StoreScopedViewSet):
    """Parent photos for second generation, each with its consent record; private to the store, never in a gallery.

    Upload one per parent, then create the job with ``inputs: {"parent_a_photo": id, "parent_b_photo": id}``.
    """

    model = ParentPhoto
    serializer_class = ParentPhotoSerializer
    parser_classes = [MultiPartParser, FormParser]
    ordering = "-created_at"

    @extend_schema(
        request={"multipart/form-data": ParentPhotoUploadSerializer},
        responses={201: ParentPhotoSerializer, **UPLOAD_ERRORS},
        description="Upload a parent's photo as multipart form data (field `file`) with its consent record: "
        "`consent_given_by` and `consent_purpose` are required (400 naming the field otherwise), `relation` says how "
        "the result calls this parent; the time of the attestation is recorded.",
    )
    def create(self, request):
        self.refuse_oversized_body(request)
        serializer = ParentPhotoUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        photo = parents.parent_photo_upload(store=request.store, created_by=request.user, **serializer.validated_data)
        return Response(ParentPhotoSerializer(photo).data, status=status.HTTP_201_CREATED)


class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    StoreScopedViewSet,
):
    model = WebhookEndpoint
    serializer_class = WebhookEndpointSerializer
    read_role = Role.EDITOR
    tokens_may_write = False  # an endpoint would keep receiving job events after its token is revoked
    ordering = "created_at"

    @extend_schema(request=WebhookEndpointSerializer, responses={201: WebhookEndpointSecretSerializer})
    def create(self, request):
        serializer = WebhookEndpointSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = webhooks.webhook_endpoint_create(store=request.store, **serializer.validated_data)
        return Response(WebhookEndpointSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        serializer.instance = webhooks.webhook_endpoint_update(
            endpoint=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        webhooks.webhook_endpoint_delete(endpoint=instance)

    @extend_schema(request=None, responses=WebhookEndpointSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        endpoint = webhooks.webhook_endpoint_rotate_secret(endpoint=self.get_object())
        return Response(WebhookEndpointSecretSerializer(endpoint).data)


class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, StoreScopedViewSet):
    model = WebhookDelivery
    serializer_class = WebhookDeliverySerializer
    read_role = Role.EDITOR
    ordering = "-created_at"

    def scope_queryset(self, queryset):
        if self.action != "list":
            return queryset
        endpoint = validated_query(self.request, WebhookDeliveryFilterSerializer).get("endpoint")
        return queryset.filter(endpoint_id=endpoint) if endpoint else queryset

    @extend_schema(parameters=[WebhookDeliveryFilterSerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)
