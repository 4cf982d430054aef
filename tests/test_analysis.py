"""analyse(): the orchestrated result tables on clean-shaped synthetic waves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers_analysis import make_config

from pipelines import analysis
from pipelines.plan import reasons
from pipelines.simulate.waves import make_waves


@pytest.fixture(scope="module")
def result():
    waves, panel, truth = make_waves(1500, 11, disability_gap=1.0)
    cfg, cb = make_config()
    return analysis.analyse(waves, panel, cfg, cb), truth


def test_tables_present(result):
    res, _ = result
    assert set(res) == {
        "estimates",
        "reliability",
        "weights",
        "likert",
        "representativeness",
        "balance",
        "attrition",
        "plan",
        "outcomes",
        "roles",
    }
    for name, table in res.items():
        assert len(table), name


def test_estimates_columns_complete(result):
    res, _ = result
    e = res["estimates"]
    assert list(e.columns[: len(analysis.ESTIMATE_COLUMNS)]) == analysis.ESTIMATE_COLUMNS
    for col in ("n", "method", "analysis", "outcome", "wave"):
        assert e[col].notna().all(), col
    # every row has an estimate and interval, except groups too small to estimate, which say
    # so (issue 14 item 3: "too uncertain" instead of a wild estimate)
    uncertain = e["flag"].str.startswith("too uncertain")
    assert e.loc[uncertain, "analysis"].isin(["inclusion", "inclusion_gap"]).all()
    assert e.loc[uncertain, "estimate"].isna().all()
    for col in ("ci_low", "ci_high", "estimate"):
        assert e.loc[~uncertain, col].notna().all(), col
    assert (e["n"] > 0).all() and (e["method"].str.len() > 10).all()
    assert (e.loc[~uncertain, "ci_low"] <= e.loc[~uncertain, "ci_high"]).all()
    # raw and adjusted p both published, each adjusted row's family named; unclear rows
    # carry the minimum detectable effect
    tested = e["p"].notna()
    adjusted = tested & (e["analysis"] != "inclusion")  # a group's own effect is no gap test
    assert e.loc[adjusted, "p_adj"].notna().all() and e.loc[adjusted, "family"].notna().all()
    gaps = e[(e.analysis == "inclusion_gap") & tested]
    assert (gaps["family"] == gaps["outcome"] + " x " + gaps["group_var"]).all()
    unclear = tested & ~(e["p_adj"].fillna(e["p"]) < 0.05)
    assert e.loc[unclear, "mde"].gt(0).all() and e.loc[tested & ~unclear, "mde"].isna().all()
    modelled = e[e.analysis.isin(["participation", "did", "ipw", "programme", "dose_response"])]
    assert modelled["note"].str.contains("associated with").all()
    assert modelled["p_adj"].notna().all()
    expected = {
        "descriptive",
        "participation",
        "ordinal",
        "mixed_model",
        "dose_response",
        "programme",
        "ipw",
        "inclusion",
        "inclusion_gap",
        "paired_change",
        "did",
        "ancova",
    }
    assert expected <= set(e["analysis"])


def test_recovery_through_analyse(result):
    res, truth = result
    e = res["estimates"]
    part = e[(e.analysis == "participation") & (e.wave == "2025")].set_index("outcome")
    for o in ("log_income", "business"):
        assert part.loc[o, "ci_low"] <= truth["effects"][o] <= part.loc[o, "ci_high"], o
        assert part.loc[o, "ci_low"] > 0
    for o in ("library_roles", "got_job"):
        assert part.loc[o, "ci_low"] <= 0 <= part.loc[o, "ci_high"], o
    flagged = e[e.flag.str.contains("gains less")]
    assert ("disability", "1") in set(zip(flagged.group_var, flagged.group, strict=True))
    did = e[(e.analysis == "did") & (e.outcome == "library_roles")].iloc[0]
    assert did.ci_low <= 0 <= did.ci_high


def test_side_tables(result):
    res, _ = result
    w = res["weights"]
    assert (w["kish_deff"] >= 1).all()
    np.testing.assert_allclose(w["effective_n"], w["n"] / w["kish_deff"])
    np.testing.assert_allclose(w["sum"], 56000.0)
    rep = res["representativeness"]
    g = rep[(rep.variable == "gender") & (rep.wave == "2025")].set_index("level")
    np.testing.assert_allclose(g["weighted_share"], g["population_share"], atol=1e-6)
    assert g.loc["female", "sample_share"] > g.loc["female", "population_share"]
    lik = res["likert"]
    sums = lik.groupby(["wave", "item"])["pct"].sum()
    np.testing.assert_allclose(sums, 100)
    assert set(res["reliability"]["scale"]) == {"skills", "confidence", "social", "library_roles"}
    assert (res["balance"]["smd_after"].abs() < 0.1).all()
    att = res["attrition"]
    assert att.loc[att.group_var == "all", "linked"].iloc[0] == 900


def test_end_to_end_simulate_ingest_clean_analyse(tmp_path):
    """simulate -> raw CSV exports -> ingest -> clean -> analyse recovers truth.json."""
    from pipelines import clean, ingest, simulate
    from pipelines.codebook import load_codebook
    from pipelines.config import load_config

    sim = simulate.simulate(n_per_wave=1500, seed=7)
    simulate.write(sim, tmp_path, formats=("csv",))
    paths = simulate.write_config(tmp_path, sim, formats=("csv",))
    cfg = load_config(paths[-1])
    cb = load_codebook(cfg.instrument, cfg.base_dir)
    secret = b"test-secret-0123456789abcdef0123"
    waves = {}
    for wave in cfg.waves:
        got = ingest.ingest_wave(cfg, cb, wave, secret)
        waves[wave.id], _ = clean.clean_wave(got.data, cfg, cb, wave)
    res = analysis.analyse(waves, clean.panel(waves), cfg, cb)
    e = res["estimates"]
    truth = sim.truth
    w1 = truth["waves"][0]
    part = e[(e.analysis == "participation") & (e.wave == w1)].set_index("outcome")
    for o in ("skills", "confidence", "social", "log_income"):
        att = truth["effects"][w1][o]["att"]
        r = part.loc[o]
        assert r.ci_low > 0, o
        # the regression coefficient weights people differently from the ATT when effects
        # vary (by programme, gender, disability, dose): allow that on top of the CI
        assert r.ci_low - 0.1 <= att <= r.ci_high + 0.1, (o, r.estimate, att)
    for o in ("library_roles", "got_job"):
        assert part.loc[o, "ci_low"] <= 0 <= part.loc[o, "ci_high"], o
    did = e[e.analysis == "did"].set_index("outcome")
    att = truth["did"]["skills"]["att"]
    assert did.loc["skills", "ci_low"] - 0.1 <= att <= did.loc["skills", "ci_high"] + 0.1


def _with_weights_spec(cfg, **update):
    spec = cfg.design.weights.model_copy(update=update)
    return cfg.model_copy(update={"design": cfg.design.model_copy(update={"weights": spec})})


def test_design_for_carries_the_raking_into_the_variance():
    """When the config rakes, the pipeline's design has R's raked-design SEs (those of
    stats.calibrate.rake, pinned to R) for the margins spread over the libraries; kelurahan,
    nested in the libraries, is raked but left out of the variance; variance: fixed keeps the
    weights as fixed."""
    from pipelines.stats import SurveyDesign, svyby, svymean
    from pipelines.stats.calibrate import declare_raked, rake

    waves, _, _ = make_waves(600, 3)
    cfg, cb = make_config()
    cfg = _with_weights_spec(cfg, trim_ratio=None)  # trimming would move weights off the margins
    spread = {k: v for k, v in cfg.design.weights.margins.items() if k != "kelurahan"}
    only_spread = _with_weights_spec(cfg, margins=spread)
    d = analysis.prepare(waves["2026"], only_spread, cb)
    des = analysis.design_for(d, only_spread)
    assert des.calibrated
    direct = rake(
        SurveyDesign(d.astype({k: str for k in spread}), strata="kecamatan", cluster="site"),
        spread,
    )
    for var in ("confidence", "log_income"):
        a, b = svymean(des, var), svymean(direct, var)
        assert a["estimate"][0] == pytest.approx(b["estimate"][0], rel=1e-6)
        assert a["se"][0] == pytest.approx(b["se"][0], rel=1e-4)
    a, b = svyby(des, "confidence", "gender"), svyby(direct, "confidence", "gender")
    np.testing.assert_allclose(a["se"], b["se"], rtol=1e-4)

    full = analysis.prepare(waves["2026"], cfg, cb)
    assert analysis._spread_margins(full, ["kelurahan", "gender", "age_band"], ["site"]) == [
        "gender",
        "age_band",
    ]
    with_kel = analysis.design_for(full, cfg)
    by_hand = declare_raked(
        SurveyDesign(
            full, weights="weight", strata="kecamatan", cluster="site", lonely_psu="adjust"
        ),
        ["gender", "age_band"],
    )
    assert svymean(with_kel, "confidence")["se"][0] == pytest.approx(
        svymean(by_hand, "confidence")["se"][0], rel=1e-12
    )

    fixed_cfg = _with_weights_spec(cfg, variance="fixed")
    fixed = analysis.design_for(analysis.prepare(waves["2026"], fixed_cfg, cb), fixed_cfg)
    assert not fixed.calibrated
    assert svymean(fixed, "confidence")["se"][0] > svymean(des, "confidence")["se"][0]


def test_design_for_takes_a_unit_and_fpc_per_stage():
    """design.cluster / design.fpc as lists give the pipeline a two-stage design."""
    from pipelines.stats import svymean

    waves, _, _ = make_waves(600, 3)
    cfg, cb = make_config()
    two = cfg.design.model_copy(
        update={"cluster": ["site", "respondent_key"], "fpc": ["n_sites", "n_members"]}
    )
    cfg2 = cfg.model_copy(update={"design": two})
    d = analysis.prepare(waves["2026"], cfg2, cb)
    d["n_sites"] = d.groupby("kecamatan")["site"].transform("nunique") * 2
    d["n_members"] = d.groupby("site")["respondent_key"].transform("nunique") * 10
    des = analysis.design_for(d, cfg2)
    assert des.stage_ids == ("site", "respondent_key") and des.calibrated
    first = analysis.design_for(
        d, cfg.model_copy(update={"design": cfg.design.model_copy(update={"fpc": "n_sites"})})
    )
    assert svymean(des, "confidence")["se"][0] > svymean(first, "confidence")["se"][0]


def _without(waves, panel, columns):
    drop = lambda d: d.drop(columns=[c for c in columns if c in d])  # noqa: E731
    return {w: drop(d) for w, d in waves.items()}, drop(panel)


def test_a_form_without_participation_or_income_change_gets_descriptives_not_a_crash():
    """Issue 11: analyse stopped with KeyError 'income_change' / 'participated'."""
    waves, panel, _ = make_waves(600, 3)
    waves, panel = _without(
        waves, panel, ["participated", "programme", "sessions", "income_change"]
    )
    cfg, cb = make_config()
    res = analysis.analyse(waves, panel, cfg, cb)
    est, plan = res["estimates"], res["plan"]
    assert not est["analysis"].isin(["participation", "effect", "did", "inclusion"]).any()
    desc = est[(est["analysis"] == "descriptive") & est["group_var"].isna()]
    assert {"skills", "confidence", "log_income", "business"} <= set(desc["outcome"])
    skipped = plan[~plan["runs"]]
    part = skipped[skipped["analysis"] == "participation"]
    assert len(part) and reasons(part, "en").str.contains("took part").all()
    assert "income_rose" not in set(res["outcomes"]["outcome"])
    assert (
        reasons(skipped[skipped["outcome"] == "income_rose"], "id")
        .str.contains("income_change")
        .all()
    )


def test_multiselect_programme_gives_one_effect_per_option_with_the_overlap_stated():
    """Issue 11: a 'tick all that apply' programme question lost the by-programme effects.
    Planted: ticking 'enterprise' adds 0.3 to log income on top of taking part (0.15)."""
    from pipelines.codebook import Codebook

    waves, panel, _ = make_waves(2000, 5)
    rng = np.random.default_rng(0)
    options = ["computer", "enterprise", "literacy", "marketing"]
    for d in waves.values():
        took = d["participated"].eq(1).to_numpy()
        main = d["programme"].to_numpy()
        extra = rng.choice(options, len(d))
        also = took & (rng.random(len(d)) < 0.3)
        for o in options:
            d[f"programme__{o}"] = np.where(took, (main == o) | (also & (extra == o)), 0)
        ent = d["programme__enterprise"].eq(1).to_numpy()
        d.loc[ent, "log_income"] += 0.3
        d.loc[ent, "income"] *= np.exp(0.3)
    cols = ["respondent_key", "wave", *(f"programme__{o}" for o in options)]
    ticks = pd.concat([d[cols] for d in waves.values()])
    panel = panel.drop(columns=["log_income", "income"]).merge(
        pd.concat([d[[*cols, "log_income", "income"]] for d in waves.values()]),
        on=["respondent_key", "wave"],
    )
    assert len(ticks) and len(panel)
    waves, panel = _without(waves, panel, ["participated", "programme"])
    cfg, cb = make_config()
    data = cb.model_dump(by_alias=True)
    prog = next(v for v in data["variables"] if v["name"] == "programme")
    prog.update(type="multiselect", options=prog.pop("levels"), ordered=False)
    data["roles"]["exposure"]["took_part"] = None
    cb = Codebook.model_validate(data)
    res = analysis.analyse(waves, panel, cfg, cb)
    est = res["estimates"]
    prog_rows = est[(est["analysis"] == "programme") & (est["wave"] == "2026")]
    inc = prog_rows[prog_rows["outcome"] == "log_income"].set_index("term")
    assert set(inc.index) == {f"programme[{o}]" for o in options}
    ent = inc.loc["programme[enterprise]"]
    assert ent.ci_low < 0.45 < ent.ci_high and ent.ci_low > 0.15
    assert ent.estimate > inc.loc["programme[computer]", "estimate"]
    assert ent.note.startswith("Observational") and "also ticked another option" in ent.note
    # taking part is derived from the ticks, so the participation effects still run
    eff = est[(est["analysis"] == "effect") & (est["outcome"] == "skills")]
    assert len(eff) == 2 and (eff["ci_low"] > 0).all()
    assert "took_part" in set(res["roles"]["column"])


def test_design_for_builds_the_replicate_design_the_config_names():
    """design.replicate: given columns (a glob, natural order) with the main weight, or replicates
    created from the strata and libraries, give the ReplicateDesign the stats layer would."""
    from pipelines.config import Replicate
    from pipelines.stats import SurveyDesign, svymean
    from pipelines.stats.replicate import ReplicateDesign, as_replicate

    waves, _, _ = make_waves(600, 3)
    cfg, cb = make_config()
    weights = cfg.design.weights.model_copy(update={"method": "none", "margins": {}})

    def with_rep(**rep):
        design = cfg.design.model_copy(update={"weights": weights, "replicate": Replicate(**rep)})
        return cfg.model_copy(update={"design": design})

    created_cfg = with_rep(create="JKn")
    d = analysis.prepare(waves["2026"], created_cfg, cb)
    taylor = SurveyDesign(d, weights="weight", strata="kecamatan", cluster="site")
    want = as_replicate(taylor, "JKn")
    got = analysis.design_for(d, created_cfg)
    assert isinstance(got, ReplicateDesign) and got.stage_ids == ("site",)
    assert svymean(got, "confidence")["se"][0] == pytest.approx(
        svymean(want, "confidence")["se"][0], rel=1e-12
    )
    assert svymean(got, "confidence")["method"][0] == "replicate-JKn"

    rep = want.replicate_weights
    given = d.assign(**{f"repw_{j + 1}": rep[:, j] for j in range(rep.shape[1])})
    given_cfg = with_rep(columns="repw_*", type="JKn", rscales=list(want._rscales))
    got = analysis.design_for(given, given_cfg)
    np.testing.assert_array_equal(got.replicate_weights, rep)  # repw_2 before repw_10
    assert svymean(got, "confidence")["se"][0] == pytest.approx(
        svymean(want, "confidence")["se"][0], rel=1e-12
    )


def test_design_for_rakes_every_replicate_when_the_config_rakes():
    """Raking with design.replicate: each replicate's weights are raked to the same margins
    (those spread over the libraries) as stats.calibrate.rake does on the replicate design (R's
    rake() on a svrepdesign), trimmed like the full sample, and the method says so."""
    from pipelines.config import Replicate
    from pipelines.stats import SurveyDesign, svymean
    from pipelines.stats.calibrate import rake
    from pipelines.stats.replicate import as_replicate

    waves, _, _ = make_waves(600, 3)
    cfg, cb = make_config()

    def with_rep(cfg, **spec):
        weights = cfg.design.weights.model_copy(update=spec)
        design = cfg.design.model_copy(
            update={"weights": weights, "replicate": Replicate(create="JKn")}
        )
        return cfg.model_copy(update={"design": design})

    spread = {k: v for k, v in cfg.design.weights.margins.items() if k != "kelurahan"}
    untrimmed = with_rep(cfg, trim_ratio=None, margins=spread)
    d = analysis.prepare(waves["2026"], untrimmed, cb)
    got = analysis.design_for(d, untrimmed)
    assert got.calibrated_on == ("gender", "age_band")
    assert svymean(got, "confidence")["method"][0] == "replicate-JKn-raked"
    complete = d[list(spread)].notna().all(axis=1).to_numpy()
    sub = d[complete].astype({k: str for k in spread}).reset_index(drop=True)
    base = SurveyDesign(sub, strata="kecamatan", cluster="site")
    want = rake(as_replicate(base, "JKn"), spread)
    np.testing.assert_allclose(got.replicate_weights[complete], want.replicate_weights, rtol=1e-5)
    for level, total in spread["gender"].items():
        rows = (d["gender"].astype(str) == level).to_numpy() & complete
        np.testing.assert_allclose(got.replicate_weights[rows].sum(axis=0), total, rtol=1e-5)

    raked_cfg = with_rep(cfg)  # kelurahan too (nested in libraries: full sample only), trimmed
    full = analysis.prepare(waves["2026"], raked_cfg, cb)
    raked = analysis.design_for(full, raked_cfg)
    assert raked.calibrated_on == ("gender", "age_band")
    rep = raked.replicate_weights
    for r in range(rep.shape[1]):
        pos = rep[:, r][rep[:, r] > 0]
        assert pos.max() <= raked_cfg.design.weights.trim_ratio * np.median(pos) * (1 + 1e-9)
    fixed_cfg = with_rep(cfg, variance="fixed")
    fixed = analysis.design_for(full, fixed_cfg)
    assert svymean(fixed, "confidence")["method"][0] == "replicate-JKn"
    mult = as_replicate(SurveyDesign(full, strata="kecamatan", cluster="site"), "JKn")
    np.testing.assert_allclose(
        fixed.replicate_weights, mult.replicate_weights * full["weight"].to_numpy()[:, None]
    )
    se = [svymean(x, "confidence")["se"][0] for x in (raked, fixed)]
    assert se[0] != pytest.approx(se[1], rel=1e-3)


def test_result_tables_keep_their_columns_when_nothing_fills_them():
    """A form without Likert items, margins or breakdown answers: the tables are empty with
    their columns (the report reads them by name; a column-less table stopped it)."""
    cfg, cb = make_config()
    d = pd.DataFrame({"respondent_key": ["a", "b"], "other": [1, 2]})
    weights = cfg.design.weights.model_copy(update={"margins": {}})
    cfg_none = cfg.model_copy(update={"design": cfg.design.model_copy(update={"weights": weights})})
    w = np.ones(2)
    lik = analysis.likert_distribution(d, w, cb, "2026")
    rep = analysis.representativeness(d, w, cfg_none, "2026", breakdowns=["gender"])
    assert lik.empty and list(lik.columns) == analysis.LIKERT_COLUMNS
    assert rep.empty and list(rep.columns) == analysis.REPRESENTATIVENESS_COLUMNS
    rel = analysis._concat([pd.DataFrame(), None], analysis.RELIABILITY_COLUMNS)
    assert rel.empty and list(rel.columns) == analysis.RELIABILITY_COLUMNS
    full = analysis.representativeness(
        d.assign(gender=["female", "male"]), w, cfg_none, "2026", ["gender"]
    )
    assert list(full.columns) == analysis.REPRESENTATIVENESS_COLUMNS and len(full) == 2


def _linked_change(waves, cfg, cb, outcome):
    """The baseline wave's final design with the change ``post - pre`` of ``outcome`` of each
    respondent found again (``_change``, missing for the others), built by hand."""
    base = analysis.prepare(waves["2025"], cfg, cb)
    post = analysis.prepare(waves["2026"], cfg, cb).drop_duplicates("respondent_key", keep="last")
    after = base["respondent_key"].map(post.set_index("respondent_key")[outcome])
    base["_change"] = after - base[outcome]
    return base


def test_panel_change_is_a_domain_estimate_of_the_raked_baseline_design(result):
    """The pipeline's paired change is svymean's on the subset of the baseline wave's final
    design (design_for: raked, so Taylor SEs with the calibration residuals over the whole
    wave), not that of the raked weights taken as fixed on the linked rows; the estimate is
    the same; DiD and ANCOVA name the baseline wave's raked design."""
    from pipelines.stats import SurveyDesign, svymean

    res, _ = result
    waves, _, _ = make_waves(1500, 11, disability_gap=1.0)  # the fixture's waves
    cfg, cb = make_config()
    base = _linked_change(waves, cfg, cb, "skills")
    des = analysis.design_for(base, cfg)
    assert des.calibrated
    found = base["_change"].notna().to_numpy()
    want = svymean(des.subset(found), "_change")
    fixed = SurveyDesign(base, weights="weight", strata="kecamatan", cluster="site")
    fixed_se = svymean(fixed.subset(found), "_change")["se"][0]
    e = res["estimates"]
    row = e[(e.analysis == "paired_change") & (e.outcome == "skills") & (e.group == "all")]
    row = row[row.term.str.startswith("mean change")].iloc[0]
    assert row.estimate == pytest.approx(want["estimate"][0], rel=1e-10)
    assert row.se == pytest.approx(want["se"][0], rel=1e-8)
    assert row.df == want["df"][0] and row.n == found.sum()
    assert abs(row.se / fixed_se - 1) > 1e-3, (row.se, fixed_se)
    linked = e[e.analysis.isin(["paired_change", "did", "ancova"]) & e.method.str.contains("SE")]
    assert linked["method"].str.contains("baseline wave's raked design").all()


def test_panel_change_on_raked_replicates_uses_the_baseline_replicates():
    """With design.replicate (JKn created from the libraries) and raking, the pipeline's paired
    change is the replicate mean over the baseline wave's raked replicate weights of the
    linked respondents (replicate-JKn-raked), not replicates made anew from the linked rows."""
    from pipelines.config import Replicate
    from pipelines.stats import svymean

    waves, panel, _ = make_waves(500, 4)
    cfg, cb = make_config()
    design = cfg.design.model_copy(update={"replicate": Replicate(create="JKn")})
    cfg = cfg.model_copy(update={"design": design})
    e = analysis.analyse(waves, panel, cfg, cb)["estimates"]
    base = _linked_change(waves, cfg, cb, "confidence")
    des = analysis.design_for(base, cfg)
    want = svymean(des.subset(base["_change"].notna().to_numpy()), "_change")
    assert want["method"][0] == "replicate-JKn-raked"
    row = e[(e.analysis == "paired_change") & (e.outcome == "confidence") & (e.group == "all")]
    row = row[row.term.str.startswith("mean change")].iloc[0]
    assert row.estimate == pytest.approx(want["estimate"][0], rel=1e-10)
    assert row.se == pytest.approx(want["se"][0], rel=1e-8)
    linked = e[e.analysis.isin(["paired_change", "did", "ancova"]) & e.method.str.contains("SE")]
    assert linked["method"].str.contains("replicate-JKn-raked SE").all()
