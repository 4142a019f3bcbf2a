"""The forms of the case page. They parse what was typed; the services decide what is valid."""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cases.models import (
    CasePriority,
    CaseStatus,
    SubmissionChannel,
    SubmissionOutcome,
    TestBuy,
    TestBuyVerdict,
    WarningChannel,
)
from cases.models.letters import LetterLanguage
from cases.services.comments import MAX_COMMENT_LENGTH
from cases.views.forms import AccessibleForm, NamesSelect, isolate
from evidence.amazon import validate_order_id

ORDER_ID_PATTERN = r"\d{3}-?\d{7}-?\d{7}"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


def normalize_order_id(value: str) -> str:
    """An order ID typed as 17 digits (a phone's number pad has no dash) gets its dashes."""
    value = value.strip()
    if re.fullmatch(r"\d{17}", value):
        return f"{value[:3]}-{value[3:10]}-{value[10:]}"
    return value


def order_id_problem(value: str, *, case_id: int) -> str | None:
    """What is wrong with an order ID for a new test buy on the case, or None: the model's rules."""
    value = normalize_order_id(value)
    try:
        validate_order_id(value)
    except ValidationError as invalid:
        return str(invalid.messages[0])
    if TestBuy.objects.filter(case_id=case_id, order_id=value).exists():
        return str(_("A test buy with this order ID is already recorded on this case."))
    return None


class TransitionForm(AccessibleForm):
    status = forms.ChoiceField(choices=CaseStatus.choices, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Why is the case closed?"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CaseEditForm(AccessibleForm):
    title = forms.CharField(label=_("Title"), max_length=300, required=False)
    priority = forms.ChoiceField(label=_("Priority"), choices=CasePriority.choices)
    assignee = forms.TypedChoiceField(
        label=_("Assigned to"), coerce=int, empty_value=None, required=False, widget=NamesSelect
    )

    def __init__(self, *args: Any, people: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people = {person.pk: person for person in people}
        choices: list[tuple[Any, str]] = [("", str(_("Nobody")))]
        choices += [(person.pk, person.get_username()) for person in people]
        cast(forms.ChoiceField, self.fields["assignee"]).choices = choices

    def clean_assignee(self) -> Any:
        chosen = self.cleaned_data["assignee"]
        return None if chosen is None else self.people[chosen]


class TestBuyForm(AccessibleForm):
    """A new test buy; what arrived may be given at once or later."""

    storefront = forms.TypedChoiceField(label=_("Storefront"), coerce=int, widget=NamesSelect)
    order_id = forms.CharField(
        label=_("Order ID"),
        max_length=19,
        help_text=_("As Amazon shows it: 123-1234567-1234567."),
        widget=forms.TextInput(
            attrs={"pattern": ORDER_ID_PATTERN, "inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    order_date = forms.DateField(label=_("Order date"), widget=DateInput)
    price_paid = forms.DecimalField(label=_("Price paid"), max_digits=12, decimal_places=2, min_value=0, required=False)
    currency = forms.CharField(
        label=_("Currency"), max_length=3, required=False, widget=forms.TextInput(attrs={"placeholder": "USD"})
    )
    received_date = forms.DateField(label=_("Received on"), required=False, widget=DateInput)
    verdict = forms.ChoiceField(label=_("Verdict"), choices=TestBuyVerdict.choices, initial=TestBuyVerdict.PENDING)
    comparison_notes = forms.CharField(
        label=_("How it differs from the genuine product"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, storefronts: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.storefronts = {storefront.pk: storefront for storefront in storefronts}
        cast(forms.ChoiceField, self.fields["storefront"]).choices = [
            (s.pk, s.name or s.seller_id) for s in storefronts
        ]

    def clean_storefront(self) -> Any:
        return self.storefronts[self.cleaned_data["storefront"]]

    def clean_order_id(self) -> str:
        return normalize_order_id(self.cleaned_data["order_id"])


class TestBuyUpdateForm(AccessibleForm):
    """What arrived from a test buy."""

    received_date = forms.DateField(label=_("Received on"), required=False, widget=DateInput)
    verdict = forms.ChoiceField(label=_("Verdict"), choices=TestBuyVerdict.choices)
    comparison_notes = forms.CharField(
        label=_("How it differs from the genuine product"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    price_paid = forms.DecimalField(label=_("Price paid"), max_digits=12, decimal_places=2, min_value=0, required=False)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)


class WarningForm(AccessibleForm):
    storefront = forms.IntegerField(widget=forms.HiddenInput)
    language = forms.ChoiceField(label=_("Language of the letter"), choices=LetterLanguage.choices)
    text = forms.CharField(label=_("The letter as sent"), max_length=20000, widget=forms.Textarea(attrs={"rows": 12}))
    channel = forms.ChoiceField(label=_("Sent through"), choices=WarningChannel.choices)
    sent_at = forms.DateTimeField(
        label=_("Sent at"),
        required=False,
        help_text=_("Leave empty for now."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class ReplyForm(AccessibleForm):
    reply = forms.CharField(label=_("Their reply"), max_length=20000, widget=forms.Textarea(attrs={"rows": 3}))


class SubmissionForm(AccessibleForm):
    channel = forms.ChoiceField(label=_("Filed through"), choices=SubmissionChannel.choices)
    submitted_on = forms.DateField(label=_("Submitted on"), widget=DateInput)
    amazon_ref = forms.CharField(label=_("Amazon complaint or case ID"), max_length=100, required=False)
    asins = forms.CharField(label=_("ASINs"), max_length=1000, help_text=_("Separate them with spaces or commas."))
    ip_right = forms.TypedChoiceField(
        label=_("IP right"), coerce=int, empty_value=None, required=False, widget=NamesSelect
    )

    def __init__(self, *args: Any, ip_rights: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ip_rights = {right.pk: right for right in ip_rights}
        choices: list[tuple[Any, str]] = [("", str(_("None")))]
        choices += [(right.pk, f"{right.get_kind_display()}: {isolate(str(right))}") for right in ip_rights]
        cast(forms.ChoiceField, self.fields["ip_right"]).choices = choices

    def clean_asins(self) -> list[str]:
        return [asin for asin in re.split(r"[\s,;]+", self.cleaned_data["asins"]) if asin]

    def clean_ip_right(self) -> Any:
        chosen = self.cleaned_data["ip_right"]
        return None if chosen is None else self.ip_rights[chosen]


class OutcomeForm(AccessibleForm):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=SubmissionOutcome.choices)
    outcome_reason = forms.CharField(
        label=_("Amazon's reason"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    outcome_on = forms.DateField(
        label=_("Answered on"), required=False, widget=DateInput, help_text=_("Leave empty for today.")
    )
    amazon_ref = forms.CharField(label=_("Amazon complaint or case ID"), max_length=100, required=False)


class CommentForm(AccessibleForm):
    body = forms.CharField(
        label=_("Comment"),
        max_length=MAX_COMMENT_LENGTH,
        help_text=_("Mention a team member with @username to notify them."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
