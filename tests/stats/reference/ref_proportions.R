# Reference values for pipeline/stats/proportions.py and pipeline/stats/multiplicity.py
# Run: Rscript tests/stats/reference/ref_proportions.R  (writes proportions.json, multiplicity.json)
if (!exists("ref_dir")) {
  a <- commandArgs(FALSE)
  ref_dir <- dirname(normalizePath(sub("^--file=", "", a[grep("^--file=", a)])))
}
source(file.path(ref_dir, "write_json.R"))

# Newcombe (1998) method 10, written out from the two Wilson intervals of prop.test.
newcombe10 <- function(a, na, b, nb, conf.level = 0.95) {
  wa <- suppressWarnings(prop.test(a, na, correct = FALSE, conf.level = conf.level))$conf.int
  wb <- suppressWarnings(prop.test(b, nb, correct = FALSE, conf.level = conf.level))$conf.int
  pa <- a / na; pb <- b / nb; d <- pa - pb
  c(d - sqrt((pa - wa[1])^2 + (wb[2] - pb)^2), d + sqrt((wa[2] - pa)^2 + (pb - wb[1])^2))
}
cases <- list()
# (a)-(h): the eight examples of Newcombe (1998) Table II; then survey-sized ones.
fixtures <- list(c(56, 70, 48, 80), c(9, 10, 3, 10), c(6, 7, 2, 7), c(5, 56, 0, 29),
                 c(0, 10, 0, 20), c(0, 10, 0, 10), c(10, 10, 0, 20), c(10, 10, 0, 10),
                 c(230, 410, 190, 405), c(4120, 10000, 3980, 10000), c(3, 45, 12, 38))
for (f in fixtures) {
  a <- f[1]; na <- f[2]; b <- f[3]; nb <- f[4]
  pt <- suppressWarnings(prop.test(c(a, b), c(na, nb), correct = FALSE))
  ci <- newcombe10(a, na, b, nb)
  cases[[length(cases) + 1]] <- list(
    id = sprintf("two_prop_%g_%g_%g_%g", a, na, b, nb), func = "two_proportions",
    r_call = "prop.test(c(a, b), c(na, nb), correct = FALSE); newcombe10(a, na, b, nb)  # defined in ref_proportions.R",
    input = list(count_a = a, n_a = na, count_b = b, n_b = nb),
    expected = list(difference = 100 * (a / na - b / nb), ci_low = 100 * ci[1], ci_high = 100 * ci[2],
                    statistic = unname(pt$statistic), p_value = pt$p.value))
}
write_cases(cases, file.path(ref_dir, "proportions.json"), "ref_proportions.R")

mcases <- list()
pvals <- list(
  mixed = c(0.01, 0.04, 0.03, 0.005, 0.2, 0.5, 0.04, 0.9),
  with_na = c(0.001, NA, 0.02, 0.02, 0.3, NA, 0.049),
  tiny = c(1e-12, 3e-8, 0.0004, 0.7, 1),
  single = c(0.03)
)
for (nm in names(pvals)) {
  p <- pvals[[nm]]
  mcases[[length(mcases) + 1]] <- list(
    id = paste0("adjust_", nm), func = "adjust",
    r_call = "p.adjust(p, 'BH'); p.adjust(p, 'holm'); p.adjust(p, 'bonferroni')",
    input = list(p = I(p)),
    expected = list(fdr_bh = I(p.adjust(p, "BH")), holm = I(p.adjust(p, "holm")),
                    bonferroni = I(p.adjust(p, "bonferroni"))))
}
write_cases(mcases, file.path(ref_dir, "multiplicity.json"), "ref_proportions.R")
