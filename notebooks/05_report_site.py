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
# # 5 · Library report (one per site)
#
# Run once per library site by the runner (parameter `site`): a short report comparing the
# site with the city, in every report language, as HTML and PDF.

# %% tags=["parameters"]
config_path = "../data/raw/solok/solok_2026.yaml"
processed_dir = "../data/processed/solok-2026"
reports_dir = "../reports/solok-2026"
site = "kota"

# %%
from pipelines import steps

cfg, cb, out = steps.load(config_path, processed_dir, reports_dir)

# %% [markdown]
# Small groups are suppressed before anything is shown; a library with too few respondents
# gets a short notice instead of numbers.

# %%
written = steps.run_site_report(cfg, cb, out, site)
[str(p.relative_to(out.reports)) for p in written]
