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
# # Explore: the processed data and results, for researchers
#
# Run `make report` first. Each table loads in one line; the functions used by the pipeline are
# importable, so you can fit your own design-based model in two more.

# %% tags=["parameters"]
config_path = "../data/raw/solok/solok_2026.yaml"
processed_dir = "../data/processed/solok-2026"
reports_dir = "../reports/solok-2026"

# %%
from pipelines import steps

cfg, cb, out = steps.load(config_path, processed_dir, reports_dir)
waves, panel = steps.load_clean(out, cfg)
results = steps.load_results(out)
latest = waves[cfg.waves[-1].id]
latest.head()

# %% [markdown]
# ## The tidy results table
# One row per estimate: outcome, group, estimate, SE, CI, p, adjusted p, n and method.

# %%
results["estimates"].head(20)

# %% [markdown]
# ## Your own model
# The design object (weights, strata, clusters) the pipeline uses, handed to any estimator:
# your numbers and the report's come from the same design.

# %%
from pipelines import analysis
from pipelines.stats import svyglm

data = analysis.prepare(latest, cfg, cb)
design = analysis.design_for(data, cfg)  # the same design the pipeline's estimates use
svyglm(design, "confidence ~ participated + age + C(gender) + C(education)")

# %% [markdown]
# ## A look at the distributions (seaborn)
# seaborn draws straight from the tidy frame. Passing the survey weight makes each histogram
# describe the population rather than the sample; it is a picture, not an inference (for
# differences with a CI and p-value use the design-based estimators above).

# %%
import seaborn as sns

sns.set_theme(style="whitegrid")
took_part = data["participated"].map({1.0: "took part", 0.0: "did not"})
grid = sns.displot(
    data.assign(participated=took_part), x="confidence", hue="participated", weights="weight",
    stat="density", common_norm=False, element="step", bins=12, height=3.5, aspect=1.6,
)  # fmt: skip
grid.set_axis_labels("confidence score (weighted)", "density")
