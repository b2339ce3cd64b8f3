"""Analysis of a sweep: its runs as a DataFrame, seed-aware ranking, and promotion of the best
run's checkpoint to a model registry."""

from __future__ import annotations

from .. import registry
from ..backends import Backend
from ..errors import BadInput
from ._frame import frame, parameter_columns, runs, source
from ._importance import importance, varied_parameters
from ._rank import SEED_PARAMS, failed, ordered, rank


def plot(df, out):
    """Write the sweep's plots as PNG files into ``out`` (see ``_plots``); return their paths."""
    from ._plots import plot_all

    return plot_all(df, out)


def best_run(df) -> dict:
    """The best ranked run (a row as a dict); BadInput when no run can be ranked."""
    goal = df.attrs.get("sweep", {}).get("goal", "minimize")
    scored = df[df["state"].isin(("finished", "stopped")) & df["metric_value"].notna()]
    if scored.empty:
        raise BadInput("no finished run reported the sweep's metric; nothing to promote")
    index = scored["metric_value"].idxmax() if goal == "maximize" else scored["metric_value"].idxmin()
    return scored.loc[index].to_dict()


def promote(sweep_id: str, name: str | None = None, aliases: tuple[str, ...] = (),
            run: str | None = None, storage: str | None = None,
            backend: Backend | None = None, registry_dir: str | None = None) -> registry.Version:
    """Register the best run's best checkpoint (or ``run``'s) as a new version of ``name``: in
    the local registry for a local sweep, in the W&B Registry for a W&B sweep."""
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
        chosen = best_run(df)
    params = {c: chosen[c] for c in parameter_columns(df) if c in chosen}
    metadata = {"sweep": info["id"], "sweep_name": info["name"], "run": chosen["name"],
                "metric": info["metric"], "value": chosen["metric_value"], "config": params}
    name = name or info["name"]
    best, note = _moves_best(held, name, aliases, run, metadata, info["goal"], registry_dir)
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


__all__ = ["SEED_PARAMS", "best_run", "failed", "frame", "importance", "ordered",
           "parameter_columns", "plot", "promote", "rank", "runs", "varied_parameters"]
