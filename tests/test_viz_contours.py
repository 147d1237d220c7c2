"""tyshare_lib.viz.contours: contour lines lie on their level, are chained into whole polylines, and the tying
explorer draws its loss contours with them."""
import math

import numpy as np
import pytest

from tyshare_lib.checks import ArgumentError
from tyshare_lib.tying import make_two_tasks
from tyshare_lib.viz import tying as viz
from tyshare_lib.viz.contours import auto_levels, contour_lines
from tyshare_lib.viz.style import TASK_A, TASK_B

GRID = np.linspace(-2.0, 2.0, 81)  # step 0.05
BOWL = GRID[None, :] ** 2 + GRID[:, None] ** 2  # z = x² + y², shape (ny, nx)


def polylines(xs, ys) -> list[np.ndarray]:
    """The (n, 2) points of each polyline of a Scatter trace's x and y (polylines separated by None)."""
    if not xs:
        return []
    out, cur = [], []
    for x, y in zip(list(xs) + [None], list(ys) + [None]):
        if x is None:
            assert y is None and cur, "x and y must have their None at the same places, and no empty polyline"
            out.append(np.array(cur))
            cur = []
        else:
            cur.append((x, y))
    return out


def test_every_point_lies_on_its_circle_and_a_closed_circle_is_one_polyline():
    for level in (0.25, 1.0, 3.0):
        xs, ys = contour_lines(GRID, GRID, BOWL, [level])
        (line,) = polylines(xs, ys)  # one polyline: the circle is chained, not left in 2-point pieces
        r = np.hypot(line[:, 0], line[:, 1])
        # linear interpolation of r² along a cell edge of 0.05 misses r by at most ~0.05²/(8r)·2, plus rounding
        assert np.abs(r - math.sqrt(level)).max() < 2e-3
        assert len(line) > 40 and (line[0] == line[-1]).all()  # closed: it ends where it began
        angles = np.sort(np.arctan2(line[:, 1], line[:, 0]))
        assert np.diff(angles).max() < 0.2  # it goes all the way round


def test_levels_are_separated_and_open_lines_end_on_the_border():
    xs, ys = contour_lines(GRID, GRID, BOWL, [1.0, 5.0])
    lines = polylines(xs, ys)
    assert len(lines) == 5  # the circle r = 1, then r = √5 > 2 leaves the grid: its four corner arcs
    for arc in lines[1:]:
        assert np.abs(np.hypot(arc[:, 0], arc[:, 1]) - math.sqrt(5)).max() < 2e-3
        assert (np.abs(arc[[0, -1]]) == 2.0).any(axis=1).all()  # both ends on the grid's edge
        assert (arc[0] != arc[-1]).any()


def test_a_level_outside_the_surface_draws_nothing():
    assert contour_lines(GRID, GRID, BOWL, [-1.0, 9.0]) == ([], [])
    assert contour_lines(GRID, GRID, BOWL, []) == ([], [])
    assert contour_lines(GRID, GRID, np.ones_like(BOWL), [1.0]) == ([], [])  # a flat surface has no line


def test_uneven_grids_interpolate_along_each_axis():
    x, y = np.array([0.0, 1.0, 4.0]), np.array([-1.0, 0.0])
    z = np.array([[0.0, 1.0, 4.0], [0.0, 1.0, 4.0]])  # z = x on this grid
    xs, ys = contour_lines(x, y, z, [2.5])
    assert xs == [2.5, 2.5] and sorted(ys) == [-1.0, 0.0]  # halfway from x = 1 to x = 4, not from index 1 to 2


@pytest.mark.parametrize("level, expected", [
    # the centre's mean (0.5) is above 0.4, as are corners (0, 0) and (1, 1): the line cuts off the other two
    (0.4, {((0.6, 0.0), (1.0, 0.4)), ((0.0, 0.6), (0.4, 1.0))}),
    # the centre is below 0.6, as are corners (1, 0) and (0, 1): the line cuts off (0, 0) and (1, 1)
    (0.6, {((0.0, 0.4), (0.4, 0.0)), ((0.6, 1.0), (1.0, 0.6))}),
])
def test_a_saddle_cell_is_split_by_the_mean_of_its_corners(level, expected):
    z = [[1.0, 0.0], [0.0, 1.0]]  # z[j][i] at (x[i], y[j]): high at (0, 0) and (1, 1)
    first = contour_lines([0, 1], [0, 1], z, [level])
    assert contour_lines([0, 1], [0, 1], z, [level]) == first  # deterministic
    segments = {tuple(sorted(map(tuple, line))) for line in polylines(*first)}
    assert segments == expected


def test_auto_levels_follow_plotly_autocontour():
    # step (max − min) / 14 rounded *up* to 2, 5 or 10 × 10ᵏ; levels strictly inside (min, max)
    assert auto_levels([0.0, 1.0]) == pytest.approx(np.arange(1, 10) / 10)  # 1/14 → 0.1: 0.1 … 0.9
    assert auto_levels([[-1.05, 0.0], [1.0, 2.19]]) == pytest.approx([-1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0])
    assert auto_levels([0.99, 1.98]) == pytest.approx(np.arange(10, 20) / 10)  # what plotly.js drew for task A
    assert auto_levels([0.0, 3.0], ncontours=3) == pytest.approx([2.0])  # 1.0 → 2: 0 and the bound 3 left out
    assert auto_levels([1.0, 1.0]).size == 0
    levels = auto_levels(BOWL)
    step = np.diff(levels)
    assert np.allclose(step, step[0]) and levels[0] > BOWL.min() and levels[-1] < BOWL.max()
    assert 14 / 5 <= len(levels) <= 14


@pytest.mark.parametrize("call, error, match", [
    (lambda: contour_lines(GRID, GRID, BOWL[:, :-1], [1.0]), ValueError, r"z must have shape \(len\(y\), len\(x\)\)"),
    (lambda: contour_lines(GRID, GRID, BOWL.ravel(), [1.0]), ValueError, "z must be a 2-D array"),
    (lambda: contour_lines(GRID, GRID, np.where(BOWL > 7, np.nan, BOWL), [1.0]), ValueError, "z must be finite"),
    (lambda: contour_lines(GRID, GRID, BOWL, [[1.0]]), ValueError, "levels must be a 1-D array"),
    (lambda: contour_lines(GRID, GRID, BOWL, [1.0, math.inf]), ValueError, "levels must be finite"),
    (lambda: contour_lines(GRID, GRID, BOWL, 1.0), ValueError, "levels must be a 1-D array"),
    (lambda: contour_lines(GRID, GRID, BOWL, ["a"]), ArgumentError, "levels must be a 1-D array of real numbers"),
    (lambda: contour_lines(GRID[::-1], GRID, BOWL, [1.0]), ValueError, "x must be strictly increasing"),
    (lambda: contour_lines(GRID, np.r_[GRID[:-1], GRID[-2]], BOWL, [1.0]), ValueError, "y must be strictly increasing"),
    (lambda: contour_lines([0.0], [0.0], [[1.0]], [1.0]), ValueError, "x must be strictly increasing with at least 2"),
    (lambda: auto_levels([np.inf, 1.0]), ValueError, "z must be finite"),
    (lambda: auto_levels([]), ValueError, "z must not be empty"),
    (lambda: auto_levels([0.0, 1.0], ncontours=0), ValueError, "ncontours must be in"),
])
def test_bad_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ----------------------------------------------------------------------------- the tying explorer
@pytest.fixture(scope="module")
def tasks():
    return make_two_tasks(seed=0)


@pytest.fixture(scope="module")
def explorer_fig(tasks):
    return viz.figure_lambda_explorer(tasks)


def test_explorer_draws_its_loss_contours_as_plain_lines(explorer_fig):
    for i, colour, name in [(0, TASK_A, "loss of task A"), (1, TASK_B, "loss of task B")]:
        t = explorer_fig.data[i]
        assert (t.type, t.mode, t.name, t.hoverinfo) == ("scatter", "lines", name, "skip")
        assert (t.line.color, t.line.width, t.opacity) == (colour, 1.5, 0.55)
        assert t.showlegend is False  # as the go.Contour it replaces: plotly.js keeps a contour out of the legend
        assert 2 <= sum(v is None for v in t.x) < 40  # a few long polylines per level, not thousands of pieces
    assert [t.type for t in explorer_fig.data[2:]] == ["scatter"] * 8 + ["bar"] * 2 + ["scatter"] * 2


def test_explorer_contours_lie_on_the_tasks_loss_levels(tasks, explorer_fig):
    """Evaluate each task's training loss at every drawn point: the points sit on plotly's autocontour levels
    of the log loss over the weight-space grid, and every level is drawn."""
    # the weight-space axes autorange to the loss grid's extent (as the go.Contour trace made them)
    x_ends = explorer_fig.layout.xaxis.autorangeoptions.include
    y_ends = explorer_fig.layout.yaxis.autorangeoptions.include
    centre, half = np.array([np.mean(x_ends), np.mean(y_ends)]), (x_ends[1] - x_ends[0]) / 2
    for i, (X, y) in enumerate([(tasks.XA, tasks.yA), (tasks.XB, tasks.yB)]):
        g1, g2, z = viz.loss_surface(X, y, centre, half)
        assert np.allclose([g1[0], g1[-1], g2[0], g2[-1]], [*x_ends, *y_ends])
        levels = auto_levels(np.log(z))
        points = np.concatenate(polylines(explorer_fig.data[i].x, explorer_fig.data[i].y))
        log_loss = np.log(((X.numpy() @ points.T - y.numpy()[:, None]) ** 2).mean(axis=0))
        off = log_loss[:, None] - levels[None, :]
        nearest = np.abs(off).argmin(axis=1)
        assert np.abs(off[np.arange(len(off)), nearest]).max() < 0.02 * (levels[1] - levels[0])
        assert set(nearest) == set(range(len(levels)))
