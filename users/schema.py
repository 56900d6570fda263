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


def staff_permissions(result, generator, request, public):
    """A drf-spectacular post-processing hook: each operation that ``users.access.API`` maps to
    a permission documents, in its 403, that staff need that permission (the contract's
    "Staff permissions"), read from the one map so the schema cannot drift from it."""
    import re

    from django.urls import Resolver404, resolve

    from users.access import API_FIELDS, api_permission

    def concrete(path: str) -> str:  # "/api/users/{id}/" and "/api/users/{pk}/" alike
        return re.sub(r"\{[^}]+\}", "1", path)

    documented = {concrete(path): path for path in result["paths"]}
    for path, _, method, _ in generator.endpoints:
        try:
            match = resolve(concrete(path))
        except Resolver404:
            continue
        permission = api_permission(match.url_name, method)
        if not permission:
            continue
        path = documented[concrete(path)]
        needs = f"a staff member without `{permission}`"
        fields = API_FIELDS.get((match.url_name, method.upper()), {})
        needs += "".join(f" (with `{field}`: `{field_permission}`)" for field, field_permission in fields.items())
        operation = result["paths"][path][method.lower()]
        refused = operation["responses"].setdefault(
            "403",
            {
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PermissionDenied"}}},
                "description": "",
            },
        )
        refused["description"] = "; or ".join(filter(None, [refused["description"].rstrip("."), needs])) + "."
        refused["description"] = refused["description"][:1].upper() + refused["description"][1:]
    return result
