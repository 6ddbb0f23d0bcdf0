# Reference values for pipeline/stats/shares.py
# Run: Rscript tests/stats/reference/ref_shares.R   (writes shares.json beside it)
if (!exists("ref_dir")) {
  a <- commandArgs(FALSE)
  ref_dir <- dirname(normalizePath(sub("^--file=", "", a[grep("^--file=", a)])))
}
source(file.path(ref_dir, "write_json.R"))
cases <- list()

# --- proportion_ci -----------------------------------------------------------
agresti_coull <- function(x, n, conf.level) {
  # Agresti & Coull (1998): add z^2/2 successes and z^2/2 failures; clipped to [0, 1]
  z <- qnorm(1 - (1 - conf.level) / 2)
  nt <- n + z^2
  pt <- (x + z^2 / 2) / nt
  h <- z * sqrt(pt * (1 - pt) / nt)
  c(max(0, pt - h), min(1, pt + h))
}
pairs <- list(c(0, 10), c(1, 10), c(5, 10), c(10, 10), c(3, 7), c(45, 120),
              c(999, 1000), c(1, 1), c(17, 2500), c(123456, 1000000))
for (conf in c(0.95, 0.90)) {
  for (pr in pairs) {
    x <- pr[1]; n <- pr[2]
    w <- suppressWarnings(prop.test(x, n, correct = FALSE, conf.level = conf))$conf.int
    cases[[length(cases) + 1]] <- list(
      id = sprintf("wilson_%g_%g_%g", x, n, conf), func = "proportion_ci", method = "wilson",
      r_call = sprintf("prop.test(%g, %g, correct = FALSE, conf.level = %g)$conf.int", x, n, conf),
      input = list(count = x, n = n, alpha = round(1 - conf, 12)),
      expected = list(ci_low = w[1], ci_high = w[2]))
    b <- binom.test(x, n, conf.level = conf)$conf.int
    cases[[length(cases) + 1]] <- list(
      id = sprintf("cp_%g_%g_%g", x, n, conf), func = "proportion_ci", method = "clopper-pearson",
      r_call = sprintf("binom.test(%g, %g, conf.level = %g)$conf.int", x, n, conf),
      input = list(count = x, n = n, alpha = round(1 - conf, 12)),
      expected = list(ci_low = b[1], ci_high = b[2]))
    ac <- agresti_coull(x, n, conf)
    cases[[length(cases) + 1]] <- list(
      id = sprintf("ac_%g_%g_%g", x, n, conf), func = "proportion_ci", method = "agresti-coull",
      r_call = sprintf("agresti_coull(%g, %g, %g)  # formula defined in ref_shares.R", x, n, conf),
      input = list(count = x, n = n, alpha = round(1 - conf, 12)),
      expected = list(ci_low = ac[1], ci_high = ac[2]))
  }
}

# --- level_shares --------------------------------------------------------------
levels <- c("Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree")
tab <- rbind(Academia = c(3, 10, 25, 40, 22), Industry = c(0, 4, 9, 30, 57),
             Government = c(5, 5, 5, 5, 0))
rows <- list()
for (g in rownames(tab)) {
  n <- sum(tab[g, ])
  for (j in seq_along(levels)) {
    ci <- suppressWarnings(prop.test(tab[g, j], n, correct = FALSE))$conf.int
    rows[[length(rows) + 1]] <- list(group = g, level = levels[j], n = n, count = tab[g, j],
                                     pct = 100 * tab[g, j] / n,
                                     ci_low = 100 * ci[1], ci_high = 100 * ci[2])
  }
}
cases[[length(cases) + 1]] <- list(
  id = "level_shares_wilson", func = "level_shares", method = "wilson",
  r_call = "100 * tab[g, j] / sum(tab[g, ]); 100 * prop.test(tab[g, j], sum(tab[g, ]), correct = FALSE)$conf.int",
  input = list(groups = rownames(tab), levels = levels, counts = unname(tab)),
  expected = list(rows = rows))

# --- mean_ci -----------------------------------------------------------------
scores <- c(1, 2, 3, 4, 5)
for (cnt in list(c(3, 10, 25, 40, 22), c(0, 1, 0, 0, 1), c(120, 340, 560, 1500, 980))) {
  x <- rep(scores, cnt)
  tt <- t.test(x)
  cases[[length(cases) + 1]] <- list(
    id = paste0("mean_ci_", paste(cnt, collapse = "_")), func = "mean_ci",
    r_call = "x <- rep(scores, counts); mean(x); sd(x); t.test(x)$conf.int",
    input = list(scores = I(scores), counts = I(cnt), alpha = 0.05),
    expected = list(n = length(x), mean = mean(x), sd = sd(x),
                    ci_low = tt$conf.int[1], ci_high = tt$conf.int[2]))
}
vals <- c(2.5, 3, NA, 4, 1, 5, 5, 4.5, NA, 3.25)
tt <- t.test(vals, conf.level = 0.9)
cases[[length(cases) + 1]] <- list(
  id = "mean_ci_raw_values", func = "mean_ci",
  r_call = "t.test(vals, conf.level = 0.9)  # NA removed by t.test",
  input = list(values = I(vals), alpha = 0.1),
  expected = list(n = sum(!is.na(vals)), mean = mean(vals, na.rm = TRUE),
                  sd = sd(vals, na.rm = TRUE), ci_low = tt$conf.int[1], ci_high = tt$conf.int[2]))

write_cases(cases, file.path(ref_dir, "shares.json"), "ref_shares.R")
