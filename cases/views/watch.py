"""A brand's watch list and SP-API access (managers); what the offer watch found (everyone)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from cases.models import Brand, Role, SpApiCredential, SpApiRegion, WatchItem
from cases.services._common import role_of
from cases.services.watch import sp_api_credentials_remove, sp_api_credentials_set, watch_add, watch_remove
from cases.views.forms import is_row_id
from evidence.amazon import MARKETPLACE_CHOICES
from evidence.services import Actor

_CREDENTIAL_FIELDS = ("selling_partner_id", "region", "client_id", "client_secret", "refresh_token")


@login_required
def brand_watch(request: HttpRequest, pk: int) -> HttpResponse:
    brand = Brand.objects.visible_to(request.user).select_related("team").filter(pk=pk).first()
    if brand is None:
        raise Http404("No such brand")
    role = role_of(request.user, brand.team_id)
    is_manager = role is not None and role.includes(Role.MANAGER)
    actor = Actor.of_user(request.user)
    errors: dict[str, list[str]] = {}
    form: dict[str, Any] = {"asin": "", "marketplace": "US", "interval_minutes": ""}
    credentials_form: dict[str, str] = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "add":
                form = {key: request.POST.get(key, "").strip() for key in form}
                interval = form["interval_minutes"]
                if interval and not (interval.isascii() and interval.isdigit() and 5 <= int(interval) <= 10080):
                    raise ValidationError(
                        {"interval_minutes": [_("Give a number of minutes from 5 to 10080 (a week).")]}
                    )
                watch_add(
                    brand=brand,
                    asin=form["asin"],
                    marketplace=form["marketplace"],
                    interval_minutes=int(interval) if interval else None,
                    actor=actor,
                )
                messages.success(request, _("%(asin)s is on the watch list.") % {"asin": form["asin"].upper()})
                return redirect("cases:brand_watch", pk=brand.pk)
            if action == "remove":
                item_id = request.POST.get("item", "")
                item = WatchItem.objects.filter(brand=brand, pk=item_id).first() if is_row_id(item_id) else None
                if item is None:
                    raise Http404("No such watch item")
                watch_remove(item=item, actor=actor)
                return redirect("cases:brand_watch", pk=brand.pk)
            if action == "credentials":
                # Secrets are never put back into the form: on an error they are typed again.
                credentials_form = {
                    key: request.POST.get(key, "") for key in ("selling_partner_id", "region", "client_id")
                }
                sp_api_credentials_set(
                    brand=brand, actor=actor, **{key: request.POST.get(key, "") for key in _CREDENTIAL_FIELDS}
                )
                messages.success(request, _("The SP-API credentials are stored. They will not be shown again."))
                return redirect("cases:brand_watch", pk=brand.pk)
            if action == "remove_credentials":
                sp_api_credentials_remove(brand=brand, actor=actor)
                return redirect("cases:brand_watch", pk=brand.pk)
        except ValidationError as invalid:
            errors = invalid.message_dict
        except PermissionDenied:
            raise Http404("Only managers of the brand's team can do this.") from None
    return render(
        request,
        "cases/brand_watch.html",
        {
            "brand": brand,
            "is_manager": is_manager,
            "items": WatchItem.objects.filter(brand=brand),
            "credential": SpApiCredential.objects.filter(brand=brand).first(),
            "marketplaces": MARKETPLACE_CHOICES,
            "regions": SpApiRegion.choices,
            "form": form,
            "credentials_form": credentials_form,
            "errors": errors,
        },
    )
