# Reference values for calibrated, multi-stage and replicate-weight designs
# (pipelines/stats/calibrate.py, pipelines/stats/replicate.py, multi-stage SurveyDesign)
# from R's survey package, on R's own api data (survey::api).
#
# Regenerate (from the repository root) with:
#     Rscript tests/reference/r_designs_reference.R
# It reads twostage_sample.csv (a planted two-stage sample, python
# tests/reference/make_twostage_data.py) and writes the data it uses (api_clus1.csv, api_clus2.csv, api_strat.csv: R's apiclus1,
# apiclus2 and apistrat with '.' in names turned into '_' and a 0/1 comp_yes column), the
# replicate weights R drew or built (rep_boot_clus1.csv, rep_brr_pairs.csv) and
# r_designs_reference.json with 17 significant digits. The Python tests read those files and
# never need R.

suppressPackageStartupMessages(library(survey))

args <- commandArgs(trailingOnly = FALSE)
script_arg <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script_arg)) dirname(normalizePath(script_arg)) else "tests/reference"

source(file.path(here, "r_json.R"))  # to_json()

# ---------------------------------------------------------------- data
data(api)
tidy <- function(d, cols) {
  d <- d[, cols]
  names(d) <- gsub(".", "_", names(d), fixed = TRUE)
  for (k in names(d)) if (is.factor(d[[k]])) d[[k]] <- as.character(d[[k]])
  d$comp_yes <- as.numeric(d$comp_imp == "Yes")
  d$api_band <- cut(d$api00, c(-Inf, 600, 700, 800, Inf), labels = FALSE)  # ordered outcome 1-4
  d
}
common <- c("stype", "api00", "api99", "enroll", "meals", "ell", "comp.imp", "sch.wide")
write.csv(tidy(apiclus1, c("dnum", "snum", "fpc", "pw", common)),
          file.path(here, "api_clus1.csv"), row.names = FALSE)
write.csv(tidy(apiclus2, c("dnum", "snum", "fpc1", "fpc2", "pw", common)),
          file.path(here, "api_clus2.csv"), row.names = FALSE)
strat <- tidy(apistrat, c("snum", "fpc", "pw", common))
# pseudo-strata of two schools each (sorted by stype, snum) for BRR
strat <- strat[order(strat$stype, strat$snum), ]
strat$pair <- paste0(strat$stype, sprintf("%03d", ave(seq_len(nrow(strat)), strat$stype,
                                                      FUN = function(i) (seq_along(i) + 1) %/% 2)))
write.csv(strat, file.path(here, "api_strat.csv"), row.names = FALSE)

clus1 <- read.csv(file.path(here, "api_clus1.csv"), stringsAsFactors = FALSE)
clus2 <- read.csv(file.path(here, "api_clus2.csv"), stringsAsFactors = FALSE)
strat <- read.csv(file.path(here, "api_strat.csv"), stringsAsFactors = FALSE)

# ---------------------------------------------------------------- estimator battery
source(file.path(here, "r_battery.R"))  # est(), by_table(), ciprop(), glm_table(), tight, battery()
run <- battery

# ---------------------------------------------------------------- calibration (one-stage clusters)
pop_stype <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop_schwide <- data.frame(sch_wide = c("No", "Yes"), Freq = c(1072, 5122))
pop_total <- c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018, sch_wideYes = 5122)
api99_total <- sum(apipop$api99)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = clus1, fpc = ~fpc)
cal <- list(
  rake = rake(dclus1, list(~stype, ~sch_wide), list(pop_stype, pop_schwide),
              control = list(maxit = 1000, epsilon = 1e-13)),
  linear = calibrate(dclus1, ~stype + sch_wide, pop_total),
  raking = calibrate(dclus1, ~stype + sch_wide, pop_total, calfun = "raking", epsilon = 1e-13,
                     maxit = 200),
  linear_bounded = calibrate(dclus1, ~stype + sch_wide, pop_total, bounds = c(0.85, 1.6),
                             epsilon = 1e-13, maxit = 200),
  raking_bounded = calibrate(dclus1, ~stype + sch_wide, pop_total, calfun = "raking",
                             bounds = c(0.85, 1.6), epsilon = 1e-13, maxit = 200),
  linear_numeric = calibrate(dclus1, ~stype + api99,
                             c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018,
                               api99 = api99_total)),
  # two calibrations in a row: GREG on api99, then raking on stype and sch_wide
  chained = rake(calibrate(dclus1, ~api99, c(`(Intercept)` = 6194, api99 = api99_total)),
                 list(~stype, ~sch_wide), list(pop_stype, pop_schwide),
                 control = list(maxit = 1000, epsilon = 1e-13))
)
calibrated <- lapply(cal, function(des) c(run(des), list(weights = I(unname(weights(des))))))
# the same weights treated as fixed (svydesign on the calibrated weights)
fixed <- run(svydesign(id = ~dnum, weights = ~w, fpc = ~fpc,
                       data = transform(clus1, w = weights(cal$rake))))

# ---------------------------------------------------------------- multi-stage
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = clus2)
dclus2_first <- svydesign(id = ~dnum, fpc = ~fpc1, weights = ~pw, data = clus2)
dclus2_nofpc <- svydesign(id = ~dnum + snum, weights = ~pw, data = clus2)
dclus2_rake <- rake(dclus2, list(~stype), list(pop_stype), control = list(maxit = 100, epsilon = 1e-13))

# planted two-stage sample (tests/reference/make_twostage_data.py): strata, libraries, members
ts <- read.csv(file.path(here, "twostage_sample.csv"), stringsAsFactors = FALSE)
planted <- function(des) {
  list(
    df = degf(des),
    mean_y = est(svymean(~y, des)),
    total_y = est(svytotal(~y, des)),
    prop_z = ciprop(~z, des),
    by_mean_y_gender = by_table(svyby(~y, ~gender, des, svymean), "gender"),
    by_prop_z_kecamatan = by_table(svyby(~z, ~kecamatan, des, svyciprop, method = "logit"),
                                   "kecamatan"),
    glm_gaussian = glm_table(svyglm(y ~ x + gender, des, control = tight)),
    glm_binomial = glm_table(svyglm(z ~ x, des, family = quasibinomial(), control = tight))
  )
}
dts <- svydesign(id = ~library + member, strata = ~kecamatan, fpc = ~n_libraries + n_members,
                 weights = ~weight, data = ts)
dts_first <- svydesign(id = ~library, strata = ~kecamatan, fpc = ~n_libraries, weights = ~weight,
                       data = ts)

# ---------------------------------------------------------------- replicate weights
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = strat, fpc = ~fpc)
jk1 <- as.svrepdesign(dclus1, type = "JK1")
jkn <- as.svrepdesign(dstrat, type = "JKn")
set.seed(20261202)
boot <- as.svrepdesign(dclus1, type = "bootstrap", replicates = 50)
boot_w <- weights(boot, "analysis")
write.csv(data.frame(boot_w), file.path(here, "rep_boot_clus1.csv"), row.names = FALSE)
boot_given <- svrepdesign(data = clus1, repweights = boot_w, weights = ~pw, type = "bootstrap",
                          combined.weights = TRUE)
dpair <- svydesign(id = ~snum, strata = ~pair, weights = ~pw, data = strat)
brr <- as.svrepdesign(dpair, type = "BRR")
brr_w <- weights(brr, "analysis")
write.csv(data.frame(brr_w), file.path(here, "rep_brr_pairs.csv"), row.names = FALSE)
brr_given <- svrepdesign(data = strat, repweights = brr_w, weights = ~pw, type = "BRR",
                         combined.weights = TRUE)
jk1_given <- svrepdesign(data = clus1, repweights = weights(jk1, "analysis"), weights = ~pw,
                         type = "JK1", scale = jk1$scale, combined.weights = TRUE)
jkn_given <- svrepdesign(data = strat, repweights = weights(jkn, "analysis"), weights = ~pw,
                         type = "JKn", rscales = jkn$rscales, combined.weights = TRUE)

# ---------------------------------------------------------------- proportional odds
olr_table <- function(s) {
  list(term = I(names(coef(s))), estimate = I(unname(coef(s))),  # coef() includes the zeta
       se = I(unname(sqrt(diag(vcov(s))))))
}
tight_optim <- list(reltol = 1e-15, maxit = 10000)
# svyolr's SEs use optim()'s finite-difference Hessian: steps of 1e-6 (default 1e-3) make it exact
# to ~1e-9; 7 parameters (4 coefficients, 3 thresholds)
tight_hess <- c(tight_optim, list(ndeps = rep(1e-6, 7)))
# MASS::polr(factor(api_band) ~ ell + meals + stype, weights = pw, control = tight_optim)
polr_fit <- MASS::polr(factor(api_band) ~ ell + meals + stype, data = clus1, weights = pw,
                       control = tight_optim)
ordinal <- list(
  polr = list(term = I(c(names(coef(polr_fit)), names(polr_fit$zeta))),
              estimate = I(unname(c(coef(polr_fit), polr_fit$zeta)))),
  # svyolr(factor(api_band) ~ ell + meals + stype, des, control = tight_hess)
  svyolr_clus1 = olr_table(svyolr(factor(api_band) ~ ell + meals + stype, dclus1,
                                  control = tight_hess)),
  svyolr_rake = olr_table(svyolr(factor(api_band) ~ ell + meals + stype, cal$rake,
                                 control = tight_hess)),
  svyolr_clus2 = olr_table(svyolr(factor(api_band) ~ ell + meals + stype, dclus2,
                                  control = tight_hess))
)

out <- list(
  ordinal = ordinal,
  meta = list(
    r_version = R.version.string,
    survey_version = as.character(packageVersion("survey")),
    pop_stype = list(E = 4421, H = 755, M = 1018),
    pop_sch_wide = list(No = 1072, Yes = 5122),
    api99_total = api99_total,
    boot_scale = boot$scale, brr_scale = brr$scale, jk1_scale = jk1$scale
  ),
  calibrated = calibrated,
  fixed_rake = fixed,
  multistage = list(
    clus2 = run(dclus2),
    clus2_first_stage = run(dclus2_first),
    clus2_nofpc = run(dclus2_nofpc),
    clus2_rake = c(run(dclus2_rake), list(weights = I(unname(weights(dclus2_rake))))),
    planted_two_stage = planted(dts),
    planted_first_stage = planted(dts_first)
  ),
  replicate = list(
    jk1 = run(jk1), jkn = run(jkn), boot = run(boot), boot_given = run(boot_given),
    brr = run(brr), brr_given = run(brr_given), jk1_given = run(jk1_given),
    jkn_given = run(jkn_given)
  )
)
writeLines(to_json(out), file.path(here, "r_designs_reference.json"))
cat("wrote", file.path(here, "r_designs_reference.json"), "\n")
