"""Analysis of a sweep: its runs as a DataFrame, seed-aware ranking, and promotion of the best
run's checkpoint to a model registry."""

from __future__ import annotations

from .. import registry
from ..backends import Backend
from ..errors import BadInput
from ._frame import frame, parameter_columns, runs, source
from ._importance import importance, varied_parameters
from ._rank import SEED_PARAMS, failed, rank


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
    return held.promote(chosen, name or info["name"], aliases, metadata, registry_dir)


__all__ = ["SEED_PARAMS", "best_run", "failed", "frame", "importance", "parameter_columns",
           "plot", "promote", "rank", "runs", "varied_parameters"]
