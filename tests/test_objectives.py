"""Several metrics: Pareto fronts, hypervolume, and ranking configurations by front."""

from __future__ import annotations

import random

import pytest

from sweeper import objectives, ranking


def _brute_fronts(points, goals):
    """Fronts by peeling: front 1 is what nothing dominates, front 2 what only front 1 does."""
    left = dict(enumerate(points))
    out = [0] * len(points)
    front = 1
    while left:
        top = [i for i, p in left.items()
               if not any(objectives.dominates(q, p, goals) for j, q in left.items() if j != i)]
        for i in top:
            out[i] = front
            del left[i]
        front += 1
    return out


@pytest.mark.parametrize("goals", [["minimize", "minimize"], ["maximize", "minimize"],
                                   ["maximize", "minimize", "maximize"]])
def test_fronts_are_those_of_peeling_off_non_dominated_points(goals):
    rng = random.Random(len(goals))
    for _ in range(30):
        points = [tuple(float(rng.randint(0, 6)) for _ in goals) for _ in range(40)]
        assert objectives.fronts(points, goals) == _brute_fronts(points, goals)


def test_hypervolume_of_two_metrics_counts_each_area_once():
    goals = ["maximize", "minimize"]
    assert objectives.hypervolume([(3.0, 1.0)], goals, (0.0, 5.0)) == 12.0
    # a dominated point and points beyond the reference add nothing
    assert objectives.hypervolume([(3.0, 1.0), (2.0, 2.0), (-1.0, 0.0), (9.0, 6.0)], goals,
                                  (0.0, 5.0)) == 12.0
    assert objectives.hypervolume([(3.0, 1.0), (4.0, 3.0)], goals, (0.0, 5.0)) == 14.0


def test_ranking_puts_the_front_of_configuration_means_first():
    goals = [objectives.Objective("acc", "maximize"), objectives.Objective("time", "minimize")]
    runs = [ranking.Scored("fast", "finished", {"w": 16}, (0.80, 1.0)),
            ranking.Scored("slow", "finished", {"w": 256}, (0.95, 9.0)),
            ranking.Scored("worse", "finished", {"w": 64}, (0.79, 2.0)),
            ranking.Scored("mid-1", "finished", {"w": 32, "seed": 1}, (0.86, 2.0)),
            ranking.Scored("mid-2", "stopped", {"w": 32, "seed": 2}, (0.90, 4.0)),
            ranking.Scored("broken", "failed", {"w": 8}, (0.99, 0.1)),
            ranking.Scored("no-time", "finished", {"w": 8}, (0.99, None))]
    ranked = ranking.rank(runs, goals)
    assert [(c.params, c.front) for c in ranked] == [
        ({"w": 256}, 1), ({"w": 32}, 1), ({"w": 16}, 1), ({"w": 64}, 2)]
    middle = ranked[1]
    assert middle.n == 2 and middle.mean == pytest.approx((0.88, 3.0))
    assert middle.run_names == "mid-1, mid-2 (stopped)"
