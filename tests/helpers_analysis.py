"""Seeded CLEAN-shaped survey waves with planted effects, for the analysis-layer tests.

`make_waves(n, seed)` returns ``(waves, panel, truth)`` shaped like the output of
``clean.clean_wave`` / ``clean.panel`` for the Solok config (14 sites in 2 kecamatan, 13
kelurahan), without going through raw files.

Data-generating process (all on the observed scale unless said otherwise):

* Participation depends only on observed covariates (female, younger, more educated and
  disabled people take part more), so covariate-adjusted and propensity-weighted estimates
  are unbiased while unadjusted ones are not.
* Scale items come from a latent mean ``mu`` by stochastic rounding
  (``floor(x) + Bernoulli(x - floor(x))``, so ``E[item] = x`` inside 1..5): the planted effect
  on ``mu`` is the effect on the scale score.  A stable person effect links the waves.
* A participant with a disability gains ``1 - disability_gap`` of the effect on skills,
  confidence and social (``disability_gap=1``: nothing).
* ``truth`` holds the planted values: ``effects`` (average participation effect on each
  outcome, scale units / log income / log odds), ``effects_nondisabled``, ``did`` (change
  effect among new participants, equal to the effects), ``trend`` and ``gap_group``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KECAMATAN = {
    "Lubuk Sikarah": [
        "Aro IV Korong",
        "IX Korong",
        "KTK",
        "Simpang Rumbio",
        "Sinapa Piliang",
        "Tanah Garam",
        "VI Suku",
    ],
    "Tanjung Harapan": [
        "Kampung Jawa",
        "Koto Panjang",
        "Laing",
        "Nan Balimo",
        "Pasar Pandan Air Mati",
        "Tanjung Paku",
    ],
}
KEL_TO_KEC = {k: kec for kec, ks in KECAMATAN.items() for k in ks}
KELURAHAN = list(KEL_TO_KEC)


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-")


SITE_KEC = {_slug(k): kec for k, kec in KEL_TO_KEC.items()} | {"kota": "Tanjung Harapan"}

EFFECTS = {
    "skills": 0.5,
    "confidence": 0.35,
    "social": 0.3,
    "library_roles": 0.0,
    "log_income": 0.15,
    "business": 0.8,  # log odds ratio
    "got_job": 0.0,  # log odds ratio
    "income_rose": 0.5,  # log odds ratio
    "satisfaction": 0.7,  # proportional-odds log odds ratio
}
# what the plan tells the statistics code for this generator's TPBIS-like data
TREATMENT = "participated"
FAMILIES = {"business": "binomial", "got_job": "binomial", "income_rose": "binomial"}
BREAKDOWNS = ("gender", "age_band", "disability", "income_band", "site")
GAP_OUTCOMES = ("skills", "confidence", "social")
TREND = 0.1
SCALES = {
    "skills": (["skill_1", "skill_2", "skill_3", "skill_4"], ["skill_4"]),
    "confidence": (["conf_1", "conf_2", "conf_3", "conf_4"], ["conf_4"]),
    "social": (["social_1", "social_2", "social_3"], []),
    "library_roles": (["role_knowledge", "role_useful", "role_solutions", "role_potential"], []),
}


def _expit(x):
    return 1 / (1 + np.exp(-x))


def _band(age: np.ndarray) -> np.ndarray:
    edges = [15, 25, 35, 45, 60]
    labels = np.array(["15-24", "25-34", "35-44", "45-59", "60+"], dtype=object)
    return labels[np.clip(np.searchsorted(edges, age, side="right") - 1, 0, 4)]


def _income_band(income: np.ndarray) -> np.ndarray:
    edges = [0, 1e6, 2.5e6, 5e6]
    labels = np.array(["0-1jt", "1jt-2.5jt", "2.5jt-5jt", "5jt+"], dtype=object)
    out = labels[np.clip(np.searchsorted(edges, np.nan_to_num(income), side="right") - 1, 0, 3)]
    return np.where(np.isnan(income), None, out)


def _people(rng: np.random.Generator, n: int, start: int) -> pd.DataFrame:
    """Stable person attributes (sampled unequally: young women over-represented)."""
    kel_p = np.array([3.9, 3.3, 6.2, 4.6, 2.6, 7.9, 3.6, 5.6, 2.5, 2.7, 4.2, 4.4, 4.5])
    kel = rng.choice(np.array(KELURAHAN, dtype=object), size=n, p=kel_p / kel_p.sum())
    own = np.array([_slug(k) for k in kel], dtype=object)
    site = np.where(rng.random(n) < 0.2, "kota", own)
    female = rng.random(n) < 0.6
    age = np.clip(15 + rng.gamma(2.0, 11.0, n), 15, 85).round()
    edu_idx = np.clip(np.round(1.6 - 0.02 * (age - 35) + rng.normal(0, 0.9, n)), 0, 3)
    disability = (rng.random(n) < 0.12).astype(int)
    site_ids = sorted(SITE_KEC)
    site_eff = dict(zip(site_ids, rng.normal(0, 0.08, len(site_ids)), strict=True))
    return pd.DataFrame(
        {
            "respondent_key": [f"k{start + i:07d}" for i in range(n)],
            "site": site,
            "kecamatan": [SITE_KEC[s] for s in site],
            "kelurahan": kel,
            "gender": np.where(female, "female", "male"),
            "age": age,
            "edu_idx": edu_idx,
            "disability": disability,
            "occupation": rng.choice(["student", "entrepreneur", "employee", "farmer"], n),
            "u": rng.normal(0, 0.35, n),
            "u_inc": rng.normal(0, 0.4, n),
            "site_eff": np.array([site_eff[s] for s in site]),
        }
    )


def _propensity(p: pd.DataFrame) -> np.ndarray:
    return _expit(
        -0.7
        + 0.6 * (p["gender"] == "female")
        - 0.025 * (p["age"] - 35)
        + 0.45 * (p["edu_idx"] - 1.5)
        + 0.5 * p["disability"]
    ).to_numpy()


def _stoch_round(rng, x):
    x = np.clip(x, 1, 5)
    fl = np.floor(x)
    return np.minimum(fl + (rng.random(x.shape) < (x - fl)), 5)


def _wave(rng, people, participated, wave, gap, missing_rate):
    n = len(people)
    t = 1.0 if wave == "2026" else 0.0
    dis = people["disability"].to_numpy()
    edu_c = people["edu_idx"].to_numpy() - 1.5
    age_c = (people["age"].to_numpy() - 35) / 10
    male = (people["gender"] == "male").to_numpy()
    u = people["u"].to_numpy()
    s_eff = people["site_eff"].to_numpy()
    part = participated.astype(float)
    out = {
        "wave": wave,
        "respondent_key": people["respondent_key"].to_numpy(),
        "site": people["site"].to_numpy(),
        "kecamatan": people["kecamatan"].to_numpy(),
        "kelurahan": people["kelurahan"].to_numpy(),
        "gender": people["gender"].to_numpy(),
        "age": people["age"].to_numpy() + t,
    }
    out["age_band"] = _band(out["age"])
    out["education"] = np.array(["primary", "junior", "senior", "tertiary"], dtype=object)[
        people["edu_idx"].to_numpy().astype(int)
    ]
    out["occupation"] = people["occupation"].to_numpy()
    out["disability"] = dis
    out["participated"] = participated.astype(int)
    prog = rng.choice(
        np.array(["computer", "enterprise", "literacy", "marketing"], dtype=object),
        n,
        p=[0.35, 0.25, 0.2, 0.2],
    )
    out["programme"] = np.where(participated, prog, None)
    out["sessions"] = np.where(participated, 1 + rng.poisson(5, n), 0).astype(float)

    base = {"skills": 2.9, "confidence": 3.1, "social": 3.0, "library_roles": 3.4}
    for scale, (items, reverse) in SCALES.items():
        eff = EFFECTS[scale] * part
        if scale in GAP_OUTCOMES:
            eff = eff * (1 - gap * dis)
        mu = (
            base[scale]
            + 0.15 * edu_c
            - 0.05 * age_c
            + 0.1 * male * (scale == "skills")
            + u
            + s_eff
            + TREND * t
            + eff
        )
        for item in items:
            x = _stoch_round(rng, mu + rng.normal(0, 0.45, n))
            out[item] = 6 - x if item in reverse else x
    # single item: proportional odds (logistic latent)
    lat = EFFECTS["satisfaction"] * part + 0.2 * edu_c + 0.8 * u + rng.logistic(size=n)
    out["satisfaction"] = 1 + np.searchsorted([-2.0, -0.8, 0.6, 2.0], lat)

    log_inc = (
        14.3
        + 0.2 * edu_c
        + 0.05 * age_c
        + 0.1 * male
        + people["u_inc"].to_numpy()
        + 2 * s_eff
        + 0.05 * t
        + EFFECTS["log_income"] * part
        + rng.normal(0, 0.5, n)
    )
    income = np.round(np.exp(log_inc), -3)
    zero = rng.random(n) < 0.04
    income = np.where(zero, 0.0, income)
    out["income"] = income
    out["log_income"] = np.where(income > 0, np.log(np.where(income > 0, income, 1)), np.nan)
    out["income_band"] = _income_band(income)
    rose = rng.random(n) < _expit(-1.0 + EFFECTS["income_rose"] * part + 0.2 * edu_c)
    fell = ~rose & (rng.random(n) < 0.3)
    out["income_change"] = np.where(rose, "rose", np.where(fell, "fell", "same")).astype(object)
    out["business"] = (
        rng.random(n) < _expit(-1.4 + EFFECTS["business"] * part + 0.3 * male)
    ).astype(int)
    out["got_job"] = (
        rng.random(n) < _expit(-1.2 + EFFECTS["got_job"] * part + 0.25 * edu_c - 0.1 * age_c)
    ).astype(int)
    df = pd.DataFrame(out)

    # item nonresponse
    for col in [c for items, _ in SCALES.values() for c in items] + ["satisfaction"]:
        miss = rng.random(n) < missing_rate
        df.loc[miss, col] = np.nan
    miss_inc = rng.random(n) < 2 * missing_rate
    df.loc[miss_inc, ["income", "log_income"]] = np.nan
    df.loc[miss_inc, "income_band"] = None
    df.loc[rng.random(n) < missing_rate, "business"] = np.nan

    likert = [c for items, _ in SCALES.values() for c in items] + ["satisfaction"]
    for col in [*likert, "disability", "participated", "business", "got_job"]:
        df[col] = df[col].astype("Int64")
    for col in ("programme", "income_band", "education", "age_band"):
        df[col] = df[col].astype(object).where(df[col].notna(), np.nan)
    for flag in (
        "flag_straightline",
        "flag_fast",
        "flag_unmatched_site",
        "flag_unmatched_kelurahan",
    ):
        df[flag] = False
    df["feedback"] = ""
    return df


def make_waves(
    n: int = 1500,
    seed: int = 0,
    retention: float = 0.6,
    disability_gap: float = 1.0,
    missing_rate: float = 0.02,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, dict]:
    """Two clean waves (2025, 2026) of ``n`` respondents, the long panel and the truth."""
    rng = np.random.default_rng(seed)
    people1 = _people(rng, n, 0)
    p1 = rng.random(n) < _propensity(people1)
    n_link = int(round(retention * n))
    linked = np.sort(rng.choice(n, n_link, replace=False))
    people2 = pd.concat([people1.iloc[linked], _people(rng, n - n_link, n)], ignore_index=True)
    prop2 = _propensity(people2)
    was = np.zeros(len(people2), dtype=bool)
    was[:n_link] = p1[linked]
    # participation between waves: persistent for earlier participants, else by propensity
    p2 = np.where(was, rng.random(len(people2)) < 0.6, rng.random(len(people2)) < prop2)
    w1 = _wave(rng, people1, p1, "2025", disability_gap, missing_rate)
    w2 = _wave(rng, people2, p2, "2026", disability_gap, missing_rate)
    waves = {"2025": w1, "2026": w2}
    both = pd.concat([w1, w2], ignore_index=True)
    keys = set(w1["respondent_key"]) & set(w2["respondent_key"])
    panel = both[both["respondent_key"].isin(keys)].sort_values(["respondent_key", "wave"])
    share_dis = float(w1["disability"].astype(float).mean())
    effects = dict(EFFECTS)
    for k in GAP_OUTCOMES:
        effects[k] = EFFECTS[k] * (1 - disability_gap * share_dis)
    truth = {
        "effects": effects,
        "effects_nondisabled": dict(EFFECTS),
        "effects_disabled": {
            k: EFFECTS[k] * (1 - disability_gap) if k in GAP_OUTCOMES else EFFECTS[k]
            for k in EFFECTS
        },
        "did": effects,
        "trend": TREND,
        "gap_group": ("disability", "1"),
        "gap_outcomes": list(GAP_OUTCOMES) if disability_gap > 0 else [],
    }
    return waves, panel.reset_index(drop=True), truth


def make_config():
    """The Solok config and TPBIS codebook (no raw files needed)."""
    from pathlib import Path

    from pipelines.codebook import load_codebook
    from pipelines.config import load_config

    root = Path(__file__).resolve().parents[1]
    cfg = load_config(root / "data" / "raw" / "solok" / "solok_2026.yaml", check_files=False)
    return cfg, load_codebook("tpbis")
