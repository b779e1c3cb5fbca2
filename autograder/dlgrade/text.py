"""Student-derived text made safe to keep, write and print: no lone surrogates, bounded length, and no
control characters on a terminal."""
from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """``text`` with every lone surrogate (which no UTF-8 file or database can hold) replaced by U+FFFD."""
    return _SURROGATE.sub(REPLACEMENT, text)


def cap_text(text: str, *, limit: int) -> str:
    """``text`` cut to about ``limit`` characters: its start and its end, and how much was cut between."""
    if len(text) <= limit:
        return text
    head, tail = limit * 3 // 4, limit // 4
    return f"{text[:head]}\n… ({len(text) - head - tail} characters cut) …\n{text[len(text) - tail:]}"


def terminal_safe(text: str) -> str:
    """``text`` with every control character but newline and tab written as an escape (``\\x1b``), so
    printing it cannot move the cursor, clear the screen or redraw what a terminal already shows."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def mib(size: int) -> str:
    """A byte count as people read it: ``64 MiB``, ``0.5 MiB``."""
    return f"{size / (1 << 20):.4g} MiB"


def clean_tree(value):
    """A JSON-like tree (dicts, lists, strings, numbers) with :func:`clean_text` applied to every string."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_tree(item) for item in value]
    if isinstance(value, dict):
        return {clean_tree(key): clean_tree(item) for key, item in value.items()}
    return value
