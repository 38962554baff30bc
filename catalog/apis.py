"""Store-scoped API for style presets, product shots, faces, the face gallery and the store model."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts.tenancy import StoreScopedAPIView, StoreScopedViewSet
from accounts.time_zones import zone_of
from catalog import faces, selectors, services
from catalog.images import ImageRejected, refuse_oversized_body
from catalog.models import ModelFace, ProductShot, StoreOptions, StylePreset
from catalog.serializers import (
    FaceFilterSerializer,
    FaceSerializer,
    FaceUpdateSerializer,
    FaceUploadSerializer,
    GalleryFaceSerializer,
    GalleryFilterSerializer,
    PresetInputSerializer,
    PresetSerializer,
    ProductShotSerializer,
    ProductShotUploadSerializer,
    StoreModelInputSerializer,
    StoreModelSerializer,
    UploadBeganSerializer,
    UploadBeginSerializer,
)
from core.query_params import validated_query

_STATUS_BY_CODE = {"too_large": status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                   "unsupported_format": status.HTTP_415_UNSUPPORTED_MEDIA_TYPE}
UPLOAD_ERRORS = {
    400: OpenApiResponse(description="empty_file, corrupt_image or too_many_pixels (the `code` says which)."),
    413: OpenApiResponse(description="too_large: over 20 MB."),
    415: OpenApiResponse(description="unsupported_format: not a JPEG, PNG or WEBP image (SVG, HEIC, PDF, GIF…)."),
}


class UploadRejected(exceptions.APIException):
    """An ImageRejected from a service, as ``{"detail": message, "code": code}`` with a fitting 4xx status."""

    def __init__(self, rejected: ImageRejected) -> None:
        self.status_code = _STATUS_BY_CODE.get(rejected.code, status.HTTP_400_BAD_REQUEST)
        super().__init__(detail=rejected.message, code=rejected.code)


class ImageUploadMixin:
    """Maps image rejections to their status and refuses oversized request bodies before they are parsed."""

    def handle_exception(self, exc):
        if isinstance(exc, ImageRejected):
            exc = UploadRejected(exc)
        return super().handle_exception(exc)

    def refuse_oversized_body(self, request) -> None:
        refuse_oversized_body(request.META)


class PresetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, StoreScopedViewSet):
    """Style presets: the looks (parameters for the engines) a store reuses. Five are seeded per store."""

    model = StylePreset
    serializer_class = PresetSerializer
    ordering = "created_at"

    @extend_schema(request=PresetInputSerializer, responses={201: PresetSerializer})
    def create(self, request):
        serializer = PresetInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        preset = services.preset_create(store=request.store, **serializer.validated_data)
        return Response(PresetSerializer(preset).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PresetInputSerializer, responses=PresetSerializer)
    def partial_update(self, request, pk=None):
        preset = self.get_object()
        serializer = PresetInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        preset = services.preset_update(preset=preset, **serializer.validated_data)
        return Response(PresetSerializer(preset).data)

    def destroy(self, request, pk=None):
        services.preset_delete(preset=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProductShotViewSet(ImageUploadMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, StoreScopedViewSet):
    """Product shots: cleaned (EXIF-rotated, metadata stripped) photos with the faces detected on them."""

    model = ProductShot
    serializer_class = ProductShotSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    ordering = "-created_at"

    @extend_schema(
        request={"multipart/form-data": ProductShotUploadSerializer},
        responses={201: ProductShotSerializer, **UPLOAD_ERRORS},
        description="Upload a product shot as multipart form data (field `file`). Face detection runs "
        "afterwards: `faces_state` is `pending` until the boxes are filled in.",
    )
    def create(self, request):
        self.refuse_oversized_body(request)
        serializer = ProductShotUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        shot = services.product_shot_upload(
            store=request.store, uploaded_by=request.user, file=serializer.validated_data["file"]
        )
        return Response(ProductShotSerializer(shot).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        services.product_shot_delete(shot=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=UploadBeginSerializer, responses={201: UploadBeganSerializer},
        description="Start a direct upload to S3 (S3 storage only): POST the file to the returned presigned "
        "form, then call `confirm`.",
    )
    @action(detail=False, methods=["post"], url_path="uploads", parser_classes=[JSONParser])
    def upload_begin(self, request):
        serializer = UploadBeginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        shot, upload = services.product_shot_upload_begin(
            store=request.store, uploaded_by=request.user, **serializer.validated_data
        )
        data = {"shot": ProductShotSerializer(shot).data, "upload": upload}
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None, responses={200: ProductShotSerializer, **UPLOAD_ERRORS},
        description="Check and clean a direct upload. A rejected file is deleted together with the awaiting shot.",
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        shot = services.product_shot_upload_confirm(shot=self.get_object())
        return Response(ProductShotSerializer(shot).data)


@extend_schema_view(list=extend_schema(parameters=[FaceFilterSerializer]))
class FaceViewSet(ImageUploadMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, StoreScopedViewSet):
    """The store's own virtual model faces: generated, or uploaded with a recorded consent attestation."""

    model = ModelFace
    serializer_class = FaceSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    ordering = "-created_at"

    def scope_queryset(self, queryset):
        if self.action != "list":
            return queryset
        tags = validated_query(self.request, FaceFilterSerializer).get("tags")
        return selectors.with_tags(queryset=queryset, tags=tags)

    @extend_schema(
        request={"multipart/form-data": FaceUploadSerializer},
        responses={201: FaceSerializer, **UPLOAD_ERRORS},
        description="Upload a photo of a real person who consented. `consent_given_by` and `consent_purpose` "
        "are required; `consent_given_at` (when they agreed, not in the future) is optional and defaults to the "
        "time of the upload.",
    )
    def create(self, request):
        self.refuse_oversized_body(request)
        serializer = FaceUploadSerializer(data=request.data, context={"time_zone": zone_of(request.store.time_zone)})
        serializer.is_valid(raise_exception=True)
        face = faces.face_upload(store=request.store, created_by=request.user, **serializer.validated_data)
        return Response(FaceSerializer(face).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=FaceUpdateSerializer, responses=FaceSerializer)
    def partial_update(self, request, pk=None):
        face = self.get_object()
        serializer = FaceUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        face = faces.face_update(face=face, **serializer.validated_data)
        return Response(FaceSerializer(face).data)

    def destroy(self, request, pk=None):
        faces.face_delete(face=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=FaceSerializer,
                   description="Offer this face to the public gallery; staff review it before it is published.")
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        face = faces.face_submit_to_gallery(face=self.get_object())
        return Response(FaceSerializer(face).data)


class GalleryViewSet(StoreScopedViewSet):
    """Faces this store can use: the published public gallery and the store's own faces (read-only).

    Public faces have no store, so the base class's ``store=request.store`` filter cannot express this
    list; it comes from ``selectors.usable_faces(store)`` instead, which takes the store as a required
    argument and never returns another store's face.
    """

    model = ModelFace
    serializer_class = GalleryFaceSerializer
    ordering = "-created_at"

    def _faces(self):
        query = validated_query(self.request, GalleryFilterSerializer)
        tags = query.get("tags")
        if query["scope"] == "public":
            return selectors.published_gallery(tags=tags)
        if query["scope"] == "store":
            return selectors.with_tags(queryset=selectors.store_faces(store=self.request.store), tags=tags)
        return selectors.usable_faces(store=self.request.store, tags=tags)

    @extend_schema(parameters=[GalleryFilterSerializer], responses=GalleryFaceSerializer(many=True))
    def list(self, request):
        page = self.paginate_queryset(self._faces())
        return self.get_paginated_response(GalleryFaceSerializer(page, many=True).data)

    @extend_schema(responses=GalleryFaceSerializer)
    def retrieve(self, request, pk=None):
        face = selectors.usable_face(store=request.store, face_id=pk)
        if face is None:
            raise exceptions.NotFound()
        return Response(GalleryFaceSerializer(face).data)


class StoreModelApi(StoreScopedAPIView):
    """The store's "store model": the face used by default for its product shots."""

    serializer_class = StoreModelSerializer

    @extend_schema(responses=StoreModelSerializer)
    def get(self, request):
        options = selectors.store_options(store=request.store) or StoreOptions(store=request.store)
        return Response(StoreModelSerializer(options).data)

    @extend_schema(request=StoreModelInputSerializer, responses=StoreModelSerializer)
    def put(self, request):
        serializer = StoreModelInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        face_id = serializer.validated_data["face_id"]
        face = None
        if face_id is not None:
            face = selectors.usable_face(store=request.store, face_id=face_id)
            if face is None:
                raise exceptions.ValidationError(
                    {"face_id": ["Pick one of your own faces or a published gallery face."]}
                )
        options = services.store_model_set(store=request.store, face=face)
        return Response(StoreModelSerializer(options).data)
