from django.core.exceptions import ValidationError


def field_error(field: str, message: str, code: str) -> ValidationError:
    """A validation error on one field that keeps its machine-readable code.

    ``ValidationError({"field": ["message"]}, code=...)`` drops the code; API clients
    branch on it, so every service raises through here.
    """
    return ValidationError({field: ValidationError(message, code=code)})
