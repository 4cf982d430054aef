"""``simulate()``: two waves of people answering, from latent outcomes to export rows + truth."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import coefficients as C
from .export import _assemble, _feedback, _income_text, _likert_cells, _mess_flags, _raw_columns
from .latent import _business_job, _Covariates, _income, _income_change, _participation, _scales
from .people import _draw_people, _People
from .places import AGE_POP, CITY, GENDER_POP, Places, make_places
from .pools import _binary_pool, _kelurahan_pool, _level_pool, _Pool, _site_pool, answers, weighted
from .truth import ESTIMAND, _r, _wave_effects, latent_model, sample_info


@dataclass
class _Wave:
    year: int
    t: int
    persons: np.ndarray
    D: np.ndarray
    prog: np.ndarray  # -1 for non-participants
    sessions: np.ndarray  # 0 for non-participants
    codes: np.ndarray  # observed Likert codes (n, 16)
    codes0: np.ndarray
    codes1: np.ndarray
    latent_eff: dict
    item_mask: np.ndarray  # answered (not blank / Tidak tahu)
    log_inc: np.ndarray  # latent log income (observed D)
    inc_rep0: np.ndarray
    inc_rep1: np.ndarray
    inc_valid: np.ndarray
    bus0: np.ndarray
    bus1: np.ndarray
    bus_p0: np.ndarray
    bus_p1: np.ndarray
    flags: dict  # per-person mess flags
    columns: dict  # raw column values per person, keyed by variable name


def _outcomes(rng, pp: _People, x: _Covariates, t: int, site_eff, prev) -> dict:
    """Latent outcomes of one wave (the income text is drawn in between: stream order)."""
    D, prog, sessions = _participation(rng, x, prev)
    out = {"D": D, "prog": prog, "sessions": sessions}
    out |= _scales(rng, pp, x, D, prog, sessions, t, site_eff)
    inc = _income(rng, pp, x, D, t)
    out["latent_eff"]["log_income"] = inc["latent_eff"]
    out["inc_text"], _ = _income_text(rng, inc["rep"])
    out |= _business_job(rng, x, prog)
    out["change"] = _income_change(rng, pp, x, inc, t, prev)
    out |= {"inc": inc, "log_inc": inc["log_inc"], "rep": inc["rep"]}
    return out


def _simulate_wave(
    rng: np.random.Generator,
    pp: _People,
    persons: np.ndarray,
    t: int,
    year: int,
    site_eff: np.ndarray,
    prev: _Wave | None,
    pools: dict,
) -> _Wave:
    """One wave: latent outcomes of ``persons``, then their messy raw answers."""
    x = _Covariates.of(pp, persons, year)
    out = _outcomes(rng, pp, x, t, site_eff, prev)
    inc = out["inc"]
    flags = _mess_flags(rng, len(persons), out["rep"])
    ok = ~flags["no_consent"]
    ok_rest = ok & ~flags["straightliners"]
    out["blank_cell"], out["unknown_cell"] = _likert_cells(rng, out["codes"].shape, ok_rest)
    cols = _raw_columns(rng, pp, x, out, flags, pools)
    cols["feedback"], fb_flags = _feedback(rng, cols, ok)
    kinds_k = pools["kelurahan"].kinds[cols["kelurahan"].idx]
    kinds_s = pools["site"].kinds[pp.site_answer[persons]]
    flags |= {
        "kelurahan_typo": kinds_k == "typo",
        "kelurahan_alias": kinds_k == "alias",
        "site_typo": kinds_s == "typo",
        "site_alias": kinds_s == "alias",
    }
    flags |= fb_flags
    bad_income = flags["income_negative"] | flags["income_blank"] | flags["income_unknown"]
    return _Wave(
        year=year,
        t=t,
        persons=persons,
        D=out["D"],
        prog=out["prog"],
        sessions=out["sessions"],
        codes=out["codes"],
        codes0=out["codes0"],
        codes1=out["codes1"],
        latent_eff=out["latent_eff"],
        item_mask=~(out["blank_cell"] | out["unknown_cell"]),
        log_inc=out["log_inc"],
        inc_rep0=inc["rep0"],
        inc_rep1=inc["rep1"],
        inc_valid=~bad_income & (inc["rep0"] > 0) & (inc["rep1"] > 0),
        bus0=out["bus0"],
        bus1=out["bus1"],
        bus_p0=out["bus_p0"],
        bus_p1=out["bus_p1"],
        flags=flags,
        columns=cols,
    )


@dataclass
class Simulation:
    """Raw export tables per wave (exactly as written) and the planted truth."""

    waves: dict[str, pd.DataFrame]
    truth: dict
    places: Places = field(repr=False, default=None)


def _pools(pl: Places) -> dict:
    """Spelling pools of every drawn answer (places, yes/no, codebook levels)."""
    return {
        "site": _site_pool(pl),
        "kelurahan": _kelurahan_pool(pl),
        "gender": _binary_pool("gender", "female", "male"),
        "yesno": _Pool.build([weighted(answers("yes")), weighted(answers("no"))]),
        "consent": _binary_pool("consent", "yes", "no"),
        "education": _Pool.build(_level_pool("education", C.EDUCATION)),
        "occupation": _Pool.build(_level_pool("occupation", C.OCCUPATION)),
        "programme": _Pool.build(_level_pool("programme", C.PROGRAMMES)),
    }


def _site_weights(rng: np.random.Generator, pl: Places) -> np.ndarray:
    """Share of respondents per site: gamma-drawn; the city library draws the most."""
    w_sites = rng.gamma(2.0, 1.0, len(pl.sites))
    is_city = np.array([s.get("kelurahan") is None for s in pl.sites])
    w_sites[is_city] = C.CITY_SITE_WEIGHT * w_sites[~is_city].max() if (~is_city).any() else 1.0
    return w_sites / w_sites.sum()


def _panel_truth(w1: _Wave, w2: _Wave, rows_of: dict, samples: dict, pp: _People):
    """Panel rows in the files and the 2x2 DiD target (panel people, D=0 then D=1)."""
    wid1, wid2 = str(w1.year), str(w2.year)
    pos_in_w1 = np.searchsorted(w1.persons, w2.persons)
    in_w1 = (pos_in_w1 < len(w1.persons)) & (
        w1.persons[np.minimum(pos_in_w1, len(w1.persons) - 1)] == w2.persons
    )
    kept1, kept2 = rows_of[wid1][2], rows_of[wid2][2]
    pairs = np.stack([kept1[pos_in_w1[in_w1]], kept2[np.flatnonzero(in_w1)]], axis=1)
    pairs = pairs[np.argsort(pairs[:, 0])]
    rows_w2 = np.flatnonzero(in_w1[rows_of[wid2][0]])
    idx2 = np.flatnonzero(in_w1)
    idx1 = pos_in_w1[in_w1]
    did_mask = np.zeros(len(w2.persons), dtype=bool)
    did_mask[idx2] = (~w1.D[idx1]) & samples[wid1][idx1] & samples[wid2][idx2]
    did_eff = _wave_effects(w2, pp, did_mask & samples[wid2])
    did = {k: {"att": v["att"], "n": v["n"]} for k, v in did_eff.items()}
    panel = {
        "wave_1": wid1,
        "wave_2": wid2,
        "n_persons": int(in_w1.sum()),
        "share_of_wave_1": _r(in_w1.sum() / len(w1.persons)),
        "pairs": pairs.tolist(),
        "rows_wave_2": rows_w2.tolist(),
    }
    return panel, did


def simulate(
    n_per_wave: int = 2000,
    seed: int = 2025,
    sites: int | None = None,
    panel_share: float = 0.5,
    start_year: int = 2025,
) -> Simulation:
    """Simulate two waves (March ``start_year`` and a year later) of the TPBIS survey.

    ``n_per_wave`` is the number of rows in each export (duplicate submissions included:
    about 2% of respondents submit twice). ``sites``: None (or up to 14) uses the real
    Kota Solok libraries (the first ``sites`` of them); more adds synthetic kelurahan
    libraries in synthetic kecamatan. ``panel_share`` of wave-1 respondents answer again
    in wave 2 (same NIK, name, phone); the rest of wave 2 is new.
    """
    if n_per_wave < 50:
        raise ValueError("n_per_wave must be at least 50")
    if not 0.0 <= panel_share <= 1.0:
        raise ValueError("panel_share must be between 0 and 1")
    rng = np.random.default_rng(seed)
    pl = make_places(sites, seed)
    pools = _pools(pl)
    site_p = _site_weights(rng, pl)
    site_eff = C.SITE_SD * rng.standard_normal((len(pl.sites), len(C.SCALES)))

    dup = C.DUPLICATE_SHARE
    n_unique = n_per_wave - int(round(n_per_wave * dup / (1 + dup)))
    n_panel = int(round(panel_share * n_unique))
    n_new = n_unique - n_panel
    years = (start_year, start_year + 1)
    entry = np.r_[np.full(n_unique, years[0]), np.full(n_new, years[1])]
    pp = _draw_people(rng, entry, pl, site_p, pools["kelurahan"], pools["site"])

    p1 = np.arange(n_unique)
    panel = np.sort(rng.choice(n_unique, size=n_panel, replace=False))
    p2 = np.concatenate([panel, np.arange(n_unique, n_unique + n_new)])
    waves, truth_eff, mess, samp, rows_of, samples = {}, {}, {}, {}, {}, {}
    w1 = _simulate_wave(rng, pp, p1, 0, years[0], site_eff, None, pools)
    for t, style in ((0, "us"), (1, "id")):
        if t == 0:
            w = w1
        else:
            w = w2 = _simulate_wave(rng, pp, p2, 1, years[1], site_eff, w1, pools)
        wid = str(w.year)
        frame, row_pos, is_copy, counts = _assemble(rng, w, n_per_wave, style)
        w.columns = {}  # the person-level strings are in the frame now
        waves[wid] = frame
        mess[wid] = counts
        kept_row = np.empty(len(w.persons), dtype=np.int64)
        kept_row[row_pos[~is_copy]] = np.flatnonzero(~is_copy)
        rows_of[wid] = (row_pos, is_copy, kept_row)
        samples[wid] = ~(w.flags["no_consent"] | w.flags["straightliners"])
        truth_eff[wid] = _wave_effects(w, pp, samples[wid])
        samp[wid] = sample_info(w, pp, AGE_POP, GENDER_POP)

    panel_info, did = _panel_truth(w1, w2, rows_of, samples, pp)
    wid1, wid2 = str(years[0]), str(years[1])
    truth = {
        "schema": "dampak-simulate-truth/1",
        "generator": {
            "seed": seed,
            "n_per_wave": n_per_wave,
            "sites": sites,
            "panel_share": panel_share,
            "start_year": start_year,
            "city": CITY,
        },
        "waves": [wid1, wid2],
        "files": {wid: {"rows": int(len(f))} for wid, f in waves.items()},
        "latent_model": latent_model(),
        "logit": {"business": dict(C.BUSINESS_LOGIT), "got_job": C.GOT_JOB_LOGIT},
        "nulls": list(C.NULLS),
        "estimand": ESTIMAND,
        "effects": truth_eff,
        "did": did,
        "panel": panel_info,
        "mess": mess,
        "sample": samp,
        "places": {
            "sites": [s["id"] for s in pl.sites],
            "kecamatan": list(pl.kecamatan),
            "kelurahan_junk": list(answers("junk_kelurahan")),
        },
    }
    return Simulation(waves=waves, truth=truth, places=pl)
