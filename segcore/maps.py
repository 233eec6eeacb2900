"""What a 2-D map of every user needs at any size: a density image and the users inside a drawn region.

A browser without a GPU takes about a second to draw 20,000 WebGL dots, and
a million dots do not fit in a page at all. So the map shows every user as
an image (:func:`density_image`: each pixel coloured by the segments of the
users in it, more opaque where more users sit), draws only a few dots on
top for hovering, and answers a box or lasso selection on the server from
the positions of every user (:func:`in_regions`), not from the dots.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InputError

__all__ = ["DensityImage", "density_image", "density_png", "positions_by_row", "sample_placed", "in_regions",
           "selection_contrast", "selected_users",
           "MIN_OPACITY"]

MIN_OPACITY = 0.25  # a pixel holding a single user: faint, but visible on white


@dataclass(frozen=True)
class DensityImage:
    """An RGBA image of points and where it sits in data coordinates.

    ``rgba[0]`` is the top row (largest y), as images are stored; pixel ``(r, c)`` covers
    x in ``[x0 + c * dx, x0 + (c + 1) * dx)`` and y in ``[y1 - (r + 1) * dy, y1 - r * dy)``.
    ``counts`` holds the number of points per pixel, in the same layout.
    """

    rgba: np.ndarray  # uint8, (height, width, 4)
    counts: np.ndarray  # int64, (height, width)
    x0: float
    x1: float
    y0: float
    y1: float


def _extent(v: np.ndarray) -> tuple[float, float]:
    lo, hi = float(v.min()), float(v.max())
    if hi <= lo:  # every point at one coordinate: give the image some width
        lo, hi = lo - 0.5, hi + 0.5
    pad = (hi - lo) * 0.01  # the outermost points fall inside the last pixel, not on its edge
    return lo - pad, hi + pad


def density_image(x, y, labels, palette, *, width: int = 600, height: int = 400) -> DensityImage:
    """Rasterise points into an image coloured by label.

    Parameters
    ----------
    x, y : array-like of float, shape (n,)
        Positions. Rows where either is NaN are left out.
    labels : array-like of int, shape (n,)
        Each point's label, an index into ``palette``.
    palette : array-like, shape (n_labels, 3)
        RGB colour (0-255) of each label.
    width, height : int
        Size of the image in pixels.

    Returns
    -------
    DensityImage
        Each pixel's colour is the mean colour of its points' labels (so a pixel shared by two
        segments shows their mix); its opacity grows with the logarithm of its point count, from
        ``MIN_OPACITY`` for one point to 1 for the fullest pixel. Empty pixels are transparent.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    labels = np.asarray(labels)
    palette = np.asarray(palette, dtype=float)
    if not (x.shape == y.shape == labels.shape) or x.ndim != 1:
        raise InputError(f"x, y and labels must be 1-D and of one length, got {x.shape}, {y.shape}, {labels.shape}")
    if palette.ndim != 2 or palette.shape[1] != 3:
        raise InputError(f"palette must have one RGB row per label, got shape {palette.shape}")
    if width < 1 or height < 1:
        raise InputError(f"the image needs at least one pixel, got {width} x {height}")
    keep = np.isfinite(x) & np.isfinite(y)
    x, y, labels = x[keep], y[keep], labels[keep].astype(np.int64)
    if len(labels) and (labels.min() < 0 or labels.max() >= len(palette)):
        raise InputError(f"labels must index the palette's {len(palette)} colours")
    if len(x) == 0:
        raise InputError("no positioned points to draw")
    x0, x1 = _extent(x)
    y0, y1 = _extent(y)
    col = np.minimum(((x - x0) / (x1 - x0) * width).astype(np.int64), width - 1)
    row = np.minimum(((y1 - y) / (y1 - y0) * height).astype(np.int64), height - 1)
    k = len(palette)
    # one bincount gives every (pixel, label) count; the pixel's colour is their palette mean
    per_label = np.bincount((row * width + col) * k + labels, minlength=height * width * k)
    per_label = per_label.reshape(height, width, k)
    counts = per_label.sum(axis=2)
    filled = counts > 0
    rgb = (per_label @ palette) / np.maximum(counts, 1)[..., None]
    alpha = np.zeros(counts.shape)
    alpha[filled] = MIN_OPACITY + (1 - MIN_OPACITY) * np.log(counts[filled]) / np.log(max(counts.max(), 2))
    rgba = np.dstack([np.rint(rgb), np.rint(alpha * 255)]).clip(0, 255).astype(np.uint8)
    return DensityImage(rgba, counts, x0, x1, y0, y1)


def in_regions(x, y, regions) -> np.ndarray:
    """Which points lie inside any of the drawn regions.

    Parameters
    ----------
    x, y : array-like of float, shape (n,)
        Positions (NaN: never inside).
    regions : iterable of (kind, xs, ys)
        ``("box", (x_a, x_b), (y_a, y_b))`` for a rectangle (corners in either order, edges
        included) or ``("lasso", xs, ys)`` for a polygon given by its vertices (at least three;
        a self-crossing outline is repaired, so its loops all count as inside).

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    inside = np.zeros(x.shape, dtype=bool)
    for kind, xs, ys in regions:
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        if kind == "box":
            if xs.shape != (2,) or ys.shape != (2,):
                raise InputError("a box needs two x and two y coordinates")
            inside |= (x >= xs.min()) & (x <= xs.max()) & (y >= ys.min()) & (y <= ys.max())
        elif kind == "lasso":
            if xs.shape != ys.shape or xs.ndim != 1 or len(xs) < 3:
                raise InputError("a lasso needs at least three points, as many x as y")
            inside |= _in_polygon(x, y, xs, ys)
        else:
            raise InputError(f"unknown region kind {kind!r}: use 'box' or 'lasso'")
    return inside


def _in_polygon(x, y, xs, ys) -> np.ndarray:
    import shapely  # a lasso is rare: import the geometry library only when one is drawn

    shape = shapely.make_valid(shapely.Polygon(np.column_stack([xs, ys])))
    shapely.prepare(shape)
    # test only the points inside the lasso's bounding box: the rest cannot be in it
    xa, ya, xb, yb = shapely.bounds(shape)
    near = (x >= xa) & (x <= xb) & (y >= ya) & (y <= yb)
    inside = np.zeros(x.shape, dtype=bool)
    inside[near] = shapely.intersects_xy(shape, x[near], y[near])
    return inside


def positions_by_row(user_ids, placed_ids, placed_xy) -> np.ndarray:
    """Positions aligned to ``user_ids`` (a run's rows): NaN for a user not placed (``placed_ids`` with
    their ``placed_xy``, as a projection stores them)."""
    import pandas as pd

    rows = pd.Index(user_ids).get_indexer(placed_ids)
    found = rows >= 0
    xy = np.full((len(user_ids), 2), np.nan)
    xy[rows[found]] = np.asarray(placed_xy, dtype=float)[found]
    return xy


def sample_placed(xy: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """Row numbers of a seeded sample of at most ``size`` placed users (those with a position), in order."""
    from ._common import seeded_rows

    return seeded_rows(np.flatnonzero(~np.isnan(xy[:, 0])), size, seed)


def density_png(xy: np.ndarray, labels, colours: dict, *,
                max_width: int = 600) -> tuple[str, float, float, float, float]:
    """Every placed user as a PNG data URI (:func:`density_image`) and where it sits: (uri, x0, x1, y0, y1).

    ``labels``: each row's segment; ``colours``: segment -> ``#rrggbb`` (grey for a segment without one).
    The image is about 1.5 pixels wide per square root of the users placed, between 120 and ``max_width``."""
    import base64
    import io

    from PIL import Image

    labels = np.asarray(labels)
    ids = np.unique(labels)
    palette = [[int(colours.get(int(c), "#888888")[i:i + 2], 16) for i in (1, 3, 5)] for c in ids]
    placed = int((~np.isnan(xy[:, 0])).sum())
    width = int(np.clip(np.sqrt(placed) * 1.5, 120, max_width))
    image = density_image(xy[:, 0], xy[:, 1], np.searchsorted(ids, labels), palette, width=width,
                          height=width * 2 // 3)
    png = io.BytesIO()
    Image.fromarray(image.rgba, "RGBA").save(png, format="PNG")
    return ("data:image/png;base64," + base64.b64encode(png.getvalue()).decode(), image.x0, image.x1, image.y0,
            image.y1)



def selection_contrast(frame, numeric: list[str], categorical: list[str], clusters, inside, against=None):
    """The segments of the users inside a drawn region, and how those users differ.

    Returns ``(counts, differences)``: users inside per segment (a Series, largest first) and
    :func:`segcore.profile.contrast` of the users inside against everyone, or, with ``against`` a
    segment, of those inside that segment against its other users (what sets the selected part of a
    segment apart from the rest of it).
    """
    import pandas as pd

    from .profile import contrast

    clusters = np.asarray(clusters)
    inside = np.asarray(inside, dtype=bool)
    counts = pd.Series(clusters[inside]).value_counts()
    if against is None:
        return counts, contrast(frame, numeric, categorical, inside)
    own = clusters == against
    if not (own & ~inside).any():
        raise InputError("every user of that segment is selected: there is no rest of it to compare with")
    return counts, contrast(frame, numeric, categorical, inside & own, reference=own & ~inside)


def selected_users(assignments, inside, names):
    """The users inside a drawn region (``assignments``: user_id and cluster, in the rows of ``inside``),
    with their segment and persona (``names``: a Series of persona names by cluster)."""
    chosen = assignments.loc[np.asarray(inside, dtype=bool), ["user_id", "cluster"]].reset_index(drop=True)
    return chosen.assign(persona=chosen["cluster"].map(names))
