"""Masking what a villager types before anyone but the office reads it (issue 27).

Runs at write time on every field that becomes public (a suggestion's title and content,
a correction's new text, a screening reason, a plan item's title): only its output is
stored in the ``public_*`` columns, the original is read by the office alone
(docs/decisions.md "Suggestions: what the public reads").

What it does, on a shadow copy of the text in which full-width ``０-９ Ｘ ｘ ＋ －`` and the
ideographic space are their ASCII twins (one character for one, so offsets map back):

- an ID number (GB 11643-1999) with a valid check digit becomes ``**************123X``;
  one with a wrong check digit is only *flagged* for the office (it may be a typo of a
  real one, or an account number: a person decides);
- a mobile number (``138 0000 0000``, ``+86 138-0000-0000``) becomes ``138****0000``;
- the filer's own name becomes surname + 某 (王某, 欧阳某);
- other person names (jieba's ``nr``) and landline numbers are flagged, not changed.

``Mask.start``/``end`` are offsets into the original text; ``shown`` is what replaced
the span in the public text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

FULL_WIDTH = str.maketrans(
    "０１２３４５６７８９Ｘｘ＋－\u3000", "0123456789Xx+- "
)  # one for one: offsets in the shadow copy are offsets in the text

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"

ID_NUMBER = re.compile(
    r"(?<![0-9])[1-9][0-9]{5}[ -]?(?:18|19|20)[0-9]{2}[ -]?[0-9]{4}[ -]?[0-9]{3}[0-9Xx]"
    r"(?![0-9A-Za-z])"
)
MOBILE = re.compile(
    r"(?<![0-9])(?:\+?86[ -]?)?(1[3-9][0-9])[ -]?([0-9]{4})[ -]?([0-9]{4})(?![0-9])"
)
LANDLINE = re.compile(r"(?<![0-9])(?:\(0[0-9]{2,3}\)|0[0-9]{2,3})[ -]?[2-9][0-9]{6,7}(?![0-9])")

COMPOUND_SURNAMES = frozenset(
    {
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "令狐",
        "夏侯",
        "轩辕",
        "端木",
        "独孤",
        "南宫",
        "西门",
        "百里",
        "呼延",
        "万俟",
        "澹台",
        "公冶",
        "太史",
        "申屠",
        "钟离",
        "闾丘",
        "濮阳",
        "赫连",
        "第五",
        "拓跋",
    }
)

FLAG_MESSAGES = {
    "id_number_invalid": "疑似身份证号，校验位不符",
    "landline": "疑似固定电话号码",
    "name": "疑似他人姓名",
}


@dataclass(frozen=True, slots=True)
class Mask:
    field: str
    kind: str
    """``id_number``, ``mobile`` or ``filer_name``."""
    start: int
    end: int
    shown: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
            "shown": self.shown,
        }


@dataclass(frozen=True, slots=True)
class Flag:
    """Something the office should look at (请核对); the public text keeps it."""

    field: str
    kind: str
    """``id_number_invalid``, ``landline`` or ``name``."""
    start: int
    end: int
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class Masked:
    text: str
    masks: tuple[Mask, ...]
    flags: tuple[Flag, ...]


def id_check_digit(body: str) -> str:
    """The GB 11643-1999 check digit of the first 17 digits."""
    return _CHECK[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def valid_id_number(number: str) -> bool:
    """18 characters (separators already removed), the last one its check digit."""
    if len(number) != 18 or not number[:17].isascii() or not number[:17].isdigit():
        return False
    return id_check_digit(number[:17]) == number[17].upper()


def masked_name(name: str) -> str:
    """王小明 → 王某, 欧阳娜娜 → 欧阳某."""
    surname = name[:2] if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES else name[:1]
    return surname + "某"


@cache
def _posseg() -> Any:
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    return jieba.posseg


def _person_names(text: str) -> Iterator[tuple[int, int]]:
    """Spans jieba tags as person names (``nr``), two characters or more."""
    at = 0
    for pair in _posseg().cut(text, HMM=True):
        word, flag = pair.word, pair.flag
        start = text.find(word, at)
        if start < 0:
            continue
        at = start + len(word)
        if flag == "nr" and len(word) >= 2:
            yield start, at


def _digits(text: str) -> str:
    return "".join(c for c in text if c not in " -+()")


def mask(text: str, field: str = "content", filer_name: str | None = None) -> Masked:
    """The public twin of ``text``, what was masked in it and what the office should
    check. Pure: the same text and name give the same answer."""
    shadow = text.translate(FULL_WIDTH)
    taken: list[tuple[int, int]] = []
    masks: list[Mask] = []
    flags: list[Flag] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    def flag(kind: str, start: int, end: int) -> None:
        taken.append((start, end))
        flags.append(Flag(field, kind, start, end, FLAG_MESSAGES[kind]))

    for m in ID_NUMBER.finditer(shadow):
        number = _digits(m.group())
        if valid_id_number(number):
            taken.append(m.span())
            masks.append(Mask(field, "id_number", *m.span(), "*" * 14 + number[-4:].upper()))
        else:
            flag("id_number_invalid", *m.span())
    for m in MOBILE.finditer(shadow):
        if free(*m.span()):
            taken.append(m.span())
            masks.append(Mask(field, "mobile", *m.span(), f"{m.group(1)}****{m.group(3)}"))
    for m in LANDLINE.finditer(shadow):
        if free(*m.span()):
            flag("landline", *m.span())
    name = (filer_name or "").strip()
    if len(name) >= 2:
        shown = masked_name(name)
        for m in re.finditer(re.escape(name), text):
            if free(*m.span()):
                taken.append(m.span())
                masks.append(Mask(field, "filer_name", *m.span(), shown))
    if any("\u4e00" <= c <= "\u9fff" for c in text):
        for start, end in _person_names(text):
            if free(start, end):
                flag("name", start, end)
    masks.sort(key=lambda one: one.start)
    flags.sort(key=lambda one: one.start)
    out: list[str] = []
    at = 0
    for done in masks:
        out += [text[at : done.start], done.shown]
        at = done.end
    out.append(text[at:])
    return Masked("".join(out), tuple(masks), tuple(flags))


def mask_fields(
    fields: Mapping[str, str], filer_name: str | None = None
) -> tuple[dict[str, str], list[Mask], list[Flag]]:
    """Mask several fields (title and content) at once: the public texts by field, and
    the masks and flags of all of them."""
    texts: dict[str, str] = {}
    masks: list[Mask] = []
    flags: list[Flag] = []
    for field, text in fields.items():
        done = mask(text, field, filer_name)
        texts[field] = done.text
        masks += done.masks
        flags += done.flags
    return texts, masks, flags
