# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python (Dampak)
#     language: python
#     name: dampak
# ---

# %% [markdown]
# # 2 · Clean: from raw answers to tidy, typed data
#
# Every rule is applied in a fixed order and recorded: text normalisation, missing codes,
# consent, dates, duplicate submissions, place names, categories, yes/no, agreement scales,
# Rupiah amounts, impossible values, and quality flags (straight-lining, speeding) that are
# kept for review rather than silently dropped.

# %% tags=["parameters"]
config_path = "../data/raw/solok/solok_2026.yaml"
processed_dir = "../data/processed/solok-2026"
reports_dir = "../reports/solok-2026"

# %%
from pipelines import steps

cfg, cb, out = steps.load(config_path, processed_dir, reports_dir)
cleaned = steps.run_clean(cfg, cb, out)

# %% [markdown]
# ## The cleaning log
# One line per rule and wave: how many rows and values it touched.

# %%
cleaned["summary"].query("rows_touched > 0 or values_touched > 0")

# %% [markdown]
# ## Data quality in brief
# Rows in and out per wave, why rows were removed, and what was flagged.

# %%
{
    w: {k: q[k] for k in ("rows_in", "rows_out", "removed", "flagged")}
    for w, q in cleaned["quality"].items()
    if w != "attrition"
}

# %% [markdown]
# Values set missing because they were out of range, not among the options or not possible
# dates, per column, with masked examples:

# %%
{
    w: {k: v for k, v in q["flagged_examples"].items() if v}
    for w, q in cleaned["quality"].items()
    if w != "attrition"
}

# %% [markdown]
# Respondents found again in the next wave (linked by pseudonymous key):

# %%
cleaned["quality"]["attrition"]
