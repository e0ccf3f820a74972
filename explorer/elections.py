"""The :class:`Election` object that runs the stages (fetch -> load -> join) for one election:
a catalog election defined in ``shapefiles/elections.toml`` (:mod:`explorer.specs`), your own
files (:meth:`Election.from_files`) or results inside a layer (:meth:`Election.from_layer`,
:mod:`explorer.layer_election`).

This module sits on top of the stage modules; none of them imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

# geopandas, shapely and the join load inside the methods that need them, so that reading
# the returns (``explorer info``) imports no geometry library
from explorer import catalog, loaders
from explorer.errors import ExplorerError
from explorer.specs import (
    ElectionSpec,
    LayerSpec,
    default_election,
    election_names,
    election_spec,
    layer_spec,
)

if TYPE_CHECKING:
    import geopandas as gpd

    from explorer.layer_election import LayerElection

#: below this share of result precincts matching a polygon by ID, a join is refused
MIN_ID_MATCH = 0.05


@dataclass
class Election:
    """One election, loaded and joined on demand. Each property runs its stage once.

    Build it with :func:`explorer.load` (a catalog election) or
    :meth:`Election.from_files` (any OpenElections CSV and precinct layer).
    """

    spec: ElectionSpec
    data_dir: str | Path | None = None
    infer: bool = True
    crosswalk: str | Path | None = None

    @classmethod
    def from_files(
        cls,
        *,
        returns: str | Path,
        precincts: str | Path,
        precinct_id: str = "precinct",
        district: str | Path | None = None,
        office: str | None = None,
        contest_district: str | None = None,
        name: str = "my-election",
        title: str | None = None,
        totals: str | Path | None = None,
        neighbourhoods: str | Path | None = None,
        neighbourhood_name: str = "name",
        freeways: str | Path | None = None,
        crs: str | None = None,
        layer: str | None = None,
        district_crs: str | None = None,
        neighbourhoods_crs: str | None = None,
        roads_crs: str | None = None,
        **options,
    ) -> Election:
        """An election from your own files: any OpenElections-format CSV and any precinct
        layer (shapefile, zipped shapefile, GeoPackage, GeoJSON, TopoJSON)."""
        spec = ElectionSpec(
            name=name,
            title=title or name,
            office=office,
            district=contest_district,
            returns=str(returns),
            totals=str(totals) if totals else None,
            precincts=LayerSpec(
                name="precincts",
                kind="precincts",
                file=str(precincts),
                id_field=precinct_id,
                crs=crs,
                layer=layer,
            ),
            boundary=LayerSpec(
                name="district", kind="districts", file=str(district), crs=district_crs
            )
            if district
            else None,
            boundary_id="district" if district else None,
            neighbourhoods=LayerSpec(
                name="neighbourhoods",
                kind="neighbourhoods",
                file=str(neighbourhoods),
                name_field=neighbourhood_name,
                crs=neighbourhoods_crs,
            )
            if neighbourhoods
            else None,
            freeways=LayerSpec(name="freeways", kind="freeways", file=str(freeways), crs=roads_crs)
            if freeways
            else None,
        )
        return cls(spec=spec, **options)

    @classmethod
    def from_layer(cls, layer, **options) -> LayerElection:
        """An election whose results are properties of the precinct layer (DRA, VEST): a
        GeoDataFrame, a file, a glob or a list of these, with ``votes`` (candidate -> field)
        and the other options of :func:`explorer.layer_election._from_layer`."""
        from explorer.layer_election import _from_layer

        return _from_layer(cls, layer, **options)

    def _path(self, file: str) -> Path:
        return catalog.local_path(file, self.data_dir)

    @property
    def name(self) -> str:
        return self.spec.name

    @cached_property
    def returns(self) -> pd.DataFrame:
        """Precinct returns, long form: precinct, candidate, party, votes."""
        from explorer import live  # partial snapshots and Clarity XML (election night)

        return live.read_returns(
            self._path(self.spec.returns), office=self.spec.office, district=self.spec.district
        )

    @cached_property
    def wide(self) -> pd.DataFrame:
        """Precinct returns, one row per precinct and one column per candidate."""
        wide = loaders.wide_returns(self.returns)
        wide.attrs["notes"] = list(self.returns.attrs.get("notes", []))
        for key in ("county_wide", "pseudo"):
            wide.attrs[key] = list(self.returns.attrs.get(key, []))
        wide.attrs["reporting"] = self.returns.attrs.get("reporting")
        return wide

    @cached_property
    def totals(self) -> pd.Series | None:
        """District-level totals per candidate, from the totals file (None if there is none)."""
        if not self.spec.totals:
            return None
        return loaders.load_totals(
            self._path(self.spec.totals), office=self.spec.office, district=self.spec.district
        )

    @cached_property
    def layer(self) -> gpd.GeoDataFrame:
        """The precinct polygons the returns are joined to."""
        spec = self.spec.precincts
        return loaders.load_precincts(
            self._path(spec.file), spec.id_field, crs=spec.crs, layer=spec.layer
        )

    @cached_property
    def boundary(self) -> gpd.GeoDataFrame | None:
        """The district outline (None when the election names none)."""
        spec = self.spec.boundary
        if spec is None:
            return None
        file = spec.file.replace("{id}", self.spec.boundary_id or "")
        return loaders.load_district(self._path(file), self.spec.boundary_id or "", crs=spec.crs)

    @cached_property
    def precincts(self) -> gpd.GeoDataFrame:
        """The joined precincts: one feature per result precinct, with ``match`` class."""
        from explorer import join

        crosswalk = join.read_crosswalk(str(self.crosswalk)) if self.crosswalk else None
        from explorer import live

        features = join.join_returns(
            self.wide,
            self.layer,
            self.boundary,
            infer=self.infer,
            crosswalk=crosswalk,
            min_id_match=MIN_ID_MATCH,
        )
        return live.mark_reporting(features, self.wide.attrs.get("reporting"))

    @cached_property
    def outline(self) -> gpd.GeoDataFrame:
        """The district boundary, or the dissolved mapped precincts when none is given
        or when the precinct layer nests in the boundary (a precinct-resolution edge)."""
        import geopandas as gpd

        if self.boundary is not None:
            from explorer.infer import precinct_outline

            nested = precinct_outline(self.precincts, self.boundary)
            return self.boundary if nested is None else nested
        mapped = self.precincts[self.precincts["match"] != "none"]
        return gpd.GeoDataFrame(
            {"district": [self.name]}, geometry=[mapped.union_all()], crs=mapped.crs
        )

    @cached_property
    def ledger(self) -> pd.DataFrame:
        """The vote ledger: every candidate's votes by match class, checked against totals."""
        from explorer import join

        parsed = self.returns.groupby("candidate")["votes"].sum()
        return join.vote_ledger(self.precincts, self.totals, returns=parsed)

    @cached_property
    def ledger_summary(self) -> dict:
        from explorer import join

        summary = join.ledger_summary(self.precincts)
        if self.precincts.attrs.get("reporting"):  # election night: N of M reporting
            summary["reporting"] = self.precincts.attrs["reporting"]
        return summary

    @cached_property
    def neighbourhoods(self) -> gpd.GeoDataFrame | None:
        spec = self.spec.neighbourhoods
        if spec is None:
            return None
        return loaders.load_neighbourhoods(
            self._path(spec.file), name_field=spec.name_field, where=spec.where, crs=spec.crs
        )

    @cached_property
    def freeways(self) -> gpd.GeoDataFrame | None:
        spec = self.spec.freeways
        if spec is None:
            return None
        numbers = self._path(spec.route_numbers) if spec.route_numbers else None
        # only the roads near the district (5 km round it): maps draw nothing further out
        from explorer.crs import area_bounds

        shape = self.boundary if self.boundary is not None else self.outline
        return loaders.load_freeways(
            self._path(spec.file), numbers, crs=spec.crs, bbox=area_bounds(shape, 5_000)
        )

    @property
    def candidates(self) -> list[str]:
        return [c for c in self.wide.columns if c != "total"]

    def apportion(
        self,
        to: gpd.GeoDataFrame | None = None,
        *,
        target_id: str = "name",
        weights: gpd.GeoDataFrame | None = None,
        **options,
    ) -> gpd.GeoDataFrame:
        """Apportion the mapped precinct votes onto ``to`` (default: the neighbourhoods).

        ``options`` go to :func:`explorer.apportion.apportion` (``backend="dask"``,
        ``scheduler=...``, ``engine=...``)."""
        from explorer.apportion import apportion

        sources = self.precincts  # a join that cannot be made is the first thing to say
        _ = self.ledger  # and every vote of the returns file must reach it (checked there)
        if not (sources["match"] != "none").any():
            raise ExplorerError("no result precinct has geometry: nothing to apportion")
        targets = self.neighbourhoods if to is None else to
        if targets is None:
            raise ExplorerError(
                f"election {self.name} names no neighbourhood layer",
                hint="give one with --neighbourhoods FILE (and --neighbourhood-name FIELD)",
            )
        return apportion(
            sources,
            targets,
            self.candidates,
            target_id=target_id,
            weights=weights,
            **options,
        )

    def weight_layer(self, name: str) -> gpd.GeoDataFrame:
        """A catalog point layer (``kind = "points"``, e.g. ``tract-centres-2020``) with a
        ``weight`` column, for dasymetric apportionment."""
        spec = layer_spec(name)
        if spec.kind != "points" or not spec.weight_field:
            raise ExplorerError(
                f"layer {name!r} is not a weight layer",
                hint="use a points layer such as tract-centres-2020",
            )
        return loaders.load_points(
            self._path(spec.file), weight_field=spec.weight_field, crs=spec.crs or "EPSG:4326"
        )

    def areas(self, by: str = "neighbourhood", **options) -> gpd.GeoDataFrame:
        """Results per area: ``by="neighbourhood"`` (apportioned) or ``"precinct"``."""
        if by in ("neighbourhood", "neighborhood", "neighbourhoods", "neighborhoods"):
            from explorer import ranges

            areas = self.apportion(**options)
            return ranges.attach(areas, self.precincts, self.candidates)
        if by in ("precinct", "precincts"):
            mapped = self.precincts[self.precincts["match"] != "none"].copy()
            renamed = mapped.rename(columns={"precinct": "name"})
            renamed.attrs = dict(mapped.attrs)
            return renamed
        raise ExplorerError(f"unknown --by {by!r}", hint="use neighbourhood or precinct")

    def rank(
        self,
        candidate: str,
        by: str = "neighbourhood",
        min_votes: float = 100,
        min_coverage: float = 0.5,
        **options,
    ):
        """Areas ranked by the candidate's share; returns (ranked, too_few): the second holds
        the areas with under ``min_votes`` votes or under ``min_coverage`` of their area
        covered by mapped precincts (column ``why``)."""
        from explorer.ask import find_candidate, rank
        from explorer.outputs import notebook_table

        areas = self.areas(by, **options)
        name = find_candidate(candidate, self.candidates)
        ranked, too_few = rank(areas, name, min_votes=min_votes, min_coverage=min_coverage)
        return notebook_table(ranked), notebook_table(too_few)

    def ask(self, question: str, min_votes: float = 100, **options):
        """Answer a question as a reporter types it ("did Ahn carry Westlake?", "who came
        third in the primary?"). Returns an :class:`explorer.ask.Answer` (print it, or
        ``.to_dict()``); the election is this one unless the text names another election of
        the same contest. Questions the data cannot answer come back with ``refused=True``."""
        from explorer.ask import ask

        others = [self.related_election(name) for name in self.related()]
        answer = ask(self, question, others=others, min_votes=min_votes, **options)
        reporting = self.precincts.attrs.get("reporting")
        if reporting and not reporting["complete"]:
            answer.notice = f"Partial returns: {self.reporting()}"
        return answer

    def related(self) -> list[str]:
        """Other catalog elections of the same contest (same office, district and boundary),
        such as the primary of a runoff; none for an election from your own files."""
        spec = self.spec
        if spec.name not in election_names() or election_spec(spec.name) != spec:
            return []
        same = []
        for name in election_names():
            if name == spec.name:
                continue
            other = election_spec(name)
            if (other.office, other.district, other.boundary_id, other.boundary) == (
                spec.office,
                spec.district,
                spec.boundary_id,
                spec.boundary,
            ) and (other.date is None or spec.date is None or other.date.year == spec.date.year):
                same.append(name)
        return same

    def related_election(self, name: str) -> Election:
        """A related election, loaded once with this one's options."""
        cache = self.__dict__.setdefault("_related", {})
        if name not in cache:
            cache[name] = load_election(
                name, data_dir=self.data_dir, infer=self.infer, crosswalk=self.crosswalk
            )
        return cache[name]

    def reporting(self) -> str:
        """Election night: "N of M precincts reporting (p%)", the votes counted so far by
        method, and who leads (the count is complete when no snapshot says otherwise)."""
        from explorer import live

        return live.reporting_answer(self.precincts, self.candidates)

    def demographic_parts(self, group: str, by: str = "precinct", scheme: str = "fixed"):
        """Features, styling and tooltips for a group's share of CVAP (see
        :func:`explorer.render.views.demographic_parts`)."""
        from explorer.render import views

        return views.demographic_parts(self, group, by, scheme)

    def map_parts(
        self,
        view: str | None = None,
        candidate: str | None = None,
        by: str = "precinct",
        scheme: str = "fixed",
        min_votes: float = 100,
        demographic: str | None = None,
        overlay: str | None = None,
    ):
        """Features, styling, tooltips and titles for a map view (see
        :func:`explorer.render.views.map_parts`)."""
        from explorer.render import views

        return views.map_parts(self, view, candidate, by, scheme, min_votes, demographic, overlay)

    def map(
        self,
        view: str | None = None,
        candidate: str | None = None,
        by: str = "precinct",
        tiles: str = "light",
        scheme: str = "fixed",
        tolerance: float | None = None,
        min_votes: float = 100,
        demographic: str | None = None,
        overlay: str | None = None,
    ):
        """An interactive folium map (renders inline in Jupyter). ``demographic="asian"``
        maps a group's share of CVAP; ``overlay="asian"`` adds it as a switchable layer."""
        fmap, _, _ = self.build_map(
            view, candidate, by, tiles, scheme, tolerance, min_votes, demographic, overlay
        )
        return fmap

    def build_map(
        self,
        view=None,
        candidate=None,
        by="precinct",
        tiles="light",
        scheme="fixed",
        tolerance=None,
        min_votes=100,
        demographic=None,
        overlay=None,
    ):
        """The map, facts about it and its parts (see :func:`explorer.render.views.build_map`)."""
        from explorer.render import views

        return views.build_map(
            self, view, candidate, by, tiles, scheme, tolerance, min_votes, demographic, overlay
        )

    @cached_property
    def block_groups(self) -> gpd.GeoDataFrame:
        """Census block groups (DRA demographics at 2020 centres of population)."""
        from explorer import demographics

        return demographics.load_block_groups(
            self._path(demographics.TABLE_FILE), self._path(demographics.CENTRES_FILE)
        )

    def demographics(self, by: str = "precinct", cvap_year: int | None = None) -> pd.DataFrame:
        """CVAP, VAP and population by group for each mapped precinct (``by="precinct"``)
        or neighbourhood, vintage closest to the election (``attrs``: vintages, population
        ledger, credit). See :mod:`explorer.demographics`."""
        import geopandas as gpd

        from explorer import demographics

        key = (by, cvap_year)
        cache = self.__dict__.setdefault("_demographics", {})
        if key not in cache:
            mapped = self.precincts[self.precincts["match"] != "none"]
            if by in ("precinct", "precincts"):
                targets, label, within, only = mapped, "precinct", self.outline, False
            else:  # areas: only the block groups under mapped precincts count
                targets, label, only = self.areas(by), "name", True
                within = gpd.GeoDataFrame(geometry=[mapped.union_all()], crs=mapped.crs)
            found = demographics.area_demographics(
                self.block_groups,
                targets,
                label,
                when=self.spec.date,
                cvap_year=cvap_year,
                within=within,
                only_within=only,
            )
            if found["cvap_total"].sum() <= 0:
                raise ExplorerError(
                    f"no census block group of the demographic table lies in {self.name}'s "
                    "precincts",
                    hint="the catalog's demographics cover California only",
                )
            cache[key] = found
        return cache[key]

    def scatter(self, group: str, candidate: str, ax=None, cvap_year: int | None = None):
        """Precinct ``group`` share of CVAP against ``candidate``'s share of the vote, point
        size by votes, inferred-geometry precincts hollow (a matplotlib figure)."""
        from explorer import scatter
        from explorer.ask import find_candidate
        from explorer.demographics import normalise_group

        key = normalise_group(group)
        if key == "other":
            raise ExplorerError("choose a named group for the scatter", hint="e.g. asian")
        name = find_candidate(candidate, self.candidates)
        dem = self.demographics("precinct", cvap_year=cvap_year)
        mapped = self.precincts[self.precincts["match"] != "none"]
        frame, facts = scatter.scatter_frame(mapped, dem, key, name)
        return scatter.scatter_plot(
            frame,
            key,
            name,
            title=f"{self.spec.title}, {self.spec.date or ''}".strip(", "),
            credit=dem.attrs["credit"],
            vintage=dem.attrs["vintages"]["cvap"],
            facts=facts,
            ax=ax,
        )

    def ei(self, groups: list[str], candidates: list[str] | None = None, **options):
        """Ecological inference (needs the ``ei`` extra): one row per group and candidate
        with ``mean``, 95% ``lower``/``upper``, ``rhat``, ``ess``; ``attrs["facts"]`` says
        what was used and left out. Options go to :func:`explorer.ei.run`."""
        from explorer import ei

        options.setdefault("progressbar", False)
        return ei.run(self, groups, candidates, **options).table

    def methods_note(self, areas: pd.DataFrame, by: str = "neighbourhood") -> str:
        """Sources and vintages, method, and the ledger's caveats, in a few lines (see
        :func:`explorer.ask.methods.methods_note`)."""
        from explorer.ask.methods import methods_note

        return methods_note(self, areas, by)

    def _repr_html_(self) -> str:
        """A notebook summary: title, date, candidates with votes, the ledger in one line."""
        from explorer import join
        from explorer.render import esc

        table = self.summary().head(8)
        rows = "".join(
            f"<tr><td>{esc(name)}</td><td style='text-align:right'>{row.votes:,.0f}</td>"
            f"<td style='text-align:right'>{row.share:.1%}</td></tr>"
            for name, row in table.iterrows()
        )
        more = len(self.candidates) - len(table)
        extra = f"<tr><td colspan=3>and {more} more</td></tr>" if more > 0 else ""
        return (
            f"<div><b>{esc(self.spec.title)}</b> ({esc(self.name)}), "
            f"{esc(self.spec.date or 'date unknown')}<table>{rows}{extra}</table>"
            f"<small>{esc(join.describe_ledger(self.ledger_summary))}</small></div>"
        )

    def source_files(self) -> list[str]:
        """Catalog paths this election reads (for credits)."""
        spec = self.spec
        files = [spec.returns, spec.totals, spec.precincts.file]
        if spec.boundary:
            files.append(spec.boundary.file.replace("{id}", spec.boundary_id or ""))
        for layer in (spec.neighbourhoods, spec.freeways):
            if layer:
                files.append(layer.file)
        return [f for f in files if f]

    def demographic_files(self) -> list[str]:
        """Catalog paths of the census demographics (credited wherever they are used)."""
        from explorer import demographics

        return [demographics.TABLE_FILE, demographics.CENTRES_FILE]

    def credits(self) -> list[str]:
        return catalog.credits_for(self.source_files())

    def summary(self) -> pd.DataFrame:
        """Candidates with votes and shares, most votes first."""
        votes = self.wide[self.candidates].sum()
        table = pd.DataFrame({"votes": votes, "share": votes / votes.sum()})
        table.index.name = "candidate"
        from explorer.outputs import notebook_table

        return notebook_table(table)


def load_election(name: str | None = None, **options) -> Election:
    """A catalog election by name (the default election when none is given)."""
    return Election(spec=election_spec(name or default_election()), **options)
