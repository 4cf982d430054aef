# Reference values for paired change and difference-in-differences on a linked panel as domain
# estimates of the baseline wave's raked design (pipelines.change.paired_change / did with
# design=): R's survey package rakes the whole baseline wave (Taylor: rake() of a svydesign;
# replicates: rake() of as.svrepdesign(), every replicate raked), then takes the subset of the
# baseline respondents found again in the later wave.
#
# Regenerate (from the repository root) with:
#     python tests/reference/make_change_data.py   # only if the dataset must change
#     Rscript tests/reference/r_change_raking_reference.R
# It reads tests/reference/change_raking_waves.csv and writes
# tests/reference/r_change_raking_reference.json. The Python tests read the JSON and never need R.

suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "adjust")
args <- commandArgs(trailingOnly = FALSE)
script_arg <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script_arg)) dirname(normalizePath(script_arg)) else "tests/reference"
source(file.path(here, "r_json.R"))  # to_json()

w <- read.csv(file.path(here, "change_raking_waves.csv"), stringsAsFactors = FALSE)
base <- w[w$wave == 2025, ]
post <- w[w$wave == 2026, ]
at <- match(base$respondent_key, post$respondent_key)
base$linked <- !is.na(at)
base$diff_skills <- post$skills[at] - base$skills  # NA for respondents not found again
base$skills_post <- post$skills[at]
base$participated_post <- post$participated[at]

pop_gender <- data.frame(gender = c("female", "male"), Freq = c(5200, 4800))
pop_age <- data.frame(age_band = c("15-24", "25-34", "35-44", "45-59", "60+"),
                      Freq = c(2600, 2500, 2000, 1900, 1000))
ctl <- list(maxit = 1000, epsilon = 1e-13)
raked <- function(des) rake(des, list(~gender, ~age_band), list(pop_gender, pop_age),
                            control = ctl)

est <- function(fit, d, term) {
  at <- match(term, names(coef(fit)))  # SE() of a replicate mean has no names
  list(estimate = coef(fit)[[at]], se = unname(SE(fit))[[at]], df = degf(d))
}
run <- function(des) {
  v <- des$variables
  ok <- v$linked & !is.na(v$diff_skills)
  groups <- list(all = ok, participated = ok & v$participated_post %in% 1,
                 `did not participate` = ok & v$participated_post %in% 0)
  out <- list()
  for (g in names(groups)) {  # the subset of the raked baseline design
    d <- des[groups[[g]], ]
    out[[paste0("paired_", g)]] <- est(svymean(~diff_skills, d, na.rm = TRUE), d, "diff_skills")
  }
  elig <- des[ok & v$participated == 0, ]
  covs <- "age + gender + education + disability"
  f_did <- as.formula(paste("diff_skills ~ participated_post +", covs))
  out$did <- est(svyglm(f_did, elig), elig, "participated_post")
  f_anc <- as.formula(paste("skills_post ~ participated_post +", covs, "+ skills"))
  out$ancova <- est(svyglm(f_anc, elig), elig, "participated_post")
  out
}

strat <- svydesign(id = ~site, strata = ~kecamatan, weights = ~weight, data = base)
clus <- svydesign(id = ~site, weights = ~weight, data = base)
out <- list(
  # subset(rake(svydesign(id = ~site, strata = ~kecamatan, ...)), linked)
  taylor_raked = run(raked(strat)),
  # subset(rake(as.svrepdesign(strat, type = "JKn")), linked)
  jkn_raked = run(raked(as.svrepdesign(strat, type = "JKn"))),
  # subset(rake(as.svrepdesign(svydesign(id = ~site, ...), type = "JK1")), linked)
  jk1_raked = run(raked(as.svrepdesign(clus, type = "JK1"))),
  # svydesign() on the raked weights, taken as fixed (no calibration residuals)
  taylor_fixed = run(svydesign(id = ~site, strata = ~kecamatan, weights = ~w_raked,
                               data = transform(base, w_raked = weights(raked(strat)))))
)
out$meta <- list(r_version = R.version.string,
                 survey_version = as.character(packageVersion("survey")),
                 margins = list(gender = list(level = I(pop_gender$gender),
                                              total = I(pop_gender$Freq)),
                                age_band = list(level = I(pop_age$age_band),
                                                total = I(pop_age$Freq))))
writeLines(to_json(out), file.path(here, "r_change_raking_reference.json"))
cat("wrote", file.path(here, "r_change_raking_reference.json"), "\n")
