# Reference values for tests/test_scales.py, computed with R psych 2.2.9.
# Usage (from /work/main):  Rscript tests/reference/scales_psych_reference.R
# Reads the public bfi data from ../shared/realdata/reliability/bfi.csv (not shipped:
# licence) and writes tests/reference/scales_psych_bfi.csv (numbers only).
suppressPackageStartupMessages(library(psych))
bfi <- read.csv("../shared/realdata/reliability/bfi.csv")
scales <- list(
  A = list(items = paste0("A", 1:5), rev = "A1"),
  C = list(items = paste0("C", 1:5), rev = c("C4", "C5")),
  E = list(items = paste0("E", 1:5), rev = c("E1", "E2")),
  N = list(items = paste0("N", 1:5), rev = character(0)),
  O = list(items = paste0("O", 1:5), rev = c("O2", "O5"))
)
rows <- list()
add <- function(scale, stat, item, value) {
  rows[[length(rows) + 1]] <<- data.frame(scale = scale, stat = stat, item = item, value = as.numeric(unlist(value))[1])
}
for (s in names(scales)) {
  x <- bfi[, scales[[s]]$items]
  keys <- if (length(scales[[s]]$rev)) scales[[s]]$rev else NULL
  a <- suppressWarnings(alpha(x, keys = keys))          # use = "pairwise" (default)
  add(s, "raw_alpha", "", a$total$raw_alpha)
  add(s, "std_alpha", "", a$total$std.alpha)
  add(s, "average_r", "", a$total$average_r)
  add(s, "feldt_low", "", a$feldt$lower.ci)             # alpha.ci(raw_alpha, nrow(x), 5)
  add(s, "feldt_high", "", a$feldt$upper.ci)
  for (i in rownames(a$item.stats)) {
    add(s, "r_drop", sub("-$", "", i), a$item.stats[i, "r.drop"])
    add(s, "alpha_drop", sub("-$", "", i), a$alpha.drop[i, "raw_alpha"])
  }
  # reverse-key as psych::alpha does (max + min - x, here 6 + 1 - x) before the factor model
  xr <- x
  for (k in scales[[s]]$rev) xr[[k]] <- 7 - xr[[k]]
  r <- cor(xr, use = "pairwise")
  f <- fa(r, nfactors = 1, fm = "minres", n.obs = nrow(xr))
  for (i in rownames(f$loadings)) add(s, "minres_loading", i, f$loadings[i, 1])
  om <- suppressWarnings(omega(xr, nfactors = 1, fm = "minres", plot = FALSE))
  add(s, "omega_tot", "", om$omega.tot)
}
out <- do.call(rbind, rows)
write.csv(out, "tests/reference/scales_psych_bfi.csv", row.names = FALSE)
print(out, digits = 12)
