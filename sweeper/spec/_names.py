"""The names a sweep file may use for methods and the built-in program (no imports: the CLI's
option lists are built from these)."""

W_AND_B_METHODS = ("grid", "random", "bayes")
# Methods the local backend offers through Optuna; a W&B server refuses them.
LOCAL_METHODS = ("tpe", "gp", "nsga2", "auto")
METHODS = W_AND_B_METHODS + LOCAL_METHODS
NEEDS_METRIC = ("bayes",) + LOCAL_METHODS
# Methods that run a sweep of several metrics (``metrics:``, the local backend's extension):
# Optuna's multi-objective samplers, and the methods that need no metric at all.
MULTI_OBJECTIVE_METHODS = ("tpe", "gp", "nsga2", "auto", "random", "grid")

# The built-in trainer: the program sweeper runs for a sweep that names none.
BUILTIN_PROGRAM = "agents/train.py"

# The metric each task's built-in trainer logs at every evaluation, and its goal.
TASK_METRICS: dict[str, tuple[str, str]] = {
    "classification": ("eval/accuracy", "maximize"),
    "multilabel": ("eval/f1_micro", "maximize"),
    "ner": ("eval/f1", "maximize"),
    "qa": ("eval/f1", "maximize"),
}
