"""What the serializer modules share."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cases.api.base import MAX_ID


def IdField(**kwargs: Any) -> serializers.IntegerField:
    """A row ID: a positive PostgreSQL bigint."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)
