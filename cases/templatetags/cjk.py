"""Language tags for names in Chinese or Japanese, so each is drawn with its own font face."""

from __future__ import annotations

import re

from django import template

register = template.Library()

_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")


@register.filter
def cjk_lang(value: object) -> str:
    """``ja`` for text with kana, ``ko`` with hangul, ``zh-Hans`` with Han only, else ``en``."""
    text = str(value or "")
    if _KANA.search(text):
        return "ja"
    if _HANGUL.search(text):
        return "ko"
    if _HAN.search(text):
        return "zh-Hans"
    return "en"
