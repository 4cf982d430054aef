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
# # 3 · Analyse: weights, scales, design-based estimates and models
#
# Weights are raked to the population margins in the config and trimmed; every published
# estimate uses the survey design (weights, strata = kecamatan, clusters = library sites) with
# Taylor-linearised standard errors and t intervals on the design's degrees of freedom. Without
# random assignment, differences between participants and others are *associated with*
# participation, not proven to be caused by it.

# %% tags=["parameters"]
config_path = "../data/raw/solok/solok_2026.yaml"
processed_dir = "../data/processed/solok-2026"
reports_dir = "../reports/solok-2026"

# %%
from pipelines import steps

cfg, cb, out = steps.load(config_path, processed_dir, reports_dir)
results = steps.run_analyse(cfg, cb, out)

# %% [markdown]
# ## Weights: design effect and effective sample size

# %%
results["weights"]

# %% [markdown]
# ## Reliability of the scales
# Cronbach's alpha (with Feldt's interval) and McDonald's omega; a scale below 0.7 is flagged.

# %%
results["reliability"]

# %% [markdown]
# ## Participation and outcomes on the reader's scale
# The participation effect of every analysed outcome, on the scale the report uses (points on
# the scale's range, percentage points, percent, odds ratio), with its corrected p-value; the
# city report's notebook (`04_report_city`) shows the same rows as the summary's charts.

# %%
from pipelines import report

lab = report.Labels(cfg, cb, cfg.report.languages[0], report.outcomes_of(results))
report.effects_frame(results, cfg, lab)

# %% [markdown]
# ## Analyses the plan skipped
# Planned analyses that could not run on this survey, each with its reason.

# %%
plan = results["plan"]
plan[~plan["runs"].astype(bool)]
