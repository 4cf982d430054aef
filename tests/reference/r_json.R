# Tiny exact JSON writer shared by the reference scripts (17 significant digits, AsIs -> array).
num <- function(x) ifelse(is.na(x), "null", sprintf("%.17g", x))
to_json <- function(x) {
  if (is.list(x)) {
    if (!is.null(names(x))) {
      parts <- vapply(names(x), function(k) paste0('"', k, '": ', to_json(x[[k]])), "")
      return(paste0("{", paste(parts, collapse = ", "), "}"))
    }
    return(paste0("[", paste(vapply(x, to_json, ""), collapse = ", "), "]"))
  }
  vals <- if (is.character(x)) paste0('"', x, '"') else if (is.logical(x)) {
    ifelse(is.na(x), "null", tolower(as.character(x)))
  } else num(as.numeric(x))
  if (inherits(x, "AsIs") || length(x) != 1) paste0("[", paste(vals, collapse = ", "), "]") else vals
}
