"""The admin, for site operators: every change goes through the same services as the app."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from cases import models as m
from cases import services
from evidence.admin import ReadOnlyAdmin
from evidence.services import Actor


class _Refused(Exception):
    def __init__(self, error: ValidationError | PermissionDenied) -> None:
        super().__init__(str(error))
        if isinstance(error, ValidationError):
            self.text = (
                "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
                if hasattr(error, "error_dict")
                else " ".join(error.messages)
            )
        else:
            self.text = str(error)


class ServiceAdmin(admin.ModelAdmin):
    """Saves through ``create``/``update`` services; a refused change is shown and nothing is written."""

    def create(self, data: dict[str, Any], actor: Actor) -> models.Model:
        raise NotImplementedError

    def update(self, obj: Any, changes: dict[str, Any], actor: Actor) -> models.Model:
        raise NotImplementedError

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        actor = Actor.of_user(request.user)
        try:
            if change:
                changes = {name: form.cleaned_data[name] for name in form.changed_data}
                saved = self.update(type(obj).objects.get(pk=obj.pk), changes, actor)
            else:
                saved = self.create(dict(form.cleaned_data), actor)
        except (ValidationError, PermissionDenied) as error:
            raise _Refused(error) from error
        obj.pk = saved.pk

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Related rows are written by the services themselves.
        return None

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _Refused as refused:
            self.message_user(request, f"Not saved: {refused.text}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(m.Team)
class TeamAdmin(ServiceAdmin):
    list_display = ["name", "slug", "created_at"]
    fields = ["name", "slug"]
    search_fields = ["name", "slug"]

    def create(self, data: dict[str, Any], actor: Actor) -> models.Model:
        return services.team_create(name=data["name"], slug=data["slug"], actor=actor)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["name", "slug"] if obj else []


@admin.register(m.Membership)
class MembershipAdmin(ServiceAdmin):
    list_display = ["user", "team", "role"]
    list_filter = ["role", "team"]
    fields = ["team", "user", "role"]

    def create(self, data: dict[str, Any], actor: Actor) -> models.Model:
        return services.membership_set(team=data["team"], user=data["user"], role=data["role"], actor=actor)

    def update(self, obj: Any, changes: dict[str, Any], actor: Actor) -> models.Model:
        return services.membership_set(team=obj.team, user=obj.user, role=changes.get("role", obj.role), actor=actor)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["team", "user"] if obj else []


class AuthorizedSellerInline(admin.TabularInline):
    model = m.AuthorizedSeller
    extra = 0
    can_delete = False
    readonly_fields = ["marketplace", "seller_id", "name"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(m.Brand)
class BrandAdmin(ServiceAdmin):
    list_display = ["name", "team", "rights_owner"]
    list_filter = ["team"]
    fields = ["team", *services.brands.BRAND_FIELDS]
    inlines = [AuthorizedSellerInline]

    def create(self, data: dict[str, Any], actor: Actor) -> models.Model:
        team = data.pop("team")
        return services.brand_create(team=team, actor=actor, **data)

    def update(self, obj: Any, changes: dict[str, Any], actor: Actor) -> models.Model:
        return services.brand_update(brand=obj, actor=actor, **changes)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["team"] if obj else []


@admin.register(m.IPRight)
class IPRightAdmin(ServiceAdmin):
    list_display = ["__str__", "brand", "kind", "office", "status"]
    list_filter = ["kind", "status"]
    fields = ["brand", *services.brands.IP_RIGHT_FIELDS]

    def create(self, data: dict[str, Any], actor: Actor) -> models.Model:
        brand = data.pop("brand")
        return services.ip_right_create(brand=brand, actor=actor, **data)

    def update(self, obj: Any, changes: dict[str, Any], actor: Actor) -> models.Model:
        return services.ip_right_update(right=obj, actor=actor, **changes)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["brand"] if obj else []


@admin.register(m.Case)
class CaseAdmin(ServiceAdmin):
    list_display = ["reference", "asin", "marketplace", "status", "priority", "team", "assignee"]
    list_filter = ["status", "priority", "marketplace", "team"]
    search_fields = ["reference", "asin", "title"]
    fields = ["brand", "asin", "marketplace", "title", "priority", "assignee", "external_refs"]

    def create(self, data: dict[str, Any], actor: Actor) -> models.Model:
        return services.case_open(actor=actor, **data)

    def update(self, obj: Any, changes: dict[str, Any], actor: Actor) -> models.Model:
        return services.case_update(case=obj, actor=actor, **changes)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["brand", "asin", "marketplace", "reference", "status"] if obj else []


@admin.register(m.Storefront)
class StorefrontAdmin(ServiceAdmin):
    list_display = ["seller_id", "marketplace", "name", "team"]
    list_filter = ["marketplace", "team"]
    search_fields = ["seller_id", "name", "business_name"]
    fields = ["team", "marketplace", "seller_id", *services.storefronts.PROFILE_FIELDS]
    readonly_fields = ["team", "marketplace", "seller_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # storefronts are attached to a case, never created on their own

    def update(self, obj: Any, changes: dict[str, Any], actor: Actor) -> models.Model:
        return services.storefront_update(storefront=obj, actor=actor, **changes)


def _operators_only(request: HttpRequest) -> bool:
    """The admin sees every team's rows, so only site operators (superusers) may use it."""
    user = request.user
    return bool(user.is_active and user.is_superuser)


admin.site.has_permission = _operators_only  # type: ignore[method-assign]

for model in (
    m.AuthorizedSeller,
    m.CaseStorefront,
    m.Sighting,
    m.Evidence,
    m.TestBuy,
    m.Warning,
    m.Submission,
    m.OperatorGroup,
    m.OperatorLink,
    m.CaseSequence,
):
    admin.site.register(model, ReadOnlyAdmin)
