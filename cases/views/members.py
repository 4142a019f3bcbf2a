"""Team settings: who is in the team with which role, and invitations to join it.

The team is chosen with ``?team=<id>`` when the user is in several; another team's id is a 404.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from cases.models import Invitation, Membership, Role, Team
from cases.selectors.invitations import invitations_pending
from cases.services.invitations import invitation_create, invitation_revoke
from cases.services.teams import membership_remove, membership_set
from cases.views.brands import is_manager, refused
from cases.views.forms import AccessibleForm, is_row_id, submit
from evidence.services import Actor


class RoleForm(AccessibleForm):
    role = forms.ChoiceField(label=_l("Role"), choices=Role.choices)


class InvitationForm(AccessibleForm):
    email = forms.EmailField(label=_l("E-mail address"), widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(
        label=_l("Role"),
        choices=Role.choices,
        initial=Role.AGENT,
        help_text=_l("Viewers read; agents work cases; managers also change settings and members."),
    )


def _teams(request: HttpRequest) -> tuple[Team | None, list[Team]]:
    """The user's teams and the one the page is about (the first, unless ``?team=`` names another)."""
    teams = list(Team.objects.visible_to(request.user))
    wanted = request.GET.get("team", "")
    if not wanted:
        return (teams[0] if teams else None), teams
    team = next((t for t in teams if str(t.pk) == wanted), None)
    if team is None:
        raise Http404("No such team")
    return team, teams


def _here(name: str, team: Team) -> str:
    return f"{reverse(name)}?team={team.pk}"


@login_required
def team_settings(request: HttpRequest) -> HttpResponse:
    """Members and their roles; managers change a role or remove a member."""
    team, teams = _teams(request)
    manager = team is not None and is_manager(request.user, team.pk)
    memberships = (
        list(Membership.objects.filter(team=team).select_related("user").order_by("user__username")) if team else []
    )
    failed: tuple[int, RoleForm] | None = None
    if request.method == "POST" and team is not None:
        back = _here("cases:team_settings", team)
        if not manager:
            return refused(request, back=back, message=_("Only managers of the team can change members."))
        wanted = request.POST.get("membership", "")
        membership = next((m for m in memberships if str(m.pk) == wanted), None)
        if membership is None:
            raise Http404("No such member")
        form = RoleForm(request.POST, prefix=f"m{membership.pk}")
        actor = Actor.of_user(request.user)
        name = membership.user.get_username()
        if request.POST.get("action") == "remove":

            def remove(_data: dict[str, Any]) -> bool:
                membership_remove(membership=membership, actor=actor)
                return True

            if submit(form, remove):
                messages.success(request, _("%(name)s is no longer in the team.") % {"name": name})
                return redirect("cases:home" if membership.user_id == request.user.pk else back)
        else:
            changed = submit(
                form, lambda data: membership_set(team=team, user=membership.user, role=data["role"], actor=actor)
            )
            if changed is not None:
                role = changed.get_role_display()
                messages.success(request, _("%(name)s is now %(role)s.") % {"name": name, "role": role})
                return redirect(back)
        failed = (membership.pk, form)
    rows = [
        (
            membership,
            failed[1]
            if failed and failed[0] == membership.pk
            else RoleForm(prefix=f"m{membership.pk}", initial={"role": membership.role}),
        )
        for membership in memberships
    ]
    return render(
        request,
        "cases/team/members.html",
        {"team": team, "teams": teams, "is_manager": manager, "rows": rows, "tab": "members"},
    )


@login_required
def team_invitations(request: HttpRequest) -> HttpResponse:
    """Invite people by e-mail (managers); pending invitations can be withdrawn."""
    team, teams = _teams(request)
    if team is None:
        return render(request, "cases/team/members.html", {"team": None, "teams": [], "tab": "invitations"})
    back = _here("cases:team_invitations", team)
    if not is_manager(request.user, team.pk):
        return refused(
            request,
            back=_here("cases:team_settings", team),
            message=_("Only managers of the team can see and send invitations."),
        )
    form = InvitationForm()
    if request.method == "POST":
        actor = Actor.of_user(request.user)
        if request.POST.get("action") == "revoke":
            wanted = request.POST.get("invitation", "")
            invitation = (
                Invitation.objects.visible_to(request.user).filter(team=team, pk=wanted).first()
                if is_row_id(wanted)
                else None
            )
            if invitation is None:
                raise Http404("No such invitation")
            try:
                invitation_revoke(invitation=invitation, actor=actor)
            except ValidationError as invalid:
                messages.error(request, " ".join(invalid.messages))
            else:
                messages.success(request, _("The invitation of %(email)s is withdrawn.") % {"email": invitation.email})
            return redirect(back)
        form = InvitationForm(request.POST)
        created = submit(
            form, lambda data: invitation_create(team=team, email=data["email"], role=data["role"], actor=actor)
        )
        if created is not None:
            invitation, _key = created
            messages.success(request, _("An invitation is on its way to %(email)s.") % {"email": invitation.email})
            return redirect(back)
    context: dict[str, Any] = {
        "team": team,
        "teams": teams,
        "is_manager": True,
        "form": form,
        "pending": invitations_pending(user=request.user, team=team),
        "days": settings.INVITATION_DAYS,
        "tab": "invitations",
    }
    return render(request, "cases/team/invitations.html", context)
