"""Finding a candidate or a place by any reasonable spelling.

Candidates are found by any unambiguous part of the name, case and typos forgiven
(rapidfuzz, with a threshold); places by their name in the layer, the abbreviations and
aliases in ``shapefiles/aliases.toml`` and, again, typos. When a spelling is close to a name
but not close enough, the error says "did you mean ...".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein

from explorer.errors import ExplorerError

CANDIDATE_SCORE = 80  # rapidfuzz ratio (0-100) at which a misspelt surname counts
PLACE_SCORE = 88  # places are many and short words collide ("Bell", "Ball"): stricter
SUGGEST_SCORE = 60  # below the threshold but worth a "did you mean"
PLACE_SUGGEST_SCORE = 75
PARTICLES = {"de", "la", "del", "van", "von", "der", "los", "las", "jr", "sr", "ii", "iii", "st"}


def normalise(text: str) -> str:
    """Lower case, accents and punctuation dropped (hyphens and apostrophes become spaces)."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = re.sub(r"[’'`]s\b", "", text)  # possessive: "Ahn's" -> "ahn"
    return " ".join(re.sub(r"[^0-9a-z%]+", " ", text).split())


@dataclass(frozen=True)
class Aliases:
    """The alias table: word abbreviations, whole-name aliases, places within places."""

    words: dict[str, str]
    places: dict[str, str]
    within: dict[str, str]

    def expand(self, text: str) -> str:
        """Normalised text with abbreviated words spelt out ("lincoln hts" -> "lincoln heights")."""
        return " ".join(self.words.get(w, w) for w in normalise(text).split())


@cache
def aliases() -> Aliases:
    """The alias table from ``shapefiles/aliases.toml`` (packaged as ``explorer/_data``)."""
    from explorer.catalog import _read_toml, config_file

    table = _read_toml(config_file("aliases.toml"))
    norm = lambda d: {normalise(k): str(v) for k, v in d.items()}  # noqa: E731
    return Aliases(
        words={normalise(k): normalise(v) for k, v in table.get("words", {}).items()},
        places=norm(table.get("places", {})),
        within=norm(table.get("within", {})),
    )


# --- candidates -----------------------------------------------------------------------------


def _name_words(name: str) -> list[str]:
    return [w for w in normalise(name).split() if len(w) > 1]


def _given_words(name: str) -> list[str]:
    return [w for w in _name_words(name) if w not in PARTICLES and len(w) > 2]


def candidate_variants(name: str) -> dict[str, bool]:
    """Spellings that name a candidate, each with whether typos are forgiven for it:
    the full name, first + last, the surname (fuzzy when 5+ letters) and other words."""
    words = _name_words(name)
    variants = {normalise(name): True}
    if len(words) >= 2:
        variants[f"{words[0]} {words[-1]}"] = True
        variants.setdefault(" ".join(words[-2:]), True)  # "la fuente", "lee ahn"
    if words:
        variants.setdefault(words[-1], len(words[-1]) >= 5)
        for word in _given_words(name)[:-1]:
            variants.setdefault(word, False)  # first and middle names: exact only
    return variants


def find_candidate(name: str, candidates: list[str]) -> str:
    """The candidate named by any unambiguous part of the name ('Ahn' -> 'Robert Lee Ahn'),
    forgiving case and typos ('Gomes' -> 'Jimmy Gomez').

    Raises :class:`ExplorerError` listing the candidates when nothing matches, naming the
    matches when several do, and suggesting the nearest name when one is close.
    """
    wanted = normalise(name)
    exact = [c for c in candidates if normalise(c) == wanted]
    if exact:
        return exact[0]
    by_word = [
        c for c in candidates if re.search(rf"\b{re.escape(wanted)}\b", normalise(c)) and wanted
    ]
    matches = by_word or [c for c in candidates if wanted and wanted in normalise(c)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise ExplorerError(
            f"{name!r} matches {len(matches)} candidates ({', '.join(matches)})",
            hint="give more of the name",
        )
    scored = best_candidate(wanted, candidates)
    if scored and scored[1] >= CANDIDATE_SCORE:
        return scored[0]
    listing = ", ".join(candidates)
    guess = f"did you mean {scored[0]}? " if scored and scored[1] >= SUGGEST_SCORE else ""
    raise ExplorerError(f"no candidate matches {name!r}", hint=f"{guess}candidates: {listing}")


def best_candidate(text: str, candidates: list[str]) -> tuple[str, float] | None:
    """The candidate whose name (or part of it) is nearest ``text``, with the score."""
    best: tuple[str, float] | None = None
    wanted = normalise(text)
    for candidate in candidates:
        for variant, fuzzy in candidate_variants(candidate).items():
            score = 100.0 if variant == wanted else fuzz.ratio(wanted, variant)
            if not fuzzy and score < 100:
                score = min(score, SUGGEST_SCORE)  # a suggestion at most
            if best is None or score > best[1]:
                best = (candidate, score)
    return best


def suggest_candidates(text: str, candidates: list[str], limit: int = 3) -> list[str]:
    """Candidates a misspelt name may stand for, nearest first (up to ``limit``): the whole
    text or any of its words near a name or a part of one (for a "did you mean")."""
    words = normalise(text).split()
    scored: dict[str, float] = {}
    for piece in dict.fromkeys([" ".join(words), *words]):
        if len(piece) < 3:
            continue
        for candidate in candidates:
            for variant in candidate_variants(candidate):
                score = fuzz.ratio(piece, variant)
                if len(variant) < 5 and len(piece) >= 3:  # "ahns", "anh" for "ahn"
                    score = max(score, 100 - 20 * DamerauLevenshtein.distance(piece, variant))
                if score >= SUGGEST_SCORE and score > scored.get(candidate, 0):
                    scored[candidate] = score
    return sorted(scored, key=lambda c: -scored[c])[:limit]


# --- places ---------------------------------------------------------------------------------


def place_variants(places: list[str], table: Aliases | None = None) -> dict[str, tuple[str, str]]:
    """Spelling -> (place as the layer spells it, how it was reached: name, alias or within)."""
    table = table or aliases()
    known = {normalise(p): p for p in places}
    variants: dict[str, tuple[str, str]] = {}
    for norm, place in known.items():
        variants[norm] = (place, "name")
        expanded = table.expand(norm)
        variants.setdefault(expanded, (place, "name"))
    for kind, mapping in (("alias", table.places), ("within", table.within)):
        for alias, target in mapping.items():
            if normalise(target) in known:
                variants.setdefault(alias, (known[normalise(target)], kind))
                variants.setdefault(table.expand(alias), (known[normalise(target)], kind))
    return variants


def place_score(text: str, variant: str, **_) -> float:
    """How alike a typed place and a spelling are (0-100), spaces and hyphens ignored too."""
    if text == variant:
        return 100.0
    return max(
        fuzz.ratio(text, variant), fuzz.ratio(text.replace(" ", ""), variant.replace(" ", ""))
    )


def find_place(name: str, places: pd.Series) -> int:
    """Row position of the place named, by exact name, alias, abbreviation or typo.

    Raises :class:`ExplorerError` with the nearest names when nothing is close enough.
    """
    names = places.astype(str).tolist()
    variants = place_variants(names)
    wanted = aliases().expand(name)
    hit = variants.get(wanted)
    if hit is None:
        scored = process.extractOne(wanted, list(variants), scorer=place_score)
        if scored and scored[1] >= PLACE_SCORE:
            hit = variants[scored[0]]
    if hit is None:
        partial = [p for p in names if wanted and wanted in normalise(p)]
        if len(partial) == 1:
            hit = (partial[0], "name")
    if hit is not None:
        return int(np.flatnonzero(np.asarray(names, dtype=object) == hit[0])[0])
    close = suggest_places(name, names)
    raise ExplorerError(
        f"no single place matches {name!r}"
        + (f" (did you mean {', '.join(close)}?)" if close else ""),
        hint="use the name as the neighbourhood layer spells it",
    )


def suggest_places(name: str, places: list[str], limit: int = 3) -> list[str]:
    """Up to ``limit`` layer places nearest a spelling, for a "did you mean"."""
    variants = place_variants(places)
    wanted = aliases().expand(name)
    found = process.extract(wanted, list(variants), scorer=place_score, limit=limit * 3)
    out = [p for p in places if wanted and re.search(rf"\b{re.escape(wanted)}", normalise(p))]
    for variant, score, _ in found:
        place = variants[variant][0]
        if score >= PLACE_SUGGEST_SCORE and place not in out:
            out.append(place)
    return out[:limit]


#: name suffixes that follow a surname ("Ahn Jr.", "Smith III"), normalised
NAME_SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "v", "vi", "md", "phd", "esq", "dds", "cpa"}
SURNAME_PARTICLES = {"de", "la", "del", "della", "van", "von", "der", "den", "da", "di", "du"}


def surname(name: str) -> str:
    """The surname to print in a headline: the last word of "Given Middle Surname", with
    suffixes ("Jr.", "III") dropped and particles kept ("de la Cruz"); the part before the
    comma of "Surname, Given". When the shape of the name leaves the surname in doubt (a
    comma followed by more than a given name or a suffix, a lower-case last word, no letters)
    the full name is returned: a long name is better than a wrong one."""
    full = " ".join(str(name).split())
    if not full:
        return str(name)
    head, comma, tail = full.partition(",")
    if comma:
        tail_words = [normalise(w) for w in tail.split()]
        if not tail_words or all(w in NAME_SUFFIXES for w in tail_words):
            full = head.strip()  # "Ahn, Jr." -> "Ahn"
        elif len(head.split()) == 1 and len(tail_words) <= 3 and "," not in tail:
            if not any(w in NAME_SUFFIXES for w in tail_words):
                return head.strip()  # "Ahn, Robert Lee"
            return full
        else:
            return full  # "..., the Third of His Name": unsure
    words = full.split()
    while len(words) > 1 and normalise(words[-1]) in NAME_SUFFIXES:
        words.pop()
    if len(words) < 2:
        return full if not words else words[0]
    last = words[-1]
    if not any(ch.isalpha() for ch in last) or last[:1].islower():
        return full
    start = len(words) - 1
    while start > 1 and words[start - 1].casefold() in SURNAME_PARTICLES:
        start -= 1
    return " ".join(words[start:])
