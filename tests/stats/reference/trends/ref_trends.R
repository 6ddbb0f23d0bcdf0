# Reference values for pipeline/trends.py: wave-over-wave tests on a stored three-wave fixture.
# Run: Rscript tests/stats/reference/trends/ref_trends.R   (writes fixture.csv and trends.json here)
#
# The fixture: three waves of one survey with two ordinal questions on 1..5 scales (qa; qb, whose
# column has another id in waves w1 and w2: the instrument links them with comparable_with), a WEOG
# split and gender (with a group too small to test), blanks, and respondents who take part again
# (a panel_id shared across waves; some answer all three waves, one changes gender, some have none).
#
# For consecutive waves (w1 -> w2, w2 -> w3), the whole sample and every group of weog and gender:
#   independent: prop.test(c(count_b, count_a), c(n_b, n_a), correct = FALSE) and Newcombe's hybrid
#     score interval from the two Wilson intervals (prop.test(correct = FALSE)$conf.int), top box 4-5;
#     wilcox.test(x_b, x_a, exact = FALSE, correct = TRUE) and t.test(x_b, x_a) (Welch) for the score;
#     for overlap "all" (every respondent) and "fresh" (respondents with a valid answer in both waves
#     left out of both samples).
#   paired (linked by panel_id, group of the later wave): mcnemar.test(correct = TRUE) with Newcombe's
#     paired square-and-add interval (corrected phi), wilcox.test(x_b, x_a, paired = TRUE,
#     exact = FALSE, correct = TRUE) and t.test(x_b, x_a, paired = TRUE).
#   q-values: p.adjust(method = "BH") within <wave_a>..<wave_b>/<breakdown>/<measure>/<design>.
# A comparison is tested when each wave has at least 10 valid answers (independent) or there are at
# least 10 complete pairs (paired). Per wave: prop.test(correct = FALSE)$conf.int and t.test()$conf.int.
if (!exists("ref_dir")) {
  a <- commandArgs(FALSE)
  ref_dir <- dirname(normalizePath(sub("^--file=", "", a[grep("^--file=", a)])))
}
source(file.path(dirname(ref_dir), "write_json.R"))
set.seed(20240807)
MIN <- 10

draw <- function(n, shift) {
  p <- c(0.08, 0.17, 0.25, 0.30, 0.20)
  p <- p * exp(shift * (1:5 - 3))
  sample(1:5, n, replace = TRUE, prob = p / sum(p))
}
blank <- function(x, share) { x[runif(length(x)) < share] <- NA; x }
again <- function(x) pmin(5, pmax(1, x + sample(-1:1, length(x), replace = TRUE, prob = c(0.25, 0.5, 0.25))))

new_people <- function(n, wave, first_id, shift) {
  data.frame(wave = wave, panel_id = sprintf("p%03d", first_id + seq_len(n) - 1),
             weog = sample(c("WEOG", "non-WEOG"), n, replace = TRUE, prob = c(0.4, 0.6)),
             gender = sample(c("Woman", "Man", "Another gender identity", NA), n, replace = TRUE,
                             prob = c(0.44, 0.50, 0.04, 0.02)),
             qa = blank(draw(n, shift), 0.08), qb = blank(draw(n, -shift), 0.10),
             stringsAsFactors = FALSE)
}
returning <- function(prev, n, wave, shift) {
  r <- prev[sample(which(!is.na(prev$panel_id)), n), ]
  r$wave <- wave
  r$qa <- blank(ifelse(is.na(r$qa), draw(n, shift), again(r$qa + (shift > 0))), 0.05)
  r$qb <- blank(ifelse(is.na(r$qb), draw(n, -shift), again(r$qb)), 0.05)
  r
}
w1 <- new_people(90, "w1", 1, 0)
w1$panel_id[c(3, 40, 77)] <- NA
w2 <- rbind(returning(w1, 32, "w2", 0.3), new_people(54, "w2", 101, 0.3))
w2$gender[1] <- if (identical(w2$gender[1], "Woman")) "Man" else "Woman"
w2$panel_id[c(60, 61)] <- NA
w3 <- rbind(returning(w2, 28, "w3", 0.5), new_people(50, "w3", 201, 0.5))
w3 <- w3[sample(nrow(w3)), ]
fixture <- rbind(w1, w2, w3)
rownames(fixture) <- NULL
write.csv(fixture, file.path(ref_dir, "fixture.csv"), row.names = FALSE, na = "")
waves <- split(fixture, factor(fixture$wave, levels = c("w1", "w2", "w3")))

groups_of <- function(w, breakdown) {
  if (breakdown == "all") return(rep("All respondents", nrow(w)))
  w[[breakdown]]
}
top <- function(x) x >= 4
wilson <- function(k, n) prop.test(k, n, correct = FALSE)$conf.int
cases <- list()
add <- function(id, kind, key, r_call, expected) {
  cases[[length(cases) + 1]] <<- list(id = id, kind = kind, key = key, r_call = r_call, expected = expected)
}

# --- per wave --------------------------------------------------------------------
for (wn in names(waves)) for (q in c("qa", "qb")) for (b in c("all", "weog", "gender")) {
  w <- waves[[wn]]
  g <- groups_of(w, b)
  for (grp in sort(unique(g[!is.na(g)]))) {
    x <- w[[q]][!is.na(g) & g == grp & !is.na(w[[q]])]
    if (length(x) < MIN) next
    k <- sum(top(x))
    ci <- wilson(k, length(x))
    tt <- t.test(x)
    key <- list(question = q, wave = wn, breakdown = b, group = grp)
    add(paste(wn, q, b, grp, "topbox", sep = "/"), "wave", c(key, measure = "topbox"),
        "prop.test(count, n, correct = FALSE)$conf.int",
        list(n = length(x), count = k, estimate = 100 * k / length(x), ci_low = 100 * ci[1], ci_high = 100 * ci[2]))
    add(paste(wn, q, b, grp, "mean", sep = "/"), "wave", c(key, measure = "mean"), "t.test(x)",
        list(n = length(x), estimate = unname(tt$estimate), sd = sd(x), ci_low = tt$conf.int[1],
             ci_high = tt$conf.int[2]))
  }
}

# --- wave over wave ------------------------------------------------------------------
newcombe_paired <- function(n11, n10, n01, n00) {
  n <- n11 + n10 + n01 + n00
  p1 <- (n11 + n10) / n; p2 <- (n11 + n01) / n
  c1 <- wilson(n11 + n10, n); c2 <- wilson(n11 + n01, n)
  margins <- (n11 + n10) * (n01 + n00) * (n11 + n01) * (n10 + n00)
  a <- n11 * n00 - n10 * n01
  phi <- if (margins == 0) 0 else if (a > n / 2) (a - n / 2) / sqrt(margins) else if (a < 0) a / sqrt(margins) else 0
  d <- p1 - p2
  c(d - sqrt((p1 - c1[1])^2 + (c2[2] - p2)^2 - 2 * phi * (p1 - c1[1]) * (c2[2] - p2)),
    d + sqrt((p2 - c2[1])^2 + (c1[2] - p1)^2 - 2 * phi * (p2 - c2[1]) * (c1[2] - p1)))
}
tests <- list()
for (pair in list(c("w1", "w2"), c("w2", "w3"))) {
  A <- waves[[pair[1]]]; B <- waves[[pair[2]]]
  linked <- merge(data.frame(id = A$panel_id, ia = seq_len(nrow(A))),
                  data.frame(id = B$panel_id, ib = seq_len(nrow(B))), by = "id")
  linked <- linked[!is.na(linked$id), ]
  for (q in c("qa", "qb")) {
    complete <- linked[!is.na(A[[q]][linked$ia]) & !is.na(B[[q]][linked$ib]), ]
    for (b in c("all", "weog", "gender")) {
      ga <- groups_of(A, b); gb <- groups_of(B, b)
      for (grp in sort(unique(c(ga[!is.na(ga)], gb[!is.na(gb)])))) {
        for (overlap in c("all", "fresh")) {
          keep_a <- !is.na(ga) & ga == grp & !is.na(A[[q]])
          keep_b <- !is.na(gb) & gb == grp & !is.na(B[[q]])
          if (overlap == "fresh") {
            keep_a[complete$ia] <- FALSE
            keep_b[complete$ib] <- FALSE
          }
          xa <- A[[q]][keep_a]; xb <- B[[q]][keep_b]
          if (length(xa) < MIN || length(xb) < MIN) next
          key <- list(question = q, breakdown = b, group = grp, wave_a = pair[1], wave_b = pair[2],
                      design = "independent", overlap = overlap)
          ka <- sum(top(xa)); kb <- sum(top(xb))
          pt <- prop.test(c(kb, ka), c(length(xb), length(xa)), correct = FALSE)
          cb <- wilson(kb, length(xb)); ca <- wilson(ka, length(xa))
          pb <- kb / length(xb); pa <- ka / length(xa)
          tests[[length(tests) + 1]] <- list(
            id = paste(pair[1], pair[2], q, b, grp, "topbox", "independent", overlap, sep = "/"),
            key = c(key, measure = "topbox"),
            r_call = "prop.test(c(count_b, count_a), c(n_b, n_a), correct = FALSE); Newcombe (1998) method 10 from the Wilson intervals",
            expected = list(n_a = length(xa), n_b = length(xb), estimate_a = 100 * pa, estimate_b = 100 * pb,
                            difference = 100 * (pb - pa),
                            ci_low = 100 * ((pb - pa) - sqrt((pb - cb[1])^2 + (ca[2] - pa)^2)),
                            ci_high = 100 * ((pb - pa) + sqrt((cb[2] - pb)^2 + (pa - ca[1])^2)),
                            statistic = unname(pt$statistic), p_value = pt$p.value))
          w <- wilcox.test(xb, xa, exact = FALSE, correct = TRUE)
          tt <- t.test(xb, xa)
          tests[[length(tests) + 1]] <- list(
            id = paste(pair[1], pair[2], q, b, grp, "mean", "independent", overlap, sep = "/"),
            key = c(key, measure = "mean"),
            r_call = "wilcox.test(x_b, x_a, exact = FALSE, correct = TRUE); t.test(x_b, x_a)",
            expected = list(n_a = length(xa), n_b = length(xb), estimate_a = mean(xa), estimate_b = mean(xb),
                            difference = mean(xb) - mean(xa), ci_low = tt$conf.int[1], ci_high = tt$conf.int[2],
                            statistic = unname(w$statistic), p_value = w$p.value,
                            effect_size = 2 * unname(w$statistic) / (length(xa) * length(xb)) - 1))
        }
        # paired: complete pairs, in the group at the later wave
        sel <- complete[!is.na(gb[complete$ib]) & gb[complete$ib] == grp, ]
        if (nrow(sel) < MIN) next
        xa <- A[[q]][sel$ia]; xb <- B[[q]][sel$ib]
        key <- list(question = q, breakdown = b, group = grp, wave_a = pair[1], wave_b = pair[2], design = "paired",
                    overlap = "all")
        n11 <- sum(top(xb) & top(xa)); n10 <- sum(top(xb) & !top(xa))
        n01 <- sum(!top(xb) & top(xa)); n00 <- sum(!top(xb) & !top(xa))
        mc <- mcnemar.test(matrix(c(n11, n01, n10, n00), 2), correct = TRUE)
        ci <- newcombe_paired(n11, n10, n01, n00)
        tests[[length(tests) + 1]] <- list(
          id = paste(pair[1], pair[2], q, b, grp, "topbox", "paired", sep = "/"), key = c(key, measure = "topbox"),
          r_call = "mcnemar.test(matrix(c(n11, n01, n10, n00), 2), correct = TRUE); Newcombe (1998) paired method 10 (corrected phi)",
          expected = list(n_a = nrow(sel), n_b = nrow(sel), estimate_a = 100 * mean(top(xa)),
                          estimate_b = 100 * mean(top(xb)), difference = 100 * (n10 - n01) / nrow(sel),
                          ci_low = 100 * ci[1], ci_high = 100 * ci[2], statistic = unname(mc$statistic),
                          p_value = mc$p.value))
        w <- wilcox.test(xb, xa, paired = TRUE, exact = FALSE, correct = TRUE)
        tt <- t.test(xb, xa, paired = TRUE)
        nz <- sum(xb != xa)
        tests[[length(tests) + 1]] <- list(
          id = paste(pair[1], pair[2], q, b, grp, "mean", "paired", sep = "/"), key = c(key, measure = "mean"),
          r_call = "wilcox.test(x_b, x_a, paired = TRUE, exact = FALSE, correct = TRUE); t.test(x_b, x_a, paired = TRUE)",
          expected = list(n_a = nrow(sel), n_b = nrow(sel), estimate_a = mean(xa), estimate_b = mean(xb),
                          difference = unname(tt$estimate), ci_low = tt$conf.int[1], ci_high = tt$conf.int[2],
                          statistic = unname(w$statistic), p_value = w$p.value,
                          effect_size = (2 * unname(w$statistic) - nz * (nz + 1) / 2) / (nz * (nz + 1) / 2)))
      }
    }
  }
}
# q-values: BH within wave pair / breakdown / measure / design (and overlap policy, which is a run option)
family <- vapply(tests, function(t) paste(t$key$wave_a, t$key$wave_b, t$key$breakdown, t$key$measure,
                                          t$key$design, t$key$overlap, sep = "|"), "")
p <- vapply(tests, function(t) t$expected$p_value, 0)
for (f in unique(family)) {
  idx <- which(family == f)
  q <- p.adjust(p[idx], method = "BH")
  for (k in seq_along(idx)) tests[[idx[k]]]$expected$q_value <- q[k]
}
for (t in tests) add(t$id, "test", t$key, t$r_call, t$expected)
write_cases(cases, file.path(ref_dir, "trends.json"), "trends/ref_trends.R")
