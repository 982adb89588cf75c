"""API token authentication: ``Authorization: Token <key>`` with a per-client token
(tracker.models.ApiToken), checked by tracker.services.auth.api_token_authenticate.

An unknown, expired or revoked token, or one of a disabled account, is a 401 whose `code` says
which (token_invalid, token_expired, token_revoked, user_inactive) and whose `detail` is Chinese.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from tracker.services import auth as auth_services

KEYWORD = "Token"
MAX_KEY_LENGTH = 200  # issued keys are 43 characters; anything far longer is not ours


class ApiTokenAuthentication(BaseAuthentication):
    keyword = KEYWORD

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2 or len(parts[1]) > MAX_KEY_LENGTH:
            raise exceptions.AuthenticationFailed(
                "令牌格式有误，应为“Authorization: Token 令牌”", code="token_invalid"
            )
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed(
                "令牌格式有误，应为“Authorization: Token 令牌”", code="token_invalid"
            ) from error
        try:
            token = auth_services.api_token_authenticate(key=key)
        except auth_services.ApiTokenInvalid as invalid:
            raise exceptions.AuthenticationFailed(invalid.message, code=invalid.code) from invalid
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme of ApiTokenAuthentication."""

    target_class = "config.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "按客户端签发的令牌：POST /api/v1/auth/token/ 换取（或在“API 令牌”页面创建），"
                "请求头写作 `Token <令牌>`。令牌有有效期，可随时作废；修改密码后全部失效。"
            ),
        }
