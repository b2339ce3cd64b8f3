"""Analysis of a sweep: its runs as a DataFrame, seed-aware ranking, and promotion of the best
run's checkpoint to a model registry."""

from __future__ import annotations

from .. import objectives, registry
from ..backends import Backend
from ..errors import BadInput
from ..ranking import RANKED_STATES
from ._frame import VALUE_PREFIX, frame, objective_columns, parameter_columns, runs, source
from ._importance import importance, varied_parameters
from ._rank import SEED_PARAMS, failed, ordered, rank


def plot(df, out):
    """Write the sweep's plots as PNG files into ``out`` (see ``_plots``); return their paths."""
    from ._plots import plot_all

    return plot_all(df, out)


def best_run(df, by: str | None = None) -> dict:
    """The best ranked run (a row as a dict); BadInput when no run can be ranked.

    A sweep of several metrics has no one best run: ``by`` names the metric by which to pick
    from its Pareto front (the front's best run on that metric); without it, BadInput."""
    info = df.attrs.get("sweep", {})
    config = info.get("config") or {}
    scored = df[df["state"].isin(RANKED_STATES)]
    if objectives.is_multi(config):
        names = objectives.names(config)
        scored = scored[scored["front"] == 1] if "front" in scored else scored.iloc[:0]
        if by is None:
            raise BadInput(f"a sweep of several metrics has no one best run: its Pareto front "
                           f"holds {len(scored)} run{'s' * (len(scored) != 1)}; name the metric "
                           "to pick its best by: " + " or ".join(f"--by {n}" for n in names))
        if by not in names:
            raise BadInput(f"--by {by!r}: not a metric of this sweep; one of {', '.join(names)}")
        goal = dict(zip(names, (o.goal for o in objectives.of(config)), strict=True))[by]
        column = f"{VALUE_PREFIX}{by}"
        if scored.empty:
            raise BadInput("no finished run reported every metric; nothing to promote")
    else:
        metric = info.get("metric")
        if by is not None and by != metric:
            raise BadInput(f"--by {by!r}: this sweep has one metric, {metric!r}; its best run "
                           "is the best by it")
        goal, column = info.get("goal", "minimize"), "metric_value"
        scored = scored[scored[column].notna()]
        if scored.empty:
            raise BadInput("no finished run reported the sweep's metric; nothing to promote")
    values = scored[column].astype(float)
    return scored.loc[values.idxmax() if goal == "maximize" else values.idxmin()].to_dict()


def promote(sweep_id: str, name: str | None = None, aliases: tuple[str, ...] = (),
            run: str | None = None, storage: str | None = None,
            backend: Backend | None = None, registry_dir: str | None = None,
            by: str | None = None) -> registry.Version:
    """Register the best run's best checkpoint (or ``run``'s) as a new version of ``name``: in
    the local registry for a local sweep, in the W&B Registry for a W&B sweep. A sweep of
    several metrics promotes the run of its Pareto front that is best ``by`` the named metric."""
    held = source(sweep_id, storage, backend)
    df = runs(sweep_id, backend=held)
    info = df.attrs["sweep"]
    if run is not None:
        rows = df[df["name"] == run]
        if rows.empty:
            raise BadInput(f"no run {run!r} in sweep {info['id']}")
        chosen = rows.iloc[0].to_dict()
        if chosen["state"] not in ("finished", "stopped"):
            raise BadInput(f"run {run!r} is {chosen['state']}; only finished runs are promoted")
    else:
        chosen = best_run(df, by)
    params = {c: chosen[c] for c in parameter_columns(df) if c in chosen}
    metric, value = info["metric"], chosen["metric_value"]
    goal = info["goal"]
    if objectives.is_multi(info["config"]):  # the metric it was picked by (or the first)
        picked = objectives.of(info["config"])
        chosen_by = next((o for o in picked if o.name == by), picked[0])
        metric, goal = chosen_by.name, chosen_by.goal
        value = chosen.get(f"{VALUE_PREFIX}{metric}")
    metadata = {"sweep": info["id"], "sweep_name": info["name"], "run": chosen["name"],
                "metric": metric, "value": value, "config": params}
    name = name or info["name"]
    best, note = _moves_best(held, name, aliases, run, metadata, goal, registry_dir)
    version = held.promote(chosen, name, tuple(a for a in aliases if a != "best"), metadata,
                           registry_dir, best=best)
    version.note = note
    return version


def _moves_best(held: Backend, name: str, aliases: tuple[str, ...], run: str | None,
                metadata: dict, goal: str, registry_dir: str | None) -> tuple[bool, str]:
    """Whether ``best`` moves to this promotion: asked for (``--alias best``); or the sweep's
    best run, when it beats the version ``best`` points at (same metric); never otherwise."""
    if "best" in aliases:
        return True, ""
    if run is not None:
        return False, "best stays where it is (an explicit --run; add --alias best to move it)"
    current = held.registered(name, "best", registry_dir)
    if current is None or current.get("metric") != metadata["metric"] \
            or not isinstance(current.get("value"), (int, float)):
        return True, ""
    value = metadata["value"]
    beats = value > current["value"] if goal == "maximize" else value < current["value"]
    if beats:
        return True, ""
    return False, (f"best stays on {current.get('version')} ({metadata['metric']}="
                   f"{current['value']:.4g} from run {current.get('run')}, which this run's "
                   f"{value:.4g} does not beat)")


__all__ = ["SEED_PARAMS", "best_run", "failed", "frame", "importance", "objective_columns",
           "ordered", "parameter_columns", "plot", "promote", "rank", "runs", "varied_parameters"]
