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
