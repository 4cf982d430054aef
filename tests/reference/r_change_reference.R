# Reference values for pipelines/change.py (paired change, difference-in-differences, ANCOVA,
# inverse-probability weighting) from R's survey package, computed from the definitions.
#
# Regenerate (from the repository root) with:
#     python tests/reference/make_change_data.py   # only if the dataset must change
#     Rscript tests/reference/r_change_reference.R
# It reads tests/reference/change_reference_panel.csv and writes
# tests/reference/r_change_reference.json. The Python tests read the JSON and never need R.

suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "adjust")

args <- commandArgs(trailingOnly = FALSE)
script_arg <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script_arg)) dirname(normalizePath(script_arg)) else "tests/reference"
p <- read.csv(file.path(here, "change_reference_panel.csv"), stringsAsFactors = FALSE)

num <- function(x) ifelse(is.na(x), "null", sprintf("%.17g", x))
to_json <- function(x) {
  if (is.list(x)) {
    parts <- vapply(names(x), function(k) paste0('"', k, '": ', to_json(x[[k]])), "")
    return(paste0("{", paste(parts, collapse = ", "), "}"))
  }
  num(as.numeric(x))
}
est <- function(e, se, df) list(estimate = e, se = se, df = df)

# ------------------------------------------------------------------ linked waves (2025 -> 2026)
pre <- p[p$wave == 2025, ]
post <- p[p$wave == 2026, ]
l <- merge(pre, post, by = "respondent_key", suffixes = c("_pre", "_post"))
l$diff_skills <- l$skills_post - l$skills_pre
des <- svydesign(id = ~site_pre, strata = ~kecamatan_pre, weights = ~weight_pre, data = l)

out <- list()
# paired change: design-based mean of the paired differences, overall and by taking part
for (g in c("all", "participated", "did not participate")) {
  d <- switch(g, all = des, participated = subset(des, participated_post == 1),
              `did not participate` = subset(des, participated_post == 0))
  m <- svymean(~diff_skills, d)
  out[[paste0("paired_", g)]] <- est(coef(m)[[1]], SE(m)[[1]], degf(d))
}

# DiD (change-score regression) and ANCOVA among those not taking part at baseline
elig <- subset(des, participated_pre == 0)
f_did <- diff_skills ~ participated_post + age_pre + gender_pre + education_pre + disability_pre
m <- svyglm(f_did, elig)
out$did <- est(coef(m)[["participated_post"]], SE(m)[["participated_post"]], degf(elig))
f_anc <- skills_post ~ participated_post + age_pre + gender_pre + education_pre +
  disability_pre + skills_pre
m <- svyglm(f_anc, elig)
out$ancova <- est(coef(m)[["participated_post"]], SE(m)[["participated_post"]], degf(elig))

# ------------------------------------------------------------------ IPW on the baseline wave
b <- pre
bd <- svydesign(id = ~site, strata = ~kecamatan, weights = ~weight, data = b)
ps_m <- svyglm(participated ~ age + gender + education + disability, bd, family = quasibinomial())
ps <- pmin(pmax(fitted(ps_m), 0.01), 0.99)
p1 <- sum(b$weight * b$participated) / sum(b$weight)
b$w_ipw <- b$weight * ifelse(b$participated == 1, p1 / ps, (1 - p1) / (1 - ps))
iw <- svydesign(id = ~site, strata = ~kecamatan, weights = ~w_ipw, data = b)
m <- svyglm(skills ~ participated, iw)
out$ipw_skills <- est(coef(m)[["participated"]], SE(m)[["participated"]], degf(iw))
m <- svyglm(business ~ participated, iw, family = quasibinomial())
out$ipw_business <- est(coef(m)[["participated"]], SE(m)[["participated"]],
                        degf(subset(iw, !is.na(business))))

writeLines(to_json(out), file.path(here, "r_change_reference.json"))
