# Regenerate every reference file of tests/stats (R >= 4.2 with MASS and ordinal).
# Run from anywhere: Rscript tests/stats/reference/make_references.R
# Each ref_*.R script can also be run on its own.
a <- commandArgs(FALSE)
ref_dir <- dirname(normalizePath(sub("^--file=", "", a[grep("^--file=", a)])))
for (script in c("ref_shares.R", "ref_ranks.R", "ref_independence.R", "ref_proportions.R",
                 "ref_ordinal.R")) {
  cat("==", script, "\n")
  local({ source(file.path(ref_dir, script), local = TRUE) })
}
sessionInfo()
