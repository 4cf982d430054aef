"""Tests for pipelines.stats.tidy: the one estimate-row builder and the table's column order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.stats.tidy import ESTIMATE_COLUMNS, estimate_frame, estimate_row


def _row(**kw) -> dict:
    args = dict(
        analysis="descriptive",
        outcome="y",
        term="mean",
        estimate=0.5,
        se=0.1,
        ci_low=0.3,
        ci_high=0.7,
        df=12.0,
        n=40,
        method="taylor",
    )
    return estimate_row(**(args | kw))


def test_a_row_keeps_every_value_under_its_column():
    r = _row(p=0.02, note="small", group_var="sex", group="f")
    assert {k: r[k] for k in ("analysis", "outcome", "term", "method", "note")} == {
        "analysis": "descriptive",
        "outcome": "y",
        "term": "mean",
        "method": "taylor",
        "note": "small",
    }
    assert (r["estimate"], r["se"], r["ci_low"], r["ci_high"], r["df"], r["n"], r["p"]) == (
        0.5,
        0.1,
        0.3,
        0.7,
        12.0,
        40,
        0.02,
    )
    assert (r["group_var"], r["group"]) == ("sex", "f")


def test_a_row_leaves_wave_p_adj_and_flag_to_the_caller_and_defaults_the_rest():
    r = _row()
    assert not {"wave", "p_adj", "flag"} & set(r)
    assert np.isnan(r["p"]) and r["note"] == "" and r["group_var"] is None and r["group"] is None


def test_groups_are_text_so_a_column_of_them_has_one_type():
    assert _row(group=3)["group"] == "3"
    assert _row(group=True)["group"] == "True"
    assert _row(group=0)["group"] == "0"  # a falsy group is still a group, not None


def test_extra_fields_are_kept():
    assert _row(deff=1.7, level="b")["deff"] == 1.7


def test_a_frame_puts_the_table_columns_first_in_order_then_the_extras():
    rows = [_row(deff=1.2), _row(outcome="z", deff=1.4)]
    for r in rows:
        r |= {"flag": "", "wave": "2025", "p_adj": 0.1}
    out = estimate_frame(rows)
    table = [c for c in ESTIMATE_COLUMNS if c in out]
    assert table == ESTIMATE_COLUMNS  # every column given, in the published order
    assert list(out.columns) == [*ESTIMATE_COLUMNS, "deff"]
    assert out["outcome"].tolist() == ["y", "z"] and out["deff"].tolist() == [1.2, 1.4]


def test_a_frame_of_rows_without_wave_has_no_wave_column():
    out = estimate_frame([_row()])
    assert "wave" not in out and "p_adj" not in out
    assert list(out.columns) == [c for c in ESTIMATE_COLUMNS if c not in ("wave", "p_adj", "flag")]


def test_no_rows_give_an_empty_frame_with_the_row_builders_columns():
    out = estimate_frame([])
    assert out.empty and isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(estimate_frame([_row()]).columns)
