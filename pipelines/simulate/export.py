"""The messy export layer: answers as staff receive them from Google Forms.

Turns one wave's latent outcomes into raw text columns (many spellings, free-text incomes,
blanks, refusals, straight-liners, personal data in feedback, injection probes) and then
into export rows (duplicate submissions, timestamps in the form's locale).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import coefficients as C
from .form import _names, headers
from .pools import LIKERT, LIKERT_UNKNOWN_INDEX, answers, load_pool
from .text import _cat, _Col, _null, _pick_from, _s, _select, _take, _where, _z

# share of respondents (minimum count) with each planted problem
MESS = {
    "no_consent": (0.01, 1),  # answer "Tidak" to the consent question
    "no_consent_blank": 0.7,  # of those, leave the rest of the form blank
    "straightliners": (0.01, 1),  # every Likert item the same word
    "birth_year_impossible": (0.002, 2),  # "1890" or the year with a digit doubled
    "birth_year_blank": (0.003, 1),
    "income_negative": (0.001, 2),
    "income_blank": (0.025, 1),
    "income_unknown": (0.015, 1),  # "Tidak tahu"
    "kelurahan_unmatched": (0.005, 1),  # junk kelurahan answers ("Solok", "-")
    "likert_blank_cell": 0.02,  # Likert answers left blank
    "likert_unknown_cell": 0.003,  # Likert answers "Tidak tahu"
    "income_change_blank": 0.01,
    "feedback_blank": 0.45,
    "pii_in_feedback": (0.01, 3),  # of the answered feedback: own name / phone / e-mail
    "script_injection": 0.0005,  # "<script>..." in feedback (at least one)
    "formula_injection": 0.0005,  # "=..." in feedback (at least one)
}


def _pick(rng: np.random.Generator, mask: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask selecting exactly ``k`` random True positions of ``mask``."""
    idx = np.flatnonzero(mask)
    k = min(k, len(idx))
    out = np.zeros(len(mask), dtype=bool)
    out[rng.choice(idx, size=k, replace=False)] = True
    return out


def _count(n: int, share: float, minimum: int = 0) -> int:
    """``share`` of ``n`` rounded, at least ``minimum`` (0 when ``n`` is 0)."""
    return max(minimum, int(round(n * share))) if n > 0 else 0


def _dotted(v: np.ndarray, sep: str) -> np.ndarray:
    """1500000 -> '1.500.000' (sep='.') for non-negative integers below 1e12."""
    b = v // 1_000_000_000
    m = (v // 1_000_000) % 1000
    k = (v // 1000) % 1000
    u = v % 1000
    u3 = _z(u, 3)
    out = _where(k > 0, _cat(k, sep, u3), _s(u))
    out = _where(m > 0, _cat(m, sep, _z(k, 3), sep, u3), out)
    return _where(b > 0, _cat(b, sep, _z(m, 3), sep, _z(k, 3), sep, u3), out)


def _income_text(rng: np.random.Generator, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Free-text incomes in many Indonesian spellings; returns (texts, format code)."""
    n = len(v)
    fmt = rng.choice(9, size=n, p=[0.27, 0.08, 0.12, 0.06, 0.06, 0.04, 0.22, 0.10, 0.05])
    big = v >= 1_000_000
    fmt = np.where((fmt == 4) & big, 0, fmt)  # "ribu" only below a million
    fmt = np.where((fmt == 5) & (v % 1_000_000 != 0), 2, fmt)  # "juta-an" for round millions
    fmt = np.where(np.isin(fmt, (2, 3, 5)) & ~big, 4, fmt)  # "juta" only from a million
    fmt = np.where((v == 0) & ~np.isin(fmt, (6, 0)), 6, fmt)
    m = v // 1_000_000
    frac = (v % 1_000_000) // 100_000
    juta_c = _where(frac > 0, _cat(m, ",", frac), _s(m))
    dotted = _dotted(v, ".")
    number = _select(
        fmt,
        [
            dotted,
            pc.replace_substring(dotted, ".", ","),
            juta_c,
            pc.replace_substring(juta_c, ",", "."),
            _s(v // 1000),
            _s(m),
            _s(v),
            dotted,
        ],
        _s(v),
    )
    pre = ["Rp ", "Rp", "", "", "", "", "", "Rp. ", "Rp "]
    post = ["", ".00", " juta", "jt", " ribu", " juta-an", "", ",-", ""]
    out = _cat(pa.array(pre).take(pa.array(fmt)), number, pa.array(post).take(pa.array(fmt)))
    return out, fmt


def _mess_flags(rng: np.random.Generator, n: int, rep: np.ndarray) -> dict:
    """Who refuses, straight-lines, gives an impossible birth year, a bad income, a junk place."""
    M = MESS
    no_consent = _pick(rng, np.ones(n, dtype=bool), _count(n, *M["no_consent"]))
    ok = ~no_consent
    straight = _pick(rng, ok, _count(n, *M["straightliners"]))
    no_consent_blank = no_consent & (rng.random(n) < M["no_consent_blank"])
    by_bad = _pick(rng, ok, _count(n, *M["birth_year_impossible"]))
    by_blank = _pick(rng, ok & ~by_bad, _count(n, *M["birth_year_blank"]))
    inc_neg = _pick(rng, ok & (rep > 0), _count(n, *M["income_negative"]))
    inc_blank = _pick(rng, ok & ~inc_neg, _count(n, *M["income_blank"]))
    inc_unknown = _pick(rng, ok & ~inc_neg & ~inc_blank, _count(n, *M["income_unknown"]))
    kel_junk = _pick(rng, ok, _count(n, *M["kelurahan_unmatched"]))
    return {
        "no_consent": no_consent,
        "no_consent_blank": no_consent_blank,
        "straightliners": straight,
        "birth_year_impossible": by_bad,
        "birth_year_blank": by_blank,
        "income_negative": inc_neg,
        "income_blank": inc_blank,
        "income_unknown": inc_unknown,
        "kelurahan_unmatched": kel_junk,
    }


def _likert_cells(rng: np.random.Generator, shape: tuple, ok_rest: np.ndarray):
    """(blank, "Tidak tahu") cell masks of the Likert answers; none for straight-liners."""
    cell = rng.random(shape)
    blank_at = MESS["likert_blank_cell"]
    unknown_to = blank_at + MESS["likert_unknown_cell"]
    blank_cell = (cell < blank_at) & ok_rest[:, None]
    unknown_cell = (cell >= blank_at) & (cell < unknown_to) & ok_rest[:, None]
    return blank_cell, unknown_cell


def _likert_columns(rng, codes, blank_cell, unknown_cell, straight) -> dict:
    """Likert answer words per item: spellings of the codes, blanks, "Tidak tahu", and one
    repeated word for straight-liners."""
    n = len(codes)
    strings = list(LIKERT.strings)
    sl_idx = np.array([strings.index(w) for w in answers("straightline_words")])
    sl_word = sl_idx[rng.integers(0, len(sl_idx), n)]
    lik_u = rng.random(codes.shape)
    cols = {}
    for j, item in enumerate(C.LIKERT_ITEMS):
        idx = LIKERT.draw(codes[:, j] - 1, lik_u[:, j])
        idx[blank_cell[:, j]] = -1
        idx[unknown_cell[:, j]] = LIKERT_UNKNOWN_INDEX
        idx[straight] = sl_word[straight]
        cols[item] = _Col(LIKERT.arrow, idx)
    return cols


def _feedback(rng: np.random.Generator, cols: dict, ok: np.ndarray) -> tuple[pa.Array, dict]:
    """Feedback sentences, some blank, a few with the respondent's own personal data or an
    injection probe; returns (column, flags)."""
    n = len(ok)
    pool = load_pool("feedback")
    fb = _pick_from(pool["feedback"], rng.integers(0, len(pool["feedback"]), n))
    answered = (rng.random(n) >= MESS["feedback_blank"]) & ok
    has_email = cols["email"].is_valid().to_numpy(zero_copy_only=False)
    pii = _pick(rng, answered, _count(int(answered.sum()), *MESS["pii_in_feedback"]))
    pii_kind = rng.integers(0, 3, n)
    pii_kind = np.where((pii_kind == 2) & ~has_email, 1, pii_kind)
    pii_name = pii & (pii_kind == 0)
    pii_phone = pii & (pii_kind == 1)
    pii_email = pii & (pii_kind == 2)
    fb = _where(pii_name, _cat(fb, " Salam, ", cols["full_name"]), fb)
    fb = _where(pii_phone, _cat(fb, " Hubungi saya di ", cols["phone"]), fb)
    fb = _where(pii_email, _cat(fb, " Email saya ", pc.fill_null(cols["email"], "")), fb)
    rest = answered & ~pii
    script = _pick(rng, rest, max(1, _count(n, MESS["script_injection"])))
    formula = _pick(rng, rest & ~script, max(1, _count(n, MESS["formula_injection"])))
    fb = _where(script, pool["script_text"], fb)
    formula_text = _pick_from(pool["formula_texts"], rng.integers(0, 2, n))
    fb = _where(formula, formula_text, fb)
    flags = {
        "pii_in_feedback": pii,
        "pii_name": pii_name,
        "pii_phone": pii_phone,
        "pii_email": pii_email,
        "script_injection": script,
        "formula_injection": formula,
    }
    return _null(fb, ~answered), flags


def _raw_columns(rng, pp, x, out: dict, flags: dict, pools: dict) -> dict:
    """Raw answer columns per person (Arrow strings or pool indices), keyed by variable name.

    ``x`` holds the wave's covariates; ``out`` its outcomes (D, prog, sessions, codes, rep,
    inc_text, change, bus0/bus1, job, blank_cell, unknown_cell).
    """
    n = len(x.persons)
    persons, D = x.persons, out["D"]
    cols: dict[str, object] = {}
    cols["consent"] = pools["consent"].col(flags["no_consent"].astype(int), rng.random(n))
    for k, v in pp.strings.items():
        cols[k] = _take(v, persons)
    cols["site"] = _Col(pools["site"].arrow, pp.site_answer[persons])
    kel_ans = pp.kel_answer[persons].copy()
    kel_junk = flags["kelurahan_unmatched"]
    junk_group = len(pools["kelurahan"].offsets) - 1
    kel_ans[kel_junk] = pools["kelurahan"].draw(
        np.full(kel_junk.sum(), junk_group), rng.random(kel_junk.sum())
    )
    cols["kelurahan"] = _Col(pools["kelurahan"].arrow, kel_ans)
    cols["gender"] = pools["gender"].col((~x.female).astype(int), rng.random(n))
    by_year = pp.birth_year[persons]
    by_bad_text = _where(rng.random(n) < 0.5, "1890", _cat(by_year, by_year % 10))
    by_bad = flags["birth_year_impossible"]
    cols["birth_year"] = _null(_where(by_bad, by_bad_text, by_year), flags["birth_year_blank"])
    cols["education"] = pools["education"].col(x.edu, rng.random(n))
    cols["occupation"] = pools["occupation"].col(x.occ, rng.random(n))
    cols["disability"] = pools["yesno"].col((~x.disab).astype(int), rng.random(n))
    cols["participated"] = pools["yesno"].col((~D).astype(int), rng.random(n))
    pr = pools["programme"].col(np.maximum(out["prog"], 0), rng.random(n))
    pr.idx[~D] = -1
    cols["programme"] = pr
    cols["sessions"] = out["sessions"]  # numeric; blank for non-participants (set at assembly)
    straight = flags["straightliners"]
    cols |= _likert_columns(rng, out["codes"], out["blank_cell"], out["unknown_cell"], straight)
    inc = _where(flags["income_negative"], _cat("-", out["rep"]), out["inc_text"])
    inc = _where(flags["income_unknown"], "Tidak tahu", inc)
    cols["income"] = _null(inc, flags["income_blank"])
    ch = out["change"].copy()
    ch[rng.random(n) < MESS["income_change_blank"]] = -1
    cols["income_change"] = _Col(pa.array(answers("income_change")), ch)
    bus = np.where(D, out["bus1"], out["bus0"])
    cols["business"] = pools["yesno"].col((~bus).astype(int), rng.random(n))
    cols["got_job"] = pools["yesno"].col((~out["job"]).astype(int), rng.random(n))
    return cols


def _timestamps(secs: np.ndarray, style: str) -> np.ndarray:
    """Google Forms timestamps: "us" = M/D/YYYY H:MM:SS, else Indonesian D/M/YYYY HH.MM.SS."""
    dt = secs.astype("datetime64[s]")
    year = dt.astype("datetime64[Y]").astype(int) + 1970
    month = dt.astype("datetime64[M]").astype(int) % 12 + 1
    day = (dt - dt.astype("datetime64[M]")).astype("timedelta64[D]").astype(int) + 1
    sod = secs % 86400
    hh, mm, ss = sod // 3600, (sod // 60) % 60, sod % 60
    if style == "us":  # Google Forms, English (US) locale
        return _cat(month, "/", day, "/", year, " ", hh, ":", _z(mm, 2), ":", _z(ss, 2))
    # Google Forms, Indonesian locale
    return _cat(day, "/", month, "/", year, " ", _z(hh, 2), ".", _z(mm, 2), ".", _z(ss, 2))


def _submissions(rng, year: int, n: int, dup: np.ndarray):
    """Row order of the export (by time) as (person position, is_copy, seconds) arrays."""
    row_pos = np.concatenate([np.arange(n), dup])
    is_copy = np.r_[np.zeros(n, dtype=bool), np.ones(len(dup), dtype=bool)]
    # submissions in March, 08:00-22:00; a copy is 10 minutes to 6 hours before the final one
    t0 = np.datetime64(f"{year}-03-03T00:00:00", "s").astype(np.int64)
    day = rng.integers(2, 26, n)
    secs = t0 + day * 86400 + rng.integers(8 * 3600, 22 * 3600, n)
    copy_secs = secs[dup] - rng.integers(600, 6 * 3600, len(dup))
    all_secs = np.concatenate([secs, copy_secs])
    order = np.lexsort((~is_copy, all_secs))
    return row_pos[order], is_copy[order], all_secs[order]


def _alter_copies(rng, data: dict, is_copy: np.ndarray) -> None:
    """The earlier copy of a submission differs in 1-3 Likert items, sometimes income change."""
    copy_rows = np.flatnonzero(is_copy)
    m = len(copy_rows)
    k = len(C.LIKERT_ITEMS)
    n_change = rng.integers(1, 4, m)
    pick = rng.random((m, k)).argsort(axis=1)
    new_codes = rng.integers(1, 6, (m, k))
    canonical = LIKERT.offsets[new_codes - 1]
    changed = np.zeros((m, k), dtype=bool)
    np.put_along_axis(changed, pick[:, :3], (np.arange(3)[None, :] < n_change[:, None]), axis=1)
    for j, item in enumerate(C.LIKERT_ITEMS):
        col = data[item]
        col.idx[copy_rows[changed[:, j]]] = canonical[changed[:, j], j]
    flip = copy_rows[rng.random(m) < 0.3]
    data["income_change"].idx[flip] = rng.integers(0, 3, len(flip))


def _assemble(
    rng: np.random.Generator, w, n_rows: int, style: str
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, dict]:
    """Rows of the export: one per person, plus earlier duplicate submissions.

    Returns (raw frame, person position per row, is_copy per row, row-level mess counts).
    """
    n = len(w.persons)
    can_dup = ~(w.flags["no_consent"] | w.flags["straightliners"])
    dup = np.flatnonzero(_pick(rng, can_dup, n_rows - n))
    row_pos, is_copy, all_secs = _submissions(rng, w.year, n, dup)
    names = _names()
    data: dict[str, object] = {"submitted_at": _timestamps(all_secs, style)}
    for name in names[1:]:
        data[name] = _take(w.columns[name], row_pos)
    _alter_copies(rng, data, is_copy)

    # refusals: most leave everything after the consent question blank
    blank = w.flags["no_consent_blank"][row_pos]
    for name in names[names.index("consent") + 1 :]:
        col = data[name]
        if isinstance(col, _Col):
            col.idx[blank] = -1
        elif name != "sessions":
            data[name] = _null(col, blank)
    sess = pd.array(np.where(w.D, w.sessions, 0)[row_pos], dtype="Int64")
    sess[~w.D[row_pos] | blank] = pd.NA
    data["sessions"] = sess

    frame = pd.DataFrame(
        {
            h: data[v]
            if v == "sessions"
            else pd.Series(data[v].arrow() if isinstance(data[v], _Col) else data[v], dtype="str")
            for h, v in zip(headers(), names, strict=True)
        }
    )
    counts = {k: int(f[row_pos].sum()) for k, f in w.flags.items()}
    counts["duplicate_keys"] = len(dup)
    counts["duplicate_rows"] = len(dup)
    counts["rows"] = int(len(row_pos))
    counts["respondents"] = int(n)
    lik_idx = np.stack([data[i].idx for i in C.LIKERT_ITEMS], axis=1)
    counts["likert_blank_cells"] = int((lik_idx < 0).sum())
    counts["likert_unknown_cells"] = int((lik_idx == LIKERT_UNKNOWN_INDEX).sum())
    return frame, row_pos, is_copy, counts
