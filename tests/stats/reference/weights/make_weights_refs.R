# Reference values for tests/stats/test_weights.py and tests/stats/test_design.py.
#
# Run from the repository root:
#   Rscript tests/stats/reference/weights/make_weights_refs.R
# Writes, next to this script:
#   fixture.csv        the synthetic sample (200 rows, fixed seed)
#   rake_weights.csv   survey::rake() weights for every row
#   references.json    every other value, each beside the R call that produced it
# Numbers are written with sprintf("%.17g") so they round-trip exactly to doubles.

suppressPackageStartupMessages(library(survey))

out_dir <- local({
  args <- commandArgs(trailingOnly = FALSE)
  file_arg <- sub("^--file=", "", args[grep("^--file=", args)])
  if (length(file_arg)) dirname(normalizePath(file_arg)) else "tests/stats/reference/weights"
})

RNGversion("4.0.0")
set.seed(20240517)
n <- 200
regions <- c("North", "South", "East", "West", "Centre")
region <- sample(regions, n, replace = TRUE, prob = c(0.35, 0.25, 0.15, 0.15, 0.10))
p_female <- c(North = 0.30, South = 0.45, East = 0.40, West = 0.35, Centre = 0.50)[region]
gender <- ifelse(runif(n) < p_female, "F", "M")
latent <- rnorm(n) + 0.5 * (region %in% c("South", "Centre")) + 0.4 * (gender == "F")
item <- as.integer(cut(latent, breaks = c(-Inf, -1, -0.2, 0.5, 1.2, Inf), labels = FALSE))
item[sample.int(n, 12)] <- NA
d <- data.frame(id = seq_len(n), region = region, gender = gender, item = item)
write.csv(d, file.path(out_dir, "fixture.csv"), row.names = FALSE, na = "")

d <- read.csv(file.path(out_dir, "fixture.csv"), stringsAsFactors = FALSE)
d$agree <- as.numeric(d$item >= 4)
d$valid <- !is.na(d$item)
d$w0 <- 1

region_share <- c(North = 0.25, South = 0.20, East = 0.20, West = 0.15, Centre = 0.20)
gender_share <- c(F = 0.52, M = 0.48)
pop_region <- data.frame(region = names(region_share), Freq = unname(region_share) * n)
pop_gender <- data.frame(gender = names(gender_share), Freq = unname(gender_share) * n)

d0 <- svydesign(ids = ~1, weights = ~w0, data = d)
rake_call <- paste0(
  "rake(svydesign(ids=~1, weights=~w0, data=d), list(~region, ~gender), ",
  "list(pop_region, pop_gender), control=list(maxit=1000, epsilon=1e-14))")
dr <- rake(d0, list(~region, ~gender), list(pop_region, pop_gender),
           control = list(maxit = 1000, epsilon = 1e-14))
d$w <- weights(dr)
dw <- svydesign(ids = ~1, weights = ~w, data = d)

fmt <- function(x) sprintf("%.17g", x)
writeLines(c("id,w_rake", paste(d$id, fmt(d$w), sep = ",")),
           file.path(out_dir, "rake_weights.csv"))

entries <- list()
add <- function(name, call, values) {
  body <- paste(vapply(names(values), function(k) {
    v <- values[[k]]
    paste0('"', k, '": [', paste(fmt(unname(v)), collapse = ", "), "]")
  }, character(1)), collapse = ", ")
  entries[[length(entries) + 1]] <<- paste0(
    '    {"name": "', name, '", "call": "', gsub('"', '\\\\"', call), '", ', body, "}")
}
add_mean <- function(name, call) {
  r <- eval(parse(text = call))
  add(name, call, list(estimate = coef(r), se = SE(r)))
}
add_chisq <- function(name, call) {
  r <- eval(parse(text = call))
  vals <- list(statistic = r$statistic, p_value = r$p.value)
  if (length(r$parameter) == 2) {
    vals$ndf <- r$parameter[["ndf"]]
    vals$ddf <- r$parameter[["ddf"]]
  } else {
    vals$df <- r$parameter[["df"]]
  }
  add(name, call, vals)
}

add("rake_margins", paste("svytotal(~region, dr) / 200 and svytotal(~gender, dr) / 200 with dr =", rake_call),
    list(region = coef(svytotal(~region, dr))[paste0("region", names(region_share))] / n,
         gender = coef(svytotal(~gender, dr))[paste0("gender", names(gender_share))] / n))

# Fixed sampling weights (the raked weights treated as given).
add_mean("fixed_share_agree", "svymean(~agree, subset(dw, valid))")
add_mean("fixed_ratio_agree", "svyratio(~agree, ~w0, subset(dw, valid))")
add_mean("fixed_levels_item", "svymean(~factor(item), subset(dw, valid))")
add_mean("fixed_levels_region", "svymean(~factor(region, levels=c('North','South','East','West','Centre')), dw)")
add_mean("fixed_mean_item", "svymean(~item, subset(dw, valid))")
add_mean("fixed_mean_item_narm", "svymean(~item, dw, na.rm=TRUE)")
add_chisq("fixed_chisq_F_region_gender", "svychisq(~region+gender, dw, statistic='F')")
add_chisq("fixed_chisq_Chisq_region_gender", "svychisq(~region+gender, dw, statistic='Chisq')")
add_chisq("fixed_chisq_F_region_item", "svychisq(~region+item, dw, statistic='F')")
add_chisq("fixed_chisq_Chisq_region_item", "svychisq(~region+item, dw, statistic='Chisq')")
add_chisq("fixed_chisq_F_gender_item", "svychisq(~gender+item, dw, statistic='F')")
add_chisq("fixed_chisq_Chisq_gender_item", "svychisq(~gender+item, dw, statistic='Chisq')")

# Unit weights: Rao-Scott reduces to Pearson's X^2 scaled by (N-1)/N.
add_chisq("unit_chisq_F_region_gender", "svychisq(~region+gender, d0, statistic='F')")
add_chisq("unit_chisq_Chisq_region_gender", "svychisq(~region+gender, d0, statistic='Chisq')")
add("unit_pearson_region_gender", "chisq.test(table(d$region, d$gender), correct=FALSE)",
    list(statistic = suppressWarnings(chisq.test(table(d$region, d$gender), correct = FALSE))$statistic))

# Calibrated: the raked design itself (survey's raking-adjusted linearisation).
add_mean("cal_share_agree", "svymean(~agree, subset(dr, valid), na.rm=TRUE)")
add_mean("cal_levels_item", "svymean(~factor(item), subset(dr, valid), na.rm=TRUE)")
add_mean("cal_levels_region", "svymean(~factor(region, levels=c('North','South','East','West','Centre')), dr)")
add_mean("cal_mean_item", "svymean(~item, subset(dr, valid), na.rm=TRUE)")
add_chisq("cal_chisq_F_region_item", "svychisq(~region+item, dr, statistic='F')")
add_chisq("cal_chisq_Chisq_region_item", "svychisq(~region+item, dr, statistic='Chisq')")
add_chisq("cal_chisq_F_gender_item", "svychisq(~gender+item, dr, statistic='F')")
add_chisq("cal_chisq_Chisq_gender_item", "svychisq(~gender+item, dr, statistic='Chisq')")

json <- c(
  "{",
  paste0('  "generated_by": "tests/stats/reference/weights/make_weights_refs.R",'),
  paste0('  "r_version": "', R.version.string, '",'),
  paste0('  "survey_version": "', as.character(packageVersion("survey")), '",'),
  paste0('  "rake_call": "', rake_call, '",'),
  paste0('  "fixed_design": "dw <- svydesign(ids=~1, weights=~w, data=d) with w = weights(dr) (rake_weights.csv)",'),
  paste0('  "unit_design": "d0 <- svydesign(ids=~1, weights=~w0, data=d) with w0 = 1",'),
  paste0('  "data": "d <- read.csv(fixture.csv); d$agree <- as.numeric(d$item >= 4); d$valid <- !is.na(d$item)",'),
  '  "entries": [',
  paste(unlist(entries), collapse = ",\n"),
  "  ]",
  "}")
writeLines(json, file.path(out_dir, "references.json"))
