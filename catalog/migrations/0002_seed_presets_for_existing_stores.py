"""Stores created before presets existed get the five default looks too (new stores get them on creation)."""

from django.db import migrations

# A frozen copy of catalog.services.PRESET_SEEDS as of this migration.
SEEDS = (
    ("우아한", "Elegant", "Poised, refined, mature look.", "elegant", 0.6, 0.5),
    ("청초한", "Innocent", "Clear, fresh-faced, natural makeup.", "innocent", 0.3, 0.4),
    ("단아한", "Graceful", "Neat, modest and graceful.", "graceful", 0.4, 0.5),
    ("퇴폐적인", "Edgy", "Moody, languid, bold makeup.", "edgy", 0.8, 0.5),
    ("청량한", "Fresh", "Bright, sporty and cool.", "fresh", 0.3, 0.4),
)


def seed(apps, schema_editor):
    Store = apps.get_model("accounts", "Store")
    StylePreset = apps.get_model("catalog", "StylePreset")
    for store in Store.objects.all():
        for name, name_en, description, tag, makeup, restore in SEEDS:
            StylePreset.objects.get_or_create(store=store, name=name, defaults={
                "name_en": name_en, "description": description,
                "params": {"face_tags": [tag], "makeup_strength": makeup, "restore_strength": restore},
            })


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
