"""factory_boy factories for catalog rows (rows only: no stored image unless a test writes one)."""

from __future__ import annotations

import factory

from catalog.models import ModelFace, ProductShot, StylePreset
from tests.accounts.factories import StoreFactory


class StylePresetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StylePreset

    store = factory.SubFactory(StoreFactory)
    name = factory.Sequence(lambda n: f"look {n}")
    name_en = factory.Sequence(lambda n: f"Look {n}")
    params = factory.LazyFunction(lambda: {"face_tags": ["elegant"], "restore_strength": 0.5})


class ProductShotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductShot

    store = factory.SubFactory(StoreFactory)
    image = factory.LazyAttributeSequence(lambda o, n: f"stores/{o.store.pk}/shots/factory-{n}.jpg")
    original_filename = "dress.jpg"
    content_type = "image/jpeg"
    width, height = 640, 960


class ModelFaceFactory(factory.django.DjangoModelFactory):
    """A store's own generated face."""

    class Meta:
        model = ModelFace

    store = factory.SubFactory(StoreFactory)
    name = factory.Sequence(lambda n: f"face {n}")
    image = factory.LazyAttributeSequence(lambda o, n: f"stores/{o.store.pk}/faces/factory-{n}.png")
    tags = factory.LazyFunction(lambda: ["elegant"])


class PublicFaceFactory(ModelFaceFactory):
    """A face of the public gallery, published unless told otherwise."""

    store = None
    image = factory.Sequence(lambda n: f"gallery/faces/factory-{n}.png")
    curation = ModelFace.Curation.PUBLISHED
