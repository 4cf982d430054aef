# Reference values for pipelines.models.Fit.contrast_df: the Satterthwaite (Bell-McCaffrey)
# degrees of freedom of a contrast's Taylor-linearisation variance in a design-weighted GLM.
#
# Two independent computations:
# * clubSandwich (Pustejovsky & Tipton): coef_test(..., vcov = "CR1", test = "Satterthwaite")
#   and Wald_test(..., test = "HTZ") for one contrast, on a clustered design without strata
#   (there the survey variance is CR1: the score totals sum to zero, so centring is moot);
#   weighted gaussian, and unweighted logistic (clubSandwich reads glm weights as precision).
# * by brute force on the n x n matrices, for stratified designs and weighted logistic fits:
#   the design variance of c'beta is T'QT, T the PSU totals of a_i r_i (a_i = w_i x_i'A^-1 c),
#   Q the stratum centring with n_h/(n_h - 1) (checked below to equal vcov(svyglm)); under the
#   working model r = (I - V X A^-1 X'W) e with Var(e) = V (1 for gaussian, mu(1 - mu) for
#   logistic), Cov(T) = Z diag(a) P V P' diag(a) Z' and df = tr(Q Cov T)^2 / tr((Q Cov T)^2).
#   The brute force equals clubSandwich where both apply (stopifnot below).
#
# Regenerate (from the repository root) with:  Rscript tests/reference/r_satterthwaite_reference.R
# It reads tests/reference/survey_reference_data.csv and writes r_satterthwaite_reference.json.

suppressPackageStartupMessages({library(survey); library(clubSandwich)})
args <- commandArgs(trailingOnly = FALSE)
script_arg <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script_arg)) dirname(normalizePath(script_arg)) else "tests/reference"
source(file.path(here, "r_json.R"))
d <- read.csv(file.path(here, "survey_reference_data.csv"), stringsAsFactors = FALSE)
d$t <- as.numeric(d$sex == "f")
d <- d[!is.na(d$y), ]  # one set of rows for every fit
f <- ~ x1 + g + t + t:g
contrast <- c(0, 0, 0, 0, 1, 1, 0)  # the effect of t in group b

brute_df <- function(fit, des, C) {
  X <- model.matrix(fit)
  w <- weights(des) / mean(weights(des))
  mu <- fitted(fit)
  v <- if (fit$family$family == "gaussian") rep(1, nrow(X)) else mu * (1 - mu)
  Ainv <- solve(crossprod(X, (w * v) * X))
  psu <- as.integer(factor(paste(des$strata[, 1], des$cluster[, 1])))
  strat <- as.integer(factor(des$strata[, 1]))
  Z <- outer(sort(unique(psu)), psu, "==") * 1
  hz <- tapply(strat, psu, `[`, 1)
  nh <- table(hz)[as.character(hz)]
  Q <- outer(hz, hz, "==") * (diag(length(hz)) - 1 / as.numeric(nh))
  Q <- Q * as.numeric(nh / (nh - 1))
  out <- apply(C, 1, function(cc) {
    a <- w * as.vector(X %*% (Ainv %*% cc))
    tot <- Z %*% (a * (fit$y - mu))  # the design variance from PSU totals equals svyglm's
    stopifnot(abs(t(tot) %*% Q %*% tot / (t(cc) %*% vcov(fit) %*% cc) - 1) < 1e-6)
    P <- diag(nrow(X)) - v * X %*% Ainv %*% t(w * X)
    S <- Z %*% (a * P) %*% (v * t(a * P)) %*% t(Z)
    B <- Q %*% S
    sum(diag(B))^2 / sum(B * t(B))
  })
  out
}

C <- rbind(diag(7), contrast)
clus <- svydesign(ids = ~psu, weights = ~w, data = d)
strat <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = d, nest = TRUE)
clus1 <- svydesign(ids = ~psu, data = d)
gl <- function(des, fam) svyglm(update(f, y ~ .), des, family = fam)
lg <- function(des) svyglm(update(f, z ~ .), des, family = quasibinomial(),
                           control = glm.control(epsilon = 1e-12, maxit = 100))

# clubSandwich, no strata
lmw <- lm(update(f, y ~ .), data = d, weights = w)
cs_gauss <- c(coef_test(lmw, vcov = "CR1", cluster = d$psu, test = "Satterthwaite")$df_Satt,
              Wald_test(lmw, constraints = matrix(contrast, 1), vcov = "CR1",
                        cluster = d$psu, test = "HTZ")$df_denom)
glm1 <- glm(update(f, z ~ .), data = d, family = binomial(),
            control = glm.control(epsilon = 1e-12, maxit = 100))
cs_logit <- c(coef_test(glm1, vcov = "CR1", cluster = d$psu, test = "Satterthwaite")$df_Satt,
              Wald_test(glm1, constraints = matrix(contrast, 1), vcov = "CR1",
                        cluster = d$psu, test = "HTZ")$df_denom)
stopifnot(max(abs(brute_df(gl(clus, gaussian()), clus, C) / cs_gauss - 1)) < 1e-8)
stopifnot(max(abs(brute_df(lg(clus1), clus1, C) / cs_logit - 1)) < 1e-6)

out <- list(
  contrast = I(contrast),
  clustered_weighted_gaussian = I(cs_gauss),
  clustered_unweighted_logistic = I(cs_logit),
  stratified_weighted_gaussian = I(brute_df(gl(strat, gaussian()), strat, C)),
  stratified_weighted_logistic = I(brute_df(lg(strat), strat, C))
)
writeLines(to_json(out), file.path(here, "r_satterthwaite_reference.json"))
