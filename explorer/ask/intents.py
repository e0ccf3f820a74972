"""What can be asked: the kinds of question, each with one example, and the parsed form."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Kind:
    """One kind of question: its name, what it answers, an example."""

    name: str
    what: str
    example: str


KINDS = (
    Kind("best", "where a candidate was strongest", "where was Ahn strongest?"),
    Kind(
        "worst", "where a candidate was weakest", "which neighbourhood gave Gomez his lowest share?"
    ),
    Kind("top", "the top N areas for a candidate", "top 5 neighbourhoods for Ahn"),
    Kind("bottom", "the bottom N areas for a candidate", "Gomez's three worst areas"),
    Kind("won", "the areas a candidate won", "which areas did Gomez carry?"),
    Kind("winner", "who won a place, or the race", "who won Eagle Rock?"),
    Kind("yes_no", "did a candidate win a place", "did Ahn carry Westlake?"),
    Kind("result", "a candidate in a place or overall", "how did Ahn do in El Sereno?"),
    Kind("share", "a candidate's share", "Gomez vote share in Lincoln Hts"),
    Kind("votes", "a candidate's votes", "how many votes did Ahn get in Boyle Heights?"),
    Kind("margin", "a candidate's margin over the strongest rival", "Ahn's margin in Koreatown"),
    Kind("precincts", "precincts won, from the returns", "how many precincts went for Gomez?"),
    Kind(
        "total", "votes counted in a place or the race", "how many ballots were cast in Eagle Rock?"
    ),
    Kind(
        "compare_places",
        "one candidate in two places",
        "was Ahn stronger in Echo Park or Westlake?",
    ),
    Kind("compare_candidates", "two candidates side by side", "Gomez v Ahn in Highland Park"),
    Kind("position", "place in the field", "who came third in the primary?"),
    Kind("candidates", "how many candidates ran", "how many candidates were in the primary?"),
    Kind(
        "swing",
        "primary-to-runoff change, head to head",
        "where did Gomez gain most since the primary?",
    ),
)
KIND_NAMES = tuple(k.name for k in KINDS)

# Kinds that need a candidate, and kinds that need a place.
NEEDS_CANDIDATE = {"best", "worst", "top", "bottom", "yes_no", "result", "share", "votes",
                   "swing"}  # fmt: skip
NEEDS_PLACE = {"compare_places"}


def kinds_help() -> str:
    """The kinds of question, one example each (for a refusal of unknown phrasing)."""
    return "\n".join(f'- {k.what}: "{k.example}"' for k in KINDS)


@dataclass
class Parsed:
    """A question understood: the intent and the entities found in it.

    ``refusal`` is set when the question is understood well enough to know it cannot be
    answered (data the tool lacks, a person not on the ballot, a place not in the layer).
    """

    text: str
    intent: str | None = None
    candidates: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    place_notes: dict[str, str] = field(default_factory=dict)  # place -> "within: Little Tokyo"
    election: str | None = None
    election_named: bool = False  # the text chose the election
    election_unknown: str = ""  # an election the text names that is not loaded ("May")
    other_election: str | None = None  # swing: the earlier election
    n: int | None = None
    ordinal: int | None = None
    group: str = ""  # a census group named in a group-support question ("asian")
    lost: bool = False  # areas a candidate lost, not won
    winner_ref: bool = False  # "the winner" stands for the candidate who won (the place)
    by: str | None = None  # "precinct" when the question is about precincts, not areas
    unknown: str = ""  # words left over where a name was expected
    refusal: str | None = None
    missing_data: str | None = None
    off_ballot: list[str] = field(default_factory=list)  # named people not on this ballot

    @property
    def candidate(self) -> str | None:
        return self.candidates[0] if self.candidates else None

    @property
    def place(self) -> str | None:
        return self.places[0] if self.places else None

    def as_dict(self) -> dict:
        out = asdict(self)
        out["candidate"] = self.candidate
        out["place"] = self.place
        return {k: v for k, v in out.items() if v not in (None, [], {}, "", False) or k in
                ("intent", "candidate", "place", "election")}  # fmt: skip
