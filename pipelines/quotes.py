"""Respondents' own words for the report: a few free-text answers, already masked at ingest,
chosen reproducibly from libraries large enough that a quote can't point at a person."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines import privacy

MASKED = r"\[(?:NAMA|TELEPON|EMAIL|NIK)\]"


def answer_column(cb, columns) -> str | None:
    """The questionnaire's free-text question that quotes and themes come from: the first
    question of type ``text`` in the codebook that the data have (None: no quotes)."""
    return next((v.name for v in cb.by_type("text") if v.name in columns), None)


def _candidates(df: pd.DataFrame, min_size: int, column: str) -> pd.DataFrame:
    """Answers of 40–240 characters, with no mask left in them, from sites with at least
    `min_size` respondents: the rows a quote may come from (columns wave, site, text). A
    survey that names no library is one group: its size must reach `min_size`."""
    if "site" in df:
        sizes = df.groupby("site")["respondent_key"].transform("size")
    else:
        sizes = pd.Series(len(df), index=df.index)
        df = df.assign(site=pd.NA)
    text = df[column].astype("string")
    ok = text.notna() & text.str.len().between(40, 240) & (sizes >= min_size)
    ok &= ~text.fillna("").str.contains(MASKED, regex=True)
    return df.loc[ok, ["wave", "site"]].assign(text=text[ok])


def _pick(pool: pd.DataFrame, k: int, seed: int, by: str | None) -> pd.DataFrame:
    """The first `k` distinct answers per group (or overall) in a seeded random order that
    hold no detectable personal data. Texts are checked lazily, a growing batch per group at
    a time, so a million answers cost the few hundred checks the quotes need."""
    pool = pool.sample(frac=1.0, random_state=seed)
    pool = pool.drop_duplicates([by, "text"] if by else "text")
    rank = pool.groupby(by, sort=False).cumcount().to_numpy() if by else np.arange(len(pool))
    size = pool.groupby(by, sort=False)["text"].transform("size").to_numpy() if by else len(pool)
    clean = np.zeros(len(pool), dtype=bool)
    verdict: dict[str, bool] = {}
    lo, hi = 0, 2 * k
    todo = np.ones(len(pool), dtype=bool)  # rows of groups that still need quotes
    while True:
        batch = todo & (rank >= lo) & (rank < hi)
        texts = pool["text"].to_numpy()[batch]
        for t in set(texts) - verdict.keys():
            verdict[t] = not privacy.find_personal_data(t)
        clean[batch] = [verdict[t] for t in texts]
        found = clean & (rank < hi)
        if by:
            got = pd.Series(found).groupby(pool[by].to_numpy()).transform("sum").to_numpy()
        else:
            got = np.full(len(pool), found.sum())
        todo = (got < k) & (size > hi)
        if not todo.any():
            break
        lo, hi = hi, 2 * hi
    chosen = pool[clean]
    chosen = chosen.groupby(by, sort=True).head(k) if by else chosen.head(k)
    return chosen.sort_values(by, kind="stable") if by else chosen


def select_quotes(
    df: pd.DataFrame, threshold: int, k: int = 3, seed: int = 0, column: str | None = None
) -> pd.DataFrame:
    """Up to `k` quotes of 40–240 characters per wave, from sites with at least `threshold`
    respondents, with no detectable personal data left (masked text only)."""
    if column not in df:
        return pd.DataFrame(columns=["wave", "site", "text"])
    pool = _candidates(df, threshold, column)
    return _pick(pool, k, seed, by=None).reset_index(drop=True)


def site_quotes(
    df: pd.DataFrame, min_n: int, threshold: int, k: int = 2, column: str | None = None
) -> pd.DataFrame:
    """Up to `k` quotes per library for the libraries' own reports, only from libraries with at
    least `min_n` respondents (a larger bar than the city's: a library's voices are fewer)."""
    if column not in df or df.empty or "site" not in df:
        return pd.DataFrame(columns=["wave", "site", "text"])
    pool = _candidates(df, max(min_n, threshold), column)
    return _pick(pool, k, seed=0, by="site").reset_index(drop=True)


# Simple keyword themes of library feedback (Indonesian answers, masked text). A theme is a
# rough reading aid, not a coded analysis: the report says so.
THEMES = {
    "collection": r"\b(?:buku|koleksi|bacaan)",
    "computers_internet": r"\b(?:wifi|wi-fi|internet|komputer|laptop)",
    "training": r"\b(?:pelatihan|kelas|kursus|workshop)",
    "opening_hours": r"\b(?:jam buka|buka sampai|jam layanan)",
    "access": r"\b(?:kursi roda|aksesib|akses|disabilitas|tangga)",
    "information": r"\b(?:informasi|diumumkan|pengumuman|sosialisasi)",
    "staff_place": r"\b(?:petugas|pustakawan|ramah|nyaman|tempatnya)",
}


def site_themes(
    df: pd.DataFrame, min_n: int, threshold: int, column: str | None = None
) -> pd.DataFrame:
    """How many open answers of each library touch each keyword theme, for libraries with at
    least `min_n` respondents; a theme mentioned by fewer than `threshold` people is left out
    (suppressed), so no count points at a handful of people."""
    cols = ["site", "theme", "n_theme", "n_answers"]
    if column not in df or df.empty or "site" not in df:
        return pd.DataFrame(columns=cols)
    sizes = df.groupby("site")["respondent_key"].transform("size")
    text = df.loc[sizes >= max(min_n, threshold), ["site", column]].dropna()
    lower = text[column].astype("string").str.lower()
    keep = (lower.str.len() > 3).to_numpy()
    lower, site = lower[keep], text["site"].to_numpy()[keep]
    if not len(lower):
        return pd.DataFrame(columns=cols)
    # one pass over all answers per theme (not per library): 7 scans at 10^6 respondents
    hits = pd.DataFrame(
        {theme: lower.str.contains(p, regex=True).to_numpy() for theme, p in THEMES.items()}
    )
    counts = hits.groupby(site, sort=True).sum()
    n_answers = pd.Series(site).value_counts()
    long = counts.stack().rename("n_theme").reset_index()
    long.columns = ["site", "theme", "n_theme"]
    long["n_answers"] = long["site"].map(n_answers).astype(int)
    long["n_theme"] = long["n_theme"].astype(int)
    return long[long["n_theme"] >= threshold].reset_index(drop=True)[cols]
