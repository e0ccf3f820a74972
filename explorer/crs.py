"""All coordinate reference system handling lives here.

Areas and lengths are only ever computed in an equal-area projection, never in degrees;
maps are drawn in WGS 84 longitude/latitude.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from pyproj import CRS

from explorer.errors import ExplorerError

#: California Albers (NAD83): the equal-area CRS for California data.
CALIFORNIA_ALBERS = "EPSG:3310"
#: The CRS web maps want.
LONLAT = "EPSG:4326"


def equal_area_crs_for(gdf: gpd.GeoDataFrame, preferred: str | None = None) -> CRS:
    """The equal-area CRS to measure ``gdf`` in.

    ``preferred`` wins; otherwise California Albers when the data lies in California, else
    a Lambert azimuthal equal-area projection centred on the data.
    """
    if preferred:
        return CRS.from_user_input(preferred)
    from pyproj import Transformer

    crs = CRS.from_user_input(gdf.crs)
    bounds = gdf.total_bounds
    if crs.is_geographic and crs.equals(CRS.from_user_input(LONLAT)):
        lon_min, lat_min, lon_max, lat_max = bounds
    else:
        lon_min, lat_min, lon_max, lat_max = Transformer.from_crs(
            crs, LONLAT, always_xy=True
        ).transform_bounds(*bounds)
    in_california = lon_min > -125.0 and lon_max < -113.5 and lat_min > 32.0 and lat_max < 42.5
    if in_california:
        return CRS.from_user_input(CALIFORNIA_ALBERS)
    lon0, lat0 = (lon_min + lon_max) / 2, (lat_min + lat_max) / 2
    return CRS.from_proj4(f"+proj=laea +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m")


def to_equal_area(gdf: gpd.GeoDataFrame, crs: str | CRS | None = None) -> gpd.GeoDataFrame:
    """Reproject to an equal-area CRS (``crs`` or the one chosen by :func:`equal_area_crs_for`)."""
    require_crs(gdf, "layer")
    target = CRS.from_user_input(crs) if crs is not None else equal_area_crs_for(gdf)
    return gdf.to_crs(target)


def to_lonlat(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject to WGS 84 longitude/latitude for web maps."""
    require_crs(gdf, "layer")
    return gdf.to_crs(LONLAT)


def area_bounds(gdf: gpd.GeoDataFrame, margin: float = 0.0) -> tuple[float, ...]:
    """Lon/lat bounds (west, south, east, north) of ``gdf`` grown by ``margin`` metres on
    every side (measured in its equal-area CRS), e.g. to read only the nearby part of a
    large layer."""
    area = to_equal_area(gdf)
    west, south, east, north = area.total_bounds
    box = gpd.GeoSeries.from_xy([west - margin, east + margin], [south - margin, north + margin])
    return tuple(float(v) for v in box.set_crs(area.crs).to_crs(LONLAT).total_bounds)


def bounds_in(bounds: tuple[float, ...], crs) -> tuple[float, ...]:
    """Lon/lat ``bounds`` as bounds in ``crs`` (enlarged to hold the whole box)."""
    from pyproj import Transformer

    target = CRS.from_user_input(crs)
    if target.equals(CRS.from_user_input(LONLAT)):
        return tuple(bounds)
    transformer = Transformer.from_crs(LONLAT, target, always_xy=True)
    return tuple(float(v) for v in transformer.transform_bounds(*bounds, densify_pts=21))


def require_crs(gdf: gpd.GeoDataFrame, source: str, option: str = "--crs") -> None:
    """Refuse a layer whose CRS is unknown: measuring it would be a guess."""
    if gdf.crs is None:
        raise ExplorerError(
            "the layer declares no coordinate reference system",
            source=source,
            hint=f"give one with {option} (for example {option} EPSG:4326)",
        )


def declare_crs(
    gdf: gpd.GeoDataFrame,
    declared: str | None,
    source: str,
    option: str = "--crs",
    *,
    override: bool = True,
) -> gpd.GeoDataFrame:
    """Set the CRS a catalog or user declares for a file that has none, and sanity-check it.

    With ``override`` (one file named by the user) ``declared`` also replaces a CRS the
    file states (a wrong .prj); without it (one ``--crs`` for a glob of files) a file's own
    CRS is kept and ``declared`` applies only to files that state none (or a lon/lat one
    their coordinates rule out, as GeoJSON without a ``crs`` member has).

    Coordinates outside +-180/+-90 cannot be longitude/latitude, so declaring EPSG:4326 on
    them is refused rather than silently producing a map in the wrong ocean. ``option``
    is the command-line option that sets ``declared`` (named in hints).
    """
    if declared:
        try:
            declared_crs = CRS.from_user_input(declared)
        except Exception:  # pyproj's CRSError, or a value it cannot even parse
            raise ExplorerError(
                f"{option} {declared!r} is not a coordinate reference system",
                source=source,
                hint=f"give an EPSG code, e.g. {option} EPSG:4326",
            ) from None
        if gdf.crs is None:
            gdf = gdf.set_crs(declared_crs)
        elif not override and outside_lonlat(gdf):
            # a lon/lat CRS its coordinates rule out (GeoJSON without a crs member is read
            # as EPSG:4326 whatever it holds): the file states no usable CRS
            gdf = gdf.set_crs(declared_crs, allow_override=True)
        elif override and not CRS.from_user_input(gdf.crs).equals(declared_crs):
            gdf = gdf.set_crs(declared_crs, allow_override=True)
    require_crs(gdf, source, option)
    if CRS.from_user_input(gdf.crs).is_geographic and len(gdf):
        lon_min, lat_min, lon_max, lat_max = gdf.total_bounds
        if lon_min < -180.5 or lon_max > 180.5 or lat_min < -90.5 or lat_max > 90.5:
            reach = max(abs(lon_min), abs(lon_max), abs(lat_min), abs(lat_max))
            example = (
                f"for example {option} EPSG:3857"
                if reach > 2_000_000  # web-mercator-sized; Albers, UTM and state planes are less
                else "a state plane, UTM or Albers EPSG code; the source's .prj names it"
            )
            raise ExplorerError(
                f"coordinates reach {lon_min:.0f},{lat_min:.0f} to {lon_max:.0f},"
                f"{lat_max:.0f}, which is not longitude/latitude",
                source=source,
                hint=f"give the layer's real projected CRS with {option} ({example})",
            )
    return gdf


def outside_lonlat(gdf: gpd.GeoDataFrame) -> bool:
    """Whether ``gdf`` has a geographic CRS but coordinates beyond +-180/+-90."""
    if gdf.crs is None or not len(gdf) or not CRS.from_user_input(gdf.crs).is_geographic:
        return False
    lon_min, lat_min, lon_max, lat_max = gdf.total_bounds
    return bool(lon_min < -180.5 or lon_max > 180.5 or lat_min < -90.5 or lat_max > 90.5)


#: a projected layer of polygons smaller than this (in its units) is taken for lon/lat
SMALLEST_PROJECTED_EXTENT = 50.0


def check_extent(
    gdf: gpd.GeoDataFrame, source: str, option: str = "--crs", given: str | None = None
) -> None:
    """Refuse a polygon layer whose extent is impossible for its declared CRS: a projected
    CRS (metres or feet) whose layer lies inside +-180/+-90 and spans under 50 units, or
    whose polygons are mostly under 1 unit across, holds longitude/latitude under a wrong
    .prj (its precincts would be specks near 0,0)."""
    if gdf.crs is None or not len(gdf):
        return
    crs = CRS.from_user_input(gdf.crs)
    if not crs.is_projected:
        return
    x_min, y_min, x_max, y_max = gdf.total_bounds
    lonlat_range = x_min >= -180 and x_max <= 180 and y_min >= -90 and y_max <= 90
    bounds = gdf.geometry.bounds.to_numpy()
    sizes = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
    specks = len(sizes) and float(np.nanmedian(sizes)) < 1.0  # polygons under 1 m (or ft)
    if lonlat_range and (max(x_max - x_min, y_max - y_min) < SMALLEST_PROJECTED_EXTENT or specks):
        unit = crs.axis_info[0].unit_name if crs.axis_info else "unit"
        if given:  # the user's own --crs, not the layer, is what is wrong
            raise ExplorerError(
                f"{option} {given} given, but the layer lies within {x_min:.2f},{y_min:.2f} "
                f"to {x_max:.2f},{y_max:.2f} ({crs.name} would make its polygons about "
                f"{float(np.nanmedian(sizes)):.2g} {unit}s across): the coordinates look "
                "like longitude/latitude",
                source=source,
                hint=f"drop {option}, or give {option} EPSG:4326",
            )
        raise ExplorerError(
            f"the layer declares {crs.name} but lies within {x_min:.2f},{y_min:.2f} to "
            f"{x_max:.2f},{y_max:.2f} and its polygons are about {float(np.nanmedian(sizes)):.2g} "
            f"{unit}s across: its coordinates look like longitude/latitude",
            source=source,
            hint=f"if they are, give {option} EPSG:4326 (it overrides the .prj)",
        )


def reproject(gdf: gpd.GeoDataFrame, crs: str | CRS) -> gpd.GeoDataFrame:
    """``gdf`` in ``crs``; untouched (no transform pass) when its CRS already equals it, as a
    layer read back from a file often does under another spelling of the same CRS."""
    target = CRS.from_user_input(crs)
    if gdf.crs is not None and CRS.from_user_input(gdf.crs).equals(target):
        return gdf.set_crs(target, allow_override=True)
    return gdf.to_crs(target)
