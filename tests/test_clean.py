"""Clean: every rule on real-shaped data, its log counts against the generator's planted mess."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from helpers import write_config

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


# --- derived columns: a form that asks age directly ---------------------------------------------


def _age_codebook(folder, tmp_yaml="age_cb.yaml"):
    """The TPBIS codebook with "Umur (tahun)" (a numeric `age`, 10-100) instead of the birth
    year: another instrument's way of asking it."""
    import yaml

    from pipelines.codebook import INSTRUMENTS

    data = yaml.safe_load((INSTRUMENTS / "tpbis.yaml").read_text(encoding="utf-8"))
    for v in data["variables"]:
        if v["name"] == "birth_year":
            v.update(name="age", question={"id": "Umur (tahun)", "en": "Age (years)"})
            v.update(aliases=["umur"], range=[10, 100])
    derived = data.get("roles", {}).get("derived", {})
    derived.pop("age", None)  # the codebook asks it: nothing to derive
    (folder / tmp_yaml).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return tmp_yaml


def test_a_codebook_variable_named_age_is_used_not_derived(small_survey, tmp_path):
    """A numeric `age` answer once passed `check` then broke `clean` (`Duplicate column names`):
    clean derived `age` from a birth year too. The answer is used, with its own range."""
    from pipelines.codebook import load_codebook as load

    df = pd.read_csv(small_survey / "solok_2025.csv", dtype=str, keep_default_na=False)
    birth = pd.to_numeric(df["Tahun lahir"], errors="coerce")
    ages = (2025 - birth).astype("Int64").astype(str).replace("<NA>", "")
    ages.iloc[:3] = ["7", "130", "tiga puluh"]  # below and above the range, and not a number
    df = df.drop(columns=["Tahun lahir"]).assign(**{"Umur (tahun)": ages})
    df.to_csv(tmp_path / "solok_2025.csv", index=False)
    cfg = load_config(write_config(tmp_path, waves=("2025",), instrument=_age_codebook(tmp_path)))
    cb = load(cfg.instrument, cfg.base_dir)
    raw = ingest.ingest_wave(cfg, cb, cfg.waves[0], SECRET).data
    data, log = clean.clean_wave(raw, cfg, cb, cfg.waves[0])
    assert list(data.columns).count("age") == 1 and "birth_year" not in data
    by_row = data.set_index("source_row")
    expect = pd.to_numeric(ages, errors="coerce").where(lambda a: a.between(10, 100))
    expect.index = df.index + 2  # source rows count the header as row 1
    got = by_row["age"]
    pd.testing.assert_series_equal(
        got, expect.loc[got.index].astype(float), check_names=False, check_index_type=False
    )
    answered = pd.to_numeric(ages, errors="coerce")
    answered.index = expect.index
    kept = answered.loc[got.index]
    assert _touched(log, "impossible_value", "age") == (~kept.dropna().between(10, 100)).sum() >= 1
    assert _touched(log, "not_a_number", "age") == (2 in got.index)  # "tiga puluh" if kept
    bands = clean.band_labels(got, cfg.analysis.age_bands)
    assert by_row["age_band"].equals(bands)
    assert by_row["age_band"].notna().sum() == got.notna().sum() > 250


def test_age_is_derived_from_the_birth_year_when_the_form_asks_that(cleaned):
    _, data, log, _ = cleaned["2025"]
    assert "birth_year" not in data and data["age"].notna().sum() > 250
    assert data["age_band"].notna().sum() == data["age"].between(15, 200).sum()


# --- what a problem costs: the two warnings of issue 11, on a generated survey ------------------

SITE_COL = "Perpustakaan yang paling sering Anda kunjungi"


def _lossy_survey(small_survey, folder, **config):
    """Wave 2025 with 40 rows naming an unlisted library and every woman's gender answer in a
    spelling the codebook does not know ("Pr")."""
    from pipelines import parse

    df = pd.read_csv(small_survey / "solok_2025.csv", dtype=str, keep_default_na=False)
    df.loc[:39, SITE_COL] = "Perpustakaan Nagari Baru"
    female = parse.yes_no(df["Jenis kelamin"]).values.isna() & df["Jenis kelamin"].str.match(
        r"(?i)^(p|perempuan|wanita|female|f)$"
    )
    df.loc[female.to_numpy(bool), "Jenis kelamin"] = "Pr"
    df.to_csv(folder / "solok_2025.csv", index=False)
    return write_config(folder, waves=("2025",), survey_id="lossy", **config)


def _check(path, capsys):
    from pipelines.__main__ import main
    from pipelines.errors import set_language

    code = main(["check", str(path), "--log", str(path.parent / "log.csv")])
    set_language("en")
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_costly_problem_stops_the_run_and_says_how_to_accept_it(small_survey, tmp_path, capsys):
    code, out, err = _check(_lossy_survey(small_survey, tmp_path, messages_language="en"), capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert '"Gender" (gender)' in err and '"Pr"' in err  # the question in the message's language
    assert "the weighting margin(s) gender=female lose all respondents" in err
    assert "accept_loss: [unknown_category]" in err and "max_loss_share" in err
    assert "1 other problem(s) also cost too much" in err  # the unlisted site


def test_warnings_say_how_many_respondents_leave_the_estimates(small_survey, tmp_path, capsys):
    """The numbers said equal the rows the analysis really loses."""
    from pipelines import analysis
    from pipelines.plan import build_plan

    accept = {"accept_loss": ["unmatched_site", "unknown_category"]}
    path = _lossy_survey(small_survey, tmp_path, messages_language="en", cleaning=accept)
    code, out, err = _check(path, capsys)
    assert code == 0, err
    cfg = load_config(path)
    raw = ingest.ingest_wave(cfg, CB, cfg.waves[0], SECRET).data
    data, _ = clean.clean_wave(raw, cfg, CB, cfg.waves[0])
    n = len(data)
    plan = build_plan(CB, cfg, analysis._columns({"2025": data}))
    _, dropped = analysis._prepare_wave(data, cfg, CB, plan)  # rows the design leaves out
    unlisted = int(data["flag_unmatched_site"].sum())
    assert dropped == unlisted > 30
    site_line = next(x for x in out.splitlines() if "name a site the config does not list" in x)
    assert site_line.startswith(f"WARNING: wave 2025: {unlisted} row(s)")
    assert f"Cost: {unlisted} of {n} respondents leave every estimate" in site_line
    assert "(accepted in the config)" in site_line

    raw_gender = raw.set_index("source_row")["gender"]
    was_pr = raw_gender.loc[data["source_row"]].eq("Pr").to_numpy()
    in_design = data["site"].notna().to_numpy()
    out_models = int((was_pr & in_design).sum())  # gender is a covariate
    assert out_models > 100 and data.loc[was_pr, "gender"].isna().all()
    g_line = next(x for x in out.splitlines() if '"gender" answer(s) are not among' in x)
    assert f'{int(was_pr.sum())} "gender" answer(s)' in g_line
    assert f"{out_models} of {n} respondents leave the adjusted models" in g_line
    assert "the breakdown by gender is lost" in g_line  # only men are left
    assert "the weighting margin(s) gender=female lose all respondents" in g_line

    covs = ["age", "gender", "education", "disability"]
    kept = data[in_design]
    total = next(x for x in out.splitlines() if "In all" in x)
    assert f"In all, {dropped} of {n} respondents are in no estimate" in total
    no_cov = int(kept[covs].isna().any(axis=1).sum())
    assert f"and {no_cov} more are not in the adjusted" in total
    _, _, log = _clean(cfg, "2025")
    q = clean.quality(raw, data, log, CB)
    assert q["left_out"] == {"out_of_design": dropped, "out_of_models": no_cov}


def test_a_raised_max_loss_share_accepts_losses_but_not_an_emptied_margin(
    small_survey, tmp_path, capsys
):
    path = _lossy_survey(
        small_survey, tmp_path, messages_language="en", cleaning={"max_loss_share": 0.9}
    )
    code, _, err = _check(path, capsys)
    assert code == 2 and "gender=female" in err and "other problem" not in err


# --- Likert items beyond the 4- and 5-point agreement sets -----------------------------------------


def _likert_ctx(small_survey, extra_sets: dict, variables: list[dict]):
    from types import SimpleNamespace

    from pipelines.codebook import Codebook

    base = CB.model_dump(by_alias=True)
    base["label_sets"].update(extra_sets)
    base["variables"] = variables
    base["scales"], base["roles"] = {}, {}
    cb = Codebook.model_validate(base)
    return SimpleNamespace(cb=cb, cfg=None, wave=None)


def _frame(**cols):
    n = len(next(iter(cols.values())))
    df = pd.DataFrame(cols, dtype=object)
    df["wave"], df["respondent_key"], df["source_file"] = "1", "k", "f.csv"
    df["source_row"] = range(2, n + 2)
    return df


def test_a_numeric_range_item_and_an_eleven_point_set_are_read(small_survey):
    """A Likert item declared by `range: [1, 6]` (numeric codes) and a 0-10 custom set."""
    nps = {
        "points": 11,
        "kind": "custom",
        "labels": {k: {"id": str(k), "en": str(k)} for k in range(11)},
    }
    nps["labels"][0] = {"id": "Sama sekali tidak", "en": "Not at all"}
    ctx = _likert_ctx(
        small_survey,
        {"nps": nps},
        [
            {"name": "q6", "type": "likert", "range": [1, 6], "question": {"id": "Q6", "en": "Q6"}},
            {"name": "rec", "type": "likert", "labels": "nps", "question": {"id": "R", "en": "R"}},
        ],
    )
    q6 = ["1", "6", "7", "3.0", "x", None] + ["1", "6", "2", "3.0", "x", None] * 5
    rec = ["0", "10", "Sama sekali tidak", "11", "5", None] + ["0", "10", "4", "7", "5", None] * 5
    log = clean.CleaningLog()
    out = clean.likert(_frame(q6=q6, rec=rec), ctx, log)
    assert out["q6"].tolist()[:6] == [1, 6, pd.NA, 3, pd.NA, pd.NA]
    assert out["rec"].tolist()[:6] == [0, 10, 0, pd.NA, 5, pd.NA]
    assert [r["values_touched"] for r in log.rules] == [7, 1]  # "7" and the "x"s; "11"


def test_a_code_above_a_numeric_range_recurring_is_a_misfit(small_survey):
    """A 1-7 item declared `range: [1, 5]`: the 6s and 7s are answers of a wider scale."""
    from pipelines.errors import InputError

    ctx = _likert_ctx(
        small_survey,
        {},
        [{"name": "q", "type": "likert", "range": [1, 5], "question": {"id": "Q", "en": "Q"}}],
    )
    with pytest.raises(InputError) as e:
        clean.likert(_frame(q=[str(1 + i % 7) for i in range(70)]), ctx, clean.CleaningLog())
    msg = e.value.text("en")
    assert 'columns "Q" (q) (range 1–5)' in msg and '"6"' in msg and "20 answers" in msg


@pytest.mark.parametrize(("blanked", "stops"), [(1, False), (9, False), (25, True)])
def test_an_empty_weighting_level_is_blamed_only_on_a_problem_that_could_fill_it(
    small_survey, blanked, stops
):
    """40 respondents, no woman among those whose gender is known: with 1 or 9 unreadable
    answers women are simply missing from this small sample (1 or 9 lost: said, no stop);
    25 unreadable answers could have been the women, so the emptied margin level stops."""
    from pipelines.errors import InputError

    ctx = _ctx(small_survey)
    n = 40
    df = _frame(gender=["male"] * (n - blanked) + [None] * blanked)
    df = df.assign(site="kota", kecamatan="Tanjung Harapan", age=30.0, education="senior")
    df["disability"] = 0
    log = clean.CleaningLog()
    log.record("unknown_category", "x", df["gender"].isna(), df, "gender", df["gender"])
    if stops:
        with pytest.raises(InputError) as e:
            clean.account_losses(df, ctx, log)
        assert "the weighting margin(s) gender=female lose all respondents" in e.value.text("en")
        return
    clean.account_losses(df, ctx, log)
    rule = log.rules[0]
    assert rule["left_models"] == blanked and rule["lost_margins"] == ""


def test_losses_on_another_instrument_count_rows_without_a_cluster(small_survey):
    """The library-visitor survey (no TPBIS roles, no covariates): 12 of 40 visitors name an
    unlisted library, so 12 leave every estimate; over 5% it stops unless accepted."""
    from pathlib import Path

    from pipelines.errors import InputError

    cb = load_codebook(str(Path(__file__).parent / "fixtures" / "other_instrument.yaml"))
    cfg = load_config(write_config(small_survey, "csv"))
    df = _frame(sat_staff=[3] * 40).assign(site="kota", kecamatan="Tanjung Harapan")
    df.loc[:11, ["site", "kecamatan"]] = None
    for accept, raises in (([], True), (["unmatched_site"], False)):
        c = cfg.model_copy(
            update={"cleaning": cfg.cleaning.model_copy(update={"accept_loss": accept})}
        )
        ctx = clean.Context(c, cb, c.waves[0])
        log = clean.CleaningLog()
        log.record("match_site_unmatched", "x", df["site"].isna(), df, "site", df["site"])
        if raises:
            with pytest.raises(InputError) as e:
                clean.account_losses(df.copy(), ctx, log)
            assert "12 of 40 respondents leave every estimate" in e.value.text("en")
            assert "accept_loss: [unmatched_site]" in e.value.text("en")
            continue
        clean.account_losses(df.copy(), ctx, log)
        assert (log.rules[0]["left_every_estimate"], log.rules[0]["left_models"]) == (12, 0)
        assert log.rules[0]["accepted"] is True
        assert log.summary().set_index("rule").loc["out_of_design", "rows_touched"] == 12


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


def test_a_question_named_age_is_one_column():
    """A form that asks the age itself (no birth year) keeps one `age` column (issue 11: it
    used to stop clean with 'Duplicate column names')."""
    from pipelines.codebook import Codebook

    q = {"id": "Umur", "en": "Age"}
    cb = Codebook.model_validate(
        {
            "id": "x",
            "version": "1",
            "title": q,
            "variables": [
                {"name": "age", "type": "numeric", "range": [15, 90], "question": q},
                {"name": "income", "type": "currency", "question": q},
            ],
        }
    )
    df = pd.DataFrame({"income": [1.0], "log_income": [0.0], "age": [30.0], "wave": ["1"]})
    order = clean._order(df, cb)
    assert order == ["wave", "age", "income", "log_income"]


def test_an_age_outside_the_limits_is_blanked_and_logged_with_year_and_age(small_survey):
    """A birth year inside its own range that gives an age above AGE_LIMITS: the age is set
    missing, and the log's examples show the year with the age it gives (those rows only)."""
    cfg = load_config(write_config(small_survey, "csv"))
    wave = next(w for w in cfg.waves if w.id == "2026")
    raw = ingest.ingest_wave(cfg, CB, wave, SECRET).data
    old = raw.index[:2]
    raw.loc[old, "birth_year"] = "1921"
    age = wave.reference_date.year - 1921
    assert age > clean.AGE_LIMITS[1]
    data, log = clean.clean_wave(raw, cfg, CB, wave)
    s = log.summary()
    row = s[s["rule"] == "impossible_age"].iloc[0]
    assert row["rows_touched"] >= 2
    assert f"1921 (age {age})" in row["examples"]
    hit = data["respondent_key"].isin(raw.loc[old, "respondent_key"])
    assert hit.sum() >= 1 and data.loc[hit, "age"].isna().all()
    assert data["age"].notna().sum() > len(data) // 2
