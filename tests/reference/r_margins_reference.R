# Reference values for pipelines.models.average_marginal_effect from R's survey package:
# the average marginal effect of a 0/1 term in a design-weighted logistic model is the
# difference of the two predictive margins (svypredmeans, which linearises both the model and
# the averaging over respondents), its SE from svycontrast.
#
# Regenerate (from the repository root) with:  Rscript tests/reference/r_margins_reference.R
# It reads tests/reference/survey_reference_data.csv and writes r_margins_reference.json.

suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = FALSE)
script_arg <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script_arg)) dirname(normalizePath(script_arg)) else "tests/reference"
d <- read.csv(file.path(here, "survey_reference_data.csv"), stringsAsFactors = FALSE)
d$t <- factor(as.numeric(d$sex == "f"))

margins <- function(des) {
  fit <- svyglm(z ~ x1 + g, des, family = quasibinomial(),
                control = glm.control(epsilon = 1e-12, maxit = 100))
  pm <- svypredmeans(fit, ~t)
  ame <- svycontrast(pm, c("1" = 1, "0" = -1))
  sprintf('{"estimate": %.17g, "se": %.17g}', unname(coef(ame)), unname(SE(ame)))
}
strat <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = d, nest = TRUE)
clus <- svydesign(ids = ~psu, weights = ~w, data = d)
out <- sprintf('{"stratified_clustered": %s, "clustered": %s}', margins(strat), margins(clus))
writeLines(out, file.path(here, "r_margins_reference.json"))
