"""The planted truth of a simulation: observed-scale ATTs, the DiD target and the latent model."""

from __future__ import annotations

import numpy as np

from . import coefficients as C
from .latent import _band, _composite


def _r(x) -> float:
    return round(float(x), 6)


def _att_block(diff: np.ndarray, latent: np.ndarray | None, groups: dict) -> dict:
    """Mean of ``diff`` (and of ``latent``) over rows with a value, overall and by group."""
    ok = ~np.isnan(diff)
    out = {"att": _r(diff[ok].mean()) if ok.any() else None, "n": int(ok.sum())}
    if latent is not None:
        out["latent_att"] = _r(latent[ok].mean()) if ok.any() else None
    by = {}
    for gname, (labels, values) in groups.items():
        sub = {}
        for code, label in enumerate(labels):
            m = ok & (values == code)
            if m.any():
                sub[label] = {"att": _r(diff[m].mean()), "n": int(m.sum())}
        by[gname] = sub
    out["by"] = by
    return out


def _wave_effects(w, pp, sample: np.ndarray) -> dict:
    """Observed-scale ATTs among participants in ``sample`` (person-level mask)."""
    part = sample & w.D
    persons = w.persons[part]
    age = w.year - pp.birth_year[persons]
    groups = {
        "gender": (("male", "female"), pp.female[persons].astype(int)),
        "disability": (("no", "yes"), pp.disab[persons].astype(int)),
        "age_band": (C.AGE_BANDS, _band(age)),
        "programme": (C.PROGRAMMES, w.prog[part]),
    }
    out = {}
    col = 0
    for s in C.SCALES + ("satisfaction",):
        items = C.SCALE_ITEMS.get(s, ("satisfaction",))
        k = len(items)
        rev = [i in C.REVERSE for i in items]
        mask = w.item_mask[part, col : col + k]
        c1 = _composite(w.codes1[part, col : col + k], mask, rev)
        c0 = _composite(w.codes0[part, col : col + k], mask, rev)
        out[s] = _att_block(c1 - c0, w.latent_eff[s][part], groups)
        col += k
    valid = w.inc_valid[part]
    d = np.where(
        valid,
        np.log(np.maximum(w.inc_rep1[part], 1)) - np.log(np.maximum(w.inc_rep0[part], 1)),
        np.nan,
    )
    out["log_income"] = _att_block(d, w.latent_eff["log_income"][part], groups)
    rd = w.bus1[part].astype(float) - w.bus0[part]
    out["business"] = _att_block(rd, None, groups)
    out["business"]["att_expected"] = (
        _r((w.bus_p1[part] - w.bus_p0[part]).mean()) if part.any() else None
    )
    out["got_job"] = _att_block(np.zeros(int(part.sum())), None, groups)
    out["got_job"]["att_expected"] = C.GOT_JOB_LOGIT
    return out


def _heterogeneity(s: str) -> dict:
    """The planted effect modifiers of scale ``s``."""
    if s == "skills":
        return {"disability": C.SKILLS_DISABILITY, "programme_computer": C.SKILLS_COMPUTER}
    if s == "confidence":
        return {"female": C.CONF_FEMALE}
    return {}


def latent_model() -> dict:
    """The latent model's planted coefficients, as written to truth.json."""
    dose = {"per_log1p_session": C.SKILLS_DOSE, "reference_sessions": C.DOSE_REF_SESSIONS}
    return {
        "scales": {
            s: {
                "items": list(C.SCALE_ITEMS[s]),
                "reverse": [i for i in C.SCALE_ITEMS[s] if i in C.REVERSE],
                "tau": C.TAU[s],
                "trend": C.TREND[s],
                "heterogeneity": _heterogeneity(s),
                "dose": dose if s == "skills" else None,
            }
            for s in C.SCALES
        },
        "satisfaction": {"tau": 0.0, "latent": "library_roles"},
        "log_income": {"tau": C.TAU_LOG_INCOME, "trend": C.TREND_LOG_INCOME},
        "business": {"logit": dict(C.BUSINESS_LOGIT)},
        "got_job": {"logit": C.GOT_JOB_LOGIT},
        "cuts": C.CUTS.tolist(),
        "sd": {"person": C.PERSON_SD, "site": C.SITE_SD, "wave": C.WAVE_SD, "item": C.ITEM_SD},
    }


def sample_info(w, pp, age_pop: dict, gender_pop: dict) -> dict:
    """Who answered a wave against the population margins, and the participation rate."""
    persons = w.persons
    band = _band(w.year - pp.birth_year[persons])
    pop_age = np.array(list(age_pop.values()), dtype=float)
    return {
        "female_share": _r(pp.female[persons].mean()),
        "population_female_share": _r(gender_pop["female"] / sum(gender_pop.values())),
        "age_band_share": {b: _r((band == i).mean()) for i, b in enumerate(C.AGE_BANDS)},
        "population_age_band_share": {
            b: _r(x) for b, x in zip(C.AGE_BANDS, pop_age / pop_age.sum(), strict=True)
        },
        "participation_rate": _r(w.D.mean()),
    }


ESTIMAND = (
    "ATT on the observed scale: mean over participants (consenting, not "
    "straight-lining, last submission) of outcome(D=1) - outcome(D=0) with the same "
    "noise draws and answered-item mask; composites = mean of answered items after "
    "reverse-coding; log_income = log reported income (positive, parseable); "
    "business/got_job = risk differences."
)
