# The api data and designs both replicate reference scripts start from (the files written by
# r_designs_reference.R): apiclus1, apistrat, R's bootstrap replicates of apiclus1, and the
# one-stage cluster, stratified and JK1 designs built from them.

clus1 <- read.csv(file.path(here, "api_clus1.csv"), stringsAsFactors = FALSE)
strat <- read.csv(file.path(here, "api_strat.csv"), stringsAsFactors = FALSE)
boot_w <- as.matrix(read.csv(file.path(here, "rep_boot_clus1.csv")))
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = clus1, fpc = ~fpc)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = strat, fpc = ~fpc)
jk1 <- as.svrepdesign(dclus1, type = "JK1")
