import warnings

import numpy as np
import pandas as pd
import pytest

from pipelines.suppress import csv_safe, primary, safe_percent, secondary, secondary_1d, write_csv

# ---------------------------------------------------------------------------------------------
# an attacker who knows the published margins and solves lines with one unknown, repeatedly
# ---------------------------------------------------------------------------------------------


def recover_2d(published: pd.DataFrame, original: pd.DataFrame, row="r", col="c", n="n"):
    """Cells an attacker can recover exactly from published cells + published row/col totals."""
    row_tot = original.groupby(row)[n].sum()
    col_tot = original.groupby(col)[n].sum()
    known = published.set_index([row, col])[n].to_dict()
    recovered = {}
    progress = True
    while progress:
        progress = False
        for axis, totals in ((row, row_tot), (col, col_tot)):
            for key, total in totals.items():
                cells = [k for k in known if k[0 if axis == row else 1] == key]
                unknown = [k for k in cells if pd.isna(known[k])]
                if len(unknown) == 1:
                    value = total - sum(known[k] for k in cells if k not in unknown)
                    known[unknown[0]] = value
                    recovered[unknown[0]] = value
                    progress = True
    return recovered


def recover_1d(published: pd.DataFrame, total: float, n="n"):
    vals = published[n]
    if vals.isna().sum() == 1:
        return total - vals.sum()
    return None


@pytest.fixture
def two_way():
    grid = {"A": [3, 20, 30], "B": [15, 25, 40], "C": [12, 18, 22]}
    rows = [(r, c, v) for r, vals in grid.items() for c, v in zip("XYZ", vals, strict=True)]
    return pd.DataFrame(rows, columns=["r", "c", "n"])


# ---------------------------------------------------------------------------------------------
# primary
# ---------------------------------------------------------------------------------------------


def test_primary_threshold_boundary():
    df = pd.DataFrame(
        {"g": ["a", "b", "c", "d"], "n": [9, 10, 0, 1], "estimate": [0.1, 0.2, 0.3, 0.4]}
    )
    out = primary(df, threshold=10)
    assert out["suppressed"].tolist() == [True, False, False, True]  # n=9 yes, n=10 no, n=0 no
    assert np.isnan(out.loc[0, "estimate"]) and np.isnan(out.loc[3, "estimate"])
    assert out.loc[1, "estimate"] == 0.2
    assert out["n"].tolist() == [9, 10, 0, 1]  # counts kept for the reason text
    assert df["estimate"].notna().all()  # input untouched


def test_primary_blanks_value_like_columns_only():
    df = pd.DataFrame(
        {
            "group": ["x", "y"],
            "n": [4, 50],
            "estimate": [1.0, 2.0],
            "ci_lo": [0.5, 1.5],
            "ci_hi": [1.5, 2.5],
            "percent": [10, 20],
            "label": ["keep", "keep"],
        }
    )
    out = primary(df)
    assert out.loc[0, ["estimate", "ci_lo", "ci_hi", "percent"]].isna().all()
    assert out.loc[0, "label"] == "keep" and out.loc[0, "group"] == "x"
    assert out.loc[1, "percent"] == 20


def test_primary_explicit_value_columns_and_existing_flag():
    df = pd.DataFrame({"n": [50, 50], "score": [1.0, 2.0], "suppressed": [True, False]})
    out = primary(df, value_cols=["score"])
    assert out["suppressed"].tolist() == [True, False]
    assert np.isnan(out.loc[0, "score"]) and out.loc[1, "score"] == 2.0


def test_primary_custom_count_column_and_errors():
    df = pd.DataFrame({"count": [3, 30], "est": [1.0, 2.0]})
    assert primary(df, n_col="count", threshold=5)["suppressed"].tolist() == [True, False]
    with pytest.raises(KeyError):
        primary(df)  # no "n"
    with pytest.raises(KeyError):
        primary(df, n_col="count", value_cols=["nope"])


# ---------------------------------------------------------------------------------------------
# secondary, two-way
# ---------------------------------------------------------------------------------------------


def test_primary_alone_is_recoverable_but_secondary_is_not(two_way):
    naive = two_way.copy()
    naive["n"] = naive["n"].where(naive["n"] >= 10)  # primary suppression only
    assert recover_2d(naive, two_way) == {("A", "X"): 3}

    out = secondary(two_way, "r", "c")
    assert recover_2d(out, two_way) == {}
    reasons = out.set_index(["r", "c"])["suppression"].to_dict()
    assert reasons[("A", "X")] == "primary"
    assert {k for k, v in reasons.items() if v == "secondary"} == {
        ("A", "Y"),  # smallest other cell in row A
        ("C", "X"),  # smallest other cell in column X
        ("C", "Y"),  # column Y then had a single suppressed cell: iterate
    }


def test_secondary_every_line_has_zero_or_at_least_two(two_way):
    out = secondary(two_way, "r", "c")
    for key in ("r", "c"):
        counts = out.groupby(key)["suppressed"].sum()
        assert not (counts == 1).any()
    assert out.loc[out["suppressed"], "n"].isna().all()
    assert out.loc[~out["suppressed"], "n"].notna().all()
    assert out.loc[~out["suppressed"], "suppression"].isna().all()


def test_secondary_without_small_cells_changes_nothing(two_way):
    big = two_way.assign(n=two_way["n"] + 20)
    out = secondary(big, "r", "c")
    assert not out["suppressed"].any()
    assert out["n"].tolist() == big["n"].tolist()


def test_secondary_two_primaries_in_a_line_need_no_complement():
    df = pd.DataFrame(
        [
            ("A", "X", 3),
            ("A", "Y", 4),
            ("A", "Z", 50),
            ("B", "X", 5),
            ("B", "Y", 6),
            ("B", "Z", 70),
        ],
        columns=["r", "c", "n"],
    )
    out = secondary(df, "r", "c")
    assert set(out["suppression"].dropna()) == {"primary"}
    assert recover_2d(out, df) == {}


def test_secondary_blanks_statistics_too(two_way):
    df = two_way.assign(pct=two_way["n"] / two_way["n"].sum())
    out = secondary(df, "r", "c")
    assert out.loc[out["suppressed"], "pct"].isna().all()
    kept = secondary(df, "r", "c", blank_count=False)
    assert kept["n"].notna().all()


def test_secondary_warns_when_a_line_cannot_be_protected():
    df = pd.DataFrame({"r": ["A", "B"], "c": ["X", "X"], "n": [3, 40]})
    with pytest.warns(UserWarning, match="total"):
        secondary(df, "r", "c")


# ---------------------------------------------------------------------------------------------
# secondary, one-way
# ---------------------------------------------------------------------------------------------


def test_secondary_1d_protects_single_suppressed_category():
    dist = pd.DataFrame({"cat": ["a", "b", "c", "d"], "n": [5, 30, 12, 50]})
    total = dist["n"].sum()
    naive = dist.assign(n=dist["n"].where(dist["n"] >= 10))
    assert recover_1d(naive, total) == 5

    out = secondary_1d(dist)
    assert recover_1d(out, total) is None
    assert out.set_index("cat")["suppression"].to_dict() == {
        "a": "primary",
        "b": None,
        "c": "secondary",  # next smallest
        "d": None,
    }


def test_secondary_1d_by_group():
    df = pd.DataFrame(
        {
            "lib": ["L1"] * 3 + ["L2"] * 3,
            "cat": list("xyz") * 2,
            "n": [4, 20, 30, 40, 50, 60],
        }
    )
    out = secondary_1d(df, by="lib")
    assert out.loc[out["lib"] == "L1", "suppressed"].sum() == 2
    assert not out.loc[out["lib"] == "L2", "suppressed"].any()


def test_secondary_rejects_missing_counts():
    with pytest.raises(ValueError, match="missing counts"):
        secondary_1d(pd.DataFrame({"n": [np.nan, 20.0]}))


# ---------------------------------------------------------------------------------------------
# safe_percent
# ---------------------------------------------------------------------------------------------


def test_safe_percent_scalars():
    assert np.isnan(safe_percent(3, 9, threshold=10))
    assert safe_percent(3, 10, threshold=10) == pytest.approx(30.0)
    assert np.isnan(safe_percent(0, 0))
    assert np.isnan(safe_percent(1, np.nan))


def test_safe_percent_series_and_arrays():
    num = pd.Series([1, 5, 2], index=["a", "b", "c"])
    den = pd.Series([5, 20, 0], index=["a", "b", "c"])
    res = safe_percent(num, den, threshold=10)
    assert list(res.index) == ["a", "b", "c"]
    assert np.isnan(res["a"]) and res["b"] == pytest.approx(25.0) and np.isnan(res["c"])
    arr = safe_percent(np.array([1, 2]), np.array([9, 10]))
    assert np.isnan(arr[0]) and arr[1] == pytest.approx(20.0)


# ---------------------------------------------------------------------------------------------
# csv_safe
# ---------------------------------------------------------------------------------------------


def test_csv_safe_prefixes_formula_like_text():
    df = pd.DataFrame(
        {
            "text": [
                '=HYPERLINK("http://x")',
                "+1+1",
                "-2+3",
                "@SUM(A1)",
                "\tx",
                "\rx",
                "ok",
                None,
            ],
            "amount": [-1.5, -2.0, 3.0, -4.0, 5.0, 6.0, 7.0, 8.0],
            "count": [-1, 2, 3, 4, 5, 6, 7, 8],
        }
    )
    out = csv_safe(df)
    assert out["text"].tolist()[:7] == [
        '\'=HYPERLINK("http://x")',
        "'+1+1",
        "'-2+3",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "ok",
    ]
    assert pd.isna(out["text"].iloc[7])
    # real numbers stay numbers, negative or not
    assert out["amount"].tolist() == df["amount"].tolist()
    assert out["count"].tolist() == df["count"].tolist()
    assert pd.api.types.is_numeric_dtype(out["amount"])
    # input untouched
    assert df["text"].iloc[0].startswith("=")


def test_csv_safe_mixed_object_column_and_labels():
    df = pd.DataFrame({"=evil": pd.Series([-3, "-3", "safe text", "a=b"], dtype=object)})
    out = csv_safe(df)
    assert list(out.columns) == ["'=evil"]
    assert out.iloc[:, 0].tolist() == [-3, "'-3", "safe text", "a=b"]


def test_csv_safe_categorical():
    df = pd.DataFrame({"c": pd.Categorical(["=1", "b"])})
    assert csv_safe(df)["c"].tolist() == ["'=1", "b"]


def test_no_warnings_on_clean_suppression(two_way):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        secondary(two_way, "r", "c")
        primary(two_way.assign(estimate=1.0))


def test_write_csv_reads_back_as_the_table_with_formulas_guarded(tmp_path):
    df = pd.DataFrame(
        {
            "when": pd.to_datetime(["2025-11-25 14:03:22", None, "2025-01-02 08:00:00"]),
            "ms": pd.to_datetime(
                ["2025-11-25 14:03:22.125", None, "2025-01-02 08:00:00"], format="ISO8601"
            ),
            "flag": [True, False, True],
            "count": pd.array([1, None, 3], dtype="Int64"),
            "score": [1.5, np.nan, -2.25],
            "text": pd.Series(["=HYPERLINK(1)", None, 'say "hi", ok'], dtype="str"),
            "cat": pd.Categorical(["a", None, "b"]),
        }
    )
    path = tmp_path / "t.csv"
    write_csv(df, path)
    lines = path.read_text().splitlines()
    assert lines[1].startswith("2025-11-25 14:03:22,2025-11-25 14:03:22.125")  # no ".000000"
    back = pd.read_csv(path, parse_dates=["when", "ms"])
    assert back["when"].tolist()[::2] == df["when"].tolist()[::2] and back["when"].isna()[1]
    assert back["ms"].iloc[0] == df["ms"].iloc[0]
    assert back["flag"].tolist() == [True, False, True]
    assert back["count"].isna().tolist() == [False, True, False] and back["count"].iloc[2] == 3
    assert back["score"].iloc[2] == -2.25  # real negative numbers stay numbers
    assert back["text"].iloc[0] == "'=HYPERLINK(1)" and back["text"].iloc[2] == 'say "hi", ok'
    assert back["cat"].iloc[1] != back["cat"].iloc[1]  # missing stays empty


def test_write_csv_mixed_objects_still_written(tmp_path):
    df = pd.DataFrame({"x": [1, "=a", 2.5]}, dtype=object)
    write_csv(df, tmp_path / "m.csv")
    assert pd.read_csv(tmp_path / "m.csv")["x"].tolist() == ["1", "'=a", "2.5"]


def test_csv_safe_text_columns_checked_in_bulk_like_cell_by_cell():
    """Object columns holding only text or missing values are guarded as the per-cell test
    would guard them; mixed columns still go cell by cell."""
    import numpy as np

    df = pd.DataFrame(
        {
            "text": pd.Series(["=1+1", None, np.nan, "ok", np.str_("-x"), "@a"], dtype=object),
            "mixed": pd.Series([-1, "=x", None, 2.5, "+y", b"=z"], dtype=object),
            "empty": pd.Series([None, np.nan, None, None, None, None], dtype=object),
        }
    )
    out = csv_safe(df)
    assert out["text"].tolist()[::3] == ["'=1+1", "ok"] and out["text"].iloc[4] == "'-x"
    assert out["text"].iloc[5] == "'@a" and out["text"].iloc[1:3].isna().all()
    assert out["mixed"].tolist()[:2] == [-1, "'=x"] and out["mixed"].iloc[4] == "'+y"
    assert out["mixed"].iloc[5] == b"=z" and out["empty"].isna().all()


def test_write_csv_guard_in_arrow_writes_the_same_file(tmp_path, monkeypatch):
    """The compiled guard on the Arrow table writes byte for byte what csv_safe + Arrow write."""
    import pipelines.suppress as suppress

    df = pd.DataFrame(
        {
            "=total": ["=1+1", "+62", "-x", "@a", "\tt", "\rr", "＝y", "ok", None, "'q"],
            "obj": pd.Series(["-", np.nan, "a", "＠b", None, "=", "x", "", "+", "z"], dtype=object),
            "num": [-1.5, 2, np.nan, -3, 4, 5, 6, 7, 8, 9],
            "int": pd.array([-1, None, 3, 4, 5, 6, 7, 8, 9, 10], dtype="Int64"),
            "flag": [True, False] * 5,
            "when": pd.to_datetime(["2025-01-01 10:00:00"] * 9 + [None]),
            "frac": pd.to_datetime(["2025-01-01 10:00:00.5"] * 10),
            "none": pd.Series([None] * 10, dtype=object),
        }
    ).astype({"=total": "str"})
    write_csv(df, tmp_path / "fast.csv")
    monkeypatch.setattr(suppress, "_arrow_csv_safe", lambda frame: None)
    write_csv(df, tmp_path / "slow.csv")
    fast, slow = (tmp_path / "fast.csv").read_bytes(), (tmp_path / "slow.csv").read_bytes()
    assert fast == slow
    assert b'"\'=1+1"' in fast and b'"\'=total"' in fast
