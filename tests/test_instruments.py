"""Issue 11, "How we will know": four instruments besides the bundled TPBIS one go through all
four stages (the real notebooks, through the runner) to reports, and each run is checked for

(a) scale scores equal to a hand computation on rows with reversed items (reverse = lo + hi - x
    on the declared range), and item codes equal to the generator's;
(b) the range the reports print (e.g. "1–4") being the declared one, in both languages;
(c) the analyses the form cannot have named as skipped, with a reason, in results/plan.parquet
    and in the report's methods appendix;
(d) planted effects recovered (the interval covers the truth and excludes zero);
(e) no crash, every stage run, a report for every site, no personal data in the outputs.

The instruments and their truths are written at test time by ``tests/instruments.py``; the
bundled TPBIS instrument is checked the same way in test_end_to_end.py.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from instruments import INSTRUMENTS, build, hand_score

from pipelines import privacy
from pipelines.codebook import load_codebook
from pipelines.config import load_config
from pipelines.errors import RunError
from pipelines.plan import reasons
from pipelines.runner import Run

NAMES = list(INSTRUMENTS)


# ----------------------------------------------------------------------------- fast
@pytest.mark.parametrize("name", NAMES)
def test_generator_is_seeded_and_hand_rows_bite(name, tmp_path):
    """The same seed writes the same files; every hand row has a reversed item whose wrong
    reversal (6 - x, the 1-5 rule) would change the score."""
    a, b = build(name, tmp_path / "a"), build(name, tmp_path / "b")
    for f in a.folder.iterdir():
        if f.suffix in (".csv", ".yaml"):
            assert f.read_bytes() == (b.folder / f.name).read_bytes(), f.name
    assert len(a.hand) >= 5
    for h in a.hand:
        scale = a.codebook["scales"][h["scale"]]
        labels = _labels(a.codebook, scale["items"][0])
        right = hand_score(h["raw"], labels, scale.get("reverse", []), a.ranges[h["scale"]])
        wrong = hand_score(h["raw"], labels, scale.get("reverse", []), (1, 5))
        if a.ranges[h["scale"]] != (1, 5):
            assert right != wrong


@pytest.mark.parametrize("name", NAMES)
def test_codebook_loads_with_its_roles(name, tmp_path):
    b = build(name, tmp_path)
    cb = load_codebook(f"{name}.yaml", b.folder)
    assert cb.roles.outcomes, "the roles block is read"
    for scale, rng in b.ranges.items():
        got = cb.scale_range(scale) if scale in cb.scales else cb.item_range(cb.var(scale))
        assert tuple(got) == rng


# ----------------------------------------------------------------------------- runs
DATA_STAGES, REPORT_STAGES = ["ingest", "clean", "analyse"], ["report"]


def _stages(built, out, stages: list[str], cli: bool) -> str:
    """Run ``stages``; return the command line's output (``cli``) or ''. Raises on failure."""
    if not cli:
        result = Run(built.config, stages=stages, out_root=out, progress=lambda m: None).run()
        assert set(result.stages) == set(stages)
        return ""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines",
            "run",
            str(built.config),
            "--out-root",
            str(out),
            "--stage",
            ",".join(stages),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}: {proc.stderr[-3000:]}")
    return proc.stdout


@pytest.fixture(scope="module", params=NAMES)
def run(request, tmp_path_factory):
    """One run per instrument, shared by the checks below: the data stages, then the report
    stage on their outputs (so a report failure does not hide the analysis checks). The
    reading survey goes through the command line (exit code and run summary checked)."""
    name = request.param
    built = build(name, tmp_path_factory.mktemp(name) / "survey")
    out = tmp_path_factory.mktemp(f"{name}-out")
    cli = name == "reading"
    stdout = _stages(built, out, DATA_STAGES, cli)
    try:
        stdout += _stages(built, out, REPORT_STAGES, cli)
        report_error = None
    except (RunError, AssertionError) as e:
        report_error = str(e)
    cfg = load_config(built.config)
    cb = load_codebook(cfg.instrument, cfg.base_dir)
    layout = Run(built.config, out_root=out).layout
    return {
        "b": built,
        "layout": layout,
        "cfg": cfg,
        "cb": cb,
        "stdout": stdout,
        "report_error": report_error,
    }


def _reports(run):
    """The reports folder; the test fails with the report stage's own error if it failed."""
    if run["report_error"]:
        pytest.fail(f"the report stage failed: {run['report_error']}")
    return run["layout"].reports


def _labels(cb: dict, item: str) -> dict[str, int]:
    var = next(v for v in cb["variables"] if v["name"] == item)
    if "labels" not in var:
        return {}
    return {v["id"]: int(k) for k, v in cb["label_sets"][var["labels"]]["labels"].items()}


def _estimates(run) -> pd.DataFrame:
    return pd.read_parquet(run["layout"].processed / "results" / "estimates.parquet")


def _html(run, lang: str) -> str:
    """The city report's visible text (tags dropped, whitespace collapsed)."""
    text = (_reports(run) / f"city.{lang}.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(html.unescape(text).split())


def _has_range(text: str, lo: int, hi: int) -> bool:
    """``lo–hi`` as a range of its own (not the end of "11–50")."""
    return re.search(rf"(?<![\d.,]){lo}–{hi}(?![\d]|[.,]\d)", text) is not None


def _one(est: pd.DataFrame, **eq) -> pd.Series:
    sel = est
    for k, v in eq.items():
        sel = sel[sel[k].isin(v) if isinstance(v, list | tuple | set) else sel[k] == v]
    assert len(sel) == 1, f"{eq}: {len(sel)} rows\n{sel.to_string()[:2000]}"
    return sel.iloc[0]


@pytest.mark.slow
def test_every_stage_runs_and_every_site_has_reports(run):
    rep, b = _reports(run), run["b"]
    cfg = run["cfg"]
    for lang in ("id", "en"):
        assert (rep / f"city.{lang}.html").exists()
        for site in b.sites:
            for fmt in cfg.report.formats:
                assert (rep / "sites" / f"{site}.{lang}.{fmt}").exists(), (site, lang, fmt)
    index = (rep / "index.html").read_text()
    assert all(f"sites/{s}.id.html" in index for s in b.sites)
    assert privacy.scan_paths([run["layout"].processed, rep]) == []


@pytest.mark.slow
def test_item_codes_and_scale_scores_match_the_generator(run):
    """(a) Every kept row's item codes (as answered), option ticks and yes/no answers are the
    generator's, and its scale scores are the mean of the answered items after reversing on
    the declared range."""
    from pipelines import analysis

    b, cfg, cb = run["b"], run["cfg"], run["cb"]
    for wave in b.waves:
        df = pd.read_parquet(run["layout"].processed / "clean" / f"{wave}.parquet")
        key = ["source_file", "source_row"]
        truth = b.items[wave].set_index(key).add_suffix("_true").reset_index()
        merged = truth.merge(df, on=key)
        assert len(merged) == len(truth) == len(df)
        assert any(v.name in b.items[wave] for v in cb.by_type("likert"))
        for col in b.items[wave].columns.drop(key):  # Likert codes, option ticks, yes/no
            got = merged[col].astype("float64").to_numpy()
            want = merged[f"{col}_true"].to_numpy(dtype="float64")
            assert np.array_equal(got, want, equal_nan=True), col
        scored = analysis.prepare(df, cfg, cb).merge(truth, on=key)
        for scale, spec in cb.scales.items():
            lo, hi = b.ranges[scale]
            codes = scored[[f"{i}_true" for i in spec.items]].astype("float64")
            for item in spec.reverse:
                codes[f"{item}_true"] = lo + hi - codes[f"{item}_true"]
            # the mean of the answered items, when at least half of them (rounded up) are
            enough = codes.notna().sum(axis=1) >= (spec.min_answered or -(-len(spec.items) // 2))
            want = codes.mean(axis=1).where(enough)
            assert np.allclose(scored[scale], want, equal_nan=True), scale


@pytest.mark.slow
def test_declared_covariates_and_breakdowns_are_in_the_data(run):
    """Every covariate and breakdown the roles declare is a processed column, asked or derived
    (e.g. age bands from a numeric `age`, not only from a birth year)."""
    roles = run["cb"].roles
    for wave in run["b"].waves:
        df = pd.read_parquet(run["layout"].processed / "clean" / f"{wave}.parquet")
        missing = [c for c in [*roles.covariates, *roles.breakdowns] if c not in df]
        assert not missing, (wave, missing)


@pytest.mark.slow
def test_check_lists_the_skipped_analyses(run):
    """`check` runs the plan without writing and names what will be skipped, and why."""
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines", "check", str(run["b"].config)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    plan = pd.read_parquet(run["layout"].processed / "results" / "plan.parquet")
    for reason in reasons(plan[~plan["runs"].astype(bool)], "en").unique():
        assert reason in proc.stdout, reason


@pytest.mark.slow
def test_respondents_are_linked_across_waves(run):
    """Phone (Kobo) and e-mail (SurveyMonkey) link the same people across waves; the planted
    panel is found exactly, and paired change is estimated on it."""
    b = run["b"]
    if len(b.waves) < 2:
        pytest.skip("one wave")
    att = pd.read_csv(run["layout"].processed / "clean" / "attrition.csv")
    assert att["linked"].tolist() == [b.effects["linked"]]
    est = _estimates(run)
    assert (est["analysis"] == "paired_change").any()


@pytest.mark.slow
def test_hand_scored_rows_with_reversed_items(run):
    """(a) By hand, from the raw answer texts: reverse = lo + hi - x on the declared range."""
    from pipelines import analysis

    b, cfg, cb = run["b"], run["cfg"], run["cb"]
    wave = b.waves[0]
    df = pd.read_parquet(run["layout"].processed / "clean" / f"{wave}.parquet")
    scored = analysis.prepare(df, cfg, cb).set_index(["source_file", "source_row"])
    for h in b.hand:
        scale = b.codebook["scales"][h["scale"]]
        labels = _labels(b.codebook, scale["items"][0])
        want = hand_score(h["raw"], labels, scale.get("reverse", []), b.ranges[h["scale"]])
        got = scored.loc[(h["file"], h["row"]), h["scale"]]
        assert got == pytest.approx(want), (h, got)


@pytest.mark.slow
def test_reports_print_the_declared_range(run):
    """(b) Each scale's range, "1–4" (or 0–4, 1–6), in both languages, and never the bundled
    "1–5" for another range."""
    b = run["b"]
    ranges = {s: r for s, r in b.ranges.items() if s in run["cb"].scales}
    for lang in ("id", "en"):
        text = _html(run, lang)
        for scale, (lo, hi) in ranges.items():
            assert _has_range(text, lo, hi), (lang, scale)
        if (1, 5) not in b.ranges.values():
            assert not _has_range(text, 1, 5), lang


def _skipped(run, analysis: str, words: str) -> pd.DataFrame:
    plan = pd.read_parquet(run["layout"].processed / "results" / "plan.parquet")
    assert {"analysis", "outcome", "runs", "reason", "reason_fields"} <= set(plan.columns)
    rows = plan[(plan["analysis"] == analysis) & ~plan["runs"].astype(bool)]
    assert len(rows), f"{analysis} is not skipped"
    rows = rows.assign(reason_en=reasons(rows, "en"), reason_id=reasons(rows, "id"))
    assert rows["reason_en"].str.contains(words, case=False).all(), rows["reason_en"]
    assert (rows["reason_id"].str.len() > 0).all()
    return rows


@pytest.mark.slow
def test_skipped_analyses_are_in_the_plan_with_reasons(run):
    """(c) results/plan.parquet: what the form cannot have is skipped, with a reason; the rest
    runs. The command line's run summary names the skipped ones too."""
    b = run["b"]
    for analysis, words in b.skipped.items():
        rows = _skipped(run, analysis, words)
        if run["stdout"]:
            assert rows["reason_en"].iloc[0] in run["stdout"], analysis
    plan = pd.read_parquet(run["layout"].processed / "results" / "plan.parquet")
    ran = plan[plan["runs"].astype(bool)]
    assert {"descriptive", "reliability"} | b.runs <= set(ran["analysis"])
    assert not set(ran["analysis"]) & set(b.skipped)


@pytest.mark.slow
def test_skipped_analyses_are_in_the_methods_appendix(run):
    """(c) Each skipped analysis's reason, in the report of each language."""
    text = {lang: _html(run, lang) for lang in ("id", "en")}
    for analysis, words in run["b"].skipped.items():
        rows = _skipped(run, analysis, words)
        for reason_en, reason_id in set(zip(rows["reason_en"], rows["reason_id"], strict=True)):
            assert reason_en in text["en"], reason_en
            assert reason_id in text["id"], reason_id


@pytest.mark.slow
def test_reports_describe_this_survey_s_own_design_and_weights(run):
    """Issue 11 (4): the methods appendix states this survey's clusters and strata and its
    weighting; the sample table and the glossary say "raking" only when the weights were
    raked, and no sentence speaks of an analysis that did not run."""
    from pipelines import report
    from pipelines.i18n import t

    cfg, cb = run["cfg"], run["cb"]
    ran = set(_estimates(run)["analysis"])
    method = cfg.design.weights.method
    for lang in ("id", "en"):
        text = _html(run, lang)
        lab = report.Labels(cfg, cb, lang, pd.DataFrame())
        assert report.design_structure(cfg, lab) in text
        raked = t("who.match_intro", lang) in text
        assert raked == (method == "rake"), (lang, method)
        assert (t("glossary.weighting.term", lang) in text) == (method == "rake")
        if method == "none":
            assert t("who.match_intro_none", lang) in text
        assert (t("methods.design_gaps", lang) in text) == ("inclusion" in ran)
        assert (t("glossary.gap.term", lang) in text) == ("inclusion" in ran)
        assert (t("glossary.did.term", lang) in text) == ("did" in ran)
        if not any(o.kind == "money" for o in cb.roles.outcomes):
            assert t("bygroup.note", lang) not in text  # no sentence on money amounts


# ----------------------------------------------------------------------------- (d) truths
def _covers(row: pd.Series, truth: float) -> None:
    assert row["ci_low"] <= truth <= row["ci_high"], (truth, row.to_dict())


def _null(row: pd.Series, within: float = 0.15) -> None:
    """No planted effect: within ``within`` points of zero (a fixed band: with six libraries
    the design SE is itself noisy, so a band of SEs would be a coin toss)."""
    assert abs(row["estimate"]) < within, row.to_dict()


def _significant(row: pd.Series, sign: int = 1) -> None:
    assert (row["ci_low"] > 0) if sign > 0 else (row["ci_high"] < 0), row.to_dict()


@pytest.mark.slow
def test_planted_effects_are_recovered(run):
    """(d) Each planted effect: the interval covers the truth and excludes zero."""
    b, est = run["b"], _estimates(run)
    check = PLANTED[b.name]
    check(b, est)


def _kobo4(b, est):
    """Skills by taking part (any option), log income by the wirausaha option; confidence null."""
    for wave in b.waves:
        row = _one(est, analysis="participation", outcome="skills", wave=wave)
        _covers(row, b.effects["skills_att"][wave])
        _significant(row)
        prog = est[
            (est["analysis"] == "programme")
            & est["outcome"].isin(["income", "log_income"])
            & (est["wave"] == wave)
        ]
        wira = prog[prog["term"].fillna("").str.contains("wirausaha")]
        row = _one(wira)
        _covers(row, b.effects["log_income_wirausaha"])
        _significant(row)
        assert prog["term"].fillna("").str.contains("komputer").any()  # one effect per option
        _null(_one(est, analysis="participation", outcome="confidence", wave=wave))


def _reading(b, est):
    by = est[(est["analysis"] == "descriptive") & (est["outcome"] == "motivation")]
    by = by[by["group_var"] == "gender"].set_index("group")
    diff = by.loc["female", "estimate"] - by.loc["male", "estimate"]
    se = np.hypot(by.loc["female", "se"], by.loc["male", "se"])
    assert diff > 2 * se
    assert abs(diff - b.effects["motivation_female"]) < 3 * se


def _spss6(b, est):
    row = _one(est, analysis="participation", outcome="digital", wave="2025")
    _covers(row, b.effects["digital_att"])
    _significant(row)
    _significant(_one(est, analysis="dose_response", outcome="digital", wave="2025"))
    _null(_one(est, analysis="participation", outcome="wellbeing", wave="2025"))
    prog = est[(est["analysis"] == "programme") & est["outcome"].isin(["income", "log_income"])]
    row = _one(prog[prog["term"].fillna("").str.contains("business")])
    _covers(row, b.effects["log_income_business"])
    _significant(row)


def _monkey(b, est):
    for wave in b.waves:
        row = _one(est, analysis="participation", outcome="digital_use", wave=wave)
        _covers(row, b.effects["digital_use_att"][wave])
        _significant(row)
        row = _one(est, analysis="participation", outcome="visits", wave=wave)
        _covers(row, b.effects["visits"])
        _significant(row)
        row = _one(est, analysis="effect", outcome="eservice", wave=wave)  # percentage points
        _covers(row, 100 * b.effects["eservice_rd"][wave])
        _significant(row)


PLANTED = {"kobo4": _kobo4, "reading": _reading, "spss6": _spss6, "monkey": _monkey}


# ----------------------------------------------------------------------------- replicate weights
@pytest.fixture(scope="module")
def replicate_run(tmp_path_factory):
    """kobo4 with a final weight and JK1 replicate weights in every export, selected by
    ``design.replicate``: all four notebooks through the runner."""
    from instruments import kobo4_replicate

    built = kobo4_replicate(tmp_path_factory.mktemp("kobo4rep") / "survey")
    out = tmp_path_factory.mktemp("kobo4rep-out")
    _stages(built, out, DATA_STAGES, cli=False)
    _stages(built, out, REPORT_STAGES, cli=False)
    return {"b": built, "layout": Run(built.config, out_root=out).layout}


@pytest.mark.slow
def test_replicate_weights_run_through_every_stage_and_name_their_method(replicate_run):
    """Every design-based estimate says replicate-JK1 (only the within-library site rows and
    the unweighted mixed model keep their own methods), the planted participation effect on
    skills is recovered in both waves, reports exist and no personal data leaks."""
    b, lay = replicate_run["b"], replicate_run["layout"]
    est = pd.read_parquet(lay.processed / "results" / "estimates.parquet")
    # not design-based by nature: within-library rows, the mixed model, model-based SEs of
    # each library's own effect (the replicates drop whole libraries), Cohen's d_z
    own = est["analysis"].isin(["site", "mixed_model"]) | est["method"].str.contains(
        "model-based|not estimated|Cohen"
    )
    assert est.loc[~own, "method"].str.contains("replicate-JK1").all()
    assert not est.loc[~own, "method"].str.contains("Taylor").any()
    for analysis in ("participation", "participation_ame", "ordinal", "ipw", "inclusion", "did"):
        assert (est["analysis"] == analysis).any(), analysis
    for wave in b.waves:
        row = _one(est, analysis="participation", outcome="skills", wave=wave)
        # the truth is the sample ATT on the clipped answer scale, which the adjusted linear
        # model estimates with a small bias of its own (kobo4's raked run shows it too)
        assert abs(row.estimate - b.effects["skills_att"][wave]) < 3 * row.se, row.to_dict()
        _significant(row)
        assert row.df == len(b.sites) - 1  # JK1 over 8 libraries: rank 8, df 7
        assert row.se == pytest.approx(_taylor_se(replicate_run, wave), rel=0.25)
    clean = pd.read_parquet(lay.processed / "clean" / "2025.parquet")
    assert [f"repw_{j}" for j in range(1, 9)] == [c for c in clean if c.startswith("repw_")]
    assert (clean["repw_1"] >= 0).all() and clean["repw_1"].dtype == float
    city = (lay.reports / "city.en.html").read_text(encoding="utf-8")
    assert "replicate weights delivered with the data (type JK1)" in city
    assert "Taylor linearisation" not in city
    assert "bobot replikasi" in (lay.reports / "city.id.html").read_text(encoding="utf-8")
    assert privacy.scan_paths([lay.processed, lay.reports]) == []


@pytest.mark.slow
def test_replicates_created_from_the_libraries(tmp_path):
    """``design.replicate: {create: JKn}`` (no replicate columns): the data stages build JKn
    replicates from kecamatan and libraries, in every wave and in the linked panel."""
    from instruments import kobo4_replicate

    b = kobo4_replicate(tmp_path / "survey")
    cfg = yaml.safe_load(b.config.read_text(encoding="utf-8"))
    cfg["design"]["replicate"] = {"create": "JKn"}
    b.config.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    _stages(b, tmp_path / "out", DATA_STAGES, cli=False)
    lay = Run(b.config, out_root=tmp_path / "out").layout
    est = pd.read_parquet(lay.processed / "results" / "estimates.parquet")
    for analysis in ("descriptive", "participation", "ipw", "paired_change", "did"):
        rows = est[(est["analysis"] == analysis) & est["method"].str.contains("SE")]
        assert rows["method"].str.contains("replicate-JKn").all(), analysis
    row = _one(est, analysis="participation", outcome="skills", wave=b.waves[0])
    assert row.df == len(b.sites) - 2  # JKn: 8 libraries in 2 kecamatan


@pytest.mark.slow
def test_replicates_raked_with_the_final_weight(tmp_path):
    """Raking with given replicate weights: the final weight is the raking's base
    (``method: rake, column: final_weight``) and every JK1 replicate is raked to the gender
    margin too, through all four notebooks: the method names the raked replicates in the
    estimates and both reports, each replicate's female share is the margin's (not so
    unraked), and the SEs differ from those of the same replicates left unraked."""
    from instruments import kobo4_replicate

    from pipelines import analysis
    from pipelines.stats import svymean

    b = kobo4_replicate(tmp_path / "survey")
    cfg = yaml.safe_load(b.config.read_text(encoding="utf-8"))
    gender = {"female": 51000, "male": 49000}
    cfg["design"]["weights"] = {
        "method": "rake",
        "column": "final_weight",
        "trim_ratio": None,
        "margins": {"gender": gender},
    }
    b.config.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    _stages(b, tmp_path / "out", DATA_STAGES + REPORT_STAGES, cli=False)
    lay = Run(b.config, out_root=tmp_path / "out").layout
    est = pd.read_parquet(lay.processed / "results" / "estimates.parquet")
    rows = est[(est["analysis"] == "descriptive") & est["method"].str.contains("SE")]
    assert len(rows) and rows["method"].str.contains("replicate-JK1-raked SE").all()
    weights = pd.read_parquet(lay.processed / "results" / "weights.parquet")
    assert (weights["replicates_raked_on"] == "gender").all()
    city = html.unescape((lay.reports / "city.en.html").read_text(encoding="utf-8"))
    assert "Each replicate's weights were raked the same way, to population counts by" in city
    assert "the design weights delivered with the data, raked" in city
    city_id = (lay.reports / "city.id.html").read_text(encoding="utf-8")
    assert "Bobot setiap replikasi juga disesuaikan" in city_id

    config = load_config(b.config)
    cb = load_codebook(config.instrument, config.base_dir)
    unraked_w = config.design.weights.model_copy(update={"method": "column", "margins": {}})
    unraked = config.model_copy(
        update={"design": config.design.model_copy(update={"weights": unraked_w})}
    )
    for wave in b.waves:
        raw = pd.read_parquet(lay.processed / "clean" / f"{wave}.parquet")
        d = analysis.prepare(raw, config, cb)
        raked = analysis.design_for(d, config)
        female = (d["gender"].astype(str) == "female").to_numpy()
        known = d["gender"].notna().to_numpy()
        rep = raked.replicate_weights
        share = rep[female].sum(axis=0) / rep[known].sum(axis=0)
        np.testing.assert_allclose(share, gender["female"] / 1e5, rtol=1e-6)
        # the full weight is the final weight x one raking factor per gender
        ratio = d["weight"] / d["final_weight"]
        assert ratio[known].groupby(d["gender"][known].astype(str)).std().max() < 1e-9
        d0 = analysis.prepare(raw, unraked, cb)
        plain = analysis.design_for(d0, unraked)
        rep0 = plain.replicate_weights
        share0 = rep0[female].sum(axis=0) / rep0[known].sum(axis=0)
        assert np.ptp(share0) > 1e-3  # dropping a library moves the unraked share
        se, se0 = (svymean(x, "skills")["se"][0] for x in (raked, plain))
        assert se != pytest.approx(se0, rel=1e-4)


def test_check_passes_replicate_weights_and_names_a_missing_column(tmp_path):
    """`python -m pipelines check` accepts the replicate config; naming replicate columns the
    export lacks fails check with one sentence giving the file and the column."""
    from instruments import kobo4_replicate

    b = kobo4_replicate(tmp_path / "survey")
    ok = subprocess.run(
        [sys.executable, "-m", "pipelines", "check", str(b.config)], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    text = b.config.read_text(encoding="utf-8").replace("repw_*", "bootw_*")
    b.config.write_text(text.replace("type: JK1", "type: bootstrap"), encoding="utf-8")
    bad = subprocess.run(
        [sys.executable, "-m", "pipelines", "check", str(b.config)], capture_output=True, text=True
    )
    errors = [line for line in bad.stderr.splitlines() if line.startswith("ERROR: ")]
    assert bad.returncode == 2 and len(errors) == 2, bad.stderr  # one per wave's export
    assert "kobo_2025.csv" in errors[0] and "'bootw_*'" in errors[0]
    assert "design.replicate.columns" in errors[0] and errors[0].count(". ") <= 1


def _taylor_se(replicate_run, wave: str) -> float:
    """The same participation model's Taylor SE over libraries and kecamatan with the same final
    weights: dropping one library per replicate (JK1) should give about the same."""
    from pipelines import analysis, models
    from pipelines.stats import SurveyDesign

    cfg = load_config(replicate_run["b"].config)
    cb = load_codebook(cfg.instrument, cfg.base_dir)
    raw = pd.read_parquet(replicate_run["layout"].processed / "clean" / f"{wave}.parquet")
    d = analysis.prepare(raw, cfg, cb)
    des = SurveyDesign(d, weights="weight", strata="kecamatan", cluster="site", lonely_psu="adjust")
    out = models.participation_effects(
        des, ["skills"], ["age", "gender", "disability"], "took_part"
    )
    return float(out.iloc[0].se)
