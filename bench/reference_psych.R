#!/usr/bin/env Rscript
# Reference figures for `rqs agreement` from R psych (Debian r-cran-psych).
#
#   Rscript reference_psych.R [--anova] FILE.csv > reference.json
#
# Reads the same long-format ratings file (study,rater,criterion,value; empty
# value = missing) and, for each criterion (plus the per-study, per-rater total
# when there are several criteria, missing if any part is missing), runs
# psych::ICC() on the complete subjects (rated by every rater), as rqs does.
# By default psych's lmer = TRUE is kept: it is what a user runs, and psych's
# lmer = FALSE path fits aov() with a dense model matrix (ratings x subjects)
# that does not fit in memory for 100,000 subjects and takes minutes for 2,000.
# lmer's REML variance components match the ANOVA mean squares of Shrout &
# Fleiss only to optimiser tolerance, and not at all when a component is
# negative (REML clamps it to zero, e.g. ICC2 = ICC3 when raters do not
# differ), so --anova (lmer = FALSE) is for exact cross-checks on small files.
# Prints {"criteria": [{"criterion", "subjects_used", "raters", "icc": {"ICC1":
# {value, F, df1, df2, p, ci_low, ci_high}, ...}}]} as JSON with full precision.
suppressPackageStartupMessages({
  library(psych)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
use_lmer <- !("--anova" %in% args)
args <- setdiff(args, "--anova")
if (length(args) != 1) {
  cat("usage: Rscript reference_psych.R [--anova] FILE.csv\n", file = stderr())
  quit(status = 2)
}

ratings <- read.csv(args[1], colClasses = c(study = "character", rater = "character",
                                            criterion = "character", value = "numeric"),
                    na.strings = "", check.names = FALSE, encoding = "UTF-8")
criteria <- unique(ratings$criterion)
studies <- unique(ratings$study)
raters <- unique(ratings$rater)

# Wide studies x raters matrix of one criterion; NA where missing or absent.
wide <- function(rows, keep_all = FALSE) {
  m <- matrix(NA_real_, nrow = length(studies), ncol = length(raters))
  m[cbind(match(rows$study, studies), match(rows$rater, raters))] <- rows$value
  if (!keep_all) {
    # Only the studies and raters that appear in this criterion, as rqs does.
    m <- m[studies %in% rows$study, raters %in% rows$rater, drop = FALSE]
  }
  m
}

icc_entry <- function(name, m) {
  complete <- m[stats::complete.cases(m), , drop = FALSE]
  result <- suppressWarnings(suppressMessages(psych::ICC(complete, lmer = use_lmer)))$results
  icc <- list()
  for (i in seq_len(nrow(result))) {
    icc[[c("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")[i]]] <- list(
      value = result$ICC[i], F = result$F[i], df1 = result$df1[i], df2 = result$df2[i],
      p = result$p[i], ci_low = result$`lower bound`[i], ci_high = result$`upper bound`[i])
  }
  list(criterion = name, subjects = nrow(m), subjects_used = nrow(complete),
       raters = ncol(m), icc = icc)
}

by_criterion <- split(ratings, factor(ratings$criterion, levels = criteria))
entries <- lapply(criteria, function(name) icc_entry(name, wide(by_criterion[[name]])))
if (length(criteria) > 1) {
  total <- Reduce(`+`, lapply(criteria, function(name) wide(by_criterion[[name]], TRUE)))
  entries[[length(entries) + 1]] <- icc_entry("total", total)
}
cat(toJSON(list(criteria = entries), auto_unbox = TRUE, digits = NA, na = "null",
           pretty = TRUE), "\n")
