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
# # 4 · City report (Indonesian and English, HTML and PDF)
#
# Builds the city-wide report from the results tables only (no data is re-estimated here),
# applies small-cell suppression, and writes each language as HTML and PDF, plus the index page.

# %% tags=["parameters"]
config_path = "../data/raw/solok/solok_2026.yaml"
processed_dir = "../data/processed/solok-2026"
reports_dir = "../reports/solok-2026"

# %%
from pipelines import report, steps

cfg, cb, out = steps.load(config_path, processed_dir, reports_dir)

# %% [markdown]
# Every language and format is written from the same document model; the index page links
# the city report and every library's report.

# %%
written = report.write_city(cfg, cb, out)
[str(p.relative_to(out.reports)) for p in written]
