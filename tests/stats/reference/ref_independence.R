# Reference values for pipeline/stats/independence.py
# Run: Rscript tests/stats/reference/ref_independence.R   (writes independence.json)
if (!exists("ref_dir")) {
  a <- commandArgs(FALSE)
  ref_dir <- dirname(normalizePath(sub("^--file=", "", a[grep("^--file=", a)])))
}
source(file.path(ref_dir, "write_json.R"))
cases <- list()

# --- chisq.test(correct = FALSE) ------------------------------------------------
chi_fixtures <- list(
  t3x4 = rbind(c(20, 35, 40, 25), c(15, 30, 45, 60), c(30, 20, 25, 10)),
  t2x2 = rbind(c(120, 80), c(95, 105)),
  t5x3_large = rbind(c(12000, 8000, 5000), c(9000, 9500, 7000), c(4000, 6000, 9000),
                     c(15000, 15200, 14800), c(700, 650, 900)),
  t2x3_small_expected = rbind(c(8, 2, 1), c(12, 9, 3))
)
for (nm in names(chi_fixtures)) {
  tab <- chi_fixtures[[nm]]
  ct <- suppressWarnings(chisq.test(tab, correct = FALSE))
  n <- sum(tab)
  cases[[length(cases) + 1]] <- list(
    id = paste0("chisq_", nm), func = "chi_square",
    r_call = "chisq.test(tab, correct = FALSE); sqrt(X2 / (n * (min(dim(tab)) - 1)))",
    input = list(table = unname(tab)),
    expected = list(statistic = unname(ct$statistic), df = unname(ct$parameter),
                    p_value = ct$p.value, min_expected = min(ct$expected),
                    effect_size = sqrt(unname(ct$statistic) / (n * (min(dim(tab)) - 1)))))
}

# --- fisher.test on 2 x 2 ------------------------------------------------------
fisher_fixtures <- list(
  tea = rbind(c(3, 1), c(1, 3)), moderate = rbind(c(10, 2), c(3, 15)),
  perfect = rbind(c(0, 5), c(5, 0)), symmetric = rbind(c(7, 3), c(3, 7)),
  skewed = rbind(c(1, 9), c(11, 3)), small_cell = rbind(c(20, 5), c(6, 1)),
  larger = rbind(c(50, 40), c(60, 55)), unbalanced = rbind(c(2, 30), c(9, 12))
)
# fisher.test finds the conditional MLE and its exact CI with uniroot() at its default
# tolerance (~1.2e-4), so its estimate and conf.int are only good to ~4 digits. Reference
# values at full precision: fisher.test's own code (R 4.2.2, stats/R/fisher.test.R,
# functions mle, ncp.U, ncp.L) with uniroot(tol = 1e-14).
fisher_or_tight <- function(tab, conf.level = 0.95, tol = 1e-14) {
  m <- sum(tab[, 1L]); n <- sum(tab[, 2L]); k <- sum(tab[1L, ]); x <- tab[1L, 1L]
  lo <- max(0L, k - n); hi <- min(k, m); support <- lo:hi
  logdc <- dhyper(support, m, n, k, log = TRUE)
  dnhyper <- function(ncp) { d <- logdc + log(ncp) * support; d <- exp(d - max(d)); d / sum(d) }
  mnhyper <- function(ncp) { if (ncp == 0) return(lo); if (ncp == Inf) return(hi); sum(support * dnhyper(ncp)) }
  pnhyper <- function(q, ncp = 1, upper.tail = FALSE) {
    if (ncp == 1) return(if (upper.tail) phyper(x - 1, m, n, k, lower.tail = FALSE) else phyper(x, m, n, k))
    if (ncp == 0) return(as.numeric(if (upper.tail) q <= lo else q >= lo))
    if (ncp == Inf) return(as.numeric(if (upper.tail) q <= hi else q >= hi))
    sum(dnhyper(ncp)[if (upper.tail) support >= q else support <= q])
  }
  ur <- function(f, int) uniroot(f, int, tol = tol, maxiter = 10000)$root
  mle <- function(x) {
    if (x == lo) return(0); if (x == hi) return(Inf)
    mu <- mnhyper(1)
    if (mu > x) ur(function(t) mnhyper(t) - x, c(0, 1))
    else if (mu < x) 1 / ur(function(t) mnhyper(1 / t) - x, c(.Machine$double.eps, 1)) else 1
  }
  ncp.U <- function(x, alpha) {
    if (x == hi) return(Inf)
    p <- pnhyper(x, 1)
    if (p < alpha) ur(function(t) pnhyper(x, t) - alpha, c(0, 1))
    else if (p > alpha) 1 / ur(function(t) pnhyper(x, 1 / t) - alpha, c(.Machine$double.eps, 1)) else 1
  }
  ncp.L <- function(x, alpha) {
    if (x == lo) return(0)
    p <- pnhyper(x, 1, upper.tail = TRUE)
    if (p > alpha) ur(function(t) pnhyper(x, t, upper.tail = TRUE) - alpha, c(0, 1))
    else if (p < alpha) 1 / ur(function(t) pnhyper(x, 1 / t, upper.tail = TRUE) - alpha, c(.Machine$double.eps, 1))
    else 1
  }
  alpha <- (1 - conf.level) / 2
  c(estimate = mle(x), low = ncp.L(x, alpha), high = ncp.U(x, alpha))
}
for (nm in names(fisher_fixtures)) {
  tab <- fisher_fixtures[[nm]]
  ft <- fisher.test(tab)
  tight <- fisher_or_tight(tab)
  cases[[length(cases) + 1]] <- list(
    id = paste0("fisher_", nm), func = "fisher_2x2",
    r_call = "fisher.test(tab); fisher_or_tight(tab)  # defined in ref_independence.R",
    input = list(table = unname(tab)),
    expected = list(p_value = ft$p.value,
                    odds_ratio = unname(tight["estimate"]), or_ci_low = unname(tight["low"]),
                    or_ci_high = unname(tight["high"]),
                    r_default_odds_ratio = unname(ft$estimate),
                    r_default_or_ci_low = ft$conf.int[1], r_default_or_ci_high = ft$conf.int[2]))
}

# --- Monte Carlo p-values and the exact conditional p they estimate ------------
# All tables with the observed margins are enumerated; each has the multiple
# hypergeometric probability prod(r!) prod(c!) / (n! prod(x!)).
enumerate_tables <- function(rs, cs) {
  nr <- length(rs); nc <- length(cs)
  out <- list()
  rec <- function(i, rrem, crem, cur) {
    if (i == nr) {                      # last row is determined by the column remainders
      cur[nr, ] <- crem
      out[[length(out) + 1]] <<- cur
      return(invisible())
    }
    fill <- function(j, left, crem2, row) {
      if (j == nc) {
        if (left <= crem2[nc]) {
          row[nc] <- left
          cur2 <- cur; cur2[i, ] <- row
          rec(i + 1, rrem, crem2 - row, cur2)
        }
        return(invisible())
      }
      for (v in 0:min(left, crem2[j])) {
        row[j] <- v
        fill(j + 1, left - v, crem2, row)
      }
    }
    fill(1, rrem[i], crem, integer(nc))
  }
  rec(1, rs, cs, matrix(0L, nr, nc))
  out
}
exact_conditional <- function(tab) {
  rs <- rowSums(tab); cs <- colSums(tab); n <- sum(tab)
  E <- outer(rs, cs) / n
  tabs <- enumerate_tables(rs, cs)
  logc <- sum(lfactorial(rs)) + sum(lfactorial(cs)) - lfactorial(n)
  lp <- vapply(tabs, function(t) logc - sum(lfactorial(t)), 0)
  x2 <- vapply(tabs, function(t) sum((t - E)^2 / E), 0)
  x2_obs <- sum((tab - E)^2 / E)
  lp_obs <- logc - sum(lfactorial(tab))
  list(n_tables = length(tabs), total_prob = sum(exp(lp)),
       p_chisq = sum(exp(lp)[x2 >= x2_obs * (1 - 64 * .Machine$double.eps)]),
       p_prob = sum(exp(lp)[lp <= lp_obs + 1e-7 * abs(lp_obs)]))
}
mc_fixtures <- list(
  t3x3 = rbind(c(4, 1, 0), c(1, 3, 2), c(0, 2, 5)),
  t2x4 = rbind(c(3, 0, 2, 6), c(1, 4, 3, 1))
)
B <- 1000000
for (nm in names(mc_fixtures)) {
  tab <- mc_fixtures[[nm]]
  ex <- exact_conditional(tab)
  set.seed(42)
  sim_chi <- suppressWarnings(chisq.test(tab, simulate.p.value = TRUE, B = B))
  set.seed(43)
  sim_fis <- fisher.test(tab, simulate.p.value = TRUE, B = B)
  ft <- fisher.test(tab)
  cases[[length(cases) + 1]] <- list(
    id = paste0("mc_", nm), func = "monte_carlo_p",
    r_call = paste("set.seed(42); chisq.test(tab, simulate.p.value = TRUE, B = 1e6);",
                   "set.seed(43); fisher.test(tab, simulate.p.value = TRUE, B = 1e6);",
                   "fisher.test(tab)  # exact network algorithm;",
                   "exact_conditional(tab)  # full enumeration, defined in ref_independence.R"),
    input = list(table = unname(tab)),
    expected = list(statistic = unname(sim_chi$statistic), B = B,
                    r_sim_p_chisq = sim_chi$p.value, r_sim_p_fisher = sim_fis$p.value,
                    fisher_exact_p = ft$p.value, exact_p_chisq = ex$p_chisq,
                    exact_p_prob = ex$p_prob, n_tables = ex$n_tables,
                    total_prob = ex$total_prob))
}
write_cases(cases, file.path(ref_dir, "independence.json"), "ref_independence.R")
