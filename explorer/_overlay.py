"""Exact polygon intersection areas for many pairs at once, compiled with numba.

GEOS computes each intersection as a full overlay (about 50 microseconds a pair, whatever
the size), which dominates apportionment. Only the *area* is needed, and that has a short
exact formula. With both polygons oriented (exteriors counter-clockwise, holes clockwise)
their winding numbers are 1 inside and 0 outside, and

    area(S ∩ C) = sum over edges (a, b) of S:  sign(O, a, b) * area(C ∩ triangle(O, a, b))

for any point O (a fan decomposition of S). ``area(C ∩ triangle)`` is the signed area of
C's rings clipped to the triangle by Sutherland-Hodgman, which is exact for any polygon
against a convex window (it preserves the winding number inside the window). Both
polygons are first clipped to the intersection of their bounding boxes the same way, and
coordinates are taken relative to that box's centre to keep the arithmetic well scaled.
Results agree with GEOS to about 1e-12 relative (tested on the real layers).
"""

from __future__ import annotations

import numpy as np
import shapely
from numba import njit, prange


def ring_arrays(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Oriented rings of (multi)polygons as flat arrays.

    Returns ``coords`` (n, 2) with each ring closed, ``ring_offsets`` (rings + 1) into
    ``coords`` and ``geom_offsets`` (geometries + 1) into the rings.
    """
    oriented = shapely.orient_polygons(geoms, exterior_cw=False)
    kinds = np.unique(shapely.get_type_id(oriented))
    if len(oriented) and set(kinds.tolist()) <= {3, 6} and not shapely.is_missing(oriented).any():
        # straight from shapely's ragged arrays: one pass in C, no per-part objects
        _, coords, offsets = shapely.to_ragged_array(oriented)
        if len(offsets) == 2:  # polygons only
            ring_offsets, geom_offsets = offsets
        else:  # polygons and multipolygons
            ring_offsets, polygon_offsets, multi_offsets = offsets
            geom_offsets = polygon_offsets[multi_offsets]
        return (
            np.ascontiguousarray(coords, dtype=np.float64),
            ring_offsets.astype(np.int64),
            geom_offsets.astype(np.int64),
        )
    parts, part_geom = shapely.get_parts(oriented, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    ring_geom = part_geom[ring_part]
    ring_offsets = np.concatenate([[0], np.cumsum(np.bincount(coord_ring, minlength=len(rings)))])
    geom_offsets = np.concatenate([[0], np.cumsum(np.bincount(ring_geom, minlength=len(geoms)))])
    return coords.astype(np.float64), ring_offsets.astype(np.int64), geom_offsets.astype(np.int64)


@njit(cache=True, inline="always")
def _clip_half_plane(src_x, src_y, n, dst_x, dst_y, nx, ny, c):
    """Keep the part of a closed polygon (n vertices, not repeated) where nx*x + ny*y <= c."""
    m = 0
    if n == 0:
        return 0
    if 2 * n > len(dst_x):  # S-H emits at most two points per edge
        raise ValueError("clip buffer too small")
    px = src_x[n - 1]
    py = src_y[n - 1]
    p_in = nx * px + ny * py <= c
    for i in range(n):
        qx = src_x[i]
        qy = src_y[i]
        q_in = nx * qx + ny * qy <= c
        if q_in != p_in:
            dp = nx * px + ny * py - c
            dq = nx * qx + ny * qy - c
            t = dp / (dp - dq)
            dst_x[m] = px + t * (qx - px)
            dst_y[m] = py + t * (qy - py)
            m += 1
        if q_in:
            dst_x[m] = qx
            dst_y[m] = qy
            m += 1
        px = qx
        py = qy
        p_in = q_in
    return m


@njit(cache=True)
def _local_rings(coords, ring_offsets, first_ring, last_ring, ox, oy):
    """Rings [first_ring, last_ring) relative to (ox, oy), without their closing vertex."""
    n_rings = last_ring - first_ring
    off = np.empty(n_rings + 1, np.int64)
    off[0] = 0
    for k in range(n_rings):
        r = first_ring + k
        off[k + 1] = off[k] + ring_offsets[r + 1] - ring_offsets[r] - 1
    x = np.empty(off[n_rings])
    y = np.empty(off[n_rings])
    for k in range(n_rings):
        start = ring_offsets[first_ring + k]
        for i in range(off[k + 1] - off[k]):
            x[off[k] + i] = coords[start + i, 0] - ox
            y[off[k] + i] = coords[start + i, 1] - oy
    return x, y, off, n_rings


@njit(cache=True)
def _signed_area(x, y, n):
    total = 0.0
    for i in range(n):
        j = i + 1 if i + 1 < n else 0
        total += x[i] * y[j] - x[j] * y[i]
    return 0.5 * total


@njit(cache=True)
def _clip_local(x, y, off, n_rings, box, out_x, out_y, out_off, tmp_x, tmp_y):
    """Clip already-local rings to ``box``; return the number of rings kept."""
    count = 0
    cursor = 0
    out_off[0] = 0
    for r in range(n_rings):
        start = off[r]
        n = off[r + 1] - start
        for i in range(n):
            tmp_x[i] = x[start + i]
            tmp_y[i] = y[start + i]
        m = _clip_half_plane(tmp_x, tmp_y, n, out_x[cursor:], out_y[cursor:], 1.0, 0.0, box[2])
        m = _clip_half_plane(out_x[cursor:], out_y[cursor:], m, tmp_x, tmp_y, -1.0, 0.0, -box[0])
        m = _clip_half_plane(tmp_x, tmp_y, m, out_x[cursor:], out_y[cursor:], 0.0, 1.0, box[3])
        m = _clip_half_plane(out_x[cursor:], out_y[cursor:], m, tmp_x, tmp_y, 0.0, -1.0, -box[1])
        if m >= 3:
            for i in range(m):
                out_x[cursor + i] = tmp_x[i]
                out_y[cursor + i] = tmp_y[i]
            cursor += m
            count += 1
            out_off[count] = cursor
    return count


@njit(cache=True)
def _clipped(x, y, off, n_rings, box, size, tmp_x, tmp_y):
    """New arrays holding the rings clipped to ``box``: (x, y, offsets, ring count)."""
    out_x = np.empty(size)
    out_y = np.empty(size)
    out_off = np.empty(n_rings + 1, np.int64)
    count = _clip_local(x, y, off, n_rings, box, out_x, out_y, out_off, tmp_x, tmp_y)
    return out_x, out_y, out_off, count


@njit(cache=True)
def _rings_area(x, y, off, n_rings):
    total = 0.0
    for r in range(n_rings):
        total += _signed_area(x[off[r] :], y[off[r] :], off[r + 1] - off[r])
    return total


@njit(cache=True)
def _fan_area(sx, sy, s_off, n_s, cx, cy, c_off, n_c, fx, fy):
    """Sum over edges (a, b) of S of sign * area(C within triangle(F, a, b))."""
    size = 2 * c_off[n_c] + 64
    t1x = np.empty(8 * size)
    t1y = np.empty(8 * size)
    t2x = np.empty(8 * size)
    t2y = np.empty(8 * size)
    lx = np.empty(c_off[n_c])
    ly = np.empty(c_off[n_c])
    for k in range(c_off[n_c]):
        lx[k] = cx[k] - fx
        ly[k] = cy[k] - fy
    total = 0.0
    for rs in range(n_s):
        a0 = s_off[rs]
        n = s_off[rs + 1] - a0
        for i in range(n):
            ax = sx[a0 + i] - fx
            ay = sy[a0 + i] - fy
            k = a0 + i + 1 if i + 1 < n else a0
            bx = sx[k] - fx
            by = sy[k] - fy
            cross = ax * by - bx * ay
            if cross == 0.0:
                continue
            sign = 1.0
            if cross < 0.0:  # make the triangle (F, a, b) counter-clockwise
                ax, bx = bx, ax
                ay, by = by, ay
                sign = -1.0
            for rc in range(n_c):
                c0 = c_off[rc]
                m = c_off[rc + 1] - c0
                m = _clip_half_plane(lx[c0:], ly[c0:], m, t1x, t1y, ay, -ax, 0.0)
                m = _clip_half_plane(
                    t1x, t1y, m, t2x, t2y, by - ay, ax - bx, (by - ay) * ax + (ax - bx) * ay
                )
                m = _clip_half_plane(t2x, t2y, m, t1x, t1y, -by, bx, 0.0)
                if m >= 3:
                    total += sign * _signed_area(t1x, t1y, m)
    return total


FAN_WORK = 4096  # below this many vertex pairs a box is solved directly
MAX_DEPTH = 8


@njit(cache=True)
def _area_in_box(sx, sy, s_off, n_s, cx, cy, c_off, n_c, box):
    """area(S ∩ C) for rings already clipped to ``box``, splitting busy boxes in four.

    Where one polygon covers a whole box the answer there is the other's area, so a box is
    only split while both boundaries cross it: a region quadtree on the two boundaries,
    walked with an explicit stack (numba caches recursive functions unreliably).
    """
    total = 0.0
    stack = [(sx, sy, s_off, n_s, cx, cy, c_off, n_c, box, 0)]
    while len(stack) > 0:
        sx, sy, s_off, n_s, cx, cy, c_off, n_c, box, depth = stack.pop()
        if n_s == 0 or n_c == 0:
            continue
        box_area = (box[2] - box[0]) * (box[3] - box[1])
        c_area = _rings_area(cx, cy, c_off, n_c)
        if abs(c_area - box_area) <= 1e-12 * box_area:
            total += _rings_area(sx, sy, s_off, n_s)
            continue
        s_area = _rings_area(sx, sy, s_off, n_s)
        if abs(s_area - box_area) <= 1e-12 * box_area:
            total += c_area
            continue
        ns = s_off[n_s]
        nc = c_off[n_c]
        mx = 0.5 * (box[0] + box[2])
        my = 0.5 * (box[1] + box[3])
        if ns * nc <= FAN_WORK or depth >= MAX_DEPTH:
            total += _fan_area(sx, sy, s_off, n_s, cx, cy, c_off, n_c, mx, my)
            continue
        size_s = 4 * ns + 64
        size_c = 4 * nc + 64
        tx = np.empty(4 * max(size_s, size_c))
        ty = np.empty(4 * max(size_s, size_c))
        for q in range(4):
            quad = np.empty(4)
            quad[0] = box[0] if q % 2 == 0 else mx
            quad[2] = mx if q % 2 == 0 else box[2]
            quad[1] = box[1] if q < 2 else my
            quad[3] = my if q < 2 else box[3]
            qsx, qsy, qs_off, k_s = _clipped(sx, sy, s_off, n_s, quad, size_s, tx, ty)
            if k_s == 0:
                continue
            qcx, qcy, qc_off, k_c = _clipped(cx, cy, c_off, n_c, quad, size_c, tx, ty)
            if k_c == 0:
                continue
            stack.append((qsx, qsy, qs_off, k_s, qcx, qcy, qc_off, k_c, quad, depth + 1))
    return total


@njit(cache=True)
def _one_pair(source_arrays, target_arrays, i, j):
    """Area of source i ∩ target j (each ``*_arrays``: coords, ring offsets, geometry
    offsets, bounds). All scratch arrays are allocated here, per call: inside
    a ``prange`` body numba may hoist loop-invariant allocations and share them between
    threads."""
    s_coords, s_rings, s_geoms, s_bounds = source_arrays
    c_coords, c_rings, c_geoms, c_bounds = target_arrays
    xmin = max(s_bounds[i, 0], c_bounds[j, 0])
    ymin = max(s_bounds[i, 1], c_bounds[j, 1])
    xmax = min(s_bounds[i, 2], c_bounds[j, 2])
    ymax = min(s_bounds[i, 3], c_bounds[j, 3])
    if xmin >= xmax or ymin >= ymax:
        return 0.0
    ox = 0.5 * (xmin + xmax)
    oy = 0.5 * (ymin + ymax)
    box = np.empty(4)
    box[0] = xmin - ox
    box[1] = ymin - oy
    box[2] = xmax - ox
    box[3] = ymax - oy
    sx, sy, s_off, n_s = _local_rings(s_coords, s_rings, s_geoms[i], s_geoms[i + 1], ox, oy)
    cx, cy, c_off, n_c = _local_rings(c_coords, c_rings, c_geoms[j], c_geoms[j + 1], ox, oy)
    size = 4 * max(len(sx), len(cx)) + 64
    tx = np.empty(4 * size)
    ty = np.empty(4 * size)
    ksx, ksy, ks_off, k_s = _clipped(sx, sy, s_off, n_s, box, size, tx, ty)
    if k_s == 0:
        return 0.0
    kcx, kcy, kc_off, k_c = _clipped(cx, cy, c_off, n_c, box, size, tx, ty)
    if k_c == 0:
        return 0.0
    return _area_in_box(ksx, ksy, ks_off, k_s, kcx, kcy, kc_off, k_c, box)


@njit(cache=True, parallel=True)
def _pair_areas(source_arrays, target_arrays, left, right):
    out = np.zeros(len(left))
    for p in prange(len(left)):
        out[p] = _one_pair(source_arrays, target_arrays, left[p], right[p])
    return out


def intersection_areas(
    sources: np.ndarray, targets: np.ndarray, left: np.ndarray, right: np.ndarray
) -> np.ndarray:
    """Area of ``sources[left[k]] ∩ targets[right[k]]`` for every k, exactly, in parallel."""
    source_arrays = (*ring_arrays(sources), shapely.bounds(sources))
    target_arrays = (*ring_arrays(targets), shapely.bounds(targets))
    return _pair_areas(source_arrays, target_arrays, left.astype(np.int64), right.astype(np.int64))
