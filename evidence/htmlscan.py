"""A forgiving HTML tokenizer whose time is linear in its input, whatever the input.

Seller profile pages come from hijackers' storefronts as much as from Amazon: html.parser
and tinyhtml5 both slow down quadratically on some malformed input (``"<a " * 10_000``
takes html.parser seconds), so pages are read with this instead. It reports start tags
(with their raw attribute text), end tags and decoded text to a reader; scripts, styles
and other raw-text elements are skipped whole.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Protocol

# Elements whose content is not markup: skipped whole, so a script holding "<div>" or a
# "Business Name:" string cannot inject fields.
RAW_TEXT = frozenset(["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript"])
_RAW_END = {name: re.compile(rf"</{name}[\s/>]", re.IGNORECASE) for name in RAW_TEXT}
# Where markup can start; a "<" before anything else is text, skipped at C speed.
_MARKUP = re.compile(r"<[A-Za-z/!?]")
_TAG_NAME = re.compile(r"[A-Za-z][^\s/>\x00]*")
_QUOTE_OR_GT = re.compile(r"[>\"']")


class Stop(Exception):
    """The rest of the input cannot add anything: end of input inside a tag, or a cap."""


class Reader(Protocol):
    def start(self, tag: str, attrs: str, *, self_closing: bool) -> None: ...

    def end(self, tag: str) -> None: ...

    def text(self, data: str) -> None: ...


def _tag_end(doc: str, pos: int, start: int) -> int:
    """Index just past the ``>`` that ends the tag opened at ``start``, scanning from ``pos``."""
    while True:
        match = _QUOTE_OR_GT.search(doc, pos)
        if match is None:
            raise Stop
        i = match.start()
        quote = doc[i]
        if quote == ">":
            return i + 1
        # A quote only delimits a value right after "="; elsewhere it is part of a name.
        j = i - 1
        while j > start and doc[j] in " \t\n\r\f":
            j -= 1
        if doc[j] == "=":
            close = doc.find(quote, i + 1)
            if close < 0:
                raise Stop
            pos = close + 1
        else:
            pos = i + 1


def scan(doc: str, reader: Reader, *, max_tokens: int, max_text: int) -> None:
    """Tokenize ``doc`` in one pass, calling ``reader``; every scan moves forward, so time is
    linear in the size of the input. Raises ``Stop`` past ``max_tokens`` tags."""
    pos = 0  # start of the text not yet handed to the reader
    scan = 0  # where to look for the next markup
    tokens = 0
    while True:
        found = _MARKUP.search(doc, scan)
        if found is None:
            _text(reader, max_text, doc[pos:])
            return
        tokens += 1
        if tokens > max_tokens:
            raise Stop
        lt = found.start()
        nxt = doc[lt + 1]
        if nxt == "!" and doc.startswith("<!--", lt):
            close = doc.find("-->", lt + 4)
            _text(reader, max_text, doc[pos:lt])
            if close < 0:
                return
            pos = scan = close + 3
            continue
        closing = nxt == "/"
        name_match = _TAG_NAME.match(doc, lt + 2 if closing else lt + 1)
        if name_match is None:
            if nxt in "!?" or lt + 2 < len(doc):
                # Declarations, processing instructions, "</3" and "</>": skipped to the next ">".
                close = doc.find(">", lt + 2)
                _text(reader, max_text, doc[pos:lt])
                if close < 0:
                    return
                pos = scan = close + 1
            else:
                scan = lt + 1  # a "</" that ends the input is text
            continue
        _text(reader, max_text, doc[pos:lt])
        tag = name_match.group().lower()
        end = _tag_end(doc, name_match.end(), lt)
        pos = scan = end
        if closing:
            reader.end(tag)
            continue
        attrs = doc[name_match.end() : end - 1]
        reader.start(tag, attrs, self_closing=attrs.endswith("/"))
        if tag in RAW_TEXT:
            raw_end = _RAW_END[tag].search(doc, end)
            if raw_end is None:
                return
            pos = scan = raw_end.start()


def _text(reader: Reader, max_text: int, chunk: str) -> None:
    if chunk:
        # The reader keeps no more than ``max_text`` characters of a line, so a huge text run
        # is cut before its character references are decoded.
        chunk = chunk[: max_text * 4]
        reader.text(unescape(chunk) if "&" in chunk else chunk)
