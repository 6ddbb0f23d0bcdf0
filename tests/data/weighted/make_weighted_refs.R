# Reference values for tests/test_weighted.py (pipeline/weighted.py).
#
# Run from the repository root:
#   Rscript tests/data/weighted/make_weighted_refs.R
# Reads the fixture of tests/stats/reference/weights/ (fixture.csv: 200 respondents with
# region, gender and a 5-level item with 12 missing answers; rake_weights.csv: survey::rake()
# weights to region 25/20/20/15/20 and gender F 52 / M 48) and writes references.json next to
# this script. Every case holds the R call that produced it; numbers are written with
# sprintf("%.17g") (tests/stats/reference/write_json.R) so they round-trip exactly to doubles.
#
# Three designs:
#   dw  svydesign(ids=~1, weights=~w, data=d)   the raked weights taken as fixed sampling weights
#   dr  rake(d0, list(~region, ~gender), ...)   the raked design (raking-calibrated linearisation)
#   d0  svydesign(ids=~1, weights=~w0, data=d)  unit weights
# Outcomes: item (levels 1..5), agree = item >= 4 (the top box), and x = item * 1000 + id, an
# untied version of item for svyranktest (see the note at the rank tests).

suppressPackageStartupMessages(library(survey))

here <- local({
  args <- commandArgs(trailingOnly = FALSE)
  file_arg <- sub("^--file=", "", args[grep("^--file=", args)])
  if (length(file_arg)) dirname(normalizePath(file_arg)) else "tests/data/weighted"
})
source(file.path(here, "..", "..", "stats", "reference", "write_json.R"))
fixture_dir <- file.path(here, "..", "..", "stats", "reference", "weights")

d <- read.csv(file.path(fixture_dir, "fixture.csv"), stringsAsFactors = FALSE)
d$w <- read.csv(file.path(fixture_dir, "rake_weights.csv"))$w_rake
d$w0 <- 1
d$valid <- !is.na(d$item)
d$agree <- as.numeric(d$item >= 4)
d$vF <- as.numeric(d$valid & d$gender == "F")
d$vM <- as.numeric(d$valid & d$gender == "M")
d$aF <- ifelse(d$valid, d$agree, 0) * d$vF
d$aM <- ifelse(d$valid, d$agree, 0) * d$vM
d$x <- ifelse(d$valid, d$item * 1000 + d$id, NA)
n <- nrow(d)

region_share <- c(North = 0.25, South = 0.20, East = 0.20, West = 0.15, Centre = 0.20)
gender_share <- c(F = 0.52, M = 0.48)
pop_region <- data.frame(region = names(region_share), Freq = unname(region_share) * n)
pop_gender <- data.frame(gender = names(gender_share), Freq = unname(gender_share) * n)

d0 <- svydesign(ids = ~1, weights = ~w0, data = d)
dw <- svydesign(ids = ~1, weights = ~w, data = d)
dr <- rake(d0, list(~region, ~gender), list(pop_region, pop_gender),
           control = list(maxit = 1000, epsilon = 1e-14))
designs <- list(fixed = "dw", cal = "dr", unit = "d0")

cases <- list()
add <- function(name, call, values) {
  cases[[length(cases) + 1]] <<- c(list(name = name, r_call = call), values)
}
run <- function(call) eval(parse(text = call))
groups_of <- function(by) if (by == "all") "All respondents" else as.character(sort(unique(d[[by]])))

for (prefix in names(designs)) {
  des <- designs[[prefix]]
  for (by in c("all", "region", "gender")) {
    domain <- paste0("subset(", des, ", valid)")
    byf <- if (by == "all") NULL else paste0("~", by)
    # Shares of every level with linearised SEs; logit intervals per level.
    # (na.rm=TRUE: a subset of the raked design keeps the other rows, with zero weight.)
    if (by == "all") {
      call <- paste0("svymean(~factor(item), ", domain, ", na.rm=TRUE)")
      r <- run(call)
      est <- matrix(coef(r), nrow = 1)
      se <- matrix(SE(r), nrow = 1)
    } else {
      call <- paste0("svyby(~factor(item), ", byf, ", ", domain, ", svymean, na.rm=TRUE)")
      r <- run(call)
      est <- unname(as.matrix(r[, 1 + 1:5]))
      se <- unname(as.matrix(r[, 6 + 1:5]))
    }
    add(paste(prefix, by, "levels", sep = "_"), call,
        list(groups = I(groups_of(by)), estimate = est, se = se))
    lo <- hi <- matrix(NA_real_, nrow = length(groups_of(by)), ncol = 5)
    for (k in 1:5) {
      call_k <- if (by == "all") {
        paste0("svyciprop(~I(item == ", k, "), ", domain, ", method='logit')")
      } else {
        paste0("svyby(~I(item == ", k, "), ", byf, ", ", domain,
               ", svyciprop, method='logit', vartype='ci')")
      }
      r <- suppressWarnings(run(call_k))
      ci <- if (by == "all") matrix(confint(r), nrow = 1) else cbind(r$ci_l, r$ci_u)
      lo[, k] <- ci[, 1]
      hi[, k] <- ci[, 2]
    }
    add(paste(prefix, by, "levels_logit_ci", sep = "_"),
        if (by == "all") paste0("svyciprop(~I(item == k), ", domain, ", method='logit') for k in 1:5")
        else paste0("svyby(~I(item == k), ", byf, ", ", domain,
                    ", svyciprop, method='logit', vartype='ci') for k in 1:5"),
        list(groups = I(groups_of(by)), ci_low = lo, ci_high = hi))
    # Top-box share with svyciprop's logit interval.
    call <- if (by == "all") paste0("svyciprop(~agree, ", domain, ", method='logit')")
            else paste0("svyby(~agree, ", byf, ", ", domain, ", svyciprop, method='logit', vartype=c('se','ci'))")
    r <- run(call)
    ci <- if (by == "all") matrix(confint(r), nrow = 1) else cbind(r$ci_l, r$ci_u)
    call_se <- if (by == "all") paste0("svymean(~agree, ", domain, ", na.rm=TRUE)")
               else paste0("svyby(~agree, ", byf, ", ", domain, ", svymean, na.rm=TRUE)")
    se <- SE(run(call_se))
    add(paste(prefix, by, "topbox", sep = "_"), paste(call, "; confint(); se from", call_se),
        list(groups = I(groups_of(by)), estimate = I(unname(as.numeric(coef(r)))), se = I(unname(as.numeric(se))),
             ci_low = I(unname(ci[, 1])), ci_high = I(unname(ci[, 2]))))
    # Mean score with confint(svymean) (normal quantile) and the svyvar standard deviation.
    call <- if (by == "all") paste0("svymean(~item, ", domain, ", na.rm=TRUE)")
            else paste0("svyby(~item, ", byf, ", ", domain, ", svymean, vartype=c('se','ci'), na.rm=TRUE)")
    r <- run(call)
    ci <- as.matrix(confint(r))
    call_var <- if (by == "all") paste0("svyvar(~item, ", domain, ", na.rm=TRUE)")
                else paste0("svyby(~item, ", byf, ", ", domain, ", svyvar, na.rm=TRUE)")
    v <- run(call_var)
    add(paste(prefix, by, "mean", sep = "_"), paste(call, "; confint(); sd = sqrt of", call_var),
        list(groups = I(groups_of(by)), estimate = I(unname(as.numeric(coef(r)))),
             se = I(unname(as.numeric(SE(r)))), ci_low = I(unname(ci[, 1])), ci_high = I(unname(ci[, 2])),
             sd = I(unname(sqrt(as.numeric(coef(v)))))))
    if (by == "all") next
    # Rao-Scott F test of the whole distribution (missing item: out of the table, in the design).
    call <- paste0("svychisq(~", by, " + item, ", des, ", statistic='F')")
    r <- run(call)
    add(paste(prefix, by, "raoscott", sep = "_"), call,
        list(statistic = unname(r$statistic), ndf = unname(r$parameter[["ndf"]]),
             ddf = unname(r$parameter[["ddf"]]), p_value = unname(r$p.value)))
  }
  # Two-group difference in top-box share: linearised covariance of the two domain means.
  # The difference of two domain ratios by the delta method on four totals (svyby(covmat=TRUE) fails
  # on these designs in survey 4.1.1): aF, aM = top box and valid in group F / M; vF, vM = valid in F / M.
  call <- paste0("svycontrast(svytotal(~aF + vF + aM + vM, ", des, "), quote(aF/vF - aM/vM))")
  r <- run(call)
  add(paste(prefix, "gender", "topbox_difference", sep = "_"), paste(call, "; confint()"),
      list(group_a = "F", group_b = "M", estimate = unname(as.numeric(coef(r))),
           se = unname(as.numeric(SE(r))), ci_low = unname(confint(r)[1, 1]), ci_high = unname(confint(r)[1, 2])))
}

# Rank tests (Lumley & Scott 2013).
# survey::svyranktest gives a tied block the unweighted average of cumsum(w) - w/2 over its rows in
# data order; with unequal weights inside a tie that is not the weighted mid-rank and depends on the
# row order. pulse uses the weighted mid-rank (sum of weights below the level + half the level's
# weight) / N. The two agree exactly when there are no ties (x) or the weights are equal (d0), so:
#   (1) svyranktest itself on the untied x, for dw and dr;
#   (2) svyranktest itself on the tied item with unit weights (d0);
#   (3) on the tied item with dw and dr, svyranktest's own code with that one line replaced by the
#       weighted mid-rank (functions mid_two / mid_multi below, built from survey's source).
patch <- function(f) {
  src <- deparse(f)
  old <- "rankhat[ii] <- ave(cumsum(w[ii]) - w[ii]/2, factor(y[ii]))"
  new <- "rankhat[ii] <- ave(cumsum(w[ii]), factor(y[ii]), FUN = max) - ave(w[ii], factor(y[ii]), FUN = sum)/2"
  hit <- grepl(old, src, fixed = TRUE)
  stopifnot(sum(hit) == 1)
  src <- gsub(old, new, src, fixed = TRUE)
  src <- gsub("multiranktest(", "mid_multi(", src, fixed = TRUE)
  g <- eval(parse(text = src))
  environment(g) <- patched
  g
}
patched <- new.env(parent = asNamespace("survey"))
patched$mid_multi <- patch(survey:::multiranktest)
mid_two <- patch(getS3method("svyranktest", "survey.design"))
mid_multi <- patched$mid_multi

rank_case <- function(name, call) {
  r <- run(call)
  if (!is.null(r$estimate)) {
    add(name, call, list(statistic = unname(r$statistic), df = unname(r$parameter),
                         estimate = unname(r$estimate), p_value = unname(r$p.value)))
  } else {
    # multiranktest swaps the names: $parameter holds the Wald chi-square, $statistic its df.
    add(name, call, list(chisq = unname(as.numeric(r$parameter)), ndf = unname(r$statistic),
                         ddf = unname(r$ddf), p_value = as.numeric(r$p.value)))
  }
}
for (des in c("dw", "dr")) {
  prefix <- if (des == "dw") "fixed" else "cal"
  rank_case(paste0(prefix, "_rank_untied_gender"), paste0("svyranktest(x ~ gender, ", des, ")"))
  rank_case(paste0(prefix, "_rank_untied_region"), paste0("svyranktest(x ~ region, ", des, ")"))
  rank_case(paste0(prefix, "_rank_midrank_gender"), paste0("mid_two(item ~ gender, ", des, ")"))
  rank_case(paste0(prefix, "_rank_midrank_region"), paste0("mid_two(item ~ region, ", des, ")"))
}
rank_case("unit_rank_tied_gender", "svyranktest(item ~ gender, d0)")
rank_case("unit_rank_tied_region", "svyranktest(item ~ region, d0)")

doc <- list(
  generated_by = "tests/data/weighted/make_weighted_refs.R",
  r_version = R.version.string,
  survey_version = as.character(packageVersion("survey")),
  data = paste("d <- read.csv(tests/stats/reference/weights/fixture.csv); d$w <- rake_weights.csv$w_rake;",
               "d$valid <- !is.na(d$item); d$agree <- as.numeric(d$item >= 4); d$vF, d$vM <- valid & gender == F / M; d$aF, d$aM <- agree among those (0 elsewhere);",
               "d$x <- ifelse(d$valid, d$item * 1000 + d$id, NA)"),
  designs = list(
    dw = "svydesign(ids=~1, weights=~w, data=d)",
    dr = paste("rake(svydesign(ids=~1, weights=~w0, data=d), list(~region, ~gender),",
               "list(pop_region, pop_gender), control=list(maxit=1000, epsilon=1e-14))",
               "with region 25/20/20/15/20 (North, South, East, West, Centre) and gender F 52 / M 48"),
    d0 = "svydesign(ids=~1, weights=~w0, data=d) with w0 = 1"),
  midrank_patch = paste("mid_two / mid_multi: survey:::svyranktest.survey.design / survey:::multiranktest",
                        "with 'rankhat[ii] <- ave(cumsum(w[ii]) - w[ii]/2, factor(y[ii]))' replaced by",
                        "'rankhat[ii] <- ave(cumsum(w[ii]), factor(y[ii]), FUN = max) -",
                        "ave(w[ii], factor(y[ii]), FUN = sum)/2' (the weighted mid-rank)"),
  note = "Values written with sprintf('%.17g'); each case stores the R call that produced it.",
  cases = unname(cases)
)
writeLines(to_json(doc), file.path(here, "references.json"))
cat("wrote", file.path(here, "references.json"), "\n")
