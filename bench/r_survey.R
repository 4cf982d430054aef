# R survey's estimators on the benchmark's CSV (bench/run.py compares them with Dampak's).
# Usage: Rscript r_survey.R design.csv r.json   (needs survey, data.table, jsonlite)
args <- commandArgs(trailingOnly = TRUE)
t0 <- Sys.time()
suppressPackageStartupMessages({library(survey); library(data.table); library(jsonlite)})
d <- as.data.frame(fread(args[1]))
t_read <- Sys.time()
des <- svydesign(ids = ~site, strata = ~kecamatan, weights = ~weight, fpc = ~fpc, data = d,
                 nest = TRUE)
tm <- list(); res <- list()
pair <- function(x) list(names = names(coef(x)), estimate = as.numeric(coef(x)),
                         se = as.numeric(SE(x)))
s <- Sys.time(); res$mean <- pair(svymean(~confidence, des)); tm$mean <- Sys.time() - s
s <- Sys.time(); res$total <- pair(svytotal(~business, des)); tm$total <- Sys.time() - s
s <- Sys.time(); b <- svyby(~confidence, ~gender, des, svymean)
res$by <- list(names = as.character(b$gender), estimate = as.numeric(coef(b)),
               se = as.numeric(SE(b))); tm$by <- Sys.time() - s
s <- Sys.time(); g <- svyglm(confidence ~ participated + age + gender, des,
                                control = glm.control(epsilon = 1e-12, maxit = 100))
res$linear <- pair(g); tm$linear <- Sys.time() - s
s <- Sys.time(); g <- svyglm(business ~ participated + age + gender, des,
    family = quasibinomial(), control = glm.control(epsilon = 1e-12, maxit = 100))
res$logistic <- pair(g); tm$logistic <- Sys.time() - s
tm <- lapply(tm, function(x) as.numeric(x, units = "secs"))
tm$read <- as.numeric(t_read - t0, units = "secs")
tm$total_inside <- as.numeric(Sys.time() - t0, units = "secs")
writeLines(toJSON(list(results = res, seconds = tm), digits = NA, auto_unbox = TRUE), args[2])
