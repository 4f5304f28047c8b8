"""SLUGS: the one way a piece of content (a tag, a file name, a snippet or figure name) becomes a
path segment of the site. Pure. Whatever the input, the result is a single safe segment: never
empty, never `.` or `..`, never holding `/`, `\\`, NUL, a control character or a URL delimiter."""

from __future__ import annotations

import re
import unicodedata

_UNSAFE = re.compile(r"[^\w+.-]+")  # letters, digits and _ (any script), + . - stay; all else is a dash
_DASHES = re.compile(r"-{2,}")


def slugify(text: str, fallback: str = "item") -> str:
    """'Deep Learning' -> 'deep-learning', 'C++' -> 'c++', '../../x' -> 'x', '..' -> fallback."""
    text = unicodedata.normalize("NFKC", str(text)).strip().lower()
    slug = _DASHES.sub("-", _UNSAFE.sub("-", text)).strip("-.")
    return slug if is_safe_segment(slug) else fallback


def is_safe_segment(segment: str) -> bool:
    """True for a segment that names one file or folder inside its parent and nothing else."""
    return bool(segment) and not segment.startswith(".") and _UNSAFE.search(segment) is None


def is_safe_path(path: str) -> bool:
    """A relative POSIX path that stays below where it is put (what the writer accepts: a static
    file may be called 'My plot.png', but no segment climbs, is empty, or hides a separator)."""
    return bool(path) and not path.startswith("/") and all(
        part and part not in (".", "..") and not any(c in part for c in "\\\0") and part.isprintable()
        for part in path.split("/")
    )
