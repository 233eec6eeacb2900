"""The Explore map's core: the density image of every user, region selection, and the selection's contrast."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import segcore
from segcore.errors import InputError
from segcore.maps import MIN_OPACITY, density_image, in_regions
from segcore.profile import contrast, indicator_frame, profile_clusters

PALETTE = [[255, 0, 0], [0, 0, 255], [0, 128, 0]]


def test_density_image_counts_every_point_where_numpy_histogram2d_does():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=50_000), rng.normal(scale=3, size=50_000)
    labels = rng.integers(0, 3, size=50_000)
    img = density_image(x, y, labels, PALETTE, width=90, height=60)
    ref, _, _ = np.histogram2d(x, y, bins=(90, 60), range=[[img.x0, img.x1], [img.y0, img.y1]])
    # image rows run from the top (largest y) down; histogram2d's axes are (x, y) from the bottom
    assert np.array_equal(img.counts, ref.T[::-1].astype(int))
    assert img.counts.sum() == 50_000 and img.rgba.shape == (60, 90, 4) and img.rgba.dtype == np.uint8
    assert img.x0 < x.min() and img.x1 > x.max() and img.y0 < y.min() and img.y1 > y.max()
    filled = img.counts > 0
    assert np.array_equal(img.rgba[..., 3] > 0, filled)  # empty pixels are transparent, filled ones are not
    assert img.rgba[..., 3][filled].min() == round(MIN_OPACITY * 255) or img.counts[filled].min() > 1
    assert img.rgba[..., 3].max() == 255  # the fullest pixel is opaque


def test_density_image_mixes_the_colours_of_the_users_in_a_pixel():
    # three users in the left pixel (two red, one blue), one green user alone in the right pixel
    x, y = np.array([0.0, 0.1, 0.2, 10.0]), np.zeros(4)
    img = density_image(x, y, np.array([0, 0, 1, 2]), PALETTE, width=2, height=1)
    left, right = img.rgba[0, 0], img.rgba[0, 1]
    assert list(left[:3]) == [170, 0, 85] and left[3] == 255  # the mean of red, red and blue; the fullest
    assert list(right[:3]) == [0, 128, 0]
    assert right[3] == round(255 * (MIN_OPACITY + (1 - MIN_OPACITY) * np.log(1) / np.log(3)))


def test_density_image_leaves_out_unplaced_users_and_refuses_bad_input():
    img = density_image([0.0, np.nan, 1.0], [0.0, 5.0, np.nan], [0, 1, 2], PALETTE, width=4, height=4)
    assert img.counts.sum() == 1
    with pytest.raises(InputError, match="palette"):
        density_image([0.0], [0.0], [3], PALETTE)
    with pytest.raises(InputError, match="one length"):
        density_image([0.0, 1.0], [0.0], [0, 0], PALETTE)
    with pytest.raises(InputError, match="No positioned"):
        density_image([np.nan], [0.0], [0], PALETTE)
    one = density_image([2.0, 2.0], [3.0, 3.0], [1, 1], PALETTE, width=3, height=3)  # every point at one place
    assert one.counts.sum() == 2 and one.x0 < 2 < one.x1


def test_box_and_lasso_select_every_point_inside():
    rng = np.random.default_rng(2)
    x, y = rng.uniform(-1, 1, 100_000), rng.uniform(-1, 1, 100_000)
    box = in_regions(x, y, [("box", (0.5, -0.2), (0.1, 0.9))])  # corners in either order
    assert np.array_equal(box, (x >= -0.2) & (x <= 0.5) & (y >= 0.1) & (y <= 0.9))
    t = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    disc = in_regions(x, y, [("lasso", 0.6 * np.cos(t), 0.6 * np.sin(t))])
    r = np.hypot(x, y)
    assert disc[r < 0.59].all() and not disc[r > 0.6].any()  # a 200-gon inside the circle, outside 0.59
    both = in_regions(x, y, [("box", (0.5, -0.2), (0.1, 0.9)), ("lasso", 0.6 * np.cos(t), 0.6 * np.sin(t))])
    assert np.array_equal(both, box | disc)
    assert not in_regions(np.array([np.nan]), np.array([0.0]), [("box", (-1, 1), (-1, 1))]).any()


def test_a_self_crossing_lasso_counts_both_loops():
    # a figure of eight: the left and right loops are both inside, the gap between is not
    xs, ys = [-2, -1, 1, 2, 2, 1, -1, -2], [-1, -1, 1, 1, -1, -1, 1, 1]
    inside = in_regions(np.array([-1.8, 1.8, 0.0, 0.0]), np.array([0.0, 0.0, 0.9, -0.9]), [("lasso", xs, ys)])
    assert list(inside) == [True, True, False, False]


def test_regions_refuse_what_they_cannot_read():
    x = np.zeros(3)
    for regions, words in (([("circle", (0, 1), (0, 1))], "Unknown region"), ([("box", (0, 1, 2), (0, 1))], "box"),
                           ([("lasso", (0, 1), (0, 1))], "three points")):
        with pytest.raises(InputError, match=words):
            in_regions(x, x, regions)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-5, 5), st.floats(-5, 5)), min_size=1, max_size=200),
       st.floats(-5, 4), st.floats(0.1, 5), st.floats(-5, 4), st.floats(0.1, 5))
def test_a_rectangular_lasso_selects_what_the_box_selects(points, xa, w, ya, h):
    x, y = np.array(points).T
    box = in_regions(x, y, [("box", (xa, xa + w), (ya, ya + h))])
    lasso = in_regions(x, y, [("lasso", (xa, xa + w, xa + w, xa), (ya, ya, ya + h, ya + h))])
    assert np.array_equal(box, lasso)


def test_contrast_gives_profile_clusters_numbers_for_the_selected_group(sample_store, sample_run):
    design, aligned = segcore.run_matrix(sample_store, sample_run)
    frame = design.frame
    rng = np.random.default_rng(3)
    chosen = (aligned["cluster"].to_numpy() == 1) | (rng.random(len(frame)) < 0.05)
    table = contrast(frame, design.numeric, design.categorical, chosen)
    ref = profile_clusters(indicator_frame(frame, design.numeric, design.categorical), chosen.astype(int))
    assert set(table.index) == set(ref.z.columns)
    np.testing.assert_allclose(table["z"], ref.z.loc[1, table.index], atol=1e-12)
    np.testing.assert_allclose(table["selected"], ref.means.loc[1, table.index], rtol=1e-12)
    np.testing.assert_allclose(table["reference"], ref.population_mean[table.index], rtol=1e-12)
    assert (np.diff(table["z"].abs().to_numpy()) <= 0).all()  # largest difference first


def test_contrast_handles_missing_values_and_refuses_an_empty_group():
    frame = pd.DataFrame({"a": [1.0, np.nan, 3.0, 4.0], "b": [np.nan, np.nan, 1.0, 1.0],
                          "c": ["x", None, "y", "x"]})
    chosen = np.array([True, True, False, False])
    table = contrast(frame, ["a", "b"], ["c"], chosen)
    ref = profile_clusters(indicator_frame(frame, ["a", "b"], ["c"]), chosen.astype(int))
    np.testing.assert_allclose(table["z"], ref.z.loc[1, table.index].to_numpy())
    assert np.isnan(table.loc["b", "selected"]) and table.loc["b", "z"] == 0  # no value among the selected
    with pytest.raises(InputError, match="no users"):
        contrast(frame, ["a"], [], np.zeros(4, bool))


def test_a_selection_is_compared_with_the_rest_of_its_segment():
    """Hand-worked: segment 0 holds users 0-5, three of them selected (values 10, 20, 30); its other three
    hold 1, 2, 3. Against the rest of the segment: means 20 against 2, in the rest's standard deviation."""
    from segcore.maps import selected_users, selection_contrast

    frame = pd.DataFrame({"spend": [10.0, 20.0, 30.0, 1.0, 2.0, 3.0, 50.0, 60.0],
                          "device": ["a", "a", "b", "b", "b", "b", "a", "a"]})
    clusters = np.array([0, 0, 0, 0, 0, 0, 1, 1])
    inside = np.array([True, True, True, False, False, False, True, False])
    counts, table = selection_contrast(frame, ["spend"], ["device"], clusters, inside, against=0)
    assert counts.to_dict() == {0: 3, 1: 1}
    assert table.loc["spend", "selected"] == 20 and table.loc["spend", "reference"] == 2
    assert table.loc["spend", "z"] == pytest.approx((20 - 2) / np.std([1.0, 2.0, 3.0]))
    assert table.loc["device=a", "selected"] == pytest.approx(2 / 3) and table.loc["device=a", "reference"] == 0
    # against everyone, the selection is all four users inside, and the reference all eight
    _, everyone = selection_contrast(frame, ["spend"], ["device"], clusters, inside)
    assert everyone.loc["spend", "selected"] == pytest.approx(27.5) and everyone.loc["spend", "reference"] == 22
    with pytest.raises(InputError, match="no rest of it"):
        selection_contrast(frame, ["spend"], [], clusters, inside | (clusters == 0), against=0)
    users = selected_users(pd.DataFrame({"user_id": list("abcdefgh"), "cluster": clusters}), inside,
                           pd.Series({0: "Savers", 1: "Spenders"}))
    assert users.to_dict("list") == {"user_id": ["a", "b", "c", "g"], "cluster": [0, 0, 0, 1],
                                     "persona": ["Savers", "Savers", "Savers", "Spenders"]}
