"""What every API view shares: idempotent POSTs, ETags, cursor pages, per-token rates."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination, serializers, throttling, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from cases.api.errors import Conflict, IdempotencyKeyReused, PreconditionFailed
from cases.models import ApiToken, IdempotencyKey
from evidence.services import when_database_answers

logger = logging.getLogger(__name__)
# An unfinished claim older than this belongs to a request that died (gunicorn kills a
# request after two minutes); a retry may take it over.
_ABANDONED_AFTER = dt.timedelta(minutes=15)
# Keys are kept this long; a retry later than that is a new request.
IDEMPOTENCY_TTL = dt.timedelta(hours=24)
_IN_PROGRESS = 0
# Row IDs are PostgreSQL bigints; a larger number can name no row (and would make the query fail).
MAX_ID = 2**63 - 1


def _release(claim: IdempotencyKey) -> None:
    """Forget an unfinished claim, even when the database is what failed the request."""
    try:
        when_database_answers(IdempotencyKey.objects.filter(pk=claim.pk, status_code=_IN_PROGRESS).delete)
    except DatabaseError:
        logger.warning("idempotency key %s stays claimed until it is abandoned", claim.pk, exc_info=True)


class TokenRateThrottle(throttling.SimpleRateThrottle):
    """A rate per API token (or per user for session calls), answered 429 with Retry-After.

    Counted with one atomic increment in the shared cache (Redis in production), so
    simultaneous requests through several workers cannot each slip under the limit, as
    they can with DRF's read-then-write request history. The previous window's count is
    weighed in by how much of it still overlaps the last minute, so a burst across a
    window's edge cannot double the rate.
    """

    scope = "api"
    # Set by DRF from the rate ("1200/min" is 1200 in 60 s).
    num_requests: int
    duration: int
    _wait: float = 0.0

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        current_key = f"{self.key}:{window}"
        try:
            current = self.cache.incr(current_key)  # one round trip on every request but a window's first
        except ValueError:  # the window's first request (add keeps a concurrent first one's count)
            self.cache.add(current_key, 0, timeout=self.duration * 2)
            current = self.cache.incr(current_key)
        previous = self.cache.get(f"{self.key}:{window - 1}") or 0
        into_window = now - window * self.duration
        if previous * (1 - into_window / self.duration) + current <= self.num_requests:
            return True
        # A refused request is not counted: a client that keeps above the rate still gets
        # the rate, rather than being locked out for as long as it keeps asking.
        self.cache.decr(current_key)
        self._wait = self._until_allowed(previous, current - 1, into_window)
        return False

    def _until_allowed(self, previous: int, current: int, into_window: float) -> float:
        """Seconds until one more request fits, if no other arrives meanwhile."""
        limit, duration = self.num_requests, self.duration
        if current < limit and previous:
            # Within this window: wait for enough of the previous one to slide out.
            fits_at = (1 - (limit - current - 1) / previous) * duration
            wait = fits_at - into_window
        else:
            # In the next window, once this one's weight has dropped enough.
            wait = (duration - into_window) + (1 - (limit - 1) / max(current, 1)) * duration
        return max(wait, 1.0)

    def wait(self) -> float:
        return self._wait

    def get_rate(self) -> str | None:
        # Read at request time (DRF reads it at import), so settings overrides apply.
        rate: Any = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        return str(rate) if rate else None

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"anon:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class CursorPage(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")

    def get_page_size(self, request: Request) -> int:
        # DRF falls back to the default on a page size it cannot read; a typo would go unnoticed.
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw == "":
            return self.page_size
        try:
            size = serializers.IntegerField(min_value=1).run_validation(raw)
        except exceptions.ValidationError as error:
            raise exceptions.ValidationError({self.page_size_query_param: error.detail}) from None
        return min(size, self.max_page_size)

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        # Rows that tie on the chosen field keep a fixed order, so pages neither skip nor repeat.
        ordering = tuple(super().get_ordering(request, queryset, view))
        if not any(field.lstrip("-") == "id" for field in ordering):
            ordering += ("-id" if ordering[0].startswith("-") else "id",)
        return ordering


def etag_of(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, cls=DjangoJSONEncoder, ensure_ascii=False)
    return f'"{hashlib.sha256(canonical.encode()).hexdigest()[:40]}"'


def _fingerprint(request: Request) -> str:
    def plain(value: Any) -> Any:
        if hasattr(value, "chunks"):  # an uploaded file: its bytes count, not just its name
            digest = hashlib.sha256()
            for chunk in value.chunks():
                digest.update(chunk)
            value.seek(0)
            return {"file": getattr(value, "name", ""), "sha256": digest.hexdigest()}
        return value

    data = request.data
    if hasattr(data, "lists"):
        body: Any = {key: [plain(v) for v in values] for key, values in data.lists()}
    else:
        body = data
    if hasattr(request, "FILES"):
        for key, files in request.FILES.lists():
            body = {**body, key: [plain(f) for f in files]}
    canonical = json.dumps([request.method, request.path, body], sort_keys=True, cls=DjangoJSONEncoder, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class _Replay(Exception):
    def __init__(self, stored: IdempotencyKey) -> None:
        self.stored = stored


class ApiViewSet(viewsets.GenericViewSet):
    """Base of every API view set.

    POST with ``Idempotency-Key``: the first request claims the key before it runs; a
    retry with the same key and body gets the first answer again, one with another body
    gets 422, and one racing a request still running gets 409. Only successful answers
    are kept, so a request refused for bad input can be corrected and retried.
    """

    throttle_classes = [TokenRateThrottle]
    _claim: IdempotencyKey | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self._claim = None
        key = request.headers.get("Idempotency-Key", "").strip()
        if request.method == "POST" and key:
            if len(key) > 255:
                raise exceptions.ValidationError({"Idempotency-Key": [_("Use at most 255 characters.")]})
            self._claim = self._claim_key(request, key)

    def _claim_key(self, request: Request, key: str) -> IdempotencyKey:
        fingerprint = _fingerprint(request)
        user: Any = request.user
        with transaction.atomic():
            existing = IdempotencyKey.objects.select_for_update().filter(user=user, key=key).first()
            if existing is not None and timezone.now() - existing.created_at > IDEMPOTENCY_TTL:
                existing.delete()
                existing = None
            if existing is None:
                try:
                    with transaction.atomic():
                        return IdempotencyKey.objects.create(
                            user=user, key=key, fingerprint=fingerprint, status_code=_IN_PROGRESS, body={}
                        )
                except IntegrityError:
                    raise Conflict() from None
            if existing.fingerprint != fingerprint:
                raise IdempotencyKeyReused()
            if existing.status_code != _IN_PROGRESS:
                raise _Replay(existing)
            if timezone.now() - existing.created_at < _ABANDONED_AFTER:
                raise Conflict()
            existing.created_at = timezone.now()
            existing.save(update_fields=["created_at"])
            return existing

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            # A request that died with an unhandled error, or whose answer could not be stored,
            # still holds its claim: release it so the client's retry is not refused as "in progress".
            claim, self._claim = self._claim, None
            if claim is not None:
                _release(claim)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, _Replay):
            headers = {"Idempotent-Replayed": "true"}
            if exc.stored.location:
                headers["Location"] = exc.stored.location
            return Response(exc.stored.body, status=exc.stored.status_code, headers=headers)
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        claim = self._claim
        if claim is not None:
            if 200 <= response.status_code < 300 and isinstance(response, Response):
                claim.status_code = response.status_code
                claim.body = json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
                claim.location = response.headers.get("Location", "")
                claim.save(update_fields=["status_code", "body", "location"])
                self._claim = None
            else:
                self._claim = None
                _release(claim)
        return super().finalize_response(request, response, *args, **kwargs)

    # --- Reading and locking scoped rows -------------------------------------------------

    def visible(self, model: type[models.Model]) -> models.QuerySet[Any]:
        return model.objects.visible_to(self.request.user)  # type: ignore[attr-defined]

    def locked(self, queryset: models.QuerySet[Any], pk: Any, *, shape: type[Any] | None = None) -> Any:
        """The visible row, locked until the surrounding transaction ends.

        With ``shape`` (the serializer its ETag is computed from), the client's If-Match
        is checked against the locked row, so no concurrent write can slip in between.
        """
        row = self.get_visible(queryset.select_for_update(of=("self",), no_key=True), pk)
        if shape is not None:
            self.check_if_match(shape(row).data)
        return row

    def get_visible(self, queryset: models.QuerySet[Any], pk: Any) -> Any:
        """The row with ``pk`` if the caller may see it; 404 otherwise, never 403."""
        try:
            number = int(pk)
            if not 0 < number <= MAX_ID:
                raise ValueError(number)
            return queryset.get(pk=number)
        except (ValueError, TypeError, queryset.model.DoesNotExist):
            raise exceptions.NotFound() from None

    def page(self, rows: Any, serializer_class: type[Any]) -> Response:
        """One cursor page of ``rows`` in the serializer's shape."""
        page: Any = self.paginate_queryset(rows)
        return self.get_paginated_response(serializer_class(page, many=True).data)

    def respond(
        self, data: Any, *, status: int = 200, etag: bool = True, headers: dict[str, str] | None = None
    ) -> Response:
        """A response with an ETag; 304 when the client's If-None-Match still matches."""
        headers = dict(headers or {})
        if etag:
            tag = etag_of(data)
            headers["ETag"] = tag
            if self.request.method == "GET" and tag in _tags(self.request.headers.get("If-None-Match", "")):
                return Response(status=304, headers=headers)
        return Response(data, status=status, headers=headers)

    def check_if_match(self, current: Any) -> None:
        """412 when the client sent If-Match and the object has changed since."""
        header = self.request.headers.get("If-Match", "")
        if header and "*" not in _tags(header) and etag_of(current) not in _tags(header):
            raise PreconditionFailed()


def validated(serializer_class: type[Any], data: Any) -> dict[str, Any]:
    """Input checked for shape and type; the services check the rules."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _tags(header: str) -> set[str]:
    return {part.strip().removeprefix("W/") for part in header.split(",") if part.strip()}
