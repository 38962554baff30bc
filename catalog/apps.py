from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"

    def ready(self) -> None:
        from accounts.services import STORE_CREATED_HOOKS
        from catalog.events import faces_detected_apply
        from catalog.face_assets import face_asset_prepared_apply
        from catalog.services import presets_seed_for_store
        from core.events import event_handler_register

        event_handler_register(event_type="faces_detected", handler=faces_detected_apply)
        event_handler_register(event_type="face_asset_prepared", handler=face_asset_prepared_apply)

        # Every new store starts with the five default looks.
        if presets_seed_for_store not in STORE_CREATED_HOOKS:
            STORE_CREATED_HOOKS.append(presets_seed_for_store)
