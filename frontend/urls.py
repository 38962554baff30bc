from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path

from frontend import views, views_catalog, views_curation, views_faces, views_jobs, views_settings, views_verify

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("stores/new/", views.store_create, name="store-create"),
    path("stores/switch/", views.store_switch, name="store-switch"),
    path("invite/<str:secret>/", views.invitation_accept, name="invitation-accept"),
    # catalog
    path("presets/", views_catalog.preset_list, name="presets"),
    path("presets/new/", views_catalog.preset_edit, name="preset-create"),
    path("presets/<int:pk>/", views_catalog.preset_edit, name="preset-edit"),
    path("shots/", views_catalog.shot_list, name="shots"),
    path("shots/<int:pk>/", views_catalog.shot_detail, name="shot-detail"),
    path("shots/<int:pk>/delete/", views_catalog.shot_delete, name="shot-delete"),
    path("gallery/", views_catalog.gallery, name="gallery"),
    path("gallery/store-model/", views_catalog.store_model_set, name="store-model-set"),
    path("gallery/faces/new/", views_faces.face_upload, name="face-upload"),
    path("gallery/faces/<int:pk>/check/", views_faces.face_check_status, name="face-check"),
    path("gallery/candidates/", views_catalog.candidates, name="candidates"),
    path("gallery/candidates/new/", views_catalog.candidates_generate, name="candidates-generate"),
    path("gallery/candidates/<uuid:pk>/keep/", views_catalog.candidate_keep, name="candidate-keep"),
    path("gallery/candidates/<uuid:pk>/discard/", views_catalog.candidate_discard, name="candidate-discard"),
    # jobs
    path("jobs/", views_jobs.job_list, name="jobs"),
    path("jobs/new/", views_jobs.batch_new, name="batch-new"),
    path("jobs/<uuid:pk>/", views_jobs.job_detail, name="job-detail"),
    path("jobs/<uuid:pk>/download/", views_jobs.job_download, name="job-download"),
    path("jobs/<uuid:pk>/cancel/", views_jobs.job_cancel, name="job-cancel"),
    path("batches/<uuid:pk>/", views_jobs.batch_detail, name="batch-detail"),
    path("second-generation/", views_jobs.second_generation, name="second-generation"),
    path("verify/", views_verify.verify, name="verify"),
    path("check/", views_verify.public_verify, name="public-verify"),
    # settings
    path("settings/", views_settings.settings_index, name="settings"),
    path("settings/tokens/", views_settings.tokens, name="settings-tokens"),
    path("settings/tokens/<int:pk>/revoke/", views_settings.token_revoke, name="token-revoke"),
    path("settings/webhooks/", views_settings.webhooks, name="settings-webhooks"),
    path("settings/webhooks/<int:pk>/<str:action>/", views_settings.webhook_action, name="webhook-action"),
    path("settings/members/", views_settings.members, name="settings-members"),
    path("settings/members/<int:pk>/", views_settings.member_action, name="member-action"),
    path("settings/store/", views_settings.store_options, name="settings-store"),
    path("settings/billing/", views_settings.billing, name="settings-billing"),
    path("settings/billing/checkout/", views_settings.billing_checkout, name="billing-checkout"),
    path("settings/billing/portal/", views_settings.billing_portal, name="billing-portal"),
    # staff
    path("curation/", views_curation.curation, name="curation"),
    path("curation/bulk/", views_curation.curation_bulk, name="curation-bulk"),
    path("curation/<int:pk>/tags/", views_curation.curation_tags, name="curation-tags"),
]

# Embedded mode (`make run`, DEBUG) keeps images as local files; static() adds nothing when DEBUG is off.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
