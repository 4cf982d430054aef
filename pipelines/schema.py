"""The processed (clean) data's schema, built from the codebook and the survey config (pandera).

`clean_wave` validates every wave against it before anything is written: types, allowed codes,
valid ranges, Likert codes within the scale's points, 0/1 option columns, flags, and no personal
column. Cleaning is meant to guarantee all of this, so a failure is a bug in a rule; the message
still names the file, row and column of the first offending values and what was expected.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from pipelines.codebook import Codebook
from pipelines.config import SurveyConfig
from pipelines.errors import DampakError, located


class ProcessedDataError(DampakError):
    """The cleaned data break the codebook's schema (a bug in a cleaning rule)."""


def _col(dtype=None, checks=None, nullable=True) -> pa.Column:
    return pa.Column(dtype, checks=checks or [], nullable=nullable, required=False)


def _isin(values, what: str) -> pa.Check:
    values = list(values)
    return pa.Check.isin(values, error=f"{what}: one of {', '.join(map(str, values))}")


def _range(lo: float, hi: float, what: str) -> pa.Check:
    return pa.Check.in_range(lo, hi, error=f"{what}: a value from {lo:g} to {hi:g}")


def processed_schema(cfg: SurveyConfig, cb: Codebook) -> pa.DataFrameSchema:
    """Schema of one processed wave: every column optional (instruments differ), but typed."""
    cols: dict[str, pa.Column] = {
        "wave": _col(checks=[_isin([w.id for w in cfg.waves], "a wave id")], nullable=False),
        "respondent_key": _col(),
        "key_source": _col(checks=[_isin(["nik", "phone", "email", "none"], "a key source")]),
        "source_file": _col(nullable=False),
        "source_row": _col("int64", [pa.Check.ge(1, error="a row number from 1")], False),
        "kecamatan": _col(checks=[_isin(cfg.places.kecamatan, "a kecamatan of the config")]),
        "age": _col("float64", [_range(10, 100, "age in years")]),
    }
    for flag in (
        "flag_straightline",
        "flag_fast",
        "flag_unmatched_site",
        "flag_unmatched_kelurahan",
    ):
        cols[flag] = _col("bool", nullable=False)
    for v in cb.variables:
        if v.type == "datetime":
            cols[v.name] = _col("datetime64[ns]")
        elif v.type == "yesno":
            cols[v.name] = _col("Int64", [_isin([0, 1], "1 = yes, 0 = no")])
        elif v.type == "likert":
            lo, hi = (int(x) for x in cb.item_range(v))
            codes = list(range(lo, hi + 1))
            cols[v.name] = _col("Int64", [_isin(codes, f"a {len(codes)}-point code")])
        elif v.type == "categorical" and v.levels:
            cols[v.name] = _col(checks=[_isin(v.levels, "a codebook level")])
        elif v.role == "site":
            cols[v.name] = _col(checks=[_isin(cfg.site_ids, "a site id of the config")])
        elif v.role == "residence":
            cols[v.name] = _col(checks=[_isin(cfg.kelurahan, "a kelurahan of the config")])
        elif v.type in ("numeric", "currency"):
            checks = [_range(*v.range, "the valid range")] if v.range else []
            cols[v.name] = _col("float64", checks)
        elif v.type == "multiselect":
            for c in v.option_columns().values():
                cols[c] = _col("Int64", [_isin([0, 1], "1 = selected, 0 = not selected")])
    personal = sorted(v.name for v in cb.personal)
    no_personal = pa.Check(
        lambda df: pd.Series([c not in df.columns for c in personal], dtype=bool),
        error=f"no personal data column ({', '.join(personal)})",
    )
    return pa.DataFrameSchema(cols, checks=[no_personal], strict=False, coerce=False)


def validate_processed(df: pd.DataFrame, cfg: SurveyConfig, cb: Codebook) -> None:
    """Raise ProcessedDataError naming file, row, column and expectation of the first failures."""
    try:
        processed_schema(cfg, cb).validate(df, lazy=True)
    except pa.errors.SchemaErrors as e:
        raise ProcessedDataError(describe(e.failure_cases, df)) from None


def describe(failures: pd.DataFrame, df: pd.DataFrame, limit: int = 3) -> str:
    """One sentence per failure (up to `limit`): where, what was found, what was expected."""
    parts = []
    for f in failures.head(limit).to_dict("records"):
        idx, column = f.get("index"), f.get("column")
        row_loc = None
        if idx is not None and not pd.isna(idx) and idx in df.index:
            row_loc = (df.at[idx, "source_file"], df.at[idx, "source_row"])
        if row_loc:
            where = located(row_loc[0], row_loc[1], column).text("en")  # for a developer
        else:
            where = f'column "{column}"' if column and column != df.__class__.__name__ else "data"
        parts.append(f"{where}: found {f.get('failure_case')!r}, expected {f.get('check')}")
    more = len(failures) - len(parts)
    tail = f" (and {more} more)" if more > 0 else ""
    return (
        "The cleaned data break the codebook's schema - a bug in a cleaning rule, please report "
        "it: In " + "; in ".join(parts) + tail + "."
    )
