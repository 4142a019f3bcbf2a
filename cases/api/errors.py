"""One JSON shape for every API error.

    {"error": {"code": "validation_error", "message": "…", "fields": {"asin": [{"code": "…", "message": "…"}]}}}

``fields`` is present only for validation errors; ``code`` is stable and machine-readable.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError
from django.db import OperationalError as DatabaseUnavailable
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from evidence.errors import StorageUnavailable

logger = logging.getLogger(__name__)
# How long a client should wait before trying again when a service is down.
RETRY_AFTER_SECONDS = 30


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = gettext_lazy(
        "The object changed since you read it (If-Match does not match its ETag); read it again."
    )
    default_code = "precondition_failed"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The upload is larger than the limit.")
    default_code = "payload_too_large"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("Another request with this Idempotency-Key is in progress; retry shortly.")
    default_code = "conflict"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = gettext_lazy("This Idempotency-Key was used for a different request.")
    default_code = "idempotency_key_reused"


class InsufficientStorage(exceptions.APIException):
    status_code = status.HTTP_507_INSUFFICIENT_STORAGE
    default_detail = gettext_lazy("The evidence store is full; nothing was stored.")
    default_code = "storage_full"


class Unavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = gettext_lazy("A service behind the API is not reachable right now. Try again in a moment.")
    default_code = "unavailable"


def unavailable(exc: BaseException | None) -> exceptions.APIException | None:
    """The error to answer when ``exc`` means a backing service is down rather than a bug.

    A database that restarts or a full evidence disk is the deployment's state: the client
    is told to come back later (503/507 with Retry-After), not that the server broke.
    """
    if isinstance(exc, StorageUnavailable):
        return InsufficientStorage(str(exc)) if exc.full else Unavailable(str(exc))
    if exc is not None and _connection_lost(exc):
        logger.warning("database unreachable: %s", exc, exc_info=exc)
        return Unavailable(_("The database is not reachable right now. Try again in a moment."))
    return None


# SQLSTATEs of a server that went away: connection exceptions (class 08), and the server
# shutting down or starting up. A deadlock, a timeout or a missing table is a bug: a 500.
_SERVER_GONE = {"57P01", "57P02", "57P03"}


def _connection_lost(exc: BaseException) -> bool:
    if isinstance(exc, InterfaceError):  # "connection already closed"
        return True
    if not isinstance(exc, DatabaseUnavailable):
        return False
    cause: Any = exc.__cause__
    if not hasattr(cause, "sqlstate"):
        return False  # not PostgreSQL (SQLite's errors are all local)
    sqlstate = cause.sqlstate
    # psycopg reports no SQLSTATE when it could not reach the server or lost it.
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in _SERVER_GONE


_CODES = {
    exceptions.ValidationError: "validation_error",
    exceptions.ParseError: "parse_error",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def _field_errors(detail: Any) -> dict[str, list[dict[str, str]]]:
    """Validation errors as one flat map: nested fields and list items get dotted names.

    ``{"external_refs": {"1": ["blank"]}}`` becomes ``{"external_refs.1": [...]}``, so every
    value is a list of ``{"code", "message"}`` whatever the input's shape.
    """
    flat: dict[str, list[dict[str, str]]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, exceptions.ErrorDetail):
            flat.setdefault(prefix or "non_field_errors", []).append({"code": str(value.code), "message": str(value)})
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                nested = isinstance(item, dict | list) and item
                walk(f"{prefix}.{index}" if nested else prefix, item)

    walk("", detail)
    return flat


def from_django(error: DjangoValidationError) -> exceptions.ValidationError:
    """A service's ValidationError, keeping its field names and codes."""
    if hasattr(error, "error_dict"):
        detail: Any = {
            field: [exceptions.ErrorDetail(message, code=e.code or "invalid") for e in errors for message in e.messages]
            for field, errors in error.error_dict.items()
        }
        if "__all__" in detail:
            detail["non_field_errors"] = detail.pop("__all__")
    else:
        detail = [exceptions.ErrorDetail(m, code=error.code or "invalid") for m in error.messages]
    return exceptions.ValidationError(detail)


def handle(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        codes = [e.code for e in getattr(exc, "error_dict", {}).get("file", [])]
        exc = PayloadTooLarge() if "file_too_large" in codes else from_django(exc)
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(_("The request body is larger than the limit."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    exc = unavailable(exc) or exc
    response = exception_handler(exc, context)
    if response is None:
        return None
    assert isinstance(exc, exceptions.APIException)
    body: dict[str, Any] = {"code": _CODES.get(type(exc), exc.default_code), "message": ""}
    if isinstance(exc, exceptions.ValidationError):
        body["message"] = _("Some fields are not valid.")
        body["fields"] = _field_errors(exc.detail)
    else:
        body["message"] = str(exc.detail)
    wait = getattr(exc, "wait", None)
    if isinstance(exc, exceptions.Throttled) and wait is not None:
        body["retry_after_seconds"] = int(wait + 0.999)
    response.data = {"error": body}
    if isinstance(exc, Unavailable | InsufficientStorage):
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def json_not_found(request: Any, exception: Exception | None = None) -> Any:
    """404 for unknown URLs: JSON under /api/, the normal page elsewhere."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "not_found", "message": _("No such endpoint.")}}, status=404)
    return page_not_found(request, exception)


def json_server_error(request: Any) -> Any:
    """500 for unexpected errors; 503 or 507 when a backing service is down (an error raised
    outside the API's views, in middleware or a web page, arrives here)."""
    from django.http import HttpResponse, JsonResponse
    from django.template import loader
    from django.views.defaults import server_error

    down = unavailable(sys.exc_info()[1])
    if down is not None:
        if request.path.startswith("/api/"):
            response: Any = JsonResponse(
                {"error": {"code": down.default_code, "message": str(down.detail)}}, status=down.status_code
            )
        else:
            # Rendered without the request: its context processors would need the database.
            page = loader.get_template("unavailable.html").render({"message": str(down.detail)})
            response = HttpResponse(page, status=down.status_code)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if request.path.startswith("/api/"):
        body = {"error": {"code": "server_error", "message": _("Something went wrong on our side; it was logged.")}}
        return JsonResponse(body, status=500)
    return server_error(request)
