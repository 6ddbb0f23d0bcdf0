# Reference values for pipeline/stats/ranks.py and pipeline/stats/posthoc.py
# Run: Rscript tests/stats/reference/ref_ranks.R   (writes ranks.json and posthoc.json)
if (!exists("ref_dir")) {
  a <- commandArgs(FALSE)
  ref_dir <- dirname(normalizePath(sub("^--file=", "", a[grep("^--file=", a)])))
}
source(file.path(ref_dir, "write_json.R"))
cases <- list()
lev <- 1:5

# --- Mann-Whitney from counts (expanded to one value per respondent) -----------
mw_fixtures <- list(
  small = list(a = c(2, 3, 5, 1, 0), b = c(0, 1, 4, 6, 3)),
  equal = list(a = c(5, 5, 5, 5, 5), b = c(5, 5, 5, 5, 5)),
  sparse_levels = list(a = c(0, 0, 7, 0, 2), b = c(1, 0, 3, 0, 9)),
  large = list(a = c(1200, 3400, 5600, 15000, 9800), b = c(1500, 3900, 5200, 14000, 8100)),
  very_significant = list(a = c(400, 300, 200, 100, 50), b = c(50, 100, 200, 300, 400))
)
for (nm in names(mw_fixtures)) {
  f <- mw_fixtures[[nm]]
  x <- rep(lev, f$a); y <- rep(lev, f$b)
  for (corr in c(TRUE, FALSE)) {
    w <- wilcox.test(x, y, correct = corr, exact = FALSE)
    cases[[length(cases) + 1]] <- list(
      id = paste0("mw_", nm, "_correct_", corr), func = "mann_whitney_from_counts",
      r_call = sprintf("wilcox.test(rep(1:5, counts_a), rep(1:5, counts_b), correct = %s, exact = FALSE)", corr),
      input = list(counts_a = I(f$a), counts_b = I(f$b), correct = corr),
      expected = list(statistic = unname(w$statistic), p_value = w$p.value,
                      effect_size = 2 * unname(w$statistic) / (length(x) * length(y)) - 1))
  }
}

# --- Kruskal-Wallis from counts ----------------------------------------------
kw_fixtures <- list(
  three_groups = rbind(c(2, 3, 5, 1, 0), c(0, 1, 4, 6, 3), c(3, 3, 3, 3, 3)),
  four_groups_with_empty_level = rbind(c(10, 0, 20, 30, 5), c(4, 0, 25, 25, 12),
                                       c(8, 0, 8, 40, 20), c(1, 0, 2, 3, 4)),
  two_groups = rbind(c(2, 3, 5, 1, 0), c(0, 1, 4, 6, 3)),
  large = rbind(c(1200, 3400, 5600, 15000, 9800), c(1500, 3900, 5200, 14000, 8100),
                c(900, 2000, 4000, 16000, 12000))
)
for (nm in names(kw_fixtures)) {
  tab <- kw_fixtures[[nm]]
  x <- unlist(lapply(seq_len(nrow(tab)), function(i) rep(lev, tab[i, ])))
  g <- unlist(lapply(seq_len(nrow(tab)), function(i) rep(i, sum(tab[i, ]))))
  k <- kruskal.test(x, g)
  n <- length(x)
  cases[[length(cases) + 1]] <- list(
    id = paste0("kw_", nm), func = "kruskal_wallis_from_counts",
    r_call = "kruskal.test(x, g)  # x, g: table expanded to one row per respondent",
    input = list(table = unname(tab)),
    expected = list(statistic = unname(k$statistic), df = unname(k$parameter), p_value = k$p.value,
                    effect_size = unname(k$statistic) * (n + 1) / (n^2 - 1)))
}

# --- Wilcoxon signed-rank, paired ordinal ratings -------------------------------
set.seed(20240601)
n <- 60
x1 <- sample(1:5, n, replace = TRUE, prob = c(0.1, 0.2, 0.3, 0.25, 0.15))
y1 <- pmin(5, pmax(1, x1 + sample(-1:2, n, replace = TRUE, prob = c(0.2, 0.4, 0.3, 0.1))))
x1[c(5, 17)] <- NA
y1[c(30)] <- NA
x2 <- c(3, 4, 2, 5, 4, 4, 3, 1, 2, 5, 3, 3, 4)
y2 <- c(2, 4, 2, 3, 5, 2, 1, 1, 1, 4, 2, 3, 1)
for (fx in list(list(id = "random_60", x = x1, y = y1), list(id = "small_13", x = x2, y = y2))) {
  for (corr in c(TRUE, FALSE)) {
    w <- wilcox.test(fx$x, fx$y, paired = TRUE, exact = FALSE, correct = corr)
    tt <- t.test(fx$x, fx$y, paired = TRUE)
    ok <- !is.na(fx$x) & !is.na(fx$y)
    d <- (fx$x - fx$y)[ok]
    cases[[length(cases) + 1]] <- list(
      id = paste0("signed_rank_", fx$id, "_correct_", corr), func = "wilcoxon_signed_rank",
      r_call = sprintf("wilcox.test(x, y, paired = TRUE, exact = FALSE, correct = %s); t.test(x, y, paired = TRUE)", corr),
      input = list(x = I(fx$x), y = I(fx$y), correct = corr),
      expected = list(statistic = unname(w$statistic), p_value = w$p.value,
                      n = sum(d != 0), n_zero = sum(d == 0), n_missing = sum(!ok),
                      mean_diff = unname(tt$estimate), ci_low = tt$conf.int[1],
                      ci_high = tt$conf.int[2]))
  }
}
write_cases(cases, file.path(ref_dir, "ranks.json"), "ref_ranks.R")

# --- Dunn (1964), written out with base R on the expanded data -----------------
dunn_r <- function(x, g) {
  N <- length(x)
  r <- rank(x)                       # midranks
  t <- table(x)
  ties <- sum(t^3 - t)
  groups <- sort(unique(g))
  mr <- tapply(r, g, mean)
  ni <- tapply(r, g, length)
  out <- NULL
  for (i in seq_along(groups)) for (j in seq_along(groups)) if (i < j) {
    a <- as.character(groups[i]); b <- as.character(groups[j])
    se <- sqrt((N * (N + 1) / 12 - ties / (12 * (N - 1))) * (1 / ni[a] + 1 / ni[b]))
    z <- unname((mr[a] - mr[b]) / se)
    out <- rbind(out, data.frame(a = i, b = j, z = z, p = 2 * pnorm(-abs(z))))
  }
  out$p_holm <- p.adjust(out$p, "holm")
  out$p_bh <- p.adjust(out$p, "BH")
  out
}
pcases <- list()
dunn_fixtures <- list(
  four_groups = rbind(c(10, 5, 20, 30, 5), c(4, 8, 25, 25, 12), c(8, 2, 8, 40, 20), c(1, 0, 2, 3, 4)),
  three_groups = rbind(c(2, 3, 5, 1, 0), c(0, 1, 4, 6, 3), c(3, 3, 3, 3, 3))
)
for (nm in names(dunn_fixtures)) {
  tab <- dunn_fixtures[[nm]]
  x <- unlist(lapply(seq_len(nrow(tab)), function(i) rep(lev, tab[i, ])))
  g <- unlist(lapply(seq_len(nrow(tab)), function(i) rep(i, sum(tab[i, ]))))
  d <- dunn_r(x, g)
  pcases[[length(pcases) + 1]] <- list(
    id = paste0("dunn_", nm), func = "dunn_from_counts",
    r_call = "dunn_r(x, g)  # defined in ref_ranks.R: rank(), table() ties, 2*pnorm(-|z|), p.adjust('holm'/'BH')",
    input = list(table = unname(tab)),
    expected = list(group_a = I(d$a - 1), group_b = I(d$b - 1), z = I(d$z), p_value = I(d$p),
                    p_holm = I(d$p_holm), p_bh = I(d$p_bh)))
}
write_cases(pcases, file.path(ref_dir, "posthoc.json"), "ref_ranks.R")
