"""The latent outcome model of the export generator: participation, scales, income, business.

Every function draws from ``rng`` in a fixed order (the sample's bytes depend on it) and
returns both potential outcomes (without and with participation) where the truth needs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import coefficients as C
from .people import _choice_rows, _People


def _logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def _band(age: np.ndarray) -> np.ndarray:
    """Age band index 0..4 (15-24, 25-34, 35-44, 45-59, 60+); -1 below 15."""
    return np.searchsorted(np.array(C.AGE_EDGES), age, side="right") - 1


@dataclass
class _Covariates:
    """One wave's observed covariates of the persons answering it."""

    persons: np.ndarray
    female: np.ndarray
    disab: np.ndarray
    edu: np.ndarray
    occ: np.ndarray
    age: np.ndarray
    age_z: np.ndarray
    site: np.ndarray

    @classmethod
    def of(cls, pp: _People, persons: np.ndarray, year: int) -> _Covariates:
        """Covariates of ``persons`` in the wave of ``year``."""
        age = year - pp.birth_year[persons]
        return cls(
            persons=persons,
            female=pp.female[persons],
            disab=pp.disab[persons],
            edu=pp.edu[persons],
            occ=pp.occ[persons],
            age=age,
            age_z=(age - C.AGE_CENTRE) / C.AGE_SCALE,
            site=pp.site[persons],
        )


def _in_previous(prev_persons: np.ndarray, persons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position in the previous wave, whether the person answered it)."""
    where = np.minimum(np.searchsorted(prev_persons, persons), len(prev_persons) - 1)
    return where, prev_persons[where] == persons


def _participation(rng, x: _Covariates, prev) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Participation D (logit on observed covariates), programme (-1 if none) and sessions."""
    n = len(x.persons)
    P = C.PARTICIPATION
    lin = (
        P["const"]
        + P["female"] * x.female
        + P["age_z"] * x.age_z
        + np.array(P["education"])[x.edu]
        + P["disability"] * x.disab
    )
    d_prev = np.zeros(n, dtype=bool)
    prog_prev = np.full(n, -1)
    if prev is not None:
        where, in_prev = _in_previous(prev.persons, x.persons)
        d_prev[in_prev] = prev.D[where[in_prev]]
        prog_prev[in_prev] = prev.prog[where[in_prev]]
        lin = lin + P["previous"] * d_prev
    D = rng.random(n) < _logistic(lin)
    young = x.age < C.YOUNG_BELOW
    scores = (
        np.log(C.PROGRAMME_SHARE)[None, :]
        + x.female[:, None] * np.array(C.PROGRAMME_FEMALE)
        + young[:, None] * np.array(C.PROGRAMME_YOUNG)
    )
    prog = _choice_rows(rng, np.exp(scores))
    keep_prog = (prog_prev >= 0) & (rng.random(n) < C.PROGRAMME_KEPT)
    prog = np.where(keep_prog, prog_prev, prog)
    enterprise = C.PROGRAMMES.index("enterprise")
    mean = np.where(prog == enterprise, C.SESSIONS_MEAN["enterprise"], C.SESSIONS_MEAN["other"])
    sessions = np.minimum(1 + rng.poisson(mean), C.SESSIONS_MAX)
    return D, np.where(D, prog, -1), np.where(D, sessions, 0)


def _items(latent: np.ndarray, noise: np.ndarray, reverse: Sequence[bool]) -> np.ndarray:
    """1..5 codes of ``latent[:, None] + noise`` (reverse items flipped)."""
    codes = (1 + np.searchsorted(C.CUTS, latent[:, None] + noise)).astype(np.int8)
    rev = np.asarray(reverse)
    codes[:, rev] = 6 - codes[:, rev]
    return codes


def _composite(codes: np.ndarray, mask: np.ndarray, reverse: Sequence[bool]) -> np.ndarray:
    """Mean of the answered (``mask``) items after reverse-coding, per row."""
    c = codes.astype(float)
    rev = np.asarray(reverse)
    c[:, rev] = 6 - c[:, rev]
    c[~mask] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nansum(c, axis=1) / mask.sum(axis=1)


def _scale_effect(s: str, x: _Covariates, D, prog, sessions) -> np.ndarray:
    """Planted latent effect of participation on scale ``s`` (0 for non-participants)."""
    eff = np.full(len(x.persons), C.TAU[s])
    if s == "skills":
        dose = np.where(D, np.log1p(sessions) - np.log1p(C.DOSE_REF_SESSIONS), 0.0)
        computer = C.PROGRAMMES.index("computer")
        eff = eff + C.SKILLS_DISABILITY * x.disab + C.SKILLS_COMPUTER * (prog == computer)
        eff = eff + C.SKILLS_DOSE * dose
    elif s == "confidence":
        eff = eff + C.CONF_FEMALE * x.female
    return np.where(D, eff, 0.0)


def _scale_base(rng, s: str, si: int, pp: _People, x: _Covariates, t: int, site_eff) -> np.ndarray:
    """Latent level of scale ``s`` without participation (person, covariates, site, trend)."""
    const, b_age, b_f, b_d, b_edu = C.COEF[s]
    return (
        pp.person[x.persons, si]
        + const
        + b_age * x.age_z
        + b_f * x.female
        + b_d * x.disab
        + np.array(b_edu)[x.edu]
        + site_eff[x.site, si]
        + C.TREND[s] * t
        + C.WAVE_SD * rng.standard_normal(len(x.persons))
    )


def _scales(rng, pp: _People, x: _Covariates, D, prog, sessions, t: int, site_eff) -> dict:
    """Likert codes without (codes0) and with (codes1) participation, observed codes, and the
    latent effect per scale; the satisfaction item is a cut of the library-roles latent."""
    n = len(x.persons)
    codes0, codes1, latent_eff, base = [], [], {}, {}
    for si, s in enumerate(C.SCALES):
        rev = [it in C.REVERSE for it in C.SCALE_ITEMS[s]]
        base[s] = _scale_base(rng, s, si, pp, x, t, site_eff)
        latent_eff[s] = _scale_effect(s, x, D, prog, sessions)
        k = len(C.SCALE_ITEMS[s])
        shift = np.linspace(-C.ITEM_SHIFT, C.ITEM_SHIFT, k)
        noise = C.ITEM_SD * rng.standard_normal((n, k)) + shift
        codes0.append(_items(base[s], noise, rev))
        codes1.append(_items(base[s] + latent_eff[s], noise, rev))
    sat_noise = C.ITEM_SD * rng.standard_normal((n, 1)) + C.SATISFACTION_SHIFT
    roles = base["library_roles"]
    codes0.append(_items(roles, sat_noise, [False]))
    codes1.append(_items(roles + latent_eff["library_roles"], sat_noise, [False]))
    latent_eff["satisfaction"] = latent_eff["library_roles"]
    codes0 = np.concatenate(codes0, axis=1)
    codes1 = np.concatenate(codes1, axis=1)
    codes1 = np.where(D[:, None], codes1, codes0)
    codes = np.where(D[:, None], codes1, codes0)
    return {"codes": codes, "codes0": codes0, "codes1": codes1, "latent_eff": latent_eff}


def _round_income(v: np.ndarray) -> np.ndarray:
    """Reported income: rounded to 50,000 below a million, to 100,000 above."""
    v = np.asarray(v, dtype=float)
    big = np.round(v / 100_000) * 100_000
    small = np.maximum(np.round(v / 50_000) * 50_000, 50_000)
    return np.where(v >= 950_000, np.maximum(big, 1_000_000), small).astype(np.int64)


def _income(rng, pp: _People, x: _Covariates, D, t: int) -> dict:
    """Latent log income (observed D) and the reported incomes without / with participation."""
    e = C.INCOME_WAVE_SD * rng.standard_normal(len(x.persons))
    log0 = pp.mu_inc[x.persons] + C.TREND_LOG_INCOME * t + e
    log1 = log0 + C.TAU_LOG_INCOME
    zero = pp.zero_inc[x.persons]
    rep0 = np.where(zero, 0, _round_income(np.exp(log0)))
    rep1 = np.where(zero, 0, _round_income(np.exp(log1)))
    return {
        "log_inc": np.where(D, log1, log0),
        "rep0": rep0,
        "rep1": rep1,
        "rep": np.where(D, rep1, rep0),
        "zero": zero,
        "latent_eff": np.where(D, C.TAU_LOG_INCOME, 0.0),
    }


def _business_job(rng, x: _Covariates, prog) -> dict:
    """Business started/grew without (bus0) and with (bus1) participation; got a job."""
    n = len(x.persons)
    B, J = C.BUSINESS, C.JOB
    lin_b = (
        B["const"]
        + B["entrepreneur"] * (x.occ == C.OCCUPATION.index("entrepreneur"))
        + B["male"] * ~x.female
        + B["age_z"] * x.age_z
        + B["senior_or_tertiary"] * (x.edu >= C.EDUCATION.index("senior"))
    )
    enterprise = C.PROGRAMMES.index("enterprise")
    eff_b = np.where(prog == enterprise, C.BUSINESS_LOGIT["enterprise"], C.BUSINESS_LOGIT["other"])
    p0 = _logistic(lin_b)
    p1 = _logistic(lin_b + eff_b)
    ub = rng.random(n)
    young = x.age < C.YOUNG_BELOW
    p_job = _logistic(
        J["const"]
        + J["young"] * young
        + J["tertiary"] * (x.edu == C.EDUCATION.index("tertiary"))
        + J["student"] * (x.occ == C.OCCUPATION.index("student"))
        + J["disability"] * x.disab
    )
    job = rng.random(n) < p_job
    return {"bus0": ub < p0, "bus1": ub < p1, "bus_p0": p0, "bus_p1": p1, "job": job}


def _income_change(rng, pp: _People, x: _Covariates, inc: dict, t: int, prev) -> np.ndarray:
    """Income change code (0 Turun, 1 Tetap, 2 Naik) against the income 12 months earlier:
    the wave-1 income for panel people, a fresh draw otherwise; some answers misreported."""
    n = len(x.persons)
    prev_log = (
        pp.mu_inc[x.persons]
        + C.TREND_LOG_INCOME * (t - 1)
        + C.INCOME_WAVE_SD * rng.standard_normal(n)
    )
    if prev is not None:
        where, in_prev = _in_previous(prev.persons, x.persons)
        prev_log[in_prev] = prev.log_inc[where[in_prev]]
    ratio = inc["log_inc"] - prev_log
    band = np.log(C.INCOME_CHANGE_BAND)
    change = np.where(ratio > band, 2, np.where(ratio < -band, 0, 1))
    same = rng.random(n) < C.ZERO_INCOME_SAME
    change = np.where(inc["zero"], np.where(same, 1, rng.integers(0, 3, n)), change)
    mis = rng.random(n) < C.INCOME_CHANGE_MISREPORT
    return np.where(mis, rng.integers(0, 3, n), change)
