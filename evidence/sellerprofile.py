"""Seller profile pages (``/sp?seller=<SellerId>``): who stands behind a storefront.

Amazon prints a "Detailed Seller Information" block on seller profiles: the business name,
the business address and, on some marketplaces, a phone number (the INFORM Consumers Act in
the US, the EU's trader-information rules on .de, .fr, .it, .es; Japan's Specified Commercial
Transactions Act on .co.jp). Operator linking (``cases.services.operators``) joins
storefronts that share a business name, address or phone into one operator, so a hijacker
who rotates storefronts is reported as one actor. This module turns a saved profile page
into those fields, plus the storefront's display name.

The page is untrusted and may be truncated, malformed or not a profile at all. It is read
by a small linear scanner instead of ``html.parser`` or ``tinyhtml5``: both take quadratic
time on some malformed markup (``"<a " * 10_000`` costs ``html.parser`` seconds), and the
few fields wanted here need text and nesting, not a document tree.
"""

from __future__ import annotations

import contextlib
import logging
import re
import unicodedata
from dataclasses import dataclass
from html import unescape
from typing import Literal

from evidence.htmlscan import Stop, scan

logger = logging.getLogger(__name__)

# Profile pages run to a megabyte or two; past 5 MB the input is not one worth reading.
MAX_INPUT_CHARS = 5 * 1024 * 1024
# Far more tags and comments than a profile page holds; the cap bounds the Python-level work
# that input made of nothing but tags can cause to well under a second.
MAX_TOKENS = 300_000
MAX_DEPTH = 512

NAME_MAX = 300
BUSINESS_NAME_MAX = 300
ADDRESS_MAX = 1000
PHONE_MAX = 50
_ADDRESS_LINES_MAX = 12
_PHONES_MAX = 8
# Text kept per line or capture: more than any field can hold once cleaned, so whitespace
# and markup indentation cannot push a value out, yet a megabyte of text costs nothing.
_BUFFER_MAX = 8000
# Labels are short: a colon further into a line is prose, not the end of a label.
_LOOSE_LABEL_MAX = 80
# Only id and class matter; a tag's attributes past this are not read.
_ATTRS_MAX = 8192


@dataclass(frozen=True)
class SellerProfile:
    name: str = ""  # storefront display name
    business_name: str = ""
    business_address: str = ""  # one address line per text line
    phone: str = ""


_Kind = Literal["business_name", "address", "phone", "other"]


def _label_key(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")
    return " ".join(folded.split()).rstrip(": ")


# Labels as Amazon prints them in the detail block, by marketplace language. Sources for the
# wording are cited in tests/evidence/samples/; the Italian and Spanish ones are inferred
# from Amazon's own terms, as no public capture of those pages was found.
_LABEL_WORDS: dict[_Kind, tuple[str, ...]] = {
    "business_name": (
        "Business Name",
        "Business name",
        "Company name",
        "Legal name",
        "Geschäftsname",
        "Firmenname",
        "Nom commercial",
        "Nom de l'entreprise",
        "Raison sociale",
        "Nome commerciale",
        "Nome dell'azienda",
        "Nome dell'attività",
        "Ragione sociale",
        "Nombre comercial",
        "Nombre de la empresa",
        "Nombre de empresa",
        "Razón social",
        "Bedrijfsnaam",
        "Företagsnamn",
        "Nazwa firmy",
        "İşletme adı",
        "販売業者",
        "販売業者名",
        "事業者名",
        "会社名",
        "商号",
        "公司名称",
        "企业名称",
        "商家名称",
        "公司名稱",
        "企業名稱",
    ),
    "address": (
        "Business Address",
        "Company address",
        "Registered address",
        "Geschäftsadresse",
        "Firmenadresse",
        "Adresse commerciale",
        "Adresse de l'entreprise",
        "Adresse professionnelle",
        "Indirizzo commerciale",
        "Indirizzo dell'azienda",
        "Indirizzo aziendale",
        "Indirizzo dell'attività",
        "Dirección comercial",
        "Dirección de la empresa",
        "Domicilio social",
        "Bedrijfsadres",
        "Företagsadress",
        "Adres firmy",
        "İşletme adresi",
        "住所",
        "所在地",
        "事業者住所",
        "地址",
        "公司地址",
        "商家地址",
        "营业地址",
        "營業地址",
    ),
    "phone": (
        "Business Phone",
        "Business Phone Number",
        "Phone",
        "Phone number",
        "Telephone",
        "Telephone number",
        "Customer service phone",
        "Customer service phone number",
        "Telefonnummer",
        "Telefon",
        "Téléphone",
        "Numéro de téléphone",
        "Telefono",
        "Numero di telefono",
        "Teléfono",
        "Número de teléfono",
        "Telefoonnummer",
        "Numer telefonu",
        "Telefon numarası",
        "電話番号",
        "お問い合わせ先電話番号",
        "連絡先電話番号",
        "电话",
        "电话号码",
        "联系电话",
        "咨询用电话号码",
        "客户服务电话号码",
        "客服电话",
        "電話",
        "電話號碼",
    ),
}
_LABELS: dict[str, _Kind] = {_label_key(word): kind for kind, words in _LABEL_WORDS.items() for word in words}

# Element ids, in order of preference, that hold the storefront display name: the 2022
# redesign, the older layout, and the older layout's redesigned variant.
_NAME_IDS = ("seller-name", "sellerName", "sellerName-rd")
_PHONE_ID = "seller-contact-phone"
_DETAIL_ID = "page-section-detail-seller-info"
_CONTAINER_ID = "seller-profile-container"


def _tags(names: str) -> frozenset[str]:
    return frozenset(names.split())


# Elements whose start or end breaks a line of text, as a browser lays them out.
_BLOCKS = _tags(
    "address article aside blockquote body br caption dd details div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre section summary table tbody td tfoot th thead tr ul"
)
_VOID = _tags("area base br col embed hr img input keygen link meta param source track wbr")
_LIST_CONTAINERS = frozenset(("ul", "ol", "menu"))

_ATTR = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""")
_SPACES = re.compile(r"\s+")
_DIGIT = re.compile(r"\d")


class _Element:
    __slots__ = ("block", "bold", "capture", "indent", "is_open", "scope", "tag")

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.block = tag in _BLOCKS
        self.bold = tag in ("b", "strong")  # Amazon's labels use a-text-bold; plain bold counts too
        self.indent = False
        self.scope = ""  # "detail" or "container"
        self.capture = ""  # an id from _NAME_IDS, _PHONE_ID, or "h1"
        self.is_open = True


class _Text:
    """Text gathered piece by piece, kept up to _BUFFER_MAX characters."""

    __slots__ = ("parts", "size")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def add(self, data: str) -> None:
        if self.size < _BUFFER_MAX:
            piece = data[: _BUFFER_MAX - self.size]
            self.parts.append(piece)
            self.size += len(piece)

    def __str__(self) -> str:
        return "".join(self.parts)


class _Line:
    """One line of rendered text: the bold label that starts it, if any, and the rest."""

    __slots__ = ("label", "label_closed", "value", "value_started")

    def __init__(self) -> None:
        self.label = _Text()
        self.value = _Text()
        self.label_closed = False
        self.value_started = False


class _Fields:
    """Fields found in one part of the page, fed line by line in document order."""

    def __init__(self, *, loose_labels: bool) -> None:
        # Plain "Label: value" text counts only inside the detail block; elsewhere it is the
        # seller's own free text (the "about" blurb, an imprint), which may name anyone.
        self.loose_labels = loose_labels
        self.business_name = ""
        self.phones: list[str] = []
        self.address: list[str] = []
        self.address_done = False
        self.mode: _Kind | None = None
        self.owner: _Element | None = None

    def found(self) -> bool:
        return bool(self.business_name or self.phones or self.address)

    def feed(self, label: str, value: str, *, indent: bool, owner: _Element | None) -> None:
        kind, value = _classify(label, value, loose=self.loose_labels)
        if kind is None:
            # Address lines follow their label either as indented rows (the 2022 layout) or
            # nested in the label's own list item (the older one); any other line ends them.
            if self.mode == "address" and (indent or (self.owner is not None and self.owner.is_open)):
                self._address_line(value)
            elif self.mode in ("business_name", "phone"):
                # A label left without a value on its own line: the next line holds it.
                self._take(self.mode, value)
                self.mode = None
            else:
                self._end_address()
            return
        self._end_address()
        self.mode, self.owner = kind, owner
        if kind in ("business_name", "phone"):
            if self._take(kind, value):
                self.mode = None
        elif kind == "address":
            # The first address is the business's; later ones (customer service, returns)
            # carry other labels, and a repeat of the label is not the business's either.
            if self.address_done:
                self.mode = "other"
            else:
                self._address_line(value)

    def finish(self) -> None:
        self._end_address()

    def _take(self, kind: _Kind, value: str) -> bool:
        if kind == "business_name":
            if not self.business_name:
                self.business_name = _clean(value, BUSINESS_NAME_MAX)
            return bool(self.business_name)
        phone = _clean(value, PHONE_MAX)
        if phone and len(self.phones) < _PHONES_MAX:
            self.phones.append(phone)
        return bool(phone)

    def phone(self) -> str:
        # A placeholder ("on request") in one phone row should not hide a real number in another.
        return next((p for p in self.phones if _DIGIT.search(p)), self.phones[0] if self.phones else "")

    def _address_line(self, value: str) -> None:
        line = _clean(value, ADDRESS_MAX)
        if line and len(self.address) < _ADDRESS_LINES_MAX:
            self.address.append(line)

    def _end_address(self) -> None:
        if self.mode == "address":
            self.address_done = self.address_done or bool(self.address)
            self.mode = None


def _split_label(text: str) -> tuple[_Kind | None, str]:
    """The label kind and the rest, for text like "Business Name: Acme" (either colon width)."""
    head = text[:_LOOSE_LABEL_MAX]
    cut = min((i for i in (head.find(":"), head.find("\uff1a")) if i >= 0), default=-1)
    if cut < 0:
        return None, text
    kind = _LABELS.get(_label_key(text[:cut]))
    return kind, text[cut + 1 :]


def _classify(label: str, value: str, *, loose: bool) -> tuple[_Kind | None, str]:
    if label.strip():
        kind = _LABELS.get(_label_key(label))
        if kind is not None:
            return kind, value
        # The whole row set in bold: "Business Name: Acme" as one label.
        kind, rest = _split_label(label)
        if kind is not None:
            return kind, f"{rest} {value}"
        # Any other bold row (business type, VAT number, customer service address) is still
        # a label: it ends the address rows before it.
        return "other", value
    if loose:
        kind, rest = _split_label(value.lstrip())
        if kind is not None:
            return kind, rest
    return None, value


def _clean(text: str, limit: int) -> str:
    """Display text: no control or format characters, single spaces, at most ``limit`` long."""
    text = _SPACES.sub(" ", text[:_BUFFER_MAX]).strip()[: limit * 2]
    kept = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    return _SPACES.sub(" ", kept).strip()[:limit].rstrip()


class _Reader:
    """Follows the open elements and the lines of text of a page, feeding the field finders."""

    def __init__(self) -> None:
        self.stack: list[_Element] = []
        self.blocks: list[_Element] = []
        self.open_tags: dict[str, int] = {}
        self.bold_depth = 0
        self.indent_depth = 0
        self.detail_depth = 0
        self.container_depth = 0
        self.line = _Line()
        self.capturing: list[_Element] = []
        self.buffers: dict[str, _Text] = {}
        self.captured: dict[str, str] = {}
        self.detail = _Fields(loose_labels=True)
        self.container = _Fields(loose_labels=False)
        self.page = _Fields(loose_labels=False)

    # --- events -------------------------------------------------------------------------

    def start(self, tag: str, attrs: str, *, self_closing: bool) -> None:
        self._close_implied(tag)
        if tag in _BLOCKS:
            self.flush()
        if tag in _VOID or self_closing or len(self.stack) >= MAX_DEPTH:
            return
        element = _Element(tag)
        if attrs:
            self._read_attrs(element, attrs)
        if tag == "h1" and not element.capture and self.container_depth and "h1" not in self.buffers:
            element.capture = "h1"
        self._push(element)

    def end(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.flush()
        if not self.open_tags.get(tag):
            return
        while self.stack:
            element = self._pop()
            if element.tag == tag:
                break

    def text(self, data: str) -> None:
        for element in self.capturing:
            self.buffers[element.capture].add(data)
        line = self.line
        if self.bold_depth and not line.label_closed and not line.value_started:
            line.label.add(data)
        else:
            line.value.add(data)
            line.value_started = line.value_started or not data.isspace()

    def flush(self) -> None:
        line, self.line = self.line, _Line()
        label, value = str(line.label), str(line.value)
        if not (label.strip() or value.strip()):
            return
        indent = self.indent_depth > 0
        owner = self.blocks[-1] if self.blocks else None
        if self.detail_depth:
            self.detail.feed(label, value, indent=indent, owner=owner)
        if self.container_depth:
            self.container.feed(label, value, indent=indent, owner=owner)
        self.page.feed(label, value, indent=indent, owner=owner)

    def result(self) -> SellerProfile:
        self.flush()
        # Input that ends inside the name element (a cut-off download) still names the seller.
        for element in list(self.capturing):
            self._finish_capture(element)
        for fields in (self.detail, self.container, self.page):
            fields.finish()
        # The narrowest part of the page that names anything wins: the detail block, then
        # the profile container (older layouts have no detail block id), then the page.
        fields = next((f for f in (self.detail, self.container, self.page) if f.found()), self.page)
        name = next((self.captured[key] for key in (*_NAME_IDS, "h1") if self.captured.get(key)), "")
        phone = fields.phone() or self.captured.get(_PHONE_ID, "")
        return SellerProfile(
            name=name,
            business_name=fields.business_name,
            business_address="\n".join(fields.address)[:ADDRESS_MAX].rstrip(),
            phone=phone,
        )

    # --- the element stack --------------------------------------------------------------

    def _read_attrs(self, element: _Element, attrs: str) -> None:
        attrs = attrs[:_ATTRS_MAX]
        lowered = attrs.lower()
        if "id" not in lowered and "class" not in lowered:
            return
        for match in _ATTR.finditer(attrs):
            name = match.group(1).lower()
            if name not in ("id", "class"):
                continue
            raw = match.group(2) or match.group(3) or match.group(4) or ""
            value = unescape(raw) if "&" in raw else raw
            if name == "class":
                classes = value.split()
                element.bold = element.bold or "a-text-bold" in classes
                element.indent = element.indent or "indent-left" in classes
                continue
            value = value.strip()
            if value == _DETAIL_ID:
                element.scope = "detail"
            elif value == _CONTAINER_ID:
                element.scope = "container"
            elif (value in _NAME_IDS or value == _PHONE_ID) and value not in self.buffers:
                element.capture = value

    def _push(self, element: _Element) -> None:
        self.stack.append(element)
        if element.block:
            self.blocks.append(element)
        self.open_tags[element.tag] = self.open_tags.get(element.tag, 0) + 1
        self.bold_depth += element.bold
        self.indent_depth += element.indent
        self.detail_depth += element.scope == "detail"
        self.container_depth += element.scope == "container"
        if element.capture:
            self.buffers[element.capture] = _Text()
            self.capturing.append(element)

    def _pop(self) -> _Element:
        element = self.stack[-1]
        if element.block:
            self.flush()
        self.stack.pop()
        element.is_open = False
        if element.block and self.blocks and self.blocks[-1] is element:
            self.blocks.pop()
        self.open_tags[element.tag] -= 1
        if element.bold:
            self.bold_depth -= 1
            if not self.bold_depth and self.line.label.size:
                self.line.label_closed = True
        self.indent_depth -= element.indent
        self.detail_depth -= element.scope == "detail"
        self.container_depth -= element.scope == "container"
        if element.capture:
            self._finish_capture(element)
        return element

    def _finish_capture(self, element: _Element) -> None:
        self.capturing.remove(element)
        limit = PHONE_MAX if element.capture == _PHONE_ID else NAME_MAX
        self.captured[element.capture] = _clean(str(self.buffers[element.capture]), limit)

    def _close_implied(self, tag: str) -> None:
        """Close what a browser closes implicitly before ``tag`` opens (``<li>`` ends an ``<li>``)."""
        top = self.stack[-1].tag if self.stack else ""
        if tag == "li" and self.open_tags.get("li"):
            # Only the innermost few levels: an <li> left open deeper than that is not worth
            # a scan per tag.
            for element in reversed(self.stack[-16:]):
                if element.tag in _LIST_CONTAINERS:
                    return
                if element.tag == "li":
                    self.end("li")
                    return
        elif (tag in ("td", "th") and top in ("td", "th")) or (tag in ("dt", "dd") and top in ("dt", "dd")):
            self._pop()
        elif tag == "tr":
            while self.stack and self.stack[-1].tag in ("td", "th", "tr"):
                self._pop()
        elif top == "p" and tag in _BLOCKS and tag not in ("br", "hr"):
            self._pop()


def _parse(doc: str) -> SellerProfile:
    reader = _Reader()
    # Stopping early keeps what was read so far.
    with contextlib.suppress(Stop):
        scan(doc[:MAX_INPUT_CHARS], reader, max_tokens=MAX_TOKENS, max_text=_BUFFER_MAX)
    return reader.result()


def parse_seller_profile(html: str) -> SellerProfile:
    """The storefront name and business identity shown on a seller profile page.

    Fields the page does not show are empty strings. Values are plain text (markup in them
    comes back as the literal characters), cleaned and capped to the Storefront columns.
    """
    if isinstance(html, bytes):  # a caller that skipped decoding should still get an answer
        html = html.decode("utf-8", errors="replace")
    if not isinstance(html, str) or not html:
        return SellerProfile()
    try:
        return _parse(html)
    except Exception:
        # A page must never take the linking job down with it; an unreadable one links nothing.
        logger.warning("Could not read a seller profile page", exc_info=True)
        return SellerProfile()
