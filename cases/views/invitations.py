"""The page an invitation link opens: join the team, with a new account if need be."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.cache import never_cache

from cases.models import Invitation, Membership
from cases.selectors.invitations import ACCEPTED, EXPIRED, PENDING, REVOKED, invitation_by_key, invitation_state
from cases.services.invitations import invitation_accept, invitation_join
from cases.views.forms import AccessibleForm, submit


class JoinForm(AccessibleForm):
    email = forms.EmailField(
        label=_l("E-mail address"),
        required=False,
        disabled=True,
        help_text=_l("The address the invitation was sent to."),
    )
    username = forms.CharField(
        label=_l("Username"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username"})
    )
    password = forms.CharField(
        label=_l("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password_again = forms.CharField(
        label=_l("Password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password_again") and data["password"] != data["password_again"]:
            self.add_error("password_again", _("The two passwords differ."))
        return data


def _unusable(request: HttpRequest, state: str, invitation: Invitation | None) -> HttpResponse:
    messages_by_state = {
        EXPIRED: _("This invitation has expired. Ask a manager of the team to invite you again."),
        REVOKED: _("This invitation was withdrawn. Ask a manager of the team to invite you again."),
        ACCEPTED: _("This invitation was already used."),
    }
    message = messages_by_state.get(state, _("This invitation link is not valid. Check that it was copied whole."))
    return render(
        request,
        "cases/team/invitation_invalid.html",
        {"message": message, "invitation": invitation},
        # Gone: the link was real once; unknown links are simply not found.
        status=404 if invitation is None else 410,
    )


def _joined(request: HttpRequest, membership: Membership) -> HttpResponse:
    messages.success(request, _("Welcome to %(team)s.") % {"team": membership.team.name})
    return redirect(f"{reverse('cases:team_settings')}?team={membership.team_id}")


@never_cache
def invitation_accept_page(request: HttpRequest, key: str) -> HttpResponse:
    invitation = invitation_by_key(key)
    state = invitation_state(invitation) if invitation is not None else ""
    if invitation is None or state != PENDING:
        return _unusable(request, state, invitation)
    user: Any = request.user
    form = JoinForm(initial={"email": invitation.email})
    error = ""
    if request.method == "POST":
        if user.is_authenticated:
            try:
                return _joined(request, invitation_accept(key=key, user=user))
            except ValidationError as invalid:
                error = " ".join(invalid.messages)
        else:
            form = JoinForm(request.POST, initial={"email": invitation.email})
            membership = submit(
                form,
                lambda data: invitation_join(key=key, username=data["username"], password=data["password"]),
            )
            if membership is not None:
                login(request, membership.user, backend=settings.AUTHENTICATION_BACKENDS[0])
                return _joined(request, membership)
    return render(
        request,
        "cases/team/invitation_accept.html",
        {"invitation": invitation, "form": form, "error": error},
    )
