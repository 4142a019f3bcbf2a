"""OpenAPI descriptions drf-spectacular cannot infer: the bearer token scheme."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "cases.api.auth.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token: `python manage.py apitoken USERNAME` or the web app's token page.",
        }


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable, machine-readable", "example": "validation_error"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "description": "Validation errors per field",
                    "additionalProperties": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                        },
                    },
                },
                "retry_after_seconds": {"type": "integer", "description": "With 429"},
            },
        }
    },
}

_ERRORS = {
    "400": "Invalid input (body or query): `fields` names each bad field with a code",
    "401": "No token, or an unknown or revoked one",
    "403": "Your role in the team does not allow this",
    "404": "No such object among your teams",
    "409": "A request with this Idempotency-Key is still running",
    "412": "If-Match no longer matches the object's ETag",
    "413": "The upload is larger than the limit",
    "422": "This Idempotency-Key was used for a different request",
    "429": "Rate exceeded; retry after the Retry-After header's seconds",
}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Postprocessing hook: every operation documents the errors it can answer, in one shape."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            codes = ["401", "404", "429"]
            if method in {"post", "patch", "put", "delete"}:
                codes += ["400", "403"]
            elif any(parameter.get("in") == "query" for parameter in operation.get("parameters", [])):
                codes.append("400")
            if method == "post":
                codes += ["409", "422"]
            if method == "patch" or path.endswith("/transition/"):
                codes.append("412")
            if method == "post" and (path.endswith("/evidence/") or path.endswith("/ip-rights/")):
                codes.append("413")
            for code in codes:
                operation["responses"].setdefault(code, {"description": _ERRORS[code], "content": reference})
    return result
