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
# ## Participation and outcomes (adjusted models)

# %%
est = results["estimates"]
est[est["analysis"].eq("model") & est["term"].eq("participated")]
