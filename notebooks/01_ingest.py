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
# # 1 · Ingest: read the raw exports, keep nothing personal
#
# Reads every file of every wave named in the survey config, matches the headers to the
# codebook's questions and removes personal data at the door: names, phone numbers, NIK, e-mail
# and addresses are dropped after a keyed pseudonym is made, and personal data inside free-text
# answers is masked. Raw files are only read, never written.

# %% tags=["parameters"]
config_path = "../data/raw/solok/solok_2026.yaml"
processed_dir = "../data/processed/solok-2026"
reports_dir = "../reports/solok-2026"

# %%
from pipelines import steps

cfg, cb, out = steps.load(config_path, processed_dir, reports_dir)
f"Survey {cfg.survey.id}: {len(cfg.waves)} wave(s), codebook {cb.id} {cb.version}"

# %% [markdown]
# What was read from each file: rows, columns used, headers the codebook does not know (dropped,
# so an unexpected column can never carry personal data further) and masks applied to free text.

# %%
log = steps.run_ingest(cfg, cb, out)
log[["wave", "file", "rows_read", "columns_used", "columns_dropped_unknown", "masked_in_free_text"]]
