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
lang = cfg.report.languages[0]

# %% [markdown]
# ## Writing the report
# Each language is written as HTML and PDF from the same document model, with the workbook of
# its tables and the landing page that groups the libraries by kecamatan. The other languages
# are built in parallel (on Linux with a second core); the first language's document is kept
# to be shown below.

# %%
built = {}
written = steps.run_report(cfg, cb, out, built)
print(f"{len(written)} files written to {out.reports}.")
city = built[lang]
by_heading = {s.heading: s for s in city.sections}
heading = report.t

# %% [markdown]
# ## The summary
# The report opens with one sentence per analysed outcome and a chart per unit drawn from the
# same effect rows, so the words and the chart cannot disagree.

# %%
report.show(by_heading[heading("section.executive_summary", lang)])

# %% [markdown]
# ## What to do next
# Suggestions follow fixed rules over those same rows: continue where the difference is clearly
# positive, collect more data where it is not clear, reach out where a group gains less.

# %%
report.show(by_heading[heading("section.next_steps", lang)])

# %% [markdown]
# ## The rest of the report
# Every other section as the reader sees it: who answered, taking part, outcomes by programme,
# change, who gains less, all libraries side by side, data quality, methods and glossary.

# %%
shown = {heading("section.executive_summary", lang), heading("section.next_steps", lang)}
report.show(*[s for s in city.sections if s.heading not in shown])
