from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        from billing import prices  # noqa: F401 - connects the price list's invalidation on admin edits
