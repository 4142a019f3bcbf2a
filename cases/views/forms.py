"""Web forms parse input; the same services as the API decide what is valid.

A service's ``ValidationError`` is put next to the fields it names, and the form keeps
what was typed; a refused permission becomes a message at the top of the form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from evidence.errors import StorageUnavailable

T = TypeVar("T")


def submit(form: forms.BaseForm, call: Callable[[dict[str, Any]], T]) -> T | None:
    """Validate ``form``, run ``call(cleaned_data)``, and return its result, or None with the errors on the form."""
    if not form.is_valid():
        return None
    try:
        return call(form.cleaned_data)
    except ValidationError as invalid:
        errors = invalid.error_dict if hasattr(invalid, "error_dict") else {NON_FIELD_ERRORS: invalid.error_list}
        for name, problems in errors.items():
            field = name if name in form.fields else None
            for problem in problems:
                message = str(problem.message % problem.params if problem.params else problem.message)
                form.add_error(field, message if field else _field_prefixed(name, message))
    except PermissionDenied:
        form.add_error(None, _("Your role in this team does not allow this."))
    except StorageUnavailable as down:
        form.add_error("file" if "file" in form.fields else None, str(down))
    return None


def _field_prefixed(name: str, message: str) -> str:
    return message if name == NON_FIELD_ERRORS else f"{name}: {message}"


def isolate(name: str) -> str:
    """``name`` between FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE, for a label mixing it with our text.

    An ``<option>`` holds text only, so the plain-text equivalent of ``<bdi>`` keeps a right-to-left
    override in the name from reordering the words around it.
    """
    return f"\u2068{name}\u2069"


class NamesSelect(forms.Select):
    """A select whose options show user-provided names.

    ``dir="auto"`` gives each option the direction of its own first strong character (and isolates
    it); ``<bdi>`` cannot be used, as an option holds text only.
    """

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(*args, **kwargs)
        option["attrs"]["dir"] = "auto"
        return option


class AccessibleForm(forms.Form):
    """Marks invalid controls with ``aria-invalid`` and links them to their error and help text."""

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                self._describe(name, invalid=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if field.help_text:
                self._describe(name, invalid=False)

    def _describe(self, name: str, *, invalid: bool) -> None:
        attrs = self.fields[name].widget.attrs
        auto_id = self[name].auto_id
        ids = [part for part in attrs.get("aria-describedby", "").split() if part]
        suffix = f"{auto_id}_error" if invalid else f"{auto_id}_help"
        if suffix not in ids:
            ids.append(suffix)
        attrs["aria-describedby"] = " ".join(ids)
        if invalid:
            attrs["aria-invalid"] = "true"


MAX_ID = 2**63 - 1


def is_row_id(value: object) -> bool:
    """A primary key as a form or query sends it: ASCII digits only ("²".isdigit() is true too)."""
    return isinstance(value, str) and value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID
