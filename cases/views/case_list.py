"""The case list: the page a team starts its day on.

Every filter, the sort and the page are in the query string, so a view of the list can be
shared as a link. Agents and managers change many cases at once from it (bulk assign and
status change), which posts back to the same address and returns to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from cases import selectors
from cases.api.base import MAX_ID
from cases.models import Brand, Case, CasePriority, CaseStatus, Membership, Role
from cases.services.bulk import BulkResult, cases_bulk_assign, cases_bulk_transition
from cases.views.forms import AccessibleForm, NamesSelect, isolate, submit
from evidence.amazon import MARKETPLACE_CHOICES
from evidence.services import Actor

PAGE_SIZE = 50
# Hijackers named in a row; the count says how many more there are.
NAMES_PER_ROW = 3
ME, NOBODY = "me", "none"

SORT_CHOICES = [
    ("-created", gettext_lazy("Newest first")),
    ("created", gettext_lazy("Oldest first")),
    ("-updated", gettext_lazy("Recently changed")),
    ("-priority", gettext_lazy("Priority, highest first")),
    ("status", gettext_lazy("Status, in workflow order")),
    ("reference", gettext_lazy("Reference")),
    ("asin", gettext_lazy("ASIN")),
]


@dataclass(frozen=True)
class Column:
    label: str
    sort: str = ""  # the sort key; empty for a column that does not sort
    descending_first: bool = False  # the first click shows the largest (latest, most urgent) first


def _columns() -> list[Column]:
    return [
        Column(_("Reference"), "reference"),
        Column(_("ASIN"), "asin"),
        Column(_("Title")),
        Column(_("Brand")),
        Column(_("Status"), "status"),
        Column(_("Priority"), "priority", descending_first=True),
        Column(_("Assignee")),
        Column(_("Hijackers")),
        Column(_("Changed"), "updated", descending_first=True),
    ]


class CaseFilterForm(AccessibleForm):
    q = forms.CharField(
        label=gettext_lazy("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search"}),
        help_text=gettext_lazy("ASIN, reference, title, storefront name or seller ID"),
    )
    status = forms.MultipleChoiceField(
        label=gettext_lazy("Status"), choices=CaseStatus.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    priority = forms.MultipleChoiceField(
        label=gettext_lazy("Priority"),
        choices=CasePriority.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    brand = forms.ChoiceField(label=gettext_lazy("Brand"), required=False, widget=NamesSelect)
    marketplace = forms.ChoiceField(label=gettext_lazy("Marketplace"), required=False)
    assignee = forms.ChoiceField(label=gettext_lazy("Assignee"), required=False, widget=NamesSelect)
    sort = forms.ChoiceField(label=gettext_lazy("Sort"), required=False, choices=SORT_CHOICES)

    def __init__(self, data: QueryDict, *, brands: list[Brand], people: list[tuple[int, str]]) -> None:
        super().__init__(data)
        several_teams = len({brand.team_id for brand in brands}) > 1
        _set_choices(
            self,
            "brand",
            [
                ("", _("Any")),
                *(
                    (str(b.pk), f"{isolate(b.name)} ({isolate(b.team.name)})" if several_teams else b.name)
                    for b in brands
                ),
            ],
        )
        _set_choices(self, "marketplace", [("", _("Any")), *MARKETPLACE_CHOICES])
        _set_choices(
            self,
            "assignee",
            [
                ("", _("Anyone")),
                (ME, _("Me")),
                (NOBODY, _("Nobody (unassigned)")),
                *((str(pk), name) for pk, name in people),
            ],
        )
        # A column header can sort either way; the select lists the usual orders, and the
        # other direction of a column only while it is the one in use.
        sorts: list[tuple[str, Any]] = list(SORT_CHOICES)
        current = data.get("sort", "")
        if current not in dict(SORT_CHOICES) and current.removeprefix("-") in selectors.CASE_SORTS:
            column = next(c.label for c in _columns() if c.sort == current.removeprefix("-"))
            sorts.append((current, _("%(column)s, reversed") % {"column": column}))
        _set_choices(self, "sort", sorts)

    def chosen(self, user: Any) -> dict[str, Any]:
        """The selector's arguments from the valid fields; an invalid one is shown and ignored."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        assignee = data.get("assignee", "")
        return {
            "search": data.get("q", ""),
            "statuses": data.get("status", []),
            "priorities": data.get("priority", []),
            "brand_id": int(data["brand"]) if data.get("brand") else None,
            "marketplace": data.get("marketplace", ""),
            "assignee_id": user.pk if assignee == ME else int(assignee) if assignee.isdigit() else None,
            "unassigned": assignee == NOBODY,
            "sort": data.get("sort") or selectors.DEFAULT_CASE_SORT,
        }


def _set_choices(form: forms.Form, name: str, choices: list[tuple[str, Any]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


class CaseIdsField(forms.Field):
    """Row IDs of ticked cases. Any ID is accepted here: the cases are read again through
    visible_to, which drops another team's, so they are neither changed nor told apart
    from missing ones."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, list | tuple) else []
        if not all(isinstance(v, str) and v.isascii() and v.isdigit() and 0 < int(v) <= MAX_ID for v in values):
            raise ValidationError(_("Tick cases in the list."), code="invalid")
        return [int(v) for v in values]


class BulkForm(AccessibleForm):
    ASSIGN, TRANSITION = "assign", "transition"

    action = forms.ChoiceField(choices=[(ASSIGN, ASSIGN), (TRANSITION, TRANSITION)])
    cases = CaseIdsField(label=gettext_lazy("Cases"), required=False)
    status = forms.ChoiceField(label=gettext_lazy("New status"), required=False)
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=5000,
        help_text=gettext_lazy("Needed to close cases."),
    )
    assignee = forms.ChoiceField(label=gettext_lazy("Assign to"), required=False)

    def __init__(self, *args: Any, people: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, auto_id="bulk-%s", **kwargs)
        _set_choices(self, "status", [("", _("Choose a status")), *CaseStatus.choices])
        _set_choices(
            self,
            "assignee",
            [("", _("Choose a person")), (NOBODY, _("Nobody (unassign)")), *((str(pk), name) for pk, name in people)],
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == self.ASSIGN and not data.get("assignee"):
            self.add_error("assignee", _("Choose who gets the cases, or nobody."))
        if data.get("action") == self.TRANSITION and not data.get("status"):
            self.add_error("status", _("Choose the status to move the cases to."))
        return data


@require_http_methods(["GET", "POST"])
@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    members = list(Membership.objects.visible_to(user).select_related("user").order_by("user__username", "pk"))
    brands = list(Brand.objects.visible_to(user).select_related("team").order_by("name", "pk"))
    people = _people(members)
    can_work = user.is_superuser or any(m.user_id == user.pk and Role(m.role).includes(Role.AGENT) for m in members)

    bulk = BulkForm(people=people)
    if request.method == "POST":
        if not can_work:
            raise PermissionDenied(_("Viewers can read a case but not change it."))
        bulk = BulkForm(request.POST, people=people)
        result = submit(bulk, lambda data: _bulk_apply(user, data))
        if result is not None:
            _report(request, bulk.cleaned_data, result, people)
            return redirect(request.get_full_path())

    filters = CaseFilterForm(request.GET, brands=brands, people=people)
    filters.is_valid()
    chosen = filters.chosen(user)
    page = Paginator(selectors.case_list(user=user, **chosen), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = selectors.case_list_rows(list(page.object_list), names=NAMES_PER_ROW)
    filtered = any(value for key, value in chosen.items() if key != "sort")
    return render(
        request,
        "cases/case_list.html",
        {
            "page": page,
            "rows": rows,
            "filters": filters,
            "bulk": bulk if can_work else None,
            "selected": set(bulk.cleaned_data.get("cases", [])) if bulk.is_bound else set(),
            "filtered": filtered,
            "columns": _sort_headers(request.GET, chosen["sort"]),
            "pages": _page_links(request.GET, page),
        },
    )


def _people(members: list[Membership]) -> list[tuple[int, str]]:
    """Who can be assigned cases in the user's teams, each person once."""
    seen: dict[int, str] = {}
    for member in members:
        if Role(member.role).includes(Role.AGENT):
            seen.setdefault(member.user_id, member.user.get_username())
    return list(seen.items())


def _bulk_apply(user: Any, data: dict[str, Any]) -> BulkResult:
    cases = list(Case.objects.visible_to(user).filter(pk__in=data["cases"]))
    actor = Actor.of_user(user)
    if data["action"] == BulkForm.TRANSITION:
        return cases_bulk_transition(cases=cases, status=data["status"], reason=data["reason"], actor=actor)
    # The choice was one of the people of the user's teams; each case's team is checked by the service.
    assignee = None if data["assignee"] == NOBODY else get_user_model().objects.get(pk=int(data["assignee"]))
    return cases_bulk_assign(cases=cases, assignee=assignee, actor=actor)


def _report(request: HttpRequest, data: dict[str, Any], result: BulkResult, people: list[tuple[int, str]]) -> None:
    count = len(result.done)
    if count and data["action"] == BulkForm.TRANSITION:
        status = CaseStatus(data["status"]).label
        message = ngettext("%(count)d case moved to %(status)s.", "%(count)d cases moved to %(status)s.", count) % {
            "count": count,
            "status": status,
        }
        messages.success(request, message)
    elif count and data["assignee"] == NOBODY:
        messages.success(
            request, ngettext("%(count)d case unassigned.", "%(count)d cases unassigned.", count) % {"count": count}
        )
    elif count:
        name = dict(people)[int(data["assignee"])]
        message = ngettext("%(count)d case assigned to %(name)s.", "%(count)d cases assigned to %(name)s.", count) % {
            "count": count,
            "name": name,
        }
        messages.success(request, message)
    if result.refused:
        refused = len(result.refused)
        messages.warning(
            request,
            ngettext("%(count)d case was not changed:", "%(count)d cases were not changed:", refused)
            % {"count": refused},
        )
        for refusal in result.refused:
            messages.warning(request, f"{refusal.case.reference}: {refusal.reason}")


def _query(params: QueryDict, **changes: str | None) -> str:
    """The current query string with some parameters set, or removed (None)."""
    query = params.copy()
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return f"?{query.urlencode()}"


def _sort_headers(params: QueryDict, current: str) -> list[dict[str, str]]:
    headers = []
    active, descending = current.removeprefix("-"), current.startswith("-")
    for column in _columns():
        header = {"label": column.label, "href": "", "aria_sort": ""}
        if column.sort:
            if column.sort == active:
                header["aria_sort"] = "descending" if descending else "ascending"
                target = column.sort if descending else f"-{column.sort}"
            else:
                target = f"-{column.sort}" if column.descending_first else column.sort
            header["href"] = _query(params, sort=target, page=None)
        headers.append(header)
    return headers


def _page_links(params: QueryDict, page: Page[Any]) -> dict[str, str]:
    links = {}
    if page.has_previous():
        links["first"] = _query(params, page=None)
        links["previous"] = _query(params, page=str(page.previous_page_number()))
    if page.has_next():
        links["next"] = _query(params, page=str(page.next_page_number()))
        links["last"] = _query(params, page=str(page.paginator.num_pages))
    return links
