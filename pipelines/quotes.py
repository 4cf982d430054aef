"""Respondents' own words for the report: a few free-text answers, already masked at ingest,
chosen reproducibly from libraries large enough that a quote can't point at a person."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines import privacy


def select_quotes(
    df: pd.DataFrame, threshold: int, k: int = 3, seed: int = 0, column: str = "feedback"
) -> pd.DataFrame:
    """Up to `k` quotes of 40–240 characters per wave, from sites with at least `threshold`
    respondents, with no detectable personal data left (masked text only)."""
    if column not in df:
        return pd.DataFrame(columns=["wave", "site", "text"])
    sizes = df.groupby("site")["respondent_key"].transform("size")
    text = df[column].astype("string")
    ok = text.notna() & text.str.len().between(40, 240) & (sizes >= threshold)
    ok &= ~text.fillna("").str.contains(r"\[(?:NAMA|TELEPON|EMAIL|NIK)\]", regex=True)
    codes, uniques = pd.factorize(text.where(ok))  # each distinct text checked once
    personal = np.array([bool(privacy.find_personal_data(u)) for u in uniques] + [False])
    ok &= ~personal[codes]
    pool = df.loc[ok, ["wave", "site", column]].rename(columns={column: "text"})
    pool = pool.drop_duplicates("text")
    return pool.sample(n=min(k, len(pool)), random_state=seed).reset_index(drop=True)


def site_quotes(
    df: pd.DataFrame, min_n: int, threshold: int, k: int = 2, column: str = "feedback"
) -> pd.DataFrame:
    """Up to `k` quotes per library for the libraries' own reports, only from libraries with at
    least `min_n` respondents (a larger bar than the city's: a library's voices are fewer)."""
    if column not in df or df.empty:
        return pd.DataFrame(columns=["wave", "site", "text"])
    sizes = df.groupby("site")["respondent_key"].transform("size")
    big = df[sizes >= max(min_n, threshold)]
    parts = [
        select_quotes(g, threshold, k=k, column=column) for _, g in big.groupby("site", sort=True)
    ]
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else select_quotes(big.head(0), threshold)


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
    df: pd.DataFrame, min_n: int, threshold: int, column: str = "feedback"
) -> pd.DataFrame:
    """How many open answers of each library touch each keyword theme, for libraries with at
    least `min_n` respondents; a theme mentioned by fewer than `threshold` people is left out
    (suppressed), so no count points at a handful of people."""
    cols = ["site", "theme", "n_theme", "n_answers"]
    if column not in df or df.empty:
        return pd.DataFrame(columns=cols)
    sizes = df.groupby("site")["respondent_key"].transform("size")
    text = df.loc[sizes >= max(min_n, threshold), ["site", column]].dropna()
    text = text[text[column].astype(str).str.len() > 3]
    rows = []
    for site, g in text.groupby("site", sort=True):
        lower = g[column].astype(str).str.lower()
        for theme, pattern in THEMES.items():
            hits = int(lower.str.contains(pattern, regex=True).sum())
            if hits >= threshold:
                rows.append((site, theme, hits, len(g)))
    return pd.DataFrame(rows, columns=cols)
