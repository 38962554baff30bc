from django.urls import path
from rest_framework.routers import DefaultRouter

from catalog.apis import FaceViewSet, GalleryViewSet, PresetViewSet, ProductShotViewSet, StoreModelApi

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("presets", PresetViewSet, basename="preset")
router.register("product-shots", ProductShotViewSet, basename="product-shot")
router.register("faces", FaceViewSet, basename="face")
router.register("gallery", GalleryViewSet, basename="gallery-face")

urlpatterns = [
    path("store-model/", StoreModelApi.as_view(), name="store-model"),
    *router.urls,
]
