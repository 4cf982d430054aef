"""Clean: every rule on real-shaped data, its log counts against the generator's planted mess."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import write_config

from pipelines import clean, ingest
from pipelines.codebook import load_codebook
from pipelines.config import load_config

CB = load_codebook("tpbis")
SECRET = b"s" * 32


def _clean(cfg, wid):
    wave = next(w for w in cfg.waves if w.id == wid)
    raw = ingest.ingest_wave(cfg, CB, wave, SECRET).data
    data, log = clean.clean_wave(raw, cfg, CB, wave)
    return raw, data, log


@pytest.fixture(scope="module")
def cleaned(small_survey):
    cfg = load_config(write_config(small_survey, "csv"))
    truth = json.loads((small_survey / "truth.json").read_text())
    return {w: (*_clean(cfg, w), truth["mess"][w]) for w in ("2025", "2026")}


def _touched(log, rule, column=None):
    s = log.summary()
    s = s[s["rule"] == rule]
    if column:
        s = s[s["column"] == column]
    return int(s["rows_touched"].sum())


@pytest.mark.parametrize("wave", ["2025", "2026"])
def test_log_counts_match_the_planted_mess(cleaned, wave):
    raw, data, log, mess = cleaned[wave]
    assert _touched(log, "no_consent") == mess["no_consent"]
    assert _touched(log, "duplicate_submission") == mess["duplicate_rows"]
    assert _touched(log, "flag_straightline") >= mess["straightliners"]
    assert _touched(log, "impossible_value", "birth_year") == mess["birth_year_impossible"]
    assert _touched(log, "impossible_value", "income") == mess["income_negative"]
    # planted junk is never matched; a short typo ("Ling") may be too far to match safely
    unmatched = _touched(log, "match_kelurahan_unmatched")
    assert mess["kelurahan_unmatched"] <= unmatched <= mess["kelurahan_unmatched"] + 2
    fuzzy = _touched(log, "match_kelurahan_fuzzy")
    assert fuzzy + unmatched - mess["kelurahan_unmatched"] <= mess["kelurahan_typo"]
    assert len(data) == len(raw) - mess["no_consent"] - mess["duplicate_rows"]
    assert data["respondent_key"].is_unique


@pytest.mark.parametrize("wave", ["2025", "2026"])
def test_values_are_typed_and_in_range(cleaned, wave):
    _, data, _, _ = cleaned[wave]
    for v in CB.by_type("likert"):
        assert data[v.name].dropna().between(1, 5).all()
    assert set(data["gender"].dropna()) == {"female", "male"}
    assert set(data["site"].dropna()) <= {
        "kota",
        "aro-iv-korong",
        "ix-korong",
        "ktk",
        "simpang-rumbio",
        "sinapa-piliang",
        "tanah-garam",
        "vi-suku",
        "kampung-jawa",
        "koto-panjang",
        "laing",
        "nan-balimo",
        "pasar-pandan-air-mati",
        "tanjung-paku",
    }
    assert data["site"].notna().all()
    assert data["age"].dropna().between(10, 100).all()
    assert (data["income"].dropna() >= 0).all()
    assert data.loc[data["participated"] == 0, "sessions"].eq(0).all()
    assert data.loc[data["participated"] == 0, "programme"].isna().all()
    assert data["submitted_at"].notna().all()


def test_rows_removed_are_in_the_restricted_row_log(cleaned):
    raw, data, log, mess = cleaned["2025"]
    rows = log.row_log()
    removed = rows[rows["rule"].isin(["no_consent", "duplicate_submission"])]
    assert len(removed) == mess["no_consent"] + mess["duplicate_rows"]
    assert set(removed["source_row"]).isdisjoint(set(data["source_row"]))


@pytest.mark.parametrize("fmt", ["xlsx", "sav"])
def test_every_format_gives_identical_processed_data(small_survey, cleaned, fmt):
    cfg = load_config(write_config(small_survey, fmt, survey_id=f"c-{fmt}"))
    _, data, _ = _clean(cfg, "2025")
    ref = cleaned["2025"][1]
    cols = [c for c in ref.columns if c not in ("source_file", "source_row")]
    pd.testing.assert_frame_equal(ref[cols], data[cols], check_dtype=False)


# --- single rules on tiny frames ---------------------------------------------------------------


def _ctx(small_survey):
    cfg = load_config(write_config(small_survey, "csv"))
    return clean.Context(cfg, CB, cfg.waves[0])


def test_duplicates_keep_the_last_submission(small_survey):
    df = pd.DataFrame(
        {
            "wave": "2025",
            "respondent_key": ["a", "a", "b", None, None],
            "source_file": "f.csv",
            "source_row": [2, 3, 4, 5, 6],
            "submitted_at": pd.to_datetime(
                ["2025-03-02", "2025-03-01", "2025-03-01", "2025-03-01", "2025-03-01"]
            ),
        }
    )
    log = clean.CleaningLog()
    out = clean.duplicates(df, _ctx(small_survey), log)
    assert out["source_row"].tolist() == [2, 4, 5, 6]  # the later 'a' kept; keyless rows kept
    assert log.rules[0]["rows_touched"] == 1


def test_band_labels():
    x = pd.Series([15, 24, 25, 59, 60, 99, None])
    assert clean.band_labels(x, [15, 25, 35, 45, 60]).tolist()[:6] == [
        "15-24",
        "15-24",
        "25-34",
        "45-59",
        "60+",
        "60+",
    ]
    assert pd.isna(clean.band_labels(x, [15, 25, 35, 45, 60]).iloc[6])


def test_dictionary_describes_every_processed_column(cleaned):
    data = cleaned["2025"][1]
    d = clean.dictionary(CB, list(data.columns))
    assert d["variable"].tolist() == list(data.columns)
    skill4 = d.set_index("variable").loc["skill_4"]
    assert skill4["scale"] == "skills" and bool(skill4["reverse_coded"])
    assert "5 = Sangat setuju / Strongly agree" in skill4["values"]


def test_panel_and_attrition(cleaned, small_survey):
    waves = {w: cleaned[w][1] for w in ("2025", "2026")}
    panel = clean.panel(waves)
    att = clean.attrition(waves)
    truth = json.loads((small_survey / "truth.json").read_text())["panel"]
    linked = int(att["linked"].iloc[0])
    # every planted pair that survived cleaning in both waves is linked, and nothing else
    assert linked <= truth["n_persons"] and linked >= truth["n_persons"] * 0.9
    assert panel["respondent_key"].nunique() == linked
    assert set(panel["wave"]) == {"2025", "2026"}


def test_panel_links_exactly_keys_in_two_or_more_waves():
    """The panel keeps the rows of keys seen in 2+ waves, as a per-key count of waves would."""
    import numpy as np

    w1 = pd.DataFrame(
        {"respondent_key": ["a", "a", "b", None, "c", "d"], "wave": ["1", "1", "1", "1", "1", None]}
    )
    w2 = pd.DataFrame({"respondent_key": ["a", "c", None, "d", "e"], "wave": ["2"] * 5})
    w3 = pd.DataFrame({"respondent_key": ["c", "e", "e"], "wave": ["3", "3", np.nan]})
    waves = {"1": w1, "2": w2, "3": w3}
    both = pd.concat(waves.values(), ignore_index=True)
    both = both[both["respondent_key"].notna()]
    counts = both.groupby("respondent_key")["wave"].nunique()
    expected = both[both["respondent_key"].isin(counts.index[counts > 1])].sort_values(
        ["respondent_key", "wave"]
    )
    got = clean.panel(waves)
    pd.testing.assert_frame_equal(got, expected)
    assert sorted(set(got["respondent_key"])) == ["a", "c", "e"]


def test_normalise_counts_changed_rows_like_comparing_the_columns():
    """Changed rows are counted per distinct text: the same number as comparing the columns."""
    import numpy as np

    from pipelines import parse

    raw = pd.Series(
        ["ok", " ok", "a  b", "", "  ", np.nan, "x\u200b", "plain", " ok", "Ａ", "_x000D_"] * 3,
        dtype="str",
    )
    new, n = parse.normalise_text_counted(raw)
    pd.testing.assert_series_equal(new, parse.normalise_text(raw))
    assert n == int((new.fillna("") != raw.fillna("")).sum()) == 3 * 7


def test_missing_codes_rule_per_distinct_answer_equals_per_cell():
    """The rule checks each distinct answer once; it blanks exactly the cells the parser flags."""
    from types import SimpleNamespace

    import numpy as np

    from pipelines import parse

    var = lambda name, type_: SimpleNamespace(  # noqa: E731
        name=name, type=type_, option_columns=lambda: {}
    )
    cb = SimpleNamespace(
        variables=[var("q", "likert"), var("t", "text"), var("rk", "identifier")],
        missing_codes=None,
    )
    raw = pd.DataFrame(
        {
            "q": pd.Series(["99", "N/A", " tidak  tahu", "4", np.nan, "n/a", "-", "Ｎ/Ａ"] * 2),
            "t": pd.Series(["-", "99", "NA", "bagus", np.nan, "#N/A", "ok", ""] * 2, dtype=object),
            "rk": ["99"] * 16,
        }
    )
    df = clean.missing_codes(raw.copy(), SimpleNamespace(cb=cb), clean.CleaningLog())
    na = parse.missing_codes(raw["q"], clean.NOT_APPLICABLE)
    other = [c for c in parse.DEFAULT_MISSING_CODES if c.casefold() not in {"n/a", "na", "#n/a"}]
    coded = parse.missing_codes(raw["q"], other)
    assert df["q"].isna().tolist() == (raw["q"].isna() | na | coded).tolist()
    na_t = parse.missing_codes(raw["t"], clean.NOT_APPLICABLE)
    assert df["t"].isna().tolist() == (raw["t"].isna() | na_t).tolist()
    assert df["rk"].tolist() == raw["rk"].tolist()


@pytest.mark.parametrize("dtype", ["str", object])
def test_consent_rewritten_per_distinct_answer_equals_per_row(dtype):
    """Consent answers are rewritten once per distinct answer: the rows kept are those the
    per-row rewrite keeps."""
    from types import SimpleNamespace

    import numpy as np

    from pipelines import parse

    answers = ["Ya, saya bersedia", "YES I agree", "iya", "Yak", "tidak", np.nan, "yesterday"]
    raw = pd.Series(answers * 3, dtype=dtype)
    var = SimpleNamespace(name="consent", question=SimpleNamespace(id="c"))
    cb = SimpleNamespace(by_role=lambda role: var if role == "consent" else None)
    df = pd.DataFrame({"consent": raw, "x": range(len(raw)), "source_file": "f.csv"})
    df["source_row"], df["respondent_key"], df["wave"] = range(len(raw)), "k", "1"
    out = clean.consent(df.copy(), SimpleNamespace(cb=cb), clean.CleaningLog())
    rewritten = raw.str.replace(r"^(ya|iya|yes)\b.*", "ya", case=False, regex=True)
    keep = parse.yes_no(rewritten).values.eq(1).fillna(False).astype(bool)
    assert out["x"].tolist() == df.loc[keep, "x"].tolist()
    assert len(out) == 3 * 3


def test_source_ids_joined_to_the_row_log_as_a_full_merge_would():
    """Only ids of rows the log names are kept before the merge: the same joined log."""
    from pipelines.steps import _with_source_ids

    ids = pd.DataFrame(
        {
            "source_file": ["a.csv", "a.csv", "a.csv", "b.csv", "a.csv"],
            "source_row": ["2", "3", "2", "2", "9"],
            "source_id": ["u1", "u2", "u1-again", "u3", "u9"],
            "wave": ["1", "1", "1", "1", "2"],
        },
        dtype="str",
    )
    keys = ["wave", "source_file", "source_row"]
    for rows in (["2", "9", "4"], ["3"], []):
        log = pd.DataFrame(
            {"wave": "1", "source_file": "a.csv", "source_row": rows, "rule": "r"}, dtype=str
        )
        full = log.merge(ids.drop_duplicates(keys), on=keys, how="left")
        pd.testing.assert_frame_equal(_with_source_ids(log, ids), full)


def test_a_codebook_whose_missing_codes_are_all_not_applicable_cleans(small_survey, tmp_path):
    """Issue 12: missing_codes [N/A, NA, n/a] left no other code and crashed with an
    ArrowTypeError; skipped answers are still counted, nothing else is a code."""
    cfg = load_config(write_config(small_survey, "csv"))
    data = CB.model_dump()
    data["missing_codes"] = ["N/A", "NA", "n/a"]
    cb = type(CB).model_validate(data)
    wave = cfg.waves[0]
    raw = ingest.ingest_wave(cfg, cb, wave, b"k" * 32).data
    raw.loc[raw.index[:3], "income"] = ["N/A", "99", "n/a"]
    out, log = clean.clean_wave(raw, cfg, cb, wave)
    assert _touched(log, "missing_codes") == 0
    assert _touched(log, "not_applicable") >= 2
