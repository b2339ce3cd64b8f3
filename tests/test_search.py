"""The model-based methods of the local backend (tpe, gp): what they draw and what they learn."""

from __future__ import annotations

import pytest

from sweeper import controller, spec
from sweeper.controller import ControllerRun

VALUES = list(range(0, 100, 5))  # 20 ordered values; the best is 65 (position 13)


def _config(method: str, values: list) -> dict:
    return spec.validate({"method": method, "program": "x.py",
                          "metric": {"name": "loss", "goal": "minimize"},
                          "parameters": {"x": {"values": values}, "kind": {"values": ["a", "b"]}}},
                         "f.yaml", builtin=False)


def _run(i: int, x, kind="a", loss=None) -> ControllerRun:
    return ControllerRun(name=str(i), params={"x": x, "kind": kind}, state="finished",
                         metric_history=[loss], metric_summary=loss)


@pytest.mark.parametrize("method", ["tpe", "gp"])
def test_a_numeric_values_list_is_searched_as_an_order(method):
    """Runs at every other value: the best seen are 60 and 70. Searching by position, the
    method stays near them and tries values it has not seen there; as unrelated labels it
    cannot tell the unseen 65 from the unseen 5."""
    seen = [_run(i, x, loss=(x - 65) ** 2) for i, x in enumerate(VALUES[::2])]
    config = _config(method, VALUES)
    draws = [controller.suggest(config, seen, seed_key=f"s{seed}")["x"] for seed in range(12)]
    assert all(x in VALUES and type(x) is int for x in draws)
    assert all(50 <= x <= 80 for x in draws), draws  # as labels, tpe drew 45 and 5 here
    assert set(draws) - set(VALUES[::2]), draws  # as labels, gp only repeated 60


def test_values_keep_their_type_and_short_or_mixed_lists_stay_labels():
    config = _config("tpe", [1e-5, 3e-5, 5e-5])
    assert controller.suggest(config, [])["x"] in (1e-5, 3e-5, 5e-5)
    for values in ([1, 2], [1, "two", 3], [True, False, True]):
        drawn = controller.suggest(_config("tpe", values), [])["x"]
        assert drawn in values


def test_a_run_from_another_space_is_left_out():
    config = _config("tpe", VALUES)
    runs = [_run(0, 7, loss=0.0), *(_run(i, x, loss=float(i)) for i, x in enumerate(VALUES[:6], 1))]
    assert controller.suggest(config, runs)["x"] in VALUES
