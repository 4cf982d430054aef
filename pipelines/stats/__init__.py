"""Domain-free survey statistics: designs, weights and design-based estimators.

Nothing here knows about a questionnaire, a survey config or a codebook (it imports only numpy,
pandas, scipy, patsy and :mod:`pipelines.errors`), so it works on any DataFrame. The pipeline
(:mod:`pipelines.analysis`, :mod:`pipelines.models`, ...) builds on this layer, never the reverse.

Public surface (each agrees with R's ``survey`` package; reference values and the R scripts that
made them are in ``tests/reference/``):

* :class:`SurveyDesign` — stratified (multi-stage) cluster sample (``svydesign``, an id and
  an fpc per stage); :class:`DesignError`.
* :func:`svymean`, :func:`svytotal`, :func:`svyprop`, :func:`svyby`, :func:`svyglm` — estimates
  as tidy frames (estimate, se, ci_low, ci_high, df, n, method); :data:`RESULT_COLUMNS`.
* :func:`fit_glm` — the weighted GLM fitting core shared by ``svyglm`` and the pipeline's models.
* :func:`rake`, :func:`trim`, :func:`weight_summary` — weight adjustment on a DataFrame;
  :class:`WeightingError`.
* :mod:`pipelines.stats.calibrate` — ``rake(design, margins)``, ``calibrate(design, totals,
  calfun=, bounds=)`` and :func:`declare_raked`: calibrated designs whose SEs use the
  calibration residuals (R's ``rake()`` / ``calibrate()``); ``variance="fixed"`` to opt out.
  On a :class:`ReplicateDesign` they calibrate every replicate's weights too (R's ``rake()`` on
  a ``svrepdesign``), so the replicate variance carries the calibration.
* :mod:`pipelines.stats.scales` — composite scores with reverse coding on a scale's own range,
  Cronbach's alpha (Feldt CI), McDonald's omega, item-total statistics (equal to R's ``psych``).
* :mod:`pipelines.stats.tidy` — the one estimate-row builder and column list
  (:data:`ESTIMATE_COLUMNS`, :func:`estimate_row`, :func:`estimate_frame`) that every estimator
  of the pipeline writes its rows with.
* :class:`ReplicateDesign`, :func:`as_replicate` — JK1, JKn, bootstrap, BRR and Fay
  replicate-weight designs (``svrepdesign`` / ``as.svrepdesign``); every estimator above accepts
  them. Other models refit with each replicate's weights (``replicate_weights_of``,
  :func:`pipelines.stats.replicate.replicate_glm`) and take ``replicate_vcov`` (R's ``svrVar``).
"""

from pipelines.stats.calibrate import declare_raked
from pipelines.stats.design import (
    RESULT_COLUMNS,
    DesignError,
    SurveyDesign,
    fit_glm,
    svyby,
    svyglm,
    svymean,
    svyprop,
    svytotal,
)
from pipelines.stats.replicate import ReplicateDesign, as_replicate
from pipelines.stats.tidy import ESTIMATE_COLUMNS, estimate_frame, estimate_row
from pipelines.stats.weights import WeightingError, rake, trim, weight_summary

__all__ = [
    "ESTIMATE_COLUMNS",
    "RESULT_COLUMNS",
    "DesignError",
    "ReplicateDesign",
    "SurveyDesign",
    "WeightingError",
    "as_replicate",
    "declare_raked",
    "estimate_frame",
    "estimate_row",
    "fit_glm",
    "rake",
    "svyby",
    "svyglm",
    "svymean",
    "svyprop",
    "svytotal",
    "trim",
    "weight_summary",
]
