"""Columns clean derives from answers (an age from a birth year, bands, log amounts) and the
levels a weighting margin can take: what `check` and the runner need to know about the cleaned
data without cleaning it (and without importing clean's parsers)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.codebook import Codebook
from pipelines.config import SurveyConfig

# What clean derives when the codebook declares no `roles.derived` (the ROLES.md defaults):
# each only when its source was asked and no variable of that name was.
DEFAULT_DERIVED = {
    "age": {"from": "birth_year", "how": "years_before_reference"},
    "age_band": {"from": "age", "how": "bands", "cuts": "age_bands"},
    "log_income": {"from": "income", "how": "log"},
    "income_band": {"from": "income", "how": "bands", "cuts": "income_bands", "money": True},
}
AGE_LIMITS = (10, 100)  # years: a derived age outside them is a typing slip, set missing
NUMBER_TYPES = ("numeric", "currency")  # answers that are amounts, not groups
NUMBER_HOWS = ("years_before_reference", "log")  # derived columns that are amounts too


def derived_specs(cb: Codebook) -> dict[str, dict]:
    """`{column: {from, how, cuts, money}}` of the columns clean derives, in order: the
    codebook's `roles.derived` when it declares any, else DEFAULT_DERIVED; money outcomes
    (`roles.outcomes` of kind money) also get `log_<var>`."""
    roles = getattr(cb, "roles", None)
    declared = getattr(roles, "derived", None) or {}
    specs = {
        name: {
            "from": d.from_,
            "how": d.how,
            "cuts": getattr(d, "cuts", None),
            "money": getattr(d, "money", False),
        }
        for name, d in declared.items()
    } or {k: dict(v) for k, v in DEFAULT_DERIVED.items()}
    for o in getattr(roles, "outcomes", None) or []:
        if o.kind == "money" and f"log_{o.var}" not in specs:
            specs[f"log_{o.var}"] = {"from": o.var, "how": "log"}
    return specs


def derived_columns(cb: Codebook, columns) -> list[str]:
    """The derived columns clean will add to data whose answer columns are `columns` (for
    `check`'s plan, without cleaning): a column is derived when its source is present and no
    answer column already has its name."""
    have, out = set(columns), []
    for name, spec in derived_specs(cb).items():
        if spec["from"] in have and name not in have:
            have.add(name)
            out.append(name)
    return out


def band_cuts(spec: dict, analysis) -> list[float]:
    """A band's cut points: the codebook's own list, or the config's `analysis.<cuts>` list."""
    cuts = spec["cuts"]
    return list(cuts) if isinstance(cuts, list | tuple) else list(getattr(analysis, cuts))


def number_columns(cb: Codebook) -> set[str]:
    """Columns holding amounts (numeric and currency answers, derived ages and logs): a
    breakdown by them would make one group per distinct value, so they are banded first."""
    out = {v.name for v in cb.by_type(*NUMBER_TYPES)}
    made = {n for n, spec in derived_specs(cb).items() if spec["how"] in NUMBER_HOWS}
    return out | {n for n in made if not cb.has(n)}  # an asked column is used as answered


def number_breakdowns(cfg: SurveyConfig, cb: Codebook) -> tuple[str, list[str]]:
    """(key, columns) of the breakdowns in effect (`analysis.breakdowns`, else the codebook's
    `roles.breakdowns`) that hold amounts: what `check` refuses and the plan leaves out."""
    key = "analysis.breakdowns" if cfg.analysis.breakdowns else "roles.breakdowns"
    listed = cfg.analysis.breakdowns or cb.roles.breakdowns
    numbers = number_columns(cb)
    return key, [b for b in listed if b in numbers]


def band_labels(x: pd.Series, edges: list[float], money: bool = False) -> pd.Series:
    """Cut into ordered bands labelled '15-24', ..., '60+' (a band of one whole number: '0';
    Rupiah millions for money)."""

    def lab(v):
        return f"{v / 1e6:g}jt" if money and v else f"{v:g}"

    labels = [
        f"{lab(lo)}-{lab(hi - (0 if money else 1))}" if money or hi - 1 > lo else lab(lo)
        for lo, hi in zip(edges, edges[1:], strict=False)
    ]
    labels.append(f"{lab(edges[-1])}+")
    cats = pd.cut(x, [*edges, np.inf], right=False, labels=labels)
    return cats.astype(object).where(cats.notna())


def margin_levels(cfg: SurveyConfig, cb: Codebook, var: str) -> list[str] | None:
    """The levels a weighting margin's variable can take in the cleaned data: a categorical's
    codes, a derived band's labels, the site ids; None when clean does not fix them."""
    v = next((x for x in cb.variables if x.name == var), None)
    spec = derived_specs(cb).get(var)
    if v is not None and v.type == "categorical" and v.levels:
        return list(v.levels)
    if v is None and spec is not None and spec["how"] == "bands":
        cuts = band_cuts(spec, cfg.analysis)
        bands = band_labels(pd.Series(cuts, dtype=float), cuts, spec.get("money", False))
        return list(dict.fromkeys(bands))
    if var == "site":
        return cfg.site_ids
    return None
