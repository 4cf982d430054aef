# The estimator battery the design reference scripts run on every design (tests/helpers_designs.py
# battery()): mean, total, proportion, subset mean, by-group mean/total/proportion, gaussian and
# binomial svyglm. Sourced by r_designs_reference.R and r_replicate_raking_reference.R.

est <- function(s) list(estimate = unname(coef(s))[1], se = unname(SE(s))[1])
by_table <- function(b, by) {
  list(group = I(as.character(b[[by]])), estimate = I(unname(coef(b))), se = I(unname(SE(b))))
}
ciprop <- function(formula, design) {
  p <- svyciprop(formula, design, method = "logit")
  list(estimate = unname(as.numeric(p)), se = unname(sqrt(attr(p, "var")))[1])
}
glm_table <- function(m) {
  s <- summary(m)$coefficients
  list(term = I(rownames(s)), estimate = I(unname(s[, 1])), se = I(unname(s[, 2])))
}
tight <- glm.control(epsilon = 1e-14, maxit = 200)

battery <- function(des) {
  list(
    df = degf(des),
    # svymean(~api00, des)
    mean_api00 = est(svymean(~api00, des)),
    # svytotal(~enroll, des, na.rm = TRUE)
    total_enroll = est(svytotal(~enroll, des, na.rm = TRUE)),
    # svyciprop(~comp_yes, des, method = "logit")
    prop_comp_yes = ciprop(~comp_yes, des),
    # svymean(~api00, subset(des, stype == "E"))
    subset_mean_api00_E = est(svymean(~api00, subset(des, stype == "E"))),
    # svyby(~api00, ~stype, des, svymean)
    by_mean_api00_stype = by_table(svyby(~api00, ~stype, des, svymean), "stype"),
    # svyby(~enroll, ~stype, des, svytotal, na.rm = TRUE)
    by_total_enroll_stype = by_table(svyby(~enroll, ~stype, des, svytotal, na.rm = TRUE), "stype"),
    # svyby(~comp_yes, ~stype, des, svyciprop, method = "logit")
    by_prop_comp_yes_stype = by_table(svyby(~comp_yes, ~stype, des, svyciprop, method = "logit"),
                                      "stype"),
    # svyglm(api00 ~ ell + meals + stype, des)
    glm_gaussian = glm_table(svyglm(api00 ~ ell + meals + stype, des, control = tight)),
    # svyglm(comp_yes ~ api99 + stype, des, family = quasibinomial())
    glm_binomial = glm_table(svyglm(comp_yes ~ api99 + stype, des, family = quasibinomial(),
                                    control = tight))
  )
}
