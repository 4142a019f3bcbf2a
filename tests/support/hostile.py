"""Text an attacker (or a hijacker naming a storefront) would type into any field.

Every class of payload has one decision, the same through the API and the web forms:

- markup, ``javascript:`` and CSS ``url()`` text, other C0 control characters and
  right-to-left marks are text: a free-text field stores them byte for byte and every
  screen, webhook body and PDF shows them as text;
- NUL is refused with a field error (PostgreSQL cannot store it, DRF and Django forms
  refuse it anyway);
- 100,000 characters are refused with a field error naming the field's limit: every
  free-text field has one, the same through the API and the web forms.

Fields with a format (ASIN, seller ID, order ID, currency, e-mail, URL) refuse all of it.
Leading and trailing whitespace is trimmed by both entry points, so no payload starts or
ends with it.
"""

from __future__ import annotations

from collections.abc import Callable

# Text that would be active if a page, a PDF or a webhook consumer interpreted it.
MARKUP: dict[str, str] = {
    "script": "<script>alert(1)</script>",
    "attribute": "\"'><img src=x onerror=alert(1)>",
    "javascript_url": "javascript:alert(document.cookie)",
    "css_url": '<style>*{background:url(http://127.0.0.1:9/css)}</style><div style="background:url(x)">',
    "controls": "a\x01\x07\x08\x0b\x0c\x1b[31mred\x7fz",
    "rtl": "\u202eevil\u202c \u200fمتجر\u200f \u2067isolated\u2069",
}
NUL = "before\x00after"
LONG = "x" * 100_000

# What each markup payload must never appear as, once escaped for HTML.
ACTIVE = ("<script", "<img", "<style", "<div style")


def hostile_site_payloads(base: str) -> dict[str, str]:
    """Markup whose fetches would reach ``base`` (a local HTTP server) if anything loaded it."""
    return {
        "img": f'<img src="{base}/img">',
        "css": f"<style>@import url({base}/import);*{{background:url({base}/css)}}</style>",
        "inline_style": f'<p style="background:url({base}/inline)">x</p>',
        "link": f'<link rel="stylesheet" href="{base}/link">',
        "object": f'<object data="{base}/object"></object><iframe src="{base}/iframe"></iframe>',
        "file": '<img src="file:///etc/passwd">',
        "javascript": '<a href="javascript:alert(1)">javascript:alert(1)</a>',
        "rtl": "\u202eevil\u202c \u200fمتجر\u200f",
    }


def each_payload(*, kind: str, limit: int | None, expect: Callable[[str, bool], None]) -> None:
    """Call ``expect(value, stored)`` for every payload, with whether a field of this kind
    ("text", or a format) and length limit must store it as given rather than refuse it."""
    for value in MARKUP.values():
        expect(value, kind == "text" and len(value) <= (limit or len(value)))
    expect(NUL, False)
    expect(LONG, False)
    if limit is not None:
        expect("y" * limit, True)
        expect("y" * (limit + 1), False)
