# Reference values for pipelines/stats/design.py and pipelines/stats/weights.py from R's survey package.
#
# Regenerate (from the repository root) with:
#     python tests/reference/make_reference_data.py   # only if the dataset must change
#     Rscript tests/reference/r_survey_reference.R
# It reads tests/reference/survey_reference_data.csv and writes
# tests/reference/r_survey_reference.json with 17 significant digits.
# The Python tests compare against the JSON and never need R.

suppressPackageStartupMessages(library(survey))

args <- commandArgs(trailingOnly = FALSE)
script_arg <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script_arg)) dirname(normalizePath(script_arg)) else "tests/reference"
d <- read.csv(file.path(here, "survey_reference_data.csv"), stringsAsFactors = FALSE)

source(file.path(here, "r_json.R"))  # to_json()

# ---------------------------------------------------------------- helpers
stat <- function(s, design) {
  list(estimate = unname(coef(s))[1], se = unname(SE(s))[1], df = degf(design))
}
by_table <- function(b, design, by, fun_name) {
  groups <- as.character(b[[by]])
  df <- vapply(groups, function(lv) degf(design[design$variables[[by]] == lv, ]), 0)
  out <- list(group = I(groups), estimate = I(unname(coef(b))), se = I(unname(SE(b))), df = I(unname(df)))
  if (fun_name == "svyciprop") {
    out$ci_low <- I(unname(b[["ci_l"]]))
    out$ci_high <- I(unname(b[["ci_u"]]))
  }
  out
}
ciprop <- function(formula, design) {
  p <- svyciprop(formula, design, method = "logit")
  ci <- attr(p, "ci")
  list(estimate = unname(as.numeric(p)), se = unname(sqrt(attr(p, "var")))[1],
       ci_low = unname(ci[1]), ci_high = unname(ci[2]), df = degf(design))
}
glm_table <- function(m) {
  s <- summary(m)$coefficients
  ci <- confint(m)
  list(term = I(rownames(s)), estimate = I(unname(s[, 1])), se = I(unname(s[, 2])),
       t = I(unname(s[, 3])), p = I(unname(s[, 4])),
       ci_low = I(unname(ci[, 1])), ci_high = I(unname(ci[, 2])),
       df_residual = m$df.residual, n = length(m$y))
}
tight <- glm.control(epsilon = 1e-14, maxit = 200)

margins <- list(
  data.frame(g = c("a", "b", "c"), Freq = c(2300, 1700, 1000)),
  data.frame(sex = c("f", "m"), Freq = c(2600, 2400)),
  data.frame(stratum = c("A", "B", "C"), Freq = c(1500, 2500, 1000))
)

run_all <- function(des) {
  list(
    # svymean(~y, des, na.rm = TRUE); svytotal(~y, des, na.rm = TRUE)
    svymean_y = stat(svymean(~y, des, na.rm = TRUE), des),
    svytotal_y = stat(svytotal(~y, des, na.rm = TRUE), des),
    svymean_x1 = stat(svymean(~x1, des), des),
    svytotal_x1 = stat(svytotal(~x1, des), des),
    # svyby(~y, ~g, des, svymean, na.rm = TRUE)
    svyby_mean_y_g = by_table(svyby(~y, ~g, des, svymean, na.rm = TRUE), des, "g", "svymean"),
    # svyby(~x1, ~g, des, svytotal)
    svyby_total_x1_g = by_table(svyby(~x1, ~g, des, svytotal), des, "g", "svytotal"),
    # svymean(~y, subset(des, g == "b"), na.rm = TRUE)
    subset_mean_y_gb = stat(svymean(~y, subset(des, g == "b"), na.rm = TRUE), subset(des, g == "b")),
    # svyciprop(~z, des, method = "logit")
    svyciprop_z = ciprop(~z, des),
    # svyciprop(~I(g == "c"), des, method = "logit")
    svyciprop_g_c = ciprop(~I(g == "c"), des),
    # svyby(~z, ~g, des, svyciprop, method = "logit", vartype = c("se", "ci"))
    svyby_prop_z_g = by_table(
      svyby(~z, ~g, des, svyciprop, method = "logit", vartype = c("se", "ci")), des, "g", "svyciprop"
    ),
    # summary(svyglm(y ~ x1 + x2 + g, des))
    svyglm_gaussian = glm_table(svyglm(y ~ x1 + x2 + g, des, control = tight)),
    # summary(svyglm(z ~ x1 + g, des, family = quasibinomial()))
    svyglm_quasibinomial = glm_table(
      svyglm(z ~ x1 + g, des, family = quasibinomial(), control = tight)
    ),
    # summary(svyglm(y ~ x1, subset(des, sex == "f")))
    svyglm_gaussian_sex_f = glm_table(svyglm(y ~ x1, subset(des, sex == "f"), control = tight)),
    # weights(rake(des, list(~g, ~sex, ~stratum), margins, control = list(maxit = 1000, epsilon = 1e-13)))
    rake_weights = I(unname(weights(rake(des, list(~g, ~sex, ~stratum), margins,
                                         control = list(maxit = 1000, epsilon = 1e-13))))),
    # weights(rake(des, list(~g, ~sex), margins[1:2], control = ...))
    rake_weights_2 = I(unname(weights(rake(des, list(~g, ~sex), margins[1:2],
                                           control = list(maxit = 1000, epsilon = 1e-13)))))
  )
}

des_nofpc <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = d)
des_fpc <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, fpc = ~fpc, data = d)

# Lonely PSU: keep only the first cluster of stratum C, options(survey.lonely.psu = "adjust").
first_c <- min(d$psu[d$stratum == "C"])
d_lonely <- d[d$stratum != "C" | d$psu == first_c, ]
lonely <- function(des) {
  old <- options(survey.lonely.psu = "adjust")
  on.exit(options(old))
  list(
    svymean_y = stat(svymean(~y, des, na.rm = TRUE), des),
    svytotal_y = stat(svytotal(~y, des, na.rm = TRUE), des),
    svyby_mean_y_g = by_table(svyby(~y, ~g, des, svymean, na.rm = TRUE), des, "g", "svymean"),
    svyglm_gaussian = glm_table(svyglm(y ~ x1 + x2 + g, des, control = tight))
  )
}

out <- list(
  meta = list(
    r_version = R.version.string,
    survey_version = as.character(packageVersion("survey")),
    data = "survey_reference_data.csv",
    n_rows = nrow(d),
    margins = list(
      g = list(a = 2300, b = 1700, c = 1000),
      sex = list(f = 2600, m = 2400),
      stratum = list(A = 1500, B = 2500, C = 1000)
    )
  ),
  nofpc = run_all(des_nofpc),
  fpc = run_all(des_fpc),
  lonely_adjust_nofpc = lonely(svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = d_lonely)),
  lonely_adjust_fpc = lonely(svydesign(ids = ~psu, strata = ~stratum, weights = ~w, fpc = ~fpc,
                                       data = d_lonely))
)
writeLines(to_json(out), file.path(here, "r_survey_reference.json"))
cat("wrote", file.path(here, "r_survey_reference.json"), "\n")
