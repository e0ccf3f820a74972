"""Elections whose results ship inside the precinct layer (DRA ``datasets``, VEST
columns): :class:`LayerElection`, built by :meth:`explorer.Election.from_layer`."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from explorer import join, loaders
from explorer.elections import Election
from explorer.specs import ElectionSpec, LayerSpec


@dataclass
class LayerElection(Election):
    """An election whose results ship inside the precinct layer (DRA ``datasets``, VEST
    columns): see :meth:`Election.from_layer`. Every layer feature is its own result
    precinct (match ``exact``); features without geometry are unmapped (``none``)."""

    source: object = None
    votes: dict = field(default_factory=dict)
    total_field: str | None = None
    jobs: int | None = None
    progress: bool = False

    @cached_property
    def layer(self) -> gpd.GeoDataFrame:
        from explorer import layer_results

        fields = [*self.votes.values(), *([self.total_field] if self.total_field else [])]
        spec = self.spec.precincts
        if isinstance(self.source, gpd.GeoDataFrame):
            columns = layer_results.resolve_fields(
                self.source.columns, [spec.id_field, *fields], "layer"
            )
            frame = gpd.GeoDataFrame(
                {"precinct": loaders.normalise_ids(self.source[columns[spec.id_field]])},
                geometry=self.source.geometry.values,
                crs=self.source.crs,
            )
            frame["state"] = self.source["state"].to_numpy() if "state" in self.source else ""
            for name in fields:
                frame[name] = layer_results.read_counts(
                    self.source[columns[name]], frame["precinct"], name, "layer"
                )
            return frame
        paths = layer_results.expand_paths(self.source, self.data_dir)
        return layer_results.read_results_layers(
            paths,
            fields,
            precinct_id=spec.id_field,
            crs=spec.crs,
            jobs=self.jobs,
            progress=self.progress,
        )

    @cached_property
    def wide(self) -> pd.DataFrame:
        from explorer import layer_results

        wide = layer_results.layer_returns(self.layer, self.votes, self.total_field)
        wide.attrs["notes"] = list(self.layer.attrs.get("notes", [])) + wide.attrs["notes"]
        return wide

    @cached_property
    def returns(self) -> pd.DataFrame:
        """Long form (precinct, candidate, votes) of the layer's results."""
        long = self.wide.drop(columns="total").melt(
            ignore_index=False, var_name="candidate", value_name="votes"
        )
        long = long.reset_index()
        long.attrs["notes"] = list(self.wide.attrs.get("notes", []))
        return long

    @cached_property
    def totals(self) -> pd.Series | None:
        return None

    @cached_property
    def precincts(self) -> gpd.GeoDataFrame:
        layer, wide = self.layer, self.wide
        empty = layer.geometry.isna().to_numpy() | layer.geometry.is_empty.to_numpy()
        ids = layer["precinct"].to_numpy()
        features = gpd.GeoDataFrame(
            {
                "precinct": ids,
                "state": layer["state"].to_numpy(),
                "match": np.where(empty, "none", "exact").astype(object),
                "members": np.where(empty, "", ids).astype(object),
                "n_members": (~empty).astype("int64"),
                "inferred_members": "",
            },
            geometry=layer.geometry.values,
            crs=layer.crs,
        )
        for column in wide.columns:
            features[column] = wide[column].to_numpy()
        features.attrs = {"notes": list(wide.attrs.get("notes", [])), "unassigned": []}
        return join.add_result_columns(features, [c for c in wide.columns if c != "total"])

    @cached_property
    def outline(self) -> gpd.GeoDataFrame:
        """The dissolved mapped precincts; past the large-map threshold (where a page only
        needs the bounds) their bounding box, since dissolving 75,000 polygons takes long."""
        from explorer.large_map import LARGE_ABOVE

        mapped = self.precincts[self.precincts["match"] != "none"]
        if len(mapped) <= LARGE_ABOVE:
            return super().outline
        box = shapely.box(*mapped.total_bounds)
        return gpd.GeoDataFrame({"district": [self.name]}, geometry=[box], crs=mapped.crs)

    def by_state(self) -> pd.DataFrame:
        """Votes per candidate by ``state`` (one row per file/state), plus a ``total`` row;
        the sums equal the sums over the precincts (checked)."""
        columns = [*self.candidates, "total"]
        table = self.precincts.groupby("state")[columns].sum()
        table["precincts"] = self.precincts.groupby("state").size()
        table.loc["total"] = table.sum()
        if not (table.loc["total", columns] == self.precincts[columns].sum()).all():
            raise AssertionError("state sums do not add up to the precincts")  # cannot happen
        return table

    def source_files(self) -> list[str]:
        return list(self.layer.attrs.get("files", []))

    def credits(self) -> list[str]:
        from explorer import layer_results

        return layer_results.catalog_credits(self.source_files())


def _from_layer(
    cls,
    layer,
    *,
    votes: dict[str, str],
    total: str | None = None,
    precinct_id: str = "id",
    name: str = "my-election",
    title: str | None = None,
    neighbourhoods: str | Path | None = None,
    neighbourhood_name: str = "name",
    crs: str | None = None,
    jobs: int | None = None,
    progress: bool = False,
    **options,
) -> LayerElection:
    """An election whose results are properties of the precinct layer.

    ``layer``: a GeoDataFrame, a file, a glob (``'vtd/*/Geojson_*.zip'``, or a catalog
    pattern such as ``'dra2020/vtd_data/2020_VTD/*/Geojson_*.zip'``) or a list of these;
    several files are read in parallel as one layer with a ``state`` column. ``votes`` maps
    candidate -> field (``{"Biden": "E_20_PRES.Dem"}``; DRA's nested ``datasets.`` prefix is
    optional; VEST-style ``G20PREDBID`` works as it is). ``total`` names a field of all votes
    cast: what it holds beyond the candidates becomes ``other``. ``precinct_id`` is the
    feature ID field (DRA: ``id``)."""
    described = layer if isinstance(layer, (str, Path)) else "layer"
    spec = ElectionSpec(
        name=name,
        title=title or name,
        office=None,
        district=None,
        returns=str(described),
        precincts=LayerSpec(
            name="precincts", kind="precincts", file=str(described), id_field=precinct_id, crs=crs
        ),
        neighbourhoods=LayerSpec(
            name="neighbourhoods",
            kind="neighbourhoods",
            file=str(neighbourhoods),
            name_field=neighbourhood_name,
        )
        if neighbourhoods
        else None,
    )
    return LayerElection(
        spec=spec,
        source=layer,
        votes=dict(votes),
        total_field=total,
        jobs=jobs,
        progress=progress,
        **options,
    )
