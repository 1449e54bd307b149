"""The passage of a message that matched a search, with the matching words marked.

Matching here follows the search index's rules (case and accents ignored, whole words), so
``cafe`` marks ``Café``.  The same code serves SQLite and PostgreSQL, so both mark the same words.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    """Lower-case and strip accents, one output character per input character."""
    out = []
    for ch in text:
        base = unicodedata.normalize("NFKD", ch)
        kept = "".join(c for c in base if not unicodedata.combining(c)).casefold()
        out.append(kept[:1] if kept else ch)
    return "".join(out)


def make_snippet(text: str, terms: list[str], start: str, end: str, words: int = 24) -> str:
    """About ``words`` words around the first match, matches wrapped in ``start``/``end``."""
    wanted = {fold(w) for term in terms for w in _WORD.findall(term)}
    spans = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    if not spans:
        return text[:200]
    folded = fold(text)
    hits = [i for i, (a, b) in enumerate(spans) if folded[a:b] in wanted]
    first = hits[0] if hits else 0
    lo = max(0, first - words // 3)
    hi = min(len(spans), lo + words)
    hit_set = set(hits)
    pieces = []
    cursor = spans[lo][0]
    for i in range(lo, hi):
        a, b = spans[i]
        pieces.append(text[cursor:a])
        pieces.append(f"{start}{text[a:b]}{end}" if i in hit_set else text[a:b])
        cursor = b
    result = "".join(pieces)
    if hi < len(spans):
        result += text[cursor : spans[hi][0]].rstrip() + "…"
    else:
        result += text[cursor:]
    return ("…" if lo > 0 else "") + " ".join(result.split())
