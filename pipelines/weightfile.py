"""Weights delivered as a file (``design.weights: {method: file, ...}``), joined to the data.

Per respondent or per group (e.g. kelurahan), decimal commas allowed, unmatched keys reported
with the file rows and data keys concerned. Reading a file named in the config and matching its
keys like the codebook's text is pipeline work, so it lives here and not in :mod:`pipelines.stats`
(which imports nothing from config or codebook).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.stats.weights import WeightingError

__all__ = ["from_file", "read_weight_file"]


def _key_text(values: pd.Series) -> pd.Series:
    """Join keys compared as text: unified punctuation, case and spacing ignored; whole numbers
    without ".0" or leading zeros (Excel turns "007" into 7)."""
    from pipelines.codebook import unify_text

    def one(x):
        if x is None or (isinstance(x, float) and np.isnan(x)):
            return ""
        t = unify_text(x).casefold()
        if re.fullmatch(r"\d+(?:\.0+)?", t):
            return str(int(float(t)))
        return t

    return values.map(one).astype(object)


def _weight_numbers(raw: pd.Series) -> pd.Series:
    """Weights as numbers; a file whose numbers use a comma and never a dot has decimal
    commas ("0,38" = 0.38, "1,500" = 1.5), otherwise the project's number rules apply."""
    from pipelines import parse

    text = raw.astype(str).str.strip()
    if text.str.contains(",", regex=False).any() and not text.str.contains(".", regex=False).any():
        return pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")
    return parse.numeric(raw).values


def _file_error(path: Path, name: str, /, row=None, column=None, **fields) -> WeightingError:
    """'In file X, row R, column "C": <message name>' as a WeightingError."""
    from pipelines.errors import Message, at

    return WeightingError(at(path.name, Message(name, **fields), row, column))


def read_weight_file(path: Path, key: str, column: str) -> pd.DataFrame:
    """A weights file (CSV any delimiter, .xlsx or .xls) as ``key`` (text as in the file),
    ``weight`` (float) and ``row`` (its spreadsheet row). Stops with a sentence naming the file,
    row and column when a column is missing, a weight is not a positive number or a key is
    listed twice."""
    from pipelines import ingest
    from pipelines.config import InputFile

    path = Path(path)
    fmt = "csv" if path.suffix.lower() == ".csv" else "xlsx"
    df = ingest.read_file(path, InputFile(path=path.name, format=fmt))
    cols = {str(c).strip(): c for c in df.columns if c not in ("source_file", "source_row")}
    for want in (key, column):
        if want not in cols:
            raise _file_error(
                path,
                "weightfile.no_column",
                want=want,
                columns=", ".join(cols),
            )
    out = pd.DataFrame(
        {
            "key": df[cols[key]].astype(str).str.strip(),
            "weight": _weight_numbers(df[cols[column]]).to_numpy(dtype=float),
            "row": df["source_row"].to_numpy(),
        }
    )
    bad = ~np.isfinite(out["weight"]) | (out["weight"] <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raw = str(df[cols[column]].iloc[i])
        raise _file_error(
            path,
            "weightfile.not_positive",
            raw=raw,
            n=int(bad.sum()),
            row=int(out["row"].iloc[i]),
            column=column,
        )
    norm = _key_text(out["key"])
    dup = norm.duplicated(keep=False) & norm.ne("")
    if dup.any():
        rows = out.loc[dup, "row"].tolist()
        raise _file_error(
            path,
            "weightfile.key_twice",
            dup=out.loc[dup, "key"].iloc[0],
            rows=", ".join(map(str, rows[:5])),
            row=rows[0],
            column=key,
        )
    return out


def from_file(df: pd.DataFrame, spec, base_dir: Path) -> tuple[np.ndarray, dict]:
    """Row weights from ``design.weights`` with ``method: file`` (see config.Weights): the
    file's weight for each row's ``key`` value. Returns the weights and a summary (method,
    note, unmatched counts with the file rows and data keys concerned); data rows whose key
    the file lacks stop the run unless ``unmatched: mean`` gives them the mean weight; rows
    without a key at all get the mean weight (as raking does for rows missing a margin)."""
    path = Path(base_dir) / spec.path
    if spec.key not in df:
        raise _file_error(
            path,
            "weightfile.no_key_column",
            key=spec.key,
        )
    table = read_weight_file(path, spec.file_key or spec.key, spec.column)
    lookup = dict(zip(_key_text(table["key"]), table["weight"], strict=True))
    keys = _key_text(df[spec.key].astype(object).where(df[spec.key].notna(), None))
    w = keys.map(lookup).to_numpy(dtype=float, copy=True)
    blank = keys.eq("").to_numpy()  # no key (e.g. an unlisted kelurahan set missing): mean weight
    lost = np.isnan(w) & ~blank
    unused = table.loc[~_key_text(table["key"]).isin(set(keys)), ["key", "row"]]
    missing_keys = sorted({str(k) for k in df.loc[lost, spec.key]})
    info = {  # scalars only: this row joins the results' weights table
        "method": "file",
        "n_not_raked": int(blank.sum()),
        "n_unmatched_rows": int(lost.sum()),
        "unmatched_keys": "; ".join(missing_keys[:20]),
        "n_file_rows_unused": len(unused),
        "file_rows_unused": ", ".join(map(str, unused["row"].tolist()[:20])),
    }
    notes = [f"weights from {path.name} by {spec.key} ({len(table)} rows)"]
    if len(unused):
        notes.append(
            f"{len(unused)} row(s) of {path.name} match no respondent (rows "
            f"{info['file_rows_unused']}, column {spec.file_key or spec.key})"
        )
    if lost.any():
        missing = ", ".join(repr(k) for k in missing_keys[:5])
        if spec.unmatched == "error":
            first = np.flatnonzero(lost)[0]
            where = df.iloc[first]
            raise _file_error(
                path,
                "weightfile.unmatched",
                n=int(lost.sum()),
                key=spec.key,
                missing=missing,
                file=where.get("source_file", "?"),
                file_row=where.get("source_row", "?"),
                column=spec.file_key or spec.key,
            )
        notes.append(
            f"{int(lost.sum())} row(s) with a {spec.key} not in the file ({missing}) get the mean weight"
        )
    if blank.any():
        notes.append(f"{int(blank.sum())} row(s) without a {spec.key} get the mean weight")
    if np.isnan(w).any():
        w[np.isnan(w)] = np.nanmean(w) if (~np.isnan(w)).any() else 1.0
    info["note"] = "; ".join(notes)
    return w, info
