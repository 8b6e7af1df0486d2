"""Decoding Chinese government pages whose charset declarations are often missing or wrong.

Order of trust: a byte-order mark; then UTF-8 if the bytes decode strictly as UTF-8 (non-UTF-8
Chinese text essentially never does); then the declared charset (HTTP header, then <meta>), with
GB2312/GBK widened to GB18030 (a strict superset, so legacy pages with rarer characters still decode);
then GB18030 and Big5 tried strictly; finally the declared or GB18030 codec with replacement characters.
"""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", re.I)
_WIDEN = {"gb2312": "gb18030", "gbk": "gb18030", "gb_2312-80": "gb18030", "x-gbk": "gb18030",
          "cp936": "gb18030", "euc-cn": "gb18030", "hz-gb-2312": "gb18030", "big5-hkscs": "big5hkscs"}


def _normalise(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().lower()
    name = _WIDEN.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def declared_charsets(body: bytes, content_type: str | None) -> tuple[str | None, str | None]:
    """(charset from the Content-Type header, charset from the first 4 KB of markup)."""
    header = None
    if content_type:
        m = _HEADER_CHARSET.search(content_type)
        header = m.group(1).decode() if m and isinstance(m.group(1), bytes) else (m.group(1) if m else None)
    m = _META_CHARSET.search(body[:4096])
    meta = m.group(1).decode("ascii", "ignore") if m else None
    return header, meta


def detect_encoding(body: bytes, content_type: str | None = None) -> str:
    """Return the codec name that decodes ``body`` correctly (see module docstring for the order)."""
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        body.decode("utf-8", errors="strict")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    header, meta = declared_charsets(body, content_type)
    candidates = [_normalise(header), _normalise(meta), "gb18030", "big5"]
    for name in candidates:
        if not name or name == "utf-8":
            continue
        try:
            body.decode(name, errors="strict")
            return name
        except (UnicodeDecodeError, LookupError):
            continue
    return _normalise(header) or _normalise(meta) or "gb18030"


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode a page body: returns (text, encoding used). Never raises on bad bytes."""
    encoding = detect_encoding(body, content_type)
    return body.decode(encoding, errors="replace"), encoding
