"""Seeded CLEAN-shaped survey waves with planted effects, for the analysis tests and studies.

``make_waves(n, seed)`` returns ``(waves, panel, truth)`` shaped like the output of
``clean.clean_wave`` / ``clean.panel`` for the Kota Solok config (the 14 libraries and 13
kelurahan of ``places.yaml``), without going through raw files. Coefficients are the
``CLEAN_*`` ones of ``coefficients.py``.

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

from . import coefficients as C
from .latent import _logistic
from .places import CITY_SITE, KELURAHAN_POP, kelurahan_names, real_sites, site_id

EFFECTS = C.CLEAN_EFFECTS
GAP_OUTCOMES = C.CLEAN_GAP_OUTCOMES
TREND = C.CLEAN_TREND
# scale -> (items, reverse-keyed items), as the analysis plan lists them
SCALES = {
    s: (list(C.SCALE_ITEMS[s]), [i for i in C.SCALE_ITEMS[s] if i in C.REVERSE]) for s in C.SCALES
}
# what the plan tells the statistics code for this generator's TPBIS-like data
TREATMENT = "participated"
FAMILIES = {"business": "binomial", "got_job": "binomial", "income_rose": "binomial"}
BREAKDOWNS = ("gender", "age_band", "disability", "income_band", "site")
LIKERT = [c for items, _ in SCALES.values() for c in items] + ["satisfaction"]


def _band(age: np.ndarray) -> np.ndarray:
    """Age band labels (AGE_BANDS) of ages 15 and over."""
    labels = np.array(C.AGE_BANDS, dtype=object)
    return labels[np.clip(np.searchsorted(C.AGE_EDGES, age, side="right") - 1, 0, 4)]


def _income_band(income: np.ndarray) -> np.ndarray:
    """Income band labels (INCOME_BANDS); None where the income is missing."""
    labels = np.array(C.INCOME_BANDS, dtype=object)
    idx = np.searchsorted(C.INCOME_EDGES, np.nan_to_num(income), side="right") - 1
    return np.where(np.isnan(income), None, labels[np.clip(idx, 0, 3)])


def _people(rng: np.random.Generator, n: int, start: int) -> pd.DataFrame:
    """Stable person attributes (sampled unequally: young women over-represented)."""
    kels = kelurahan_names()
    pop = np.array([KELURAHAN_POP[k] for k in kels], dtype=float)
    kel = rng.choice(np.array(kels, dtype=object), size=n, p=pop / pop.sum())
    own = np.array([site_id(k) for k in kel], dtype=object)
    site = np.where(rng.random(n) < C.CLEAN_CITY_SHARE, CITY_SITE["id"], own)
    female = rng.random(n) < C.CLEAN_FEMALE_SHARE
    age = np.clip(15 + rng.gamma(*C.CLEAN_AGE_GAMMA, n), 15, 85).round()
    E = C.CLEAN_EDUCATION
    edu_idx = np.clip(
        np.round(E["const"] + E["age_per_year"] * (age - 35) + rng.normal(0, E["sd"], n)), 0, 3
    )
    disability = (rng.random(n) < C.CLEAN_DISABILITY_SHARE).astype(int)
    site_kec = {s["id"]: s["kecamatan"] for s in real_sites()}
    site_ids = sorted(site_kec)
    site_eff = dict(zip(site_ids, rng.normal(0, C.CLEAN_SITE_SD, len(site_ids)), strict=True))
    return pd.DataFrame(
        {
            "respondent_key": [f"k{start + i:07d}" for i in range(n)],
            "site": site,
            "kecamatan": [site_kec[s] for s in site],
            "kelurahan": kel,
            "gender": np.where(female, "female", "male"),
            "age": age,
            "edu_idx": edu_idx,
            "disability": disability,
            "occupation": rng.choice(list(C.CLEAN_OCCUPATIONS), n),
            "u": rng.normal(0, C.CLEAN_PERSON_SD, n),
            "u_inc": rng.normal(0, C.CLEAN_INCOME_PERSON_SD, n),
            "site_eff": np.array([site_eff[s] for s in site]),
        }
    )


def _propensity(p: pd.DataFrame) -> np.ndarray:
    """Probability of taking part, from observed covariates only."""
    P = C.CLEAN_PROPENSITY
    return _logistic(
        P["const"]
        + P["female"] * (p["gender"] == "female")
        + P["age_per_year"] * (p["age"] - 35)
        + P["education"] * (p["edu_idx"] - 1.5)
        + P["disability"] * p["disability"]
    ).to_numpy()


def _stoch_round(rng, x):
    """``floor(x) + Bernoulli(x - floor(x))`` inside 1..5 (unbiased rounding)."""
    x = np.clip(x, 1, 5)
    fl = np.floor(x)
    return np.minimum(fl + (rng.random(x.shape) < (x - fl)), 5)


def _scale_items(rng, out: dict, people: pd.DataFrame, part, t: float, gap: float) -> None:
    """Scale items into ``out``: mean + covariates + person + site + trend + planted effect."""
    n = len(people)
    dis = people["disability"].to_numpy()
    edu_c = people["edu_idx"].to_numpy() - 1.5
    age_c = (people["age"].to_numpy() - 35) / 10
    male = (people["gender"] == "male").to_numpy()
    K = C.CLEAN_SCALE_COEF
    for scale, (items, reverse) in SCALES.items():
        eff = EFFECTS[scale] * part
        if scale in GAP_OUTCOMES:
            eff = eff * (1 - gap * dis)
        mu = (
            C.CLEAN_SCALE_MEAN[scale]
            + K["education"] * edu_c
            + K["age_10y"] * age_c
            + K["male_skills"] * male * (scale == "skills")
            + people["u"].to_numpy()
            + people["site_eff"].to_numpy()
            + TREND * t
            + eff
        )
        for item in items:
            x = _stoch_round(rng, mu + rng.normal(0, C.CLEAN_ITEM_SD, n))
            out[item] = 6 - x if item in reverse else x
    # single item: proportional odds (logistic latent)
    S = C.CLEAN_SATISFACTION
    lat = (
        EFFECTS["satisfaction"] * part
        + S["education"] * edu_c
        + S["person"] * people["u"].to_numpy()
        + rng.logistic(size=n)
    )
    out["satisfaction"] = 1 + np.searchsorted(list(S["cuts"]), lat)


def _money_and_work(rng, out: dict, people: pd.DataFrame, part, t: float) -> None:
    """Income (4% none), its band and change, business and job outcomes into ``out``."""
    n = len(people)
    edu_c = people["edu_idx"].to_numpy() - 1.5
    age_c = (people["age"].to_numpy() - 35) / 10
    male = (people["gender"] == "male").to_numpy()
    L = C.CLEAN_LOG_INCOME
    log_inc = (
        L["const"]
        + L["education"] * edu_c
        + L["age_10y"] * age_c
        + L["male"] * male
        + people["u_inc"].to_numpy()
        + L["site"] * people["site_eff"].to_numpy()
        + L["trend"] * t
        + EFFECTS["log_income"] * part
        + rng.normal(0, L["sd"], n)
    )
    income = np.round(np.exp(log_inc), -3)
    zero = rng.random(n) < C.CLEAN_ZERO_INCOME
    income = np.where(zero, 0.0, income)
    out["income"] = income
    out["log_income"] = np.where(income > 0, np.log(np.where(income > 0, income, 1)), np.nan)
    out["income_band"] = _income_band(income)
    R = C.CLEAN_INCOME_ROSE
    rose = rng.random(n) < _logistic(
        R["const"] + EFFECTS["income_rose"] * part + R["education"] * edu_c
    )
    fell = ~rose & (rng.random(n) < C.CLEAN_INCOME_FELL)
    out["income_change"] = np.where(rose, "rose", np.where(fell, "fell", "same")).astype(object)
    B, J = C.CLEAN_BUSINESS, C.CLEAN_JOB
    p_bus = _logistic(B["const"] + EFFECTS["business"] * part + B["male"] * male)
    out["business"] = (rng.random(n) < p_bus).astype(int)
    p_job = _logistic(
        J["const"] + EFFECTS["got_job"] * part + J["education"] * edu_c + J["age_10y"] * age_c
    )
    out["got_job"] = (rng.random(n) < p_job).astype(int)


def _nonresponse(rng, df: pd.DataFrame, missing_rate: float) -> pd.DataFrame:
    """Item nonresponse, then the clean stage's dtypes and (all false) flags."""
    n = len(df)
    for col in LIKERT:
        df.loc[rng.random(n) < missing_rate, col] = np.nan
    miss_inc = rng.random(n) < 2 * missing_rate
    df.loc[miss_inc, ["income", "log_income"]] = np.nan
    df.loc[miss_inc, "income_band"] = None
    df.loc[rng.random(n) < missing_rate, "business"] = np.nan
    for col in [*LIKERT, "disability", "participated", "business", "got_job"]:
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


def _wave(rng, people, participated, wave, gap, missing_rate):
    """One clean wave of ``people`` with participation ``participated``."""
    n = len(people)
    t = 1.0 if wave == "2026" else 0.0
    part = participated.astype(float)
    out = {"wave": wave}
    for col in ("respondent_key", "site", "kecamatan", "kelurahan", "gender"):
        out[col] = people[col].to_numpy()
    out["age"] = people["age"].to_numpy() + t
    out["age_band"] = _band(out["age"])
    edu = people["edu_idx"].to_numpy().astype(int)
    out["education"] = np.array(C.EDUCATION, dtype=object)[edu]
    out["occupation"] = people["occupation"].to_numpy()
    out["disability"] = people["disability"].to_numpy()
    out["participated"] = participated.astype(int)
    prog = rng.choice(np.array(C.PROGRAMMES, dtype=object), n, p=list(C.CLEAN_PROGRAMME_P))
    out["programme"] = np.where(participated, prog, None)
    sessions = 1 + rng.poisson(C.CLEAN_SESSIONS_MEAN, n)
    out["sessions"] = np.where(participated, sessions, 0).astype(float)
    _scale_items(rng, out, people, part, t, gap)
    _money_and_work(rng, out, people, part, t)
    return _nonresponse(rng, pd.DataFrame(out), missing_rate)


def _truth(w1: pd.DataFrame, disability_gap: float) -> dict:
    """Planted effects overall, for people without and with a disability, and the trend."""
    share_dis = float(w1["disability"].astype(float).mean())
    effects = dict(EFFECTS)
    for k in GAP_OUTCOMES:
        effects[k] = EFFECTS[k] * (1 - disability_gap * share_dis)
    return {
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
    stay = rng.random(len(people2)) < C.CLEAN_STAY
    p2 = np.where(was, stay, rng.random(len(people2)) < prop2)
    w1 = _wave(rng, people1, p1, "2025", disability_gap, missing_rate)
    w2 = _wave(rng, people2, p2, "2026", disability_gap, missing_rate)
    waves = {"2025": w1, "2026": w2}
    both = pd.concat([w1, w2], ignore_index=True)
    keys = set(w1["respondent_key"]) & set(w2["respondent_key"])
    panel = both[both["respondent_key"].isin(keys)].sort_values(["respondent_key", "wave"])
    return waves, panel.reset_index(drop=True), _truth(w1, disability_gap)
