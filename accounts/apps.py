from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and stores"

    def ready(self) -> None:
        from accounts import (
            checks,  # noqa: F401 - registers the e-mail and shared-cache checks
            schema,  # noqa: F401 - registers the OpenAPI auth extension
        )
