"""Text -> intent and entities: which election, which candidates, which places, what is asked.

The election is found from its kind ("primary", "runoff"/"general") and its date ("April",
"June 6"); candidates and places by scanning the words of the question against every
spelling :mod:`explorer.names` knows (typos forgiven above a threshold); then the intent from
the words left around them. Nothing here knows a particular election.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from explorer import names
from explorer.ask.intents import NEEDS_CANDIDATE, Parsed


@dataclass(frozen=True)
class Ballot:
    """One election a question may be about: its name, title, date and candidates."""

    name: str
    title: str
    date: dt.date | None
    candidates: tuple[str, ...]

    @property
    def kind(self) -> str:
        return "primary" if "primary" in f"{self.title} {self.name}".lower() else "general"

    def pattern(self) -> str:
        words = (
            [r"primar(?:y|ies)", r"first round", r"qualifying round"]
            if self.kind == "primary"
            else [r"run ?off", r"(?:special )?general", r"final round", r"second round"]
        )
        if isinstance(self.date, dt.date):
            month = self.date.strftime("%B").lower()
            day = self.date.day
            th = "(?:st|nd|rd|th)?"
            words.append(rf"(?:{month}|{month[:3]})(?: {day}{th})?|{day}{th} (?:of )?{month}")
        return r"\b(?:" + "|".join(words) + r")\b"


def _words(text: str) -> list[str]:
    return text.split()


MONTHS = "january february march april may june july august september october november december"
ANY_ELECTION = (
    r"\b(?:primar(?:y|ies)|run ?off|general election|special election|recall|"
    r"(?:in|on|since) (?:" + "|".join(_words(MONTHS)) + r"))\b"
)

NUMBERS = {
    w: i
    for i, w in enumerate(
        _words(
            "zero one two three four five six seven eight nine ten eleven twelve thirteen "
            "fourteen fifteen sixteen seventeen eighteen nineteen twenty"
        )
    )
}
ORDINALS = {
    w: i + 1
    for i, w in enumerate(
        _words("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth")
    )
}
ORDINALS.update({f"{i}{s}": i for i in range(1, 40) for s in ("st", "nd", "rd", "th")})

# Words of questions, never names (not matched as entities, not left over as unknown names).
STOP = set(
    _words(
        """a about across against all also am an and any anywhere are area areas as at back
        backed backing be beat beaten been best better between big bigger biggest both bottom
        but by came candidate candidates carried carry carrying cast come compare compared
        comparison count counted county did district do does doing done each election elections
        end ended fare fared field finish finished first for from gain gained gains gave get give
        go got had has have he her his highest how i in is it its last lead leading led least
        less list lose losing lost lowest many margin me more most much name neighbourhood
        neighbourhoods number of on or other out over part parts percent percentage place placed
        places please precinct precincts race ran rank ranked ranking result results run running
        runner share she show strong stronger strongest support supported take than that the
        their them there they this three through to took top total up us vote voted voter voters
        votes was weak weaker weakest went were what when where which who whom whose why win
        winner winning with won worse worst you ballot ballots tell overall kind sort sorts
        community communities city versus vs favour favor favoured favored favours favors
        favourite favorite smallest poorest performance perform performed tally head ahead
        behind leads points point pts swing change changed shift since primary runoff general
        say says said gone same close victory defeat win loss lose winning fewest higher lower poorly well badly strongly fell rose dropped
        improved grew grow improve areas spot spots did gave get got the"""
    )
)

DEMOGRAPHIC = (
    r"\b(?:asian|latin[oax]s?|latine|hispanic|black|white|african|korean|armenian|filipin[oa]s?|"
    r"chinese|mexican|ethnic\w*|racial\w*|by race|race and|race or|women|men|female|male|gender|"
    r"immigrants?)\b"
)
MISSING = [
    (
        DEMOGRAPHIC,
        "demographics",
        "the returns only count votes per precinct, not who cast them; how a group voted "
        "needs demographic data (census citizens of voting age by race or ethnicity) and an "
        "ecological-inference model",
    ),
    (
        r"\b(?:age|ages|aged|young|younger|youth|old|older|elderly|seniors?|millennials?|boomers?)\b"
        r"|\b(?:under|over|above|below) \d\d\b|\b\d\d (?:and|or) (?:older|younger|over|under)\b",
        "ages",
        "it needs voters' ages (a voter file); the returns only count votes per precinct",
    ),
    (
        r"\b(?:registered|registration|registrations|eligible|turnout rate|percent turnout|"
        r"turnout %|% turnout|share of voters)\b",
        "registration",
        "it needs registered voters per precinct, which the returns do not carry",
    ),
    (
        r"\b(?:mail|mailed|absentee|vbm|in person|election day|early vot\w*|provisional|drop box)\b",
        "ballot method",
        "it needs votes by ballot method (mail, election day); the returns as loaded count "
        "votes per candidate only",
    ),
    (
        r"\b(?:money|raised|raise|spent|spend|spending|donors?|donations?|fundrais\w*|"
        r"endorse\w*|polls?|polling|ads?)\b",
        "campaign data",
        "campaign money, endorsements and polls are not in election returns",
    ),
    (
        r"^why\b|\bwhy (?:did|was|were|do)\b",
        "reasons",
        "the returns say what happened, not why",
    ),
]

SWING = (
    r"\b(?:gain\w*|lost ground|lose ground|los(?:e|t) the most|improv\w*|gr[eo]w\w*|swing|swung|"
    r"shift\w*|chang\w*|moved?|picked up|pick up|increas\w*|decreas\w*|drop\w*|fell|rose|"
    r"added|slipp?\w*|declin\w*|rebound\w*|better than in|worse than in)\b"
)
BEST = r"\b(?:strongest|best|highest|most support|top|strong|biggest|dominat\w*|most popular)\b"
WORST = r"\b(?:weakest|worst|lowest|least|poorest|weak|struggl\w*|bottom|fewest|smallest|poorly)\b"
AREA = (
    r"\b(?:areas?|neighbou?rhoods?|places?|parts?|communit(?:y|ies)|precincts?|districts?|spots?)\b"
)
WIN = (
    r"\b(?:win|won|carry|carried|carries|take|took|takes|lead|led|leads|ahead|winner|top(?:ped)?)\b"
)
FAVOUR = (
    r"\b(?:favou?r\w*|back\w*|support\w*|went for|go for|vote\w* for|prefer\w*|chose|pick\w*)\b"
)


def census_group(text: str) -> str:
    """The census group a question names ("Asian American" -> "asian"), or ""."""
    from explorer import demographics
    from explorer.errors import ExplorerError

    for words in re.findall(r"[a-z]+(?: americans?)?", names.normalise(text)):
        for word in (words, words.split()[0]):
            try:
                group = demographics.normalise_group(word)
            except ExplorerError:
                continue
            if group != "other":
                return group
    return ""


def _elections_named(text: str, ballots: list[Ballot]) -> list[tuple[int, Ballot, str]]:
    found = []
    for ballot in ballots:
        for match in re.finditer(ballot.pattern(), text):
            found.append((match.start(), ballot, match.group(0)))
    return sorted(found, key=lambda f: f[0])


def _scan(tokens: list[str], candidates: list[str], places: list[str]):
    """Entity spans: (start, end, kind, name, how, score), best and longest first, no overlap."""
    place_variants = names.place_variants(places)
    place_keys = list(place_variants)
    cand_variants = {}
    for candidate in candidates:
        for variant, fuzzy in names.candidate_variants(candidate).items():
            if variant in names.PARTICLES or len(variant) < 3:
                continue
            cand_variants.setdefault(variant, []).append((candidate, fuzzy))
    cand_keys = list(cand_variants)
    hits = []
    for size in range(5, 0, -1):
        for start in range(0, len(tokens) - size + 1):
            words = tokens[start : start + size]
            if words[0] in STOP or words[-1] in STOP or words[0].isdigit():
                continue
            gram = " ".join(words)
            found = place_variants.get(gram)
            if found:
                hits.append((100.0, size, start, "place", found[0], found[1]))
            elif len(gram) >= 4:
                best = process.extractOne(gram, place_keys, scorer=names.place_score)
                if best and best[1] >= names.PLACE_SCORE:
                    place, how = place_variants[best[0]]
                    hits.append((best[1], size, start, "place", place, how))
            if gram in cand_variants:
                owners = {c for c, _ in cand_variants[gram]}
                if len(owners) == 1:
                    hits.append((100.0, size, start, "candidate", owners.pop(), "name"))
            elif len(gram) >= 4:
                best = process.extractOne(gram, cand_keys, scorer=fuzz.ratio)
                if best and best[1] >= names.CANDIDATE_SCORE:
                    owners = {c for c, fuzzy in cand_variants[best[0]] if fuzzy}
                    if len(owners) == 1:
                        hits.append((best[1], size, start, "candidate", owners.pop(), "typo"))
    hits.sort(key=lambda h: (-h[0], -h[1], h[2]))
    used: set[int] = set()
    spans = []
    for score, size, start, kind, name, how in hits:
        cover = set(range(start, start + size))
        if cover & used:
            continue
        used |= cover
        spans.append((start, start + size, kind, name, how, score))
    return sorted(spans)


def _number(text: str) -> int | None:
    match = re.search(r"\b(?:top|bottom|best|worst|the|name|list|show|give me)? ?(\d{1,2}|"
                      + "|".join(NUMBERS) + r")\b(?! votes| percent|%)", text)  # fmt: skip
    if not match:
        return None
    word = match.group(1)
    return int(word) if word.isdigit() else NUMBERS[word]


def _ordinal(text: str) -> int | None:
    if re.search(r"\brunner up\b", text):
        return 2
    if re.search(r"\blast\b", text):
        return -1
    for word in re.findall(r"\b\w+\b", text):
        if word in ORDINALS:
            return ORDINALS[word]
    return None


def parse(
    text: str,
    ballots: list[Ballot],
    places: list[str],
    default: str,
    precincts: list[str] = (),
) -> Parsed:
    """Understand a question about one of ``ballots`` (the default: the one named ``default``)
    over the areas named ``places`` (and the result ``precincts``, by ID). Never raises for odd input: what it cannot place is
    left in ``Parsed.intent = None`` or ``Parsed.refusal``."""
    parsed = Parsed(text=" ".join(str(text).split()))
    clean = names.aliases().expand(text)
    by_name = {b.name: b for b in ballots}

    # 1. The election(s) named, then the words without them.
    named = _elections_named(clean, ballots)
    order = sorted(ballots, key=lambda b: (b.date or dt.date.min, b.kind != "primary"))
    for _, _, words in named:
        clean = clean.replace(words, " ")
    other = re.search(ANY_ELECTION, clean)
    if other and not (other.group(0) == "general" and named):
        parsed.election_unknown = other.group(0)
        clean = clean.replace(other.group(0), " ")
    clean = re.sub(r"\b20\d\d\b", " ", clean)  # a year says nothing the date does not
    mentioned = list(dict.fromkeys(b.name for _, b, _ in named))
    parsed.election = mentioned[-1] if mentioned else default
    parsed.election_named = bool(mentioned)

    # 2. Candidates (on any ballot of the contest) and places.
    everyone = list(dict.fromkeys(c for b in ballots for c in b.candidates))
    tokens = clean.split()
    spans = _scan(tokens, everyone, places)
    ids = {names.normalise(p): str(p) for p in precincts}
    taken = {i for start, end, *_ in spans for i in range(start, end)}
    for i, token in enumerate(tokens):
        if token in ids and i not in taken and any(ch.isdigit() for ch in token):
            spans = sorted([*spans, (i, i + 1, "place", ids[token], "precinct", 100.0)])
            parsed.by = "precinct"
    masked = list(tokens)
    used: set[int] = set()
    for start, end, kind, name, how, _ in spans:
        if kind == "candidate" and name not in parsed.candidates:
            parsed.candidates.append(name)
        elif kind == "place" and name not in parsed.places:
            parsed.places.append(name)
            if how == "within":
                parsed.place_notes[name] = " ".join(tokens[start:end])
        masked[start] = "CAND" if kind == "candidate" else "PLACE"
        for i in range(start + 1, end):
            masked[i] = ""
        used |= set(range(start, end))
    m = " ".join(w for w in masked if w)
    leftover = [
        w
        for i, w in enumerate(tokens)
        if i not in used and w not in STOP and w not in NUMBERS and w not in ORDINALS
        and not w.isdigit() and len(w) > 2 and not re.fullmatch(DEMOGRAPHIC, w)
    ]  # fmt: skip
    parsed.unknown = " ".join(leftover)

    # 3. What is asked.
    parsed.intent = _intent(m, parsed, mentioned)
    if parsed.intent == "swing":
        earlier = [n for n in mentioned if n != parsed.election] or [
            b.name for b in order if b.name != parsed.election
        ]
        if len(mentioned) < 2 and order:
            parsed.election = order[-1].name  # the change is towards the later election
            earlier = [b.name for b in order if b.name != parsed.election]
        parsed.other_election = earlier[0] if earlier else None
    ballot = by_name.get(parsed.election)
    if ballot is not None:
        parsed.off_ballot = [c for c in parsed.candidates if c not in ballot.candidates]
    return parsed


def _intent(m: str, parsed: Parsed, mentioned: list[str]) -> str | None:
    """The intent of the masked question ``m`` (CAND and PLACE stand for the entities)."""
    if not parsed.candidates and re.search(r"\bthe (?:winner|winning candidate)\b", m):
        m = re.sub(r"\bthe (?:winner|winning candidate)\b", "CAND", m)
        parsed.winner_ref = True
    has = lambda pattern: re.search(pattern, m) is not None  # noqa: E731
    n_cand, n_place = len(parsed.candidates) + parsed.winner_ref, len(parsed.places)
    group = census_group(parsed.text)
    if group and n_cand == 1 and has(FAVOUR + r"|\bshare\b|\bpercent\w*|\bhow did\b|\bvote\b"):
        parsed.group = group
        return "group_support"
    for pattern, what, why in MISSING:
        if has(pattern):
            parsed.missing_data = what
            parsed.refusal = why
            return "unanswerable"
    if has(SWING) and (mentioned or has(r"\bsince\b|\bbetween\b|\bfrom\b.*\bto\b")):
        return "swing"
    if has(
        r"\bhow many (?:candidates|names|contenders|hopefuls|ran|were running)\b|\bhow many people (?:ran|were running|were on|on the ballot)\b"
    ) or has(
        r"\b(?:number|count) of candidates\b|\bsize of the field\b|\bhow (?:big|large|crowded) was the field\b"
    ):
        return "candidates"
    if has(r"\bprecincts?\b") and parsed.by is None:
        if has(r"\bhow many\b|\bnumber of\b|\bcount\b") or (
            n_cand and not has(BEST) and not has(WORST)
        ):
            return "precincts"
        parsed.by = "precinct"  # "Ahn's best precinct": rank precincts, not areas
    parsed.ordinal = _ordinal(m)
    if (
        parsed.ordinal is not None
        and (
            has(r"\b(?:who|which candidate|what candidate|name)\b")
            and has(r"\b(?:came|come|finish\w*|place\w*|was|were|end\w*|ran|got|is|in)\b")
        )
        and not (parsed.ordinal == 1 and has(r"\bwho (?:won|carried)\b"))
    ):
        return "position"
    if has(r"\bwhat place did CAND\b|\bwhere did CAND (?:finish|place|rank|end up|come)\b|"
           r"\bCAND (?:rank|ranking|position|finish)\b|\bhow did CAND (?:finish|place|rank)\b"):  # fmt: skip
        return "position"
    if n_place >= 2:
        return "compare_places"
    if has(r"\b(?:most|more|fewest) precincts\b"):
        parsed.candidates = []  # who won the most: every candidate's count
        return "precincts"
    if n_place == 0 and (
        (has(r"\b(?:most|more) " + AREA[2:]) and has(WIN)) or has(r"\bhow many " + AREA[2:])
    ):
        if has(r"\b(?:most|more)\b"):
            parsed.candidates = []  # who won more areas: every candidate's count
        return "won"
    if n_place == 0 and has(
        r"\b(?:closest|tightest|narrowest|most competitive|close race|tossups?)\b"
    ):
        parsed.candidates = []
        return "closest"
    if (
        n_place == 0
        and not n_cand
        and (has(AREA) or has(r"^where\b"))
        and has(r"\b(?:most|highest|largest|biggest|fewest|lowest|least|smallest)\b")
        and has(r"\bvotes?\b|\bturnout\b|\bballots\b|\bvoters\b")
    ):
        parsed.by = parsed.by or "area"
        return "total"
    if n_cand >= 2 or (
        n_cand == 1 and parsed.unknown and has(r"\b(?:beat|versus|vs|v|against|or|and)\b")
    ):
        return "compare_candidates"
    if (
        n_place == 1
        and n_cand == 0
        and has(r"\bwho\b|\b(?:which|what) candidate\b")
        and (has(BEST) or has(WIN))
    ):
        return "winner"
    if n_place == 0 and n_cand == 0 and has(r"\bmajority\b|\b(?:more|over) than half\b|\bover 50"):
        return "winner"  # "did anyone get a majority": the leader's share says
    if (
        n_place == 0
        and n_cand
        and has(r"\blos(?:e|t|ing)\b")
        and (has(r"\b(?:where|anywhere|which|what)\b") or has(AREA))
    ):
        parsed.lost = True  # "where did Gomez lose", "did Gomez lose anywhere"
        return "won"
    if n_cand and has(r"\b(?:rank|order|sort|list)\b") and has(AREA) and _number(m) is None:
        parsed.n = 1000  # every area, in order
        return "top"
    parsed.n = _number(m)
    if parsed.n is not None and (has(AREA) or has(BEST) or has(WORST)) and parsed.n > 0:
        return "bottom" if has(WORST) else "top"
    if has(r"^(?:did|does|has|was|is) CAND\b") and (has(WIN) or has(r"\b(?:lose|lost|beat)\b")):
        return "yes_no"
    if n_place == 0 and (
        (has(r"\b(?:which|what|where|list|name|show)\b") and has(WIN) and not has(r"\bwho\b"))
        or (has(FAVOUR) and has(AREA))
        or has(r"\b(?:out|over) ?perform\w*\b|\bbeat (?:his|her|their) (?:overall|district)")
        or has(r"\bwhere (?:was|were|is) CAND (?:ahead|leading|the winner|winning)\b")
    ):
        return "won"
    if n_cand and n_place == 0 and has(WORST):
        return "worst"
    if n_cand and n_place == 0 and has(BEST):
        return "best"
    if has(r"\bwho\b|\bwhich candidate\b|\bwinner\b") and (
        has(WIN) or has(r"\bwinner\b|\bmost votes\b")
    ):
        return "winner"
    if n_cand == 0 and has(r"\bmargin\b|\bspread\b|\bby how much\b|\bhow close\b"):
        return "margin"  # the winner's margin, in a place or the race
    if (
        n_place == 0
        and n_cand
        and has(r"\bmajority\b|\b(?:more|over) than half\b|\bover half\b|\babove 50\b")
    ):
        return "won"
    if n_cand:
        if has(
            r"\bmargin\b|\bwon by\b|\blost by\b|\bwin by\b|\bahead by\b|\bbehind\b|\bspread\b|\bgap\b|\blead\b|\bby how much\b"
        ):
            return "margin"
        if has(r"\bshare\b|\bpercent\w*\b|%|\bproportion\b|\bfraction\b|\bportion\b"):
            return "share"
        if has(r"\bvotes?\b|\bballots\b|\btally\b|\bhow many\b"):
            return "votes"
        if (
            has(
                r"\bhow did\b|\bhow (?:was|were|well)\b|\bresults?\b|\bfare\w*\b|\bperform\w*\b|\bdo\b|\bdid\b|\bdoing\b|\bnumbers\b"
            )
            or n_place
        ):
            return "result"
        return "result" if not parsed.unknown else None
    if has(
        r"\bhow many\b|\btotal\b|\bturnout\b|\bcast\b|\bcounted\b|\bvoted\b|\bparticipat\w*\b|\bvotes\b|\bballots\b"
    ):
        return "total"
    if n_place and has(
        r"\bvote\b|\bresults?\b|\bbreakdown\b|\bhow did PLACE (?:vote|go|break)\b|\bwent\b"
    ):
        return "winner"  # "what was the vote in PLACE": the winner with the full breakdown
    if (
        n_place == 1
        and not n_cand
        and not parsed.unknown
        and (len(m.split()) <= 2 or has(r"^(?:what|how) about\b"))
    ):
        return "winner"  # just a place name: who won it
    if parsed.unknown and has(r"\bhow did\b|\bdo in\b|\bshare\b|\bvotes\b|\bmargin\b"):
        return "result"  # about a person we do not know: refused later, by name
    if not n_cand and parsed.unknown and not n_place and has(r"\bwho won\b"):
        return "winner"
    return None


def needs_candidate(parsed: Parsed) -> bool:
    return parsed.intent in NEEDS_CANDIDATE
