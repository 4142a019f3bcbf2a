"""Isolation of user-provided text set inside a sentence of ours."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def isolated(value: object) -> SafeString:
    """The text escaped and wrapped in ``<bdi>``, for a ``{% blocktranslate with %}`` variable.

    Wrapping the value rather than the placeholder keeps the msgids unchanged, and a name
    holding a right-to-left override then cannot reorder the words of the sentence around it.
    """
    return format_html('<bdi lang="und">{}</bdi>', value)
