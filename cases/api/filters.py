from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import Exists, OuterRef, QuerySet
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField

from cases.api.base import MAX_ID
from cases.models import Case, CasePriority, CaseStatus, CaseStorefront, Storefront, TestBuy
from cases.selectors import case_search
from evidence.amazon import MARKETPLACE_CHOICES


class IdFilter(filters.NumberFilter):
    """A row ID: a positive bigint (a larger number would make PostgreSQL fail, not match nothing)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class UtcDateTimeField(IsoDateTimeField):
    """ISO 8601 allows offsets up to ±23:59, PostgreSQL only ±15:59: the query compares in UTC."""

    def to_python(self, value: Any) -> dt.datetime | None:
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(dt.UTC)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class DateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class CaseFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=CaseStatus.choices, help_text="Repeat for several")
    priority = filters.MultipleChoiceFilter(choices=CasePriority.choices, help_text="Repeat for several")
    brand = IdFilter(field_name="brand_id")
    marketplace = filters.ChoiceFilter(choices=MARKETPLACE_CHOICES)
    asin = filters.CharFilter(method="filter_asin")
    assignee = IdFilter(field_name="assignee_id", help_text="User ID")
    storefront = filters.CharFilter(method="filter_storefront", help_text="Seller ID of a storefront on the case")
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = DateTimeFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = DateTimeFilter(field_name="updated_at", lookup_expr="lt")
    has_test_buy = filters.BooleanFilter(method="filter_has_test_buy")
    q = filters.CharFilter(method="filter_search", help_text="ASIN, reference, title, storefront name or seller ID")

    class Meta:
        model = Case
        fields: list[str] = []

    def filter_asin(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        return queryset.filter(asin=value.strip().upper())

    def filter_storefront(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        on_case = CaseStorefront.objects.filter(case=OuterRef("pk"), storefront__seller_id=value.strip().upper())
        return queryset.filter(Exists(on_case))

    def filter_has_test_buy(self, queryset: QuerySet[Case], name: str, value: Any) -> QuerySet[Case]:
        bought = Exists(TestBuy.objects.filter(case=OuterRef("pk")))
        return queryset.filter(bought) if value else queryset.exclude(bought)

    def filter_search(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        return case_search(queryset, value)


class StorefrontFilter(filters.FilterSet):
    marketplace = filters.ChoiceFilter(choices=MARKETPLACE_CHOICES)
    seller_id = filters.CharFilter(method="filter_seller_id")
    q = filters.CharFilter(method="filter_search", help_text="Name, business name or seller ID")

    class Meta:
        model = Storefront
        fields: list[str] = []

    def filter_seller_id(self, queryset: QuerySet[Storefront], name: str, value: str) -> QuerySet[Storefront]:
        return queryset.filter(seller_id=value.strip().upper())

    def filter_search(self, queryset: QuerySet[Storefront], name: str, value: str) -> QuerySet[Storefront]:
        from django.db.models import Q

        term = value.strip()
        return queryset.filter(Q(name__icontains=term) | Q(business_name__icontains=term) | Q(seller_id__iexact=term))
