"""Elections as data: the definitions in ``shapefiles/elections.toml`` (which returns,
totals and layers make each election) as :class:`ElectionSpec` and :class:`LayerSpec`.

Every path is checked to stay inside the data folder before anything is read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from explorer import catalog
from explorer.errors import ExplorerError


@dataclass(frozen=True)
class LayerSpec:
    """A layer named in elections.toml: which file, how to read it."""

    name: str
    kind: str
    file: str
    title: str = ""
    crs: str | None = None
    id_field: str = "precinct"
    name_field: str = "name"
    where: dict = field(default_factory=dict)
    route_numbers: str | None = None
    weight_field: str | None = None
    layer: str | None = None

    @classmethod
    def from_toml(cls, name: str, entry: dict) -> LayerSpec:
        """A layer from elections.toml; its paths must be catalog-relative."""
        known = {f for f in cls.__dataclass_fields__ if f != "name"}
        for key in ("file", "route_numbers"):
            if entry.get(key) is not None:
                _catalog_path(entry[key], f"layers.{name}.{key}")
        return cls(name=name, **{k: v for k, v in entry.items() if k in known})


@dataclass(frozen=True)
class ElectionSpec:
    """An election: its returns, its totals, and the layers it is drawn on."""

    name: str
    title: str
    office: str | None
    district: str | None
    returns: str
    precincts: LayerSpec
    date: dt.date | None = None
    totals: str | None = None
    boundary: LayerSpec | None = None
    boundary_id: str | None = None
    neighbourhoods: LayerSpec | None = None
    freeways: LayerSpec | None = None


def _catalog_path(path, where: str) -> str:
    """A path from elections.toml, refused in one line unless it is catalog-relative."""
    source = f"{catalog.config_file('elections.toml')} ({where})"
    return str(catalog.safe_relative_path(path, source))


def _definitions() -> dict:
    return catalog._read_toml(catalog.config_file("elections.toml"))


def layer_spec(name: str) -> LayerSpec:
    layers = _definitions().get("layers", {})
    if name not in layers:
        raise ExplorerError(
            f"unknown layer {name!r}", hint="known layers: " + ", ".join(sorted(layers))
        )
    return LayerSpec.from_toml(name, layers[name])


def election_names() -> list[str]:
    return sorted(_definitions().get("elections", {}))


def default_election() -> str:
    return _definitions().get("defaults", {}).get("election", election_names()[0])


def election_spec(name: str) -> ElectionSpec:
    """The definition of a named election; an unknown name lists the known ones."""
    elections = _definitions().get("elections", {})
    if name not in elections:
        raise ExplorerError(
            f"unknown election {name!r}",
            hint="known elections: " + ", ".join(sorted(elections)),
        )
    entry = elections[name]
    boundary = entry.get("boundary") or {}
    for key in ("returns", "totals"):
        if entry.get(key) is not None:
            _catalog_path(entry[key], f"elections.{name}.{key}")
    if boundary:  # the district ID fills {id} in the boundary layer's path
        file = layer_spec(boundary["layer"]).file
        _catalog_path(
            file.replace("{id}", str(boundary.get("id", ""))), f"elections.{name}.boundary"
        )
    return ElectionSpec(
        name=name,
        title=entry.get("title", name),
        date=entry.get("date"),
        office=entry.get("office"),
        district=str(entry["district"]) if "district" in entry else None,
        returns=entry["returns"],
        totals=entry.get("totals"),
        precincts=layer_spec(entry["precincts"]),
        boundary=layer_spec(boundary["layer"]) if boundary else None,
        boundary_id=boundary.get("id"),
        neighbourhoods=layer_spec(entry["neighbourhoods"]) if entry.get("neighbourhoods") else None,
        freeways=layer_spec(entry["freeways"]) if entry.get("freeways") else None,
    )
