"""Input and output serializers for the catalog API. Images are handed out as short-lived URLs only."""

from __future__ import annotations

import datetime

from django.utils import dateparse, timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.images import CONTENT_TYPES, MAX_UPLOAD_BYTES
from catalog.models import ModelFace, ProductShot, StoreOptions, StylePreset
from core import objectstore
from core.query_params import TagsQueryField


class ImageUrlField(serializers.Field):
    """A presigned (S3) or media (local) URL for the storage key in ``source``; null when there is none yet."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, key):
        return objectstore.download_url(key) if key else None


ImageUrlField = extend_schema_field({"type": "string", "format": "uri", "nullable": True, "readOnly": True})(
    ImageUrlField
)


# ---- presets -----------------------------------------------------------------------------------


class PresetParamsSerializer(serializers.Serializer):
    """Documentation of ``params``; validation happens in the service (it checks face ids against the store)."""

    face_tags = serializers.ListField(child=serializers.CharField(), required=False,
                                      help_text="Gallery tags whose faces drive generation.")
    face_ids = serializers.ListField(child=serializers.IntegerField(), required=False,
                                     help_text="Explicit faces (your own or published gallery faces).")
    makeup_face_id = serializers.IntegerField(required=False, help_text="Makeup reference face.")
    makeup_strength = serializers.FloatField(required=False, min_value=0, max_value=1)
    restore_strength = serializers.FloatField(required=False, min_value=0, max_value=1)
    latent_directions = serializers.DictField(child=serializers.FloatField(), required=False,
                                              help_text="Latent edit directions and their weights (-3..3).")


class PresetSerializer(serializers.ModelSerializer):
    params = PresetParamsSerializer(read_only=True)

    class Meta:
        model = StylePreset
        fields = ["id", "name", "name_en", "description", "params", "created_at", "updated_at"]


class PresetInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60)
    name_en = serializers.CharField(max_length=60, required=False, allow_blank=True)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    params = serializers.JSONField(required=False, help_text="See PresetParams.")

    def validate_params(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("params must be an object.")
        return value


# ---- product shots -----------------------------------------------------------------------------


class DetectedFaceSerializer(serializers.Serializer):
    box = serializers.ListField(child=serializers.IntegerField(), min_length=4, max_length=4,
                                help_text="[x, y, width, height] in pixels of the stored image.")
    score = serializers.FloatField()


class ProductShotSerializer(serializers.ModelSerializer):
    image_url = ImageUrlField(source="image")
    faces = DetectedFaceSerializer(many=True, read_only=True)

    class Meta:
        model = ProductShot
        fields = [
            "id", "status", "image_url", "original_filename", "content_type", "width", "height", "size_bytes",
            "sha256", "faces", "faces_state", "created_at",
        ]


class ProductShotUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True,  # the image check gives a clearer message for empty files
        help_text=f"JPEG, PNG or WEBP, at most {MAX_UPLOAD_BYTES // 1048576} MB and 40 megapixels.",
    )


class UploadBeginSerializer(serializers.Serializer):
    filename = serializers.CharField(max_length=255)
    content_type = serializers.ChoiceField(choices=sorted(CONTENT_TYPES))
    size = serializers.IntegerField(min_value=0, help_text=f"Bytes; at most {MAX_UPLOAD_BYTES}.")


class PresignedPostSerializer(serializers.Serializer):
    url = serializers.URLField()
    fields = serializers.DictField(child=serializers.CharField(),
                                   help_text="Form fields to send before the `file` field.")


class UploadBeganSerializer(serializers.Serializer):
    shot = ProductShotSerializer()
    upload = PresignedPostSerializer(
        help_text="POST multipart/form-data to `url` with every field in `fields` and the file last as `file`; "
        "then call the shot's confirm action."
    )


# ---- faces -------------------------------------------------------------------------------------


class FaceAssetSerializer(serializers.Serializer):
    """The face as analysed once by the GPU fleet, for its jobs (a job never waits for it)."""

    state = serializers.ChoiceField(choices=ModelFace.AssetState.choices, source="asset_state",
                                    help_text="`pending` (being prepared), `ready` or `failed`.")
    version = serializers.IntegerField(source="asset_version", allow_null=True,
                                       help_text="Format version of the prepared asset (null before the first).")
    error = serializers.CharField(source="asset_error", help_text="Why the last preparation failed ('' otherwise), "
                                  "e.g. `no_face: ...`.")
    summary = serializers.JSONField(source="asset_summary", help_text="What the analysis found.")


class FaceSerializer(serializers.ModelSerializer):
    image_url = ImageUrlField(source="image")
    is_public = serializers.SerializerMethodField()
    asset = FaceAssetSerializer(source="*", read_only=True)
    screening = serializers.JSONField(
        read_only=True,
        help_text="A kept generated face's \"not a real person\" screening ({} otherwise): `passed`, `reason`, "
        "`nearest_face` {id, name, distance} among the store's and the public gallery's faces, `gallery_margin` "
        "(the distance it had to keep), the engine's `nearest_contributor`, `max_weight` and `weight_limit`.",
    )

    class Meta:
        model = ModelFace
        fields = [
            "id", "name", "image_url", "source", "tags", "curation", "is_public", "consent_given_by",
            "consent_given_at", "consent_purpose", "asset", "screening", "created_at",
        ]

    def get_is_public(self, face: ModelFace) -> bool:
        return face.store_id is None

    def to_representation(self, face: ModelFace) -> dict:
        data = super().to_representation(face)
        if face.store_id is None:  # who consented to a public face stays with the curators
            blank = {"consent_given_by": "", "consent_given_at": None, "consent_purpose": ""}
            data.update({key: value for key, value in blank.items() if key in data})
        return data


class GalleryFaceSerializer(FaceSerializer):
    """Public faces never expose who consented: that record stays with the curators."""

    class Meta(FaceSerializer.Meta):
        fields = ["id", "name", "image_url", "source", "tags", "is_public", "asset", "created_at"]


class FaceFilterSerializer(serializers.Serializer):
    """Query parameters of GET /api/v1/faces/ (core/query_params.py)."""

    tags = TagsQueryField()


class GalleryFilterSerializer(serializers.Serializer):
    """Query parameters of GET /api/v1/gallery/."""

    tags = TagsQueryField()
    scope = serializers.ChoiceField(
        choices=["all", "public", "store"], required=False, default="all",
        help_text="`public`: the published gallery only; `store`: your own faces only; `all` (default): both.",
    )


@extend_schema_field({"type": "string", "format": "date-time", "nullable": True,
                      "example": "2026-03-01T14:30:00+09:00"})
class ConsentMomentField(serializers.Field):
    """When the person agreed: an ISO date (``2026-03-01``, midnight in the store's time zone) or date and time
    (``2026-03-01T14:30:00+09:00``; without an offset, in the store's time zone). Never in the future.

    The store's zone comes from the serializer context (``time_zone``), else the current time zone.
    """

    default_error_messages = {
        "invalid": _("Enter the consent date as an ISO date (2026-03-01) or date and time "
                     "(2026-03-01T14:30:00+09:00)."),
        "future": _("The consent date cannot be in the future. Enter the day the person agreed."),
    }

    def to_internal_value(self, value) -> datetime.datetime:
        text = str(value).strip()
        zone = self.context.get("time_zone") or timezone.get_current_timezone()
        try:
            day = dateparse.parse_date(text)  # first: parse_datetime would read a bare date as a naive midnight
            moment = None if day else dateparse.parse_datetime(text)
        except ValueError:  # well-formed but impossible, e.g. 2026-02-30
            self.fail("invalid")
        if moment is None and day is None:
            self.fail("invalid")
        if day is not None:
            if day > timezone.localdate(timezone=zone):
                self.fail("future")
            return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min), zone)
        # A time a few minutes ahead (a client clock) is the service's call: it allows a little skew.
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment, zone)

    def to_representation(self, value):
        return value.isoformat() if value else None


class FaceUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, help_text="A photo of the person: JPEG, PNG or WEBP.")
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    tags = serializers.ListField(child=serializers.CharField(max_length=40), required=False, default=list,
                                 help_text="Style tags, e.g. elegant, fresh.")
    consent_given_by = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="",
        help_text="Required: who consented to the use of this face (the person's name).",
    )
    consent_purpose = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default="",
        help_text="Required: what the person consented to.",
    )
    consent_given_at = ConsentMomentField(
        required=False, allow_null=True, default=None,
        help_text="Optional: when the person consented, as an ISO date (`2026-03-01`, midnight in the store's "
        "time zone) or date and time (`2026-03-01T14:30:00+09:00`); not in the future. Defaults to now.",
    )

    def validate_tags(self, tags: list[str]) -> list[str]:
        # Multipart forms may send "elegant,fresh" in one field as well as repeated fields.
        return [part for tag in tags for part in tag.split(",")]


class FaceUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=40), required=False)


# ---- store model -------------------------------------------------------------------------------


class StoreModelSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="store_id", read_only=True, help_text="The store's id.")
    face = FaceSerializer(source="model_face", read_only=True, allow_null=True)

    class Meta:
        model = StoreOptions
        fields = ["id", "face"]


class StoreModelInputSerializer(serializers.Serializer):
    face_id = serializers.IntegerField(allow_null=True, help_text="One of your faces or a published gallery face; "
                                       "null clears the store model.")
