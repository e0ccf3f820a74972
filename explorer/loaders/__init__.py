"""Stage 2, load: vector layers and OpenElections returns as (Geo)DataFrames.

Every loader returns data with a declared CRS and records what it repaired or dropped in
``frame.attrs["notes"]`` (a list of one-line strings), so later stages can report it.

The parts: :mod:`~explorer.loaders.text` (CSV text, encodings, precinct IDs),
:mod:`~explorer.loaders.layers` (vector layers and their repairs), :mod:`~explorer.loaders.roads`,
:mod:`~explorer.loaders.returns` (returns files) and :mod:`~explorer.loaders.repairs` (the
real-world returns rows they recognise and repair). Every name is importable from here.

Each name is imported on first use (PEP 562), so reading a returns file costs pandas only:
geopandas, shapely, pyogrio and pyproj load with the layer readers that need them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what type checkers and editors see; at run time, __getattr__ below
    from explorer.loaders.layers import (
        _check_shapefile_parts,
        _dbf_bytes,
        _dbf_encoding,
        _keep_attrs,
        _zip_layers,
        load_district,
        load_neighbourhoods,
        load_points,
        load_precincts,
        polygonal_part,
        read_layer,
        repair_polygons,
    )
    from explorer.loaders.repairs import (
        _METHOD_SUFFIX,
        _PSEUDO,
        _PSEUDO_FAMILIES,
        _PSEUDO_WORDS,
        _TOTAL_PRECINCT,
        _WRITE_IN_TOTAL,
        BLANK_PRECINCT,
        CANDIDATE_MARK,
        COUNTY_WIDE,
        METHOD_WORDS,
        PSEUDO_KINDS,
        RESERVED_NAMES,
        _county_wide_rows,
        _drop_duplicate_rows,
        _fold_method_rows,
        _pseudo_family,
        _refuse_ids_across_counties,
        _rename_reserved,
        _same_numbers,
        _split_pseudo_candidates,
        _unify_candidates,
        _words,
        _write_in_totals,
        county_wide,
        pseudo_candidate,
        repair_returns,
        vote_method_name,
    )
    from explorer.loaders.returns import (
        _GROUPED,
        MAX_COUNT,
        RETURNS_COLUMNS,
        VOTE_METHOD_COLUMNS,
        _canon_district,
        _filter_contest,
        _parse_count,
        _parse_votes,
        _same_district,
        load_returns,
        load_totals,
        totals_differences,
        wide_returns,
        with_totals,
    )
    from explorer.loaders.roads import (
        _ROUTE_PATTERNS,
        ROAD_LABEL_FIELDS,
        _caltrans_label,
        _overlap_routes,
        load_freeways,
        load_roads,
        route_label,
    )
    from explorer.loaders.text import (
        _INVISIBLE,
        _PREFIX,
        _decode,
        _delimiter,
        _note,
        normalise_ids,
        precinct_key,
        read_csv_text,
    )

# every name the one-module loaders had, private ones too (live, projection and tests use
# some), so that no import elsewhere changes
__all__ = [
    "BLANK_PRECINCT",
    "CANDIDATE_MARK",
    "COUNTY_WIDE",
    "MAX_COUNT",
    "METHOD_WORDS",
    "PSEUDO_KINDS",
    "RESERVED_NAMES",
    "RETURNS_COLUMNS",
    "ROAD_LABEL_FIELDS",
    "VOTE_METHOD_COLUMNS",
    "_GROUPED",
    "_INVISIBLE",
    "_METHOD_SUFFIX",
    "_PREFIX",
    "_PSEUDO",
    "_PSEUDO_FAMILIES",
    "_PSEUDO_WORDS",
    "_ROUTE_PATTERNS",
    "_TOTAL_PRECINCT",
    "_WRITE_IN_TOTAL",
    "_caltrans_label",
    "_canon_district",
    "_check_shapefile_parts",
    "_county_wide_rows",
    "_dbf_bytes",
    "_dbf_encoding",
    "_decode",
    "_delimiter",
    "_drop_duplicate_rows",
    "_filter_contest",
    "_fold_method_rows",
    "_keep_attrs",
    "_note",
    "_overlap_routes",
    "_parse_count",
    "_parse_votes",
    "_pseudo_family",
    "_refuse_ids_across_counties",
    "_rename_reserved",
    "_same_district",
    "_same_numbers",
    "_split_pseudo_candidates",
    "_unify_candidates",
    "_words",
    "_write_in_totals",
    "_zip_layers",
    "county_wide",
    "load_district",
    "load_freeways",
    "load_neighbourhoods",
    "load_points",
    "load_precincts",
    "load_returns",
    "load_roads",
    "load_totals",
    "normalise_ids",
    "polygonal_part",
    "precinct_key",
    "pseudo_candidate",
    "read_csv_text",
    "read_layer",
    "repair_polygons",
    "repair_returns",
    "route_label",
    "totals_differences",
    "vote_method_name",
    "wide_returns",
    "with_totals",
]

#: the submodule that defines each name
_WHERE = {
    "text": (
        "_INVISIBLE",
        "_PREFIX",
        "_decode",
        "_delimiter",
        "_note",
        "normalise_ids",
        "precinct_key",
        "read_csv_text",
    ),
    "repairs": (
        "_METHOD_SUFFIX",
        "_PSEUDO",
        "_PSEUDO_FAMILIES",
        "_PSEUDO_WORDS",
        "_TOTAL_PRECINCT",
        "_WRITE_IN_TOTAL",
        "BLANK_PRECINCT",
        "CANDIDATE_MARK",
        "COUNTY_WIDE",
        "METHOD_WORDS",
        "PSEUDO_KINDS",
        "RESERVED_NAMES",
        "_county_wide_rows",
        "_drop_duplicate_rows",
        "_fold_method_rows",
        "_pseudo_family",
        "_refuse_ids_across_counties",
        "_rename_reserved",
        "_same_numbers",
        "_split_pseudo_candidates",
        "_unify_candidates",
        "_words",
        "_write_in_totals",
        "county_wide",
        "pseudo_candidate",
        "repair_returns",
        "vote_method_name",
    ),
    "returns": (
        "_GROUPED",
        "MAX_COUNT",
        "RETURNS_COLUMNS",
        "VOTE_METHOD_COLUMNS",
        "_canon_district",
        "_filter_contest",
        "_parse_count",
        "_parse_votes",
        "_same_district",
        "load_returns",
        "load_totals",
        "wide_returns",
        "with_totals",
        "totals_differences",
    ),
    "layers": (
        "_check_shapefile_parts",
        "_dbf_bytes",
        "_dbf_encoding",
        "_keep_attrs",
        "_zip_layers",
        "load_district",
        "load_neighbourhoods",
        "load_points",
        "load_precincts",
        "polygonal_part",
        "read_layer",
        "repair_polygons",
    ),
    "roads": (
        "_ROUTE_PATTERNS",
        "ROAD_LABEL_FIELDS",
        "_caltrans_label",
        "_overlap_routes",
        "load_freeways",
        "load_roads",
        "route_label",
    ),
}
_MODULE = {name: module for module, names in _WHERE.items() for name in names}


def __getattr__(name: str):
    """Import the submodule that defines ``name`` on first use, and keep the name here."""
    module = _MODULE.get(name)
    if module is None:
        raise AttributeError(f"module 'explorer.loaders' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"explorer.loaders.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
