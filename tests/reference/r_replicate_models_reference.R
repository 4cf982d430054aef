# Reference values for models fitted on replicate-weight designs (pipelines.models.svy_fit,
# average_marginal_effect, ordinal_effects on a pipelines.stats.ReplicateDesign) from R's survey
# package: svyglm and svyolr on a svyrep.design refit the model with every replicate's weights
# and take svrVar of the replicate coefficients (scale, rscales, mse of the design).
#
# Regenerate (from the repository root) with:
#     Rscript tests/reference/r_replicate_models_reference.R
# It reads api_clus1.csv, api_strat.csv and rep_boot_clus1.csv (written by
# r_designs_reference.R) and writes r_replicate_models_reference.json (17 significant digits).

suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = FALSE)
script_arg <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script_arg)) dirname(normalizePath(script_arg)) else "tests/reference"
source(file.path(here, "r_json.R"))  # to_json()

source(file.path(here, "r_api_replicates.R"))  # clus1, strat, boot_w, dclus1, dstrat, jk1

designs <- list(
  # svrepdesign(..., repweights = <JK1 columns>, type = "JK1", scale = ...) (given columns)
  jk1_given = svrepdesign(data = clus1, repweights = weights(jk1, "analysis"), weights = ~pw,
                          type = "JK1", scale = jk1$scale, combined.weights = TRUE),
  # svrepdesign(..., repweights = <R's bootstrap draws>, type = "bootstrap") (given columns)
  boot_given = svrepdesign(data = clus1, repweights = boot_w, weights = ~pw, type = "bootstrap",
                           combined.weights = TRUE),
  # as.svrepdesign(dstrat, type = "JKn")
  jkn = as.svrepdesign(dstrat, type = "JKn")
)

tight <- glm.control(epsilon = 1e-14, maxit = 200)
coef_table <- function(est, v) list(term = I(names(est)), estimate = I(unname(est)),
                                    se = I(unname(sqrt(diag(as.matrix(v))))))
glm_table <- function(m) coef_table(coef(m), vcov(m))

# the AME of elem (an elementary school) in a logistic model, recomputed per replicate
ame <- function(w, data) {
  data$.w <- w / mean(w)
  f <- glm(comp_yes ~ ell + meals + elem, data = data, weights = .w,
           family = quasibinomial(), control = tight)
  d1 <- transform(data, elem = 1)
  d0 <- transform(data, elem = 0)
  sum(w * (predict(f, d1, type = "response") - predict(f, d0, type = "response"))) / sum(w)
}

# inverse-probability weighting (pipelines.change.ipw): a design-weighted logistic propensity of
# elem on ell and meals (clipped to [0.01, 0.99]), stabilised weights x design weights, then the
# weighted difference in api00; both models refitted with every replicate's weights
ipw <- function(w, data) {
  data$.w <- w / mean(w)
  ps <- fitted(glm(elem ~ ell + meals, data = data, weights = .w, family = quasibinomial(),
                   control = tight))
  ps <- pmin(pmax(ps, 0.01), 0.99)
  p1 <- sum(w * data$elem) / sum(w)
  data$.v <- w * ifelse(data$elem == 1, p1 / ps, (1 - p1) / (1 - ps))
  data$.v <- data$.v / mean(data$.v)
  coef(glm(api00 ~ elem, data = data, weights = .v, control = tight))[["elem"]]
}

tight_olr <- list(reltol = 1e-15, maxit = 10000)
# svyolr on a svyrep.design refits each replicate with polr's default optim() tolerance (its
# `...` reach only the full-sample fit), so its replicates are exact to about 1e-7 only; the same
# refits (started at the full fit, as svyolr does) to reltol 1e-15:
olr_tight <- function(des) {
  full <- MASS::polr(factor(api_band) ~ ell + meals + comp_yes, data = model.frame(des),
                     weights = weights(des, "sampling"), control = tight_olr)
  start <- c(full$coefficients, full$zeta)
  theta <- function(w, data) {
    m <- MASS::polr(factor(api_band) ~ ell + meals + comp_yes, data = data, weights = w,
                    start = start, control = tight_olr)
    c(m$coefficients, m$zeta)
  }
  r <- withReplicates(des, theta)
  list(term = I(names(start)), estimate = I(unname(coef(r))), se = I(unname(SE(r))))
}
run <- function(des) {
  des <- update(des, elem = as.numeric(stype == "E"))
  a <- withReplicates(des, ame)
  i <- withReplicates(des, ipw)
  list(
    df = degf(des),
    # svyglm(api00 ~ ell + meals + stype, des)
    glm_gaussian = glm_table(svyglm(api00 ~ ell + meals + stype, des, control = tight)),
    # svyglm(comp_yes ~ ell + meals + elem, des, family = quasibinomial())
    glm_binomial = glm_table(svyglm(comp_yes ~ ell + meals + elem, des,
                                    family = quasibinomial(), control = tight)),
    # withReplicates(des, ame): AME of elem on comp_yes
    ame_elem = list(estimate = unname(coef(a)), se = unname(SE(a))),
    # withReplicates(des, ipw): IPW difference in api00 by elem, propensity refitted
    ipw_elem = list(estimate = unname(coef(i)), se = unname(SE(i))),
    # svyolr's refits to reltol 1e-15 (withReplicates, started at the full-sample fit)
    svyolr_tight = olr_tight(des),
    # svyolr(factor(api_band) ~ ell + meals + comp_yes, des)
    svyolr = coef_table(coef(svyolr(factor(api_band) ~ ell + meals + comp_yes, des,
                                    control = tight_olr)),
                        vcov(svyolr(factor(api_band) ~ ell + meals + comp_yes, des,
                                    control = tight_olr)))
  )
}

out <- lapply(designs, run)
# a term present in one cluster only (its replicate gives NA, which svrVar discards):
# svyglm(api00 ~ ell + first, jk1_given) with first = 1 in the first school's district
first_dnum <- clus1$dnum[1]
absent <- update(designs$jk1_given, first = as.numeric(dnum == first_dnum))
out$jk1_given$glm_absent <- glm_table(suppressWarnings(svyglm(api00 ~ ell + first, absent,
                                                              control = tight)))
out$meta <- list(r_version = R.version.string,
                 survey_version = as.character(packageVersion("survey")),
                 jk1_scale = jk1$scale)
writeLines(to_json(out), file.path(here, "r_replicate_models_reference.json"))
cat("wrote", file.path(here, "r_replicate_models_reference.json"), "\n")
