# Reference values for pipeline/stats/ordinal_model.py
# Copenhagen housing satisfaction data (MASS::housing, 72 patterns, 1681 respondents).
# Run: Rscript tests/stats/reference/ref_ordinal.R  (writes housing.csv and ordinal.json)
if (!exists("ref_dir")) {
  a <- commandArgs(FALSE)
  ref_dir <- dirname(normalizePath(sub("^--file=", "", a[grep("^--file=", a)])))
}
source(file.path(ref_dir, "write_json.R"))
suppressPackageStartupMessages({ library(MASS); library(ordinal) })

write.csv(housing, file.path(ref_dir, "housing.csv"), row.names = FALSE)
levels_of <- lapply(housing[c("Sat", "Infl", "Type", "Cont")], levels)

# 1. MASS::polr, BFGS run to a much tighter tolerance than its default.
fit_polr <- polr(Sat ~ Infl + Type + Cont, weights = Freq, data = housing, Hess = TRUE,
                 control = list(reltol = 1e-15, maxit = 10000))
# 2. ordinal::clm, Newton-Raphson with analytic Hessian, tight gradient tolerance.
fit_clm <- clm(Sat ~ Infl + Type + Cont, weights = Freq, data = housing, link = "logit",
               control = clm.control(gradTol = 1e-10, relTol = 1e-12, maxIter = 1000))
# 3. Likelihood-ratio test of proportional odds for each term.
#    (a) ordinal::nominal_test on a default-tolerance clm fit (with the tight control
#        above, nominal_test() silently returns empty rows in ordinal 2022.11.16);
#    (b) the same nominal-effect models refitted directly with the tight control.
fit_clm_default <- clm(Sat ~ Infl + Type + Cont, weights = Freq, data = housing, link = "logit")
nt <- nominal_test(fit_clm_default)
terms <- c("Infl", "Type", "Cont")
tight <- lapply(terms, function(t) {
  others <- setdiff(terms, t)
  f <- clm(as.formula(paste("Sat ~", paste(others, collapse = " + "))),
           nominal = as.formula(paste("~", t)), weights = Freq, data = housing, link = "logit",
           control = clm.control(gradTol = 1e-10, relTol = 1e-12, maxIter = 1000))
  ll <- as.numeric(logLik(f)); lrt <- 2 * (ll - as.numeric(logLik(fit_clm)))
  df <- length(coef(f)) - length(coef(fit_clm))
  c(loglik = ll, lrt = lrt, df = df, p = pchisq(lrt, df, lower.tail = FALSE),
    code = f$convergence$code)
})
tight <- do.call(rbind, tight)

se_polr <- sqrt(diag(vcov(fit_polr)))
se_clm <- sqrt(diag(vcov(fit_clm)))
beta_names <- names(coef(fit_polr))
zeta_names <- names(fit_polr$zeta)
cases <- list(
  list(
    id = "housing_polr", func = "proportional_odds",
    r_call = paste("polr(Sat ~ Infl + Type + Cont, weights = Freq, data = housing, Hess = TRUE,",
                   "control = list(reltol = 1e-15, maxit = 10000))"),
    input = list(data = "housing.csv", outcome = "Sat", terms = I(c("Infl", "Type", "Cont")),
                 count = "Freq", levels = levels_of),
    expected = list(coef_names = I(beta_names), coef = I(unname(coef(fit_polr))),
                    coef_se = I(unname(se_polr[beta_names])),
                    zeta_names = I(zeta_names), zeta = I(unname(fit_polr$zeta)),
                    zeta_se = I(unname(se_polr[zeta_names])),
                    loglik = as.numeric(logLik(fit_polr)), n = sum(housing$Freq),
                    convergence = fit_polr$convergence, niter = I(unname(fit_polr$niter)))),
  list(
    id = "housing_clm", func = "proportional_odds",
    r_call = paste("clm(Sat ~ Infl + Type + Cont, weights = Freq, data = housing, link = 'logit',",
                   "control = clm.control(gradTol = 1e-10, relTol = 1e-12, maxIter = 1000))"),
    input = list(data = "housing.csv", outcome = "Sat", terms = I(c("Infl", "Type", "Cont")),
                 count = "Freq", levels = levels_of),
    expected = list(coef_names = I(beta_names), coef = I(unname(coef(fit_clm)[beta_names])),
                    coef_se = I(unname(se_clm[beta_names])),
                    zeta_names = I(zeta_names), zeta = I(unname(coef(fit_clm)[zeta_names])),
                    zeta_se = I(unname(se_clm[zeta_names])),
                    loglik = as.numeric(logLik(fit_clm)), n = sum(housing$Freq),
                    max_abs_gradient = max(abs(fit_clm$gradient)),
                    convergence_code = fit_clm$convergence$code)),
  list(
    id = "housing_nominal_refit", func = "proportional_odds",
    r_call = paste("clm(Sat ~ <other terms>, nominal = ~ <term>, weights = Freq, data = housing,",
                   "control = clm.control(gradTol = 1e-10, relTol = 1e-12, maxIter = 1000));",
                   "LRT = 2 * (logLik(nominal fit) - logLik(fit_clm)); pchisq(LRT, df, lower.tail = FALSE)"),
    input = list(data = "housing.csv", outcome = "Sat", terms = I(c("Infl", "Type", "Cont")),
                 count = "Freq", levels = levels_of),
    expected = list(term = I(terms), df = I(unname(tight[, "df"])), loglik = I(unname(tight[, "loglik"])),
                    lrt = I(unname(tight[, "lrt"])), p_value = I(unname(tight[, "p"])),
                    convergence_code = I(unname(tight[, "code"])),
                    loglik_po = as.numeric(logLik(fit_clm)))),
  list(
    id = "housing_nominal_test", func = "proportional_odds",
    r_call = "nominal_test(clm(Sat ~ Infl + Type + Cont, weights = Freq, data = housing))  # default tolerances",
    input = list(data = "housing.csv", outcome = "Sat", terms = I(c("Infl", "Type", "Cont")),
                 count = "Freq", levels = levels_of),
    expected = list(term = I(rownames(nt)[-1]), df = I(nt$Df[-1]), loglik = I(nt$logLik[-1]),
                    lrt = I(nt$LRT[-1]), p_value = I(nt[["Pr(>Chi)"]][-1]),
                    loglik_po = nt$logLik[1]))
)
write_cases(cases, file.path(ref_dir, "ordinal.json"), "ref_ordinal.R")
print(fit_polr$convergence); print(fit_polr$niter)
print(max(abs(fit_clm$gradient)))
print(nt)
print(cbind(polr = c(coef(fit_polr), fit_polr$zeta), clm = coef(fit_clm)[c(beta_names, zeta_names)]), digits = 15)
print(cbind(polr = se_polr[c(beta_names, zeta_names)], clm = se_clm[c(beta_names, zeta_names)]), digits = 15)
