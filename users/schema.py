"""How drf-spectacular documents our token authentication."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class CachedTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "users.authentication.CachedTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'Token-based authentication: "Authorization: Token <key>" (from POST /api/auth/token/).',
        }
