"""Brand settings: details, IP rights and their certificates, authorized sellers, letter wording.

Every member of the brand's team reads these pages; only managers change them, and
anyone else who tries gets a page saying so (another team's brand is a 404).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, QuerySet
from django.forms.models import model_to_dict
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from cases.letters import DEFAULTS, PLACEHOLDERS
from cases.models import AuthorizedSeller, Brand, LetterKind, LetterLanguage, Role, Team, WarningTemplate
from cases.services._common import role_of
from cases.services.brands import (
    BRAND_FIELDS,
    authorized_seller_add,
    authorized_seller_remove,
    brand_create,
    brand_update,
)
from cases.services.records import warning_template_set
from cases.views.forms import AccessibleForm, NamesSelect, is_row_id, submit
from evidence.amazon import MARKETPLACE_CHOICES
from evidence.services import Actor


def brand_or_404(request: HttpRequest, pk: int) -> Brand:
    brand = Brand.objects.visible_to(request.user).select_related("team").filter(pk=pk).first()
    if brand is None:
        raise Http404("No such brand")
    return brand


def is_manager(user: Any, team_id: int) -> bool:
    role = role_of(user, team_id)
    return role is not None and role.includes(Role.MANAGER)


def refused(request: HttpRequest, *, back: str, message: str) -> HttpResponse:
    """A member whose role does not allow a change: said plainly, with the way back."""
    return render(request, "cases/refused.html", {"message": message, "back": back}, status=403)


def managers_only(request: HttpRequest, brand: Brand) -> HttpResponse:
    return refused(
        request,
        back=reverse("cases:brand_settings", args=[brand.pk]),
        message=_("Only managers of the team can change a brand's settings."),
    )


class NewBrandForm(AccessibleForm):
    team = forms.ModelChoiceField(label=_l("Team"), queryset=Team.objects.none(), empty_label=None, widget=NamesSelect)
    name = forms.CharField(label=_l("Brand name"), max_length=200)

    def __init__(self, *args: Any, teams: QuerySet[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team_field = self.fields["team"]
        assert isinstance(team_field, forms.ModelChoiceField)
        team_field.queryset = teams
        if len(teams) == 1:
            team_field.widget = forms.HiddenInput()
            team_field.initial = teams[0].pk


class BrandForm(AccessibleForm):
    name = forms.CharField(label=_l("Brand name"), max_length=200)
    rights_owner = forms.CharField(
        label=_l("Rights owner"),
        max_length=200,
        required=False,
        help_text=_l("The legal name that owns the trademark; it signs complaints and letters."),
    )
    contact_name = forms.CharField(label=_l("Contact name"), max_length=200, required=False)
    contact_email = forms.EmailField(label=_l("Contact e-mail"), required=False)
    contact_phone = forms.CharField(label=_l("Contact phone"), max_length=50, required=False)
    contact_address = forms.CharField(
        label=_l("Contact address"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    amazon_is_authorized = forms.BooleanField(
        label=_l("Amazon is an authorized seller"),
        required=False,
        help_text=_l("Amazon's own retail offers are never treated as hijackers."),
    )
    capture_new_hijackers = forms.BooleanField(
        label=_l("Capture new hijackers"),
        required=False,
        help_text=_l("When a new hijacker is detected, its storefront and the listing's offers are captured."),
    )


class SellerForm(AccessibleForm):
    marketplace = forms.ChoiceField(label=_l("Marketplace"), choices=MARKETPLACE_CHOICES, initial="US")
    seller_id = forms.CharField(
        label=_l("Seller ID"),
        max_length=32,
        help_text=_l("Amazon's merchant token: 12 to 16 letters and digits starting with A, e.g. A2ABCDEFGHIJK1."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "class": "mono"}),
    )
    name = forms.CharField(label=_l("Storefront name"), max_length=200, required=False)


class LetterForm(AccessibleForm):
    kind = forms.ChoiceField(choices=LetterKind.choices, widget=forms.HiddenInput)
    language = forms.ChoiceField(choices=LetterLanguage.choices, widget=forms.HiddenInput)
    body = forms.CharField(
        label=_l("Wording"), max_length=20000, widget=forms.Textarea(attrs={"rows": 18}), strip=False
    )


@login_required
def brand_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    managed = Team.objects.visible_to(user)
    if not user.is_superuser:
        managed = managed.filter(memberships__user=user, memberships__role=Role.MANAGER)
    teams = list(managed)
    form = NewBrandForm(teams=managed) if teams else None
    if request.method == "POST":
        if not teams:
            return refused(
                request, back=reverse("cases:brand_list"), message=_("Only managers of a team can add brands.")
            )
        form = NewBrandForm(request.POST, teams=managed)
        actor = Actor.of_user(user)
        brand = submit(form, lambda data: brand_create(team=data["team"], name=data["name"], actor=actor))
        if brand is not None:
            messages.success(request, _("The brand %(name)s is added.") % {"name": brand.name})
            return redirect("cases:brand_settings", pk=brand.pk)
    brands = Brand.objects.visible_to(user).select_related("team").annotate(watched=Count("watch_items"))
    return render(request, "cases/brand_list.html", {"brands": brands, "form": form})


@login_required
def brand_settings(request: HttpRequest, pk: int) -> HttpResponse:
    brand = brand_or_404(request, pk)
    manager = is_manager(request.user, brand.team_id)
    details = BrandForm(prefix="brand", initial=model_to_dict(brand, fields=BRAND_FIELDS))
    seller = SellerForm(prefix="seller")
    if request.method == "POST":
        if not manager:
            return managers_only(request, brand)
        actor = Actor.of_user(request.user)
        action = request.POST.get("action", "")
        if action == "details":
            details = BrandForm(request.POST, prefix="brand")
            if submit(details, lambda data: brand_update(brand=brand, actor=actor, **data)):
                messages.success(request, _("The brand's details are saved."))
                return redirect("cases:brand_settings", pk=brand.pk)
        elif action == "add_seller":
            seller = SellerForm(request.POST, prefix="seller")
            added = submit(seller, lambda data: authorized_seller_add(brand=brand, actor=actor, **data))
            if added is not None:
                messages.success(request, _("%(seller)s is an authorized seller.") % {"seller": added.seller_id})
                return redirect("cases:brand_settings", pk=brand.pk)
        elif action == "remove_seller":
            seller_pk = request.POST.get("seller", "")
            found = AuthorizedSeller.objects.filter(brand=brand, pk=seller_pk).first() if is_row_id(seller_pk) else None
            if found is None:
                raise Http404("No such authorized seller")
            found.brand = brand
            authorized_seller_remove(seller=found, actor=actor)
            messages.success(request, _("%(seller)s is no longer an authorized seller.") % {"seller": found.seller_id})
            return redirect("cases:brand_settings", pk=brand.pk)
        else:
            raise Http404("No such action")
    return render(
        request,
        "cases/brand/settings.html",
        {
            "brand": brand,
            "is_manager": manager,
            "tab": "settings",
            "details": details,
            "seller_form": seller,
            "ip_rights": brand.ip_rights.select_related("certificate"),
            "sellers": brand.authorized_sellers.all(),
            "max_upload": settings.EVIDENCE_MAX_BYTES,
        },
    )


@login_required
def brand_letters(request: HttpRequest, pk: int) -> HttpResponse:
    """The team's wording of each letter, by kind and language; the built-in text until it is changed."""
    brand = brand_or_404(request, pk)
    manager = is_manager(request.user, brand.team_id)
    source = request.POST if request.method == "POST" else request.GET
    kind = source.get("kind", LetterKind.FIRST_WARNING)
    language = source.get("language", LetterLanguage.ENGLISH)
    if kind not in LetterKind.values or language not in LetterLanguage.values:
        raise Http404("No such letter")
    own = {(t.kind, t.language): t for t in WarningTemplate.objects.filter(team_id=brand.team_id)}
    current = own.get((kind, language))
    form = LetterForm(
        initial={"kind": kind, "language": language, "body": current.body if current else DEFAULTS[(kind, language)]}
    )
    if request.method == "POST":
        if not manager:
            return managers_only(request, brand)
        form = LetterForm(request.POST)
        actor = Actor.of_user(request.user)
        saved = submit(
            form,
            lambda data: warning_template_set(
                team=brand.team, kind=data["kind"], language=data["language"], body=data["body"], actor=actor
            ),
        )
        if saved is not None:
            messages.success(request, _("The team's wording of this letter is saved."))
            url = reverse("cases:brand_letters", args=[brand.pk])
            return redirect(f"{url}?kind={kind}&language={language}")
    letters = [
        {
            "kind": k,
            "kind_label": k_label,
            "language": lang,
            "language_label": lang_label,
            "own": own.get((k, lang)),
            "current": (k, lang) == (kind, language),
        }
        for k, k_label in LetterKind.choices
        for lang, lang_label in LetterLanguage.choices
    ]
    return render(
        request,
        "cases/brand/letters.html",
        {
            "brand": brand,
            "is_manager": manager,
            "tab": "letters",
            "letters": letters,
            "kind_label": LetterKind(kind).label,
            "language": language,
            "language_label": LetterLanguage(language).label,
            "own": current,
            "form": form,
            "placeholders": [f"${name}" for name in PLACEHOLDERS],
        },
    )
