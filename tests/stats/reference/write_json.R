# Minimal JSON writer used by the reference scripts.
# Every double is written with sprintf("%.17g") so it round-trips exactly;
# NA -> null, NaN -> NaN, +-Inf -> Infinity/-Infinity (Python's json reads these).
# A length-1 atomic vector is written as a scalar unless wrapped in I().

json_num <- function(v) {
  out <- sprintf("%.17g", as.double(v))
  out[is.nan(v)] <- "NaN"
  out[is.na(v) & !is.nan(v)] <- "null"
  out[is.infinite(v) & v > 0] <- "Infinity"
  out[is.infinite(v) & v < 0] <- "-Infinity"
  out
}

json_str <- function(v) {
  v <- gsub("\\\\", "\\\\\\\\", v)
  v <- gsub("\"", "\\\\\"", v)
  out <- paste0("\"", v, "\"")
  out[is.na(v)] <- "null"
  out
}

to_json <- function(x, indent = 0) {
  pad <- strrep(" ", indent + 2)
  end <- strrep(" ", indent)
  if (is.null(x)) return("null")
  if (is.factor(x)) x <- as.character(x)
  if (is.matrix(x)) {
    rows <- vapply(seq_len(nrow(x)), function(i) to_json(I(unname(x[i, ])), indent + 2), "")
    return(paste0("[\n", pad, paste(rows, collapse = paste0(",\n", pad)), "\n", end, "]"))
  }
  if (is.list(x)) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    items <- vapply(x, to_json, "", indent = indent + 2)
    if (!is.null(names(x))) items <- paste0(json_str(names(x)), ": ", items)
    open <- if (is.null(names(x))) "[" else "{"
    close <- if (is.null(names(x))) "]" else "}"
    return(paste0(open, "\n", pad, paste(items, collapse = paste0(",\n", pad)), "\n", end, close))
  }
  scalar <- length(x) == 1 && !inherits(x, "AsIs")
  vals <- if (is.character(x)) json_str(x)
          else if (is.logical(x)) ifelse(is.na(x), "null", ifelse(x, "true", "false"))
          else json_num(x)
  if (scalar) vals else paste0("[", paste(vals, collapse = ", "), "]")
}

write_cases <- function(cases, path, source_script) {
  doc <- list(
    generated_by = source_script,
    r_version = R.version.string,
    note = "Values written with sprintf('%.17g'); each case stores the R call that produced it.",
    cases = unname(cases)
  )
  writeLines(to_json(doc), path)
  cat("wrote", path, "\n")
}
