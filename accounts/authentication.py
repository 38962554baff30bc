"""``Authorization: Bearer <token>`` for API customers; the dashboard uses sessions."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from accounts.models import ApiToken
from accounts.selectors import api_token_by_secret

LAST_USED_RESOLUTION = timedelta(minutes=1)  # one write a minute per token, not one per request


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header: use 'Bearer <token>'."))
        try:
            secret = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(_("The token contains invalid characters.")) from exc
        token = api_token_by_secret(secret=secret)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid, revoked or expired API token."))
        if not token.created_by.is_active:
            raise exceptions.AuthenticationFailed(_("The token's creator is deactivated."))
        self._touch(token)
        return token.created_by, token

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'

    @staticmethod
    def _touch(token: ApiToken) -> None:
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
