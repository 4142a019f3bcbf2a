"""Team settings: API tokens and webhooks."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from cases.models import (
    ApiToken,
    WebhookDelivery,
    WebhookEvent,
)
from cases.selectors.webhooks import managed_endpoints, managed_teams
from cases.services.tokens import api_token_create, api_token_revoke
from cases.services.webhooks import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
    webhook_redeliver,
)
from cases.views.forms import is_row_id
from evidence.services import Actor

logger = logging.getLogger(__name__)


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's own API tokens: create (the secret is shown once), list, revoke."""
    new_token = ""
    error = ""
    if request.method == "POST":
        actor = Actor.of_user(request.user)
        if "revoke" in request.POST:
            revoke = request.POST.get("revoke", "")
            token = ApiToken.objects.visible_to(request.user).filter(pk=revoke).first() if is_row_id(revoke) else None
            if token is None:
                raise Http404("No such token")
            api_token_revoke(token=token, actor=actor)
            messages.success(request, _("Token revoked."))
            return redirect("cases:api_tokens")
        try:
            _token, new_token = api_token_create(user=request.user, name=request.POST.get("name", ""), actor=actor)
        except ValidationError as invalid:
            error = " ".join(invalid.message_dict.get("name", invalid.messages))
    tokens = ApiToken.objects.visible_to(request.user)
    return render(
        request,
        "cases/api_tokens.html",
        {"tokens": tokens, "new_token": new_token, "error": error, "name": request.POST.get("name", "")},
    )


@login_required
def webhooks(request: HttpRequest) -> HttpResponse:
    """Managers' webhook endpoints: register (secret shown once), pause, delete, delivery log, redeliver."""
    actor = Actor.of_user(request.user)
    user: Any = request.user
    managed = managed_teams(user)
    endpoints = managed_endpoints(user).select_related("team")
    form: dict[str, Any] = {"url": "", "events": [], "team": "", "description": ""}
    errors: dict[str, list[str]] = {}
    secret = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "create":
                form = {
                    "url": request.POST.get("url", ""),
                    "events": request.POST.getlist("events"),
                    "team": request.POST.get("team", ""),
                    "description": request.POST.get("description", ""),
                }
                team = managed.filter(pk=form["team"]).first() if is_row_id(form["team"]) else None
                if team is None:
                    raise ValidationError({"team": [_("Choose one of the teams you manage.")]})
                _endpoint, secret = webhook_endpoint_create(
                    team=team, url=form["url"], events=form["events"], description=form["description"], actor=actor
                )
                form = {"url": "", "events": [], "team": "", "description": ""}
            elif action in {"toggle", "delete"}:
                endpoint = _visible_or_404(endpoints, request.POST.get("endpoint", ""))
                if action == "toggle":
                    webhook_endpoint_update(endpoint=endpoint, is_active=not endpoint.is_active, actor=actor)
                else:
                    webhook_endpoint_delete(endpoint=endpoint, actor=actor)
                return redirect("cases:webhooks")
            elif action == "redeliver":
                deliveries = WebhookDelivery.objects.visible_to(request.user).select_related("endpoint")
                webhook_redeliver(delivery=_visible_or_404(deliveries, request.POST.get("delivery", "")), actor=actor)
                messages.success(request, _("The event is being sent again."))
                return redirect("cases:webhooks")
        except ValidationError as invalid:
            errors = invalid.message_dict
        except PermissionDenied:
            raise Http404("Only managers of the team can do this.") from None
    # The 20 latest deliveries of every endpoint in one query (a window function).
    latest = Prefetch("deliveries", queryset=WebhookDelivery.objects.all()[:20], to_attr="latest")
    listed: list[Any] = list(endpoints.prefetch_related(latest))
    return render(
        request,
        "cases/webhooks.html",
        {
            "endpoints": [(endpoint, endpoint.latest) for endpoint in listed],
            "managed": managed,
            "events": WebhookEvent.choices,
            "form": form,
            "errors": errors,
            "secret": secret,
        },
    )


def _visible_or_404(queryset: Any, pk: str) -> Any:
    item = queryset.filter(pk=pk).first() if is_row_id(pk) else None
    if item is None:
        raise Http404("Not found")
    return item
