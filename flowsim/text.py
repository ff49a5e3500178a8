"""Text from users' files on its way to a terminal or an XML file.

A name in a scenario, a path on the command line or a string in a folder
flowsim reads may hold control characters. On a terminal they can move the
cursor, recolour or hide text; in XML 1.0 most of them are not allowed at all,
and one makes the whole JUnit file unreadable. Both are shown here as visible
escapes (``\\x1b``), so that the text stays what it was, and harmless.
"""

from __future__ import annotations

import re

__all__ = ["printable", "xml_safe"]

# C0 and C1 controls but tab and newline, DEL, the bidirectional overrides and
# isolates (which reorder what a reader sees), and surrogates (undecodable bytes).
_UNPRINTABLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
# What XML 1.0 does not allow, and the controls that it does but a terminal obeys.
_NOT_XML = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|"
    "[\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every character that a terminal would act on shown as an escape."""
    return _UNPRINTABLE.sub(_escape, text)


def xml_safe(text: str) -> str:
    """``text`` with every character that XML 1.0 forbids shown as an escape."""
    return _NOT_XML.sub(_escape, text)
