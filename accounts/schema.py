"""OpenAPI description of the Bearer API-token scheme (loaded by AccountsConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A store API token (`gsk_…`), created under Settings → API tokens. "
            "Scopes: `read` for GET, `write` for everything else.",
        }


class FailedAuthGuardScheme(OpenApiAuthenticationExtension):
    """The failed-auth guard (accounts/throttling.py) authenticates nobody: no security scheme of its own."""

    target_class = "accounts.throttling.FailedAuthGuard"
    name: list[str] = []

    def get_security_requirement(self, auto_schema):
        return None

    def get_security_definition(self, auto_schema):
        return []
