"""Staff tools: curate the public face gallery (approve / reject / publish), browse presets and shots."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from catalog import faces
from catalog.face_assets import faces_request_assets
from catalog.models import ModelFace, ProductShot, StoreOptions, StylePreset
from core import objectstore


def _curate(modeladmin: admin.ModelAdmin, request, queryset, action: str) -> None:
    done, refused = faces.faces_curate(faces=queryset, action=action, curator=request.user)
    if done:
        past = {"approve": "Approved", "reject": "Rejected", "publish": "Published",
                "approve_publish": "Approved and published"}[action]
        modeladmin.message_user(request, f"{past} {done} face(s).", messages.SUCCESS)
    if refused:
        why = "; ".join(f"{face}: {message}" for face, message in refused)
        modeladmin.message_user(request, "Not changed — " + why, messages.WARNING)


class GalleryFaceAddForm(forms.ModelForm):
    """Adding a public face from the admin: upload the photo with the person's consent."""

    photo = forms.ImageField(help_text="JPEG, PNG or WEBP; it is checked, rotated and stripped of metadata.")

    class Meta:
        model = ModelFace
        fields = ["name", "tags", "consent_given_by", "consent_purpose"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consent_given_by"].required = True
        self.fields["consent_purpose"].required = True


@admin.register(ModelFace)
class ModelFaceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "thumbnail", "store", "source", "curation", "tags", "curated_by", "created_at"]
    list_filter = ["curation", "source", "asset_state", ("store", admin.EmptyFieldListFilter)]
    search_fields = ["name", "consent_given_by"]
    readonly_fields = ["thumbnail", "image", "curation", "curated_by", "curated_at", "created_by", "created_at",
                       "consent_given_at", "generated_by_job", "asset_key", "asset_version", "asset_state",
                       "asset_error", "asset_summary"]
    raw_id_fields = ["store"]
    actions = ["approve", "reject", "publish", "approve_publish", "prepare_assets"]

    @admin.display(description="image")
    def thumbnail(self, face: ModelFace) -> str:
        if not face.image:
            return "-"
        return format_html('<img src="{}" style="max-height:64px">', objectstore.download_url(face.image))

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = GalleryFaceAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["photo", "name", "tags", "consent_given_by", "consent_purpose"]})]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        face = faces.face_upload(
            store=None, created_by=request.user, file=form.cleaned_data["photo"],
            consent_given_by=form.cleaned_data["consent_given_by"],
            consent_purpose=form.cleaned_data["consent_purpose"],
            tags=form.cleaned_data.get("tags") or [], name=form.cleaned_data.get("name") or "",
        )
        # The admin logs and redirects using ``obj``: point it at the row the service created.
        obj.pk, obj.image, obj.curation = face.pk, face.image, face.curation
        obj._state.adding = False

    @admin.action(description="Approve selected faces (pending → approved)")
    def approve(self, request, queryset):
        _curate(self, request, queryset, "approve")

    @admin.action(description="Reject selected faces (pending → rejected)")
    def reject(self, request, queryset):
        _curate(self, request, queryset, "reject")

    @admin.action(description="Publish selected faces to the gallery (approved → published)")
    def publish(self, request, queryset):
        _curate(self, request, queryset, "publish")

    @admin.action(description="Approve and publish selected faces in one step (pending → published)")
    def approve_publish(self, request, queryset):
        _curate(self, request, queryset, "approve_publish")

    @admin.action(description="Prepare the selected faces' assets again (GPU fleet)")
    def prepare_assets(self, request, queryset):
        count = faces_request_assets(faces=queryset, missing_only=False)
        self.message_user(request, f"Queued {count} face asset request(s).", messages.SUCCESS)


@admin.register(StylePreset)
class StylePresetAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "store", "updated_at"]
    list_filter = ["store"]
    search_fields = ["name", "name_en"]


@admin.register(ProductShot)
class ProductShotAdmin(admin.ModelAdmin):
    list_display = ["__str__", "store", "status", "width", "height", "faces_state", "created_at"]
    list_filter = ["status", "faces_state"]
    readonly_fields = ["image", "upload_key", "sha256", "faces", "uploaded_by", "created_at"]
    raw_id_fields = ["store"]


@admin.register(StoreOptions)
class StoreOptionsAdmin(admin.ModelAdmin):
    list_display = ["store", "model_face", "visible_ai_label"]
    raw_id_fields = ["store", "model_face"]
