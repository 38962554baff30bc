from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and stores"

    def ready(self) -> None:
        from accounts import (
            checks,  # noqa: F401 - registers the e-mail and shared-cache checks
            schema,  # noqa: F401 - registers the OpenAPI auth extension
        )
        from accounts.throttling import record_auth_failure
        from core.api_errors import AUTH_FAILURE_HOOKS

        if record_auth_failure not in AUTH_FAILURE_HOOKS:
            AUTH_FAILURE_HOOKS.append(record_auth_failure)
