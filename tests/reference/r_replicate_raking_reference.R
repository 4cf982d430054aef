# Reference values for raked and calibrated replicate-weight designs
# (pipelines.stats.calibrate.rake / calibrate on a pipelines.stats.ReplicateDesign) from R's
# survey package: rake() and calibrate() on a svyrep.design calibrate the full-sample weights and
# every replicate's weights to the same population totals, and svrVar of the re-estimates made
# with the calibrated replicates is the variance.
#
# Regenerate (from the repository root) with:
#     Rscript tests/reference/r_replicate_raking_reference.R
# It reads api_clus1.csv, api_strat.csv and rep_boot_clus1.csv (written by
# r_designs_reference.R) and writes r_replicate_raking_reference.json (17 significant digits).

suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = FALSE)
script_arg <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script_arg)) dirname(normalizePath(script_arg)) else "tests/reference"
source(file.path(here, "r_json.R"))  # to_json()

source(file.path(here, "r_api_replicates.R"))  # clus1, strat, boot_w, dclus1, dstrat, jk1
source(file.path(here, "r_battery.R"))  # battery(): the estimators of r_designs_reference.R
run <- function(des) {
  c(battery(des), list(
    # every replicate's weighted totals by sch_wide (the margin met in each replicate)
    rep_sch_wide_yes = I(unname(colSums(weights(des, "analysis") * (des$variables$sch_wide == "Yes"))))
  ))
}

# population margins (R's apipop)
pop_stype <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop_schwide <- data.frame(sch_wide = c("No", "Yes"), Freq = c(1072, 5122))
pop_total <- c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018, sch_wideYes = 5122)
ctl <- list(maxit = 1000, epsilon = 1e-13)
raked <- function(des) rake(des, list(~stype, ~sch_wide), list(pop_stype, pop_schwide),
                            control = ctl)

jk1_given <- svrepdesign(data = clus1, repweights = weights(jk1, "analysis"), weights = ~pw,
                         type = "JK1", scale = jk1$scale, combined.weights = TRUE)
boot_given <- svrepdesign(data = clus1, repweights = boot_w, weights = ~pw, type = "bootstrap",
                          combined.weights = TRUE)
jkn <- as.svrepdesign(dstrat, type = "JKn")

out <- list(
  # rake(svrepdesign(JK1 columns, scale), list(~stype, ~sch_wide), ...)
  jk1_given_rake = run(raked(jk1_given)),
  # rake(svrepdesign(R's bootstrap columns), ...)
  boot_given_rake = run(raked(boot_given)),
  # rake(as.svrepdesign(dstrat, type = "JKn"), ...)
  jkn_rake = run(raked(jkn)),
  # calibrate(jk1_given, ~stype + sch_wide, pop_total, calfun = "raking")
  jk1_given_calibrate_raking = run(calibrate(jk1_given, ~stype + sch_wide, pop_total,
                                             calfun = "raking", epsilon = 1e-13, maxit = 200,
                                             compress = FALSE)),
  # calibrate(jk1_given, ~stype + sch_wide, pop_total) (linear, GREG)
  jk1_given_calibrate_linear = run(calibrate(jk1_given, ~stype + sch_wide, pop_total,
                                             compress = FALSE)),
  # the same designs unraked, to show raking changes the SEs
  jk1_given = run(jk1_given)
)
out$meta <- list(r_version = R.version.string,
                 survey_version = as.character(packageVersion("survey")),
                 jk1_scale = jk1$scale,
                 margins = list(stype = list(level = I(pop_stype$stype), total = I(pop_stype$Freq)),
                                sch_wide = list(level = I(pop_schwide$sch_wide),
                                                total = I(pop_schwide$Freq))))
writeLines(to_json(out), file.path(here, "r_replicate_raking_reference.json"))
cat("wrote", file.path(here, "r_replicate_raking_reference.json"), "\n")
