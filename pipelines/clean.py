"""Clean: turn an ingested (already de-identified) wave into tidy, typed data, recording every rule.

Each rule is a small function `(df, ctx) -> df` that reports what it touched to the `CleaningLog`:
one line per rule (rows and values touched) and, for removed rows and values set missing, a
row-level record for audit. Nothing is silently dropped: suspicious answers are flagged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipelines import errors, multiselect, parse
from pipelines.codebook import Codebook, unify_text
from pipelines.config import SurveyConfig, Wave
from pipelines.derived import (  # noqa: F401 - clean.X names kept for callers
    AGE_LIMITS,
    DEFAULT_DERIVED,
    band_cuts,
    band_labels,
    derived_columns,
    derived_specs,
    margin_levels,
)
from pipelines.errors import Localised, Message

FLAGS = ["flag_straightline", "flag_fast", "flag_unmatched_site", "flag_unmatched_kelurahan"]
SUMMARY_COLUMNS = [
    "rule",
    "description",
    "column",
    "rows_touched",
    "values_touched",
    "examples",
    # what a value-blanking problem costs (see account_losses); empty for other rules
    "problem",
    "respondents",
    "left_every_estimate",
    "left_models",
    "lost_breakdowns",
    "lost_margins",
    "accepted",
]
# Cleaning-log rules that blank values, by the id `cleaning.accept_loss` names them with.
LOSS_PROBLEMS = {
    "match_site_unmatched": "unmatched_site",
    "match_kelurahan_unmatched": "unmatched_kelurahan",
    "unknown_category": "unknown_category",
    "unknown_yes_no": "unknown_yes_no",
    "not_a_number": "not_a_number",
    "impossible_value": "impossible_value",
    "impossible_age": "impossible_age",
    "likert_out_of_scale": "likert_out_of_scale",
}


@dataclass
class CleaningLog:
    """Rule-level summary and restricted row-level audit trail of one wave's cleaning."""

    rules: list[dict] = field(default_factory=list)
    rows: list[pd.DataFrame] = field(default_factory=list)
    # rows each value-blanking rule touched (index labels), to count what the loss costs
    touched: list[tuple[int, pd.Index]] = field(default_factory=list)

    def record(
        self,
        rule: str,
        description: str,
        mask: pd.Series | None = None,
        df: pd.DataFrame | None = None,
        column: str | None = None,
        before: pd.Series | None = None,
        values: int | None = None,
    ) -> None:
        n_rows = int(mask.sum()) if mask is not None else 0
        self.rules.append(
            {
                "rule": rule,
                "description": description,
                "column": column,
                "rows_touched": n_rows,
                "values_touched": n_rows if values is None else int(values),
                "examples": _examples(before[mask]) if n_rows and before is not None else "",
            }
        )
        if rule in LOSS_PROBLEMS and mask is not None and n_rows:
            self.touched.append((len(self.rules) - 1, mask.index[mask.to_numpy(bool)]))
        if mask is not None and n_rows and df is not None:
            hit = df.loc[mask, ["wave", "respondent_key", "source_file", "source_row"]].copy()
            hit["rule"], hit["column"] = rule, column
            hit["before"] = (  # masked: a phone typed into any answer must not reach a file
                _masked(before[mask]).str.slice(0, 60) if before is not None else None
            )
            self.rows.append(hit)

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame(self.rules, columns=SUMMARY_COLUMNS)

    def row_log(self) -> pd.DataFrame:
        cols = ["wave", "respondent_key", "source_file", "source_row", "rule", "column", "before"]
        return pd.concat(self.rows, ignore_index=True) if self.rows else pd.DataFrame(columns=cols)


def _masked(values: pd.Series) -> pd.Series:
    from pipelines import privacy

    return privacy.mask_text(values.astype(str)).text.astype(str)


def _examples(values: pd.Series, n: int = 3) -> str:
    """Up to `n` distinct raw values, most frequent first, for the published log: personal data
    masked, cut to 30 characters and quoted (so a cell can never start like a formula)."""
    return _quoted(values.dropna().astype(str).value_counts().index[:n])


def _quoted(top) -> str:
    """Values already chosen for a message: personal data masked, cut, quoted, '; '-joined."""
    from pipelines import privacy

    masked = privacy.mask_text(pd.Series([str(v) for v in top], dtype=object)).text
    return "; ".join('"' + str(v)[:30].replace('"', "'") + '"' for v in masked)


def _mostly_invalid(df, var, invalid: pd.Series, raw: pd.Series, what: str) -> None:
    """Stop with one sentence when most answers of a column can't be read: the column is in an
    unknown format or mapped to the wrong question, and setting them all missing would hide it."""
    n_bad = int(invalid.sum())
    if n_bad < 5:  # decided without looking at the answers
        return
    given = raw.notna() & raw.astype(str).str.strip().ne("")
    n_given = int(given.sum())
    if n_bad * 2 <= n_given:
        return
    first = invalid[invalid].index[0]
    example = _examples(raw.loc[[first]])
    where = errors.located(df.at[first, "source_file"], df.at[first, "source_row"])
    col = column_words(var)
    what_m = Message(f"clean.kind_{what}")
    raise errors.InputError(
        Message(
            "clean.mostly_invalid",
            where=where,
            column=col,
            bad=n_bad,
            given=n_given,
            what=what_m,
            example=example,
        )
    )


@dataclass(frozen=True)
class Context:
    cfg: SurveyConfig
    cb: Codebook
    wave: Wave


# --- rules -------------------------------------------------------------------------------------


def normalise(df, ctx, log):
    """Unicode NFKC, trimmed and collapsed whitespace, export artefacts removed."""
    text_cols = [c for c in df.columns if c != "source_row" and pd.api.types.is_string_dtype(df[c])]
    changed = 0
    for c in text_cols:
        df[c], n = parse.normalise_text_counted(df[c])  # rows changed, counted per distinct text
        changed += n
    log.record(
        "normalise_text",
        "Unicode NFKC, whitespace trimmed and collapsed, '_x000D_' "
        "removed; blank answers made missing",
        values=changed,
    )
    return df


NOT_APPLICABLE = ["N/A", "n/a", "NA", "#N/A"]  # Kobo/ODK/R write these for skipped questions


def missing_codes(df, ctx, log):
    """Skipped questions (Kobo's 'N/A', R's 'NA') and explicit missing codes ('99', 'Tidak
    tahu', '-') become missing values; counted apart, since 'not asked' is not 'don't know'."""
    codes = ctx.cb.missing_codes or parse.DEFAULT_MISSING_CODES
    na_keys = {c.casefold() for c in NOT_APPLICABLE}
    other = [c for c in codes if c.casefold() not in na_keys]
    counts = {kind: [0, np.zeros(len(df), dtype=bool)] for kind in ("na", "codes")}
    for v in ctx.cb.variables:
        if v.type == "identifier":
            continue
        cols = [v.name, *v.option_columns().values()] if v.type == "multiselect" else [v.name]
        options = set(v.option_columns().values())
        kinds = ("multiselect", "categorical")
        other_text = multiselect.other_text_column(v) if v.type in kinds else None
        for col in [c for c in [*cols, other_text] if c and c in df]:
            # both code lists are checked once per distinct answer, then spread to the rows
            codes_, uniques = pd.factorize(df[col], use_na_sentinel=True)
            given = codes_ >= 0
            u = pd.Series(uniques, dtype=object)
            skip_u = np.append(parse.missing_codes(u, NOT_APPLICABLE).to_numpy(bool), False)
            skipped = pd.Series(skip_u[codes_] & given, index=df.index, name=col)
            coded = pd.Series(False, index=df.index)
            if v.type != "text" and col != other_text:  # a free-text '-' or '99' is an answer
                code_u = np.append(parse.missing_codes(u, other).to_numpy(bool), False)
                coded = pd.Series(code_u[codes_] & given & ~skip_u[codes_], index=df.index)
            for kind, m in (("na", skipped), ("codes", coded)):
                counts[kind][0] += int(m.sum())
                counts[kind][1] = counts[kind][1] | m.to_numpy()
            gone = coded if col in options else skipped | coded  # multi_select reads N/A ticks
            if gone.any():
                df.loc[gone, col] = np.nan
    log.record(
        "not_applicable",
        f"Skipped questions ({', '.join(NOT_APPLICABLE)}) treated as missing",
        pd.Series(counts["na"][1], index=df.index),
        values=counts["na"][0],
    )
    log.record(
        "missing_codes",
        f"Answers {', '.join(other) or '(none)'} treated as missing",
        pd.Series(counts["codes"][1], index=df.index),
        values=counts["codes"][0],
    )
    return df


def consent(df, ctx, log):
    """Rows without a 'yes' to the consent question are removed (their answers are not used)."""
    var = ctx.cb.by_role("consent")
    if var is None or var.name not in df:
        return df
    raw = df[var.name].copy()
    codes, uniques = pd.factorize(raw)  # each distinct answer rewritten once
    said = pd.Series(uniques, dtype=raw.dtype if len(uniques) else object)
    said = said.str.replace(r"^(ya|iya|yes)\b.*", "ya", case=False, regex=True)
    said = np.append(said.to_numpy(dtype=object, na_value=np.nan), np.nan)[codes]
    yes = parse.yes_no(pd.Series(said, index=raw.index, name=raw.name, dtype=object))
    drop = yes.values.ne(1).fillna(True).astype(bool)
    if len(df) and drop.all():
        where = errors.located(df["source_file"].iloc[0])
        raise errors.InputError(
            Message(
                "clean.no_consent",
                where=where,
                question=errors.Localised(id=var.question.id, en=var.question.en),
                n=len(df),
                examples=_examples(raw),
            )
        )
    log.record("no_consent", "Removed: consent not given or left blank", drop, df, var.name, raw)
    return df.loc[~drop].drop(columns=[var.name])


def submitted(df, ctx, log):
    """Submission time parsed (Google Forms, Kobo, Excel formats); unparseable flagged."""
    for role in ("submitted_at", "started_at", "ended_at"):
        var = ctx.cb.by_role(role)
        if var is None or var.name not in df:
            continue
        raw = df[var.name]
        p = parse.dates(raw)
        _mostly_invalid(df, var, p.invalid, raw, "dates")
        df[var.name] = p.values
        log.record(
            f"parse_{var.name}",
            "Date/time not understood: set missing",
            p.invalid,
            df,
            var.name,
            raw,
        )
    return df


def duplicates(df, ctx, log):
    """Same respondent key submitted twice in a wave: keep the last (or first) submission."""
    keep = "last" if ctx.cfg.cleaning.duplicates == "keep_last" else "first"
    by = [c for c in ("submitted_at", "source_file", "source_row") if c in df]
    order = df.sort_values(by, kind="stable", na_position="first")
    has_key = order["respondent_key"].notna()
    dup = order.duplicated("respondent_key", keep=keep) & has_key
    dup = dup.reindex(df.index)
    log.record(
        "duplicate_submission",
        f"Removed: earlier submission of a respondent who submitted more than once "
        f"(kept the {keep} one, by submission time)",
        dup,
        df,
        "respondent_key",
    )
    return df.loc[~dup]


def places(df, ctx, log):
    """Site and kelurahan names matched to the config's lists; unmatched flagged, never guessed."""
    cfg = ctx.cfg
    names = {s.name: s.id for s in cfg.sites}
    aliases = {a: s.name for s in cfg.sites for a in s.aliases}
    aliases.update({s.id: s.name for s in cfg.sites})
    if "site" in df:  # an instrument may ask neither (ingest is instrument-agnostic)
        raw = df["site"]
        p = parse.match_places(raw, list(names), aliases)
        _mostly_unlisted(df, p, raw, "site", ctx)
        df["site"] = p.values.map(names)
        df["flag_unmatched_site"] = p.invalid.values
        _log_matches(log, "match_site", "site", p, df, raw)
        kec = {s.id: s.kecamatan for s in cfg.sites}
        df["kecamatan"] = df["site"].map(kec)
    if "kelurahan" in df:
        raw = df["kelurahan"]
        p = parse.match_places(raw, list(cfg.kelurahan), cfg.places.aliases)
        _mostly_unlisted(df, p, raw, "kelurahan", ctx)
        df["kelurahan"] = p.values
        df["flag_unmatched_kelurahan"] = p.invalid.values
        _log_matches(log, "match_kelurahan", "kelurahan", p, df, raw)
    return df


def _mostly_unlisted(df, p, raw, column: str, ctx) -> None:
    """Most rows name a place the config doesn't list: the config is for another survey or
    misses sites, so stop and say which names to add (a few unlisted rows are only flagged)."""
    n_bad, n = int(p.invalid.sum()), int(raw.notna().sum())
    if n_bad * 2 <= n or n_bad == 0:
        return
    names = _examples(raw[p.invalid])
    first = p.invalid[p.invalid].index[0]
    where = errors.located(df.at[first, "source_file"], df.at[first, "source_row"])
    key = "sites" if column == "site" else "places.kecamatan"
    raise errors.InputError(
        Message(
            "clean.mostly_unlisted",
            where=where,
            column=column,
            bad=n_bad,
            n=n,
            names=names,
            key=key,
            config=ctx.cfg.source.name,
        )
    )


def _log_matches(log, rule, column, p, df, raw):
    counts = p.rule_counts()
    fuzzy = (p.rule == "fuzzy").fillna(False).astype(bool)
    log.record(
        f"{rule}_fuzzy",
        f"{column}: misspelling matched to a unique close name",
        fuzzy,
        df,
        column,
        raw,
    )
    log.record(
        f"{rule}_unmatched",
        f"{column}: name not in the config's list (flagged, set missing, not guessed)",
        p.invalid,
        df,
        column,
        raw,
    )
    log.rules[-1]["exact_or_alias"] = counts.get("exact", 0) + counts.get("alias", 0)


def multi_select(df, ctx, log):
    """Multi-select answers -> one 0/1 column per option (`<var>__<option>`), from the question's
    own column (codes or labels) or from one column per option, whichever the row has."""
    for v in ctx.cb.by_type("multiselect"):
        opt_cols = multiselect.option_columns_in(df, v)
        if v.name not in df and not opt_cols:
            continue
        raw = df[v.name] if v.name in df else pd.Series(np.nan, index=df.index, dtype=object)
        out, bad, other = multiselect.parse_question(raw, v)
        log.record(
            "multiselect_unknown",
            "Multi-select answer with an option not in the codebook: set missing",
            bad,
            df,
            v.name,
            raw,
        )
        log.record(
            "multiselect_other",
            "Multi-select answer not among the options: counted as 'other' (its text not kept)",
            other,
            df,
            v.name,
            raw,
        )
        if opt_cols:
            parsed = {
                c: multiselect.parse_option(df[c], v, c.split(multiselect.SEP)[1]) for c in opt_cols
            }
            answered = pd.concat([p[0].notna() for p in parsed.values()], axis=1).any(axis=1)
            for c, (vals, invalid, not_asked) in parsed.items():
                log.record(
                    "multiselect_option_unknown",
                    "Option column value not 1/0, TRUE/FALSE, Ya/Tidak or the option: set missing",
                    invalid,
                    df,
                    c,
                    df[c],
                )
                # unticked options are blank in SurveyMonkey exports: 0 once the row answered
                # N/A (not asked, e.g. an option added in a later form version) stays missing
                vals = vals.mask(answered & vals.isna() & ~invalid & ~not_asked, 0)
                out.loc[answered, c] = vals[answered]
            absent = [c for c in v.option_columns().values() if c not in opt_cols]
            out.loc[answered, absent] = pd.NA  # an option this export has no column for
        df = df.drop(columns=[c for c in [v.name, *opt_cols, *out.columns] if c in df])
        df = pd.concat([df, out.astype("Int64")], axis=1)  # at once: no fragmented frame
    return df


def other_dates(df, ctx, log):
    """Date questions other than the submission times (e.g. date of last visit) parsed."""
    roles = ("submitted_at", "started_at", "ended_at")
    for v in ctx.cb.by_type("datetime"):
        if v.role in roles or v.name not in df:
            continue
        raw = df[v.name]
        p = parse.dates(raw)
        df[v.name] = p.values
        log.record("unknown_date", "Date not understood: set missing", p.invalid, df, v.name, raw)
    return df


def not_asked(df, ctx, log):
    """XLSForm `relevant`: a row where a question's condition is false was not asked that
    question, so its answer is missing and counted apart from questions asked but left blank."""
    from pipelines.xlsform import relevant_mask

    for v in ctx.cb.variables:
        if not v.relevant:
            continue
        cols = [v.name] if v.type != "multiselect" else list(v.option_columns().values())
        cols = [c for c in cols if c in df]
        if not cols:
            continue
        asked = relevant_mask(v.relevant, df, ctx.cb)
        if asked is None:  # an expression we cannot evaluate: nothing is guessed
            log.record(
                "relevant_not_evaluated",
                f"XLSForm relevant not evaluated (unsupported or unknown question): {v.relevant}",
                column=v.name,
            )
            continue
        answered = df[cols].notna().any(axis=1)
        log.record(
            "not_asked",
            "Not asked (the question's XLSForm 'relevant' is false for the row): missing, "
            "not counted as unanswered",
            ~asked,
            column=v.name,
        )
        log.record(
            "not_answered",
            "Asked (its 'relevant' is true) but not answered: missing",
            asked & ~answered,
            column=v.name,
        )
        extra = ~asked & answered
        log.record(
            "answer_not_asked",
            "Answer given where the question was not asked (its 'relevant' is false): set missing",
            extra,
            df,
            v.name,
            df[cols[0]].map(lambda x: f"{x:g}" if isinstance(x, float) else str(x)),
        )
        for c in cols:
            df[c] = df[c].mask(~asked)
    return df


def categorical(df, ctx, log):
    """Categorical answers mapped to level codes through each level's known spellings."""
    for v in ctx.cb.by_type("categorical"):
        if not v.levels or v.name not in df:
            continue
        table = level_table(v)
        raw = df[v.name]
        codes, uniques = pd.factorize(raw)  # each distinct spelling folded once
        lookup = np.array([table.get(category_key(u), np.nan) for u in uniques] + [np.nan], object)
        coded = pd.Series(lookup[codes], index=raw.index, name=v.name)
        bad = coded.isna() & raw.notna()
        df[v.name] = coded
        log.record(
            "unknown_category",
            "Answer not among the codebook's options: set missing",
            bad,
            df,
            v.name,
            raw,
        )
    return df


def level_table(v) -> dict[str, str]:
    """Each known spelling of a categorical's levels (code, labels, `match`) by its key."""
    return {
        category_key(text): code
        for code, lvl in v.levels.items()
        for text in [code, lvl.id, lvl.en, *lvl.match]
    }


def category_key(x) -> str:
    """Key of a categorical answer: apostrophes, dashes and spaces unified (unify_text), case,
    "-" and spacing around "/" ignored; other punctuation kept ("< 3.50" is not "≥ 3.50")."""
    t = unify_text(x).casefold()
    return " ".join(t.replace("-", " ").replace("/", " / ").split())


def yes_no(df, ctx, log):
    for v in ctx.cb.by_type("yesno"):
        if v.name not in df or v.role == "consent":
            continue
        raw = df[v.name]
        p = parse.yes_no(raw)
        df[v.name] = p.values.astype("Int64")
        log.record(
            "unknown_yes_no",
            "Yes/no answer not understood: set missing",
            p.invalid,
            df,
            v.name,
            raw,
        )
    return df


def likert(df, ctx, log):
    """Agreement words (id/en, abbreviations, any case) or a custom set's labels to codes, or
    numeric codes within an item's `range`; out-of-scale answers set missing. The items of one
    label set (or range) are read together: answers that fit another scale than the declared
    one stop the run (see _label_fit)."""
    groups: dict = {}
    for v in ctx.cb.by_type("likert"):
        if v.name in df:
            groups.setdefault(v.labels or tuple(v.range), []).append(v)
    for key, items in groups.items():
        lo, hi = (int(x) for x in ctx.cb.item_range(items[0]))
        codes = list(range(lo, hi + 1))
        if isinstance(key, str):
            ls = ctx.cb.label_set(items[0])
            custom = {k: [t.id, t.en] for k, t in ls.labels.items()}
            scale, labels = (None if ls.kind == "agreement" else custom), ls.labels
        else:  # numeric codes only
            scale, labels = {c: [] for c in codes}, None
        parsed = {v.name: parse.likert(df[v.name], scale=scale, points=len(codes)) for v in items}
        _label_fit(df, items, codes, labels, parsed)
        for v in items:
            raw, p = df[v.name], parsed[v.name]
            df[v.name] = p.values.astype("Int64")
            log.record(
                "likert_out_of_scale",
                f"Agreement answer not on the {len(codes)}-point scale: set missing",
                p.invalid,
                df,
                v.name,
                raw,
            )
    return df


MIN_FIT_ANSWERS = 30  # answers of a label set before a never-used middle code means anything
MAX_MIDDLE_POINTS = 7  # on longer scales an unchosen middle answer says nothing about the form


def _label_fit(df, items, codes: list[int], labels, parsed) -> None:
    """Stop when a label set's (or range's) items were answered on another scale: a 4-point
    form read with a 5-point set (its middle code never chosen in any item, with enough
    answers), or a 5-point form read with a 4-point set ("Netral", "5" recurring as unknown
    answers)."""
    n, n_foreign, used = 0, 0, set()
    for v in items:  # per column, on distinct values and invalid answers only: cheap at 10^6 rows
        vals, invalid = parsed[v.name].values, parsed[v.name].invalid
        n += int(vals.notna().sum())
        used |= {int(c) for c in vals.dropna().unique()}
        n_foreign += int(parse.foreign_likert(df[v.name][invalid], codes).sum())
    odd = len(codes) % 2 == 1 and 3 <= len(codes) <= MAX_MIDDLE_POINTS
    mid = codes[len(codes) // 2] if odd else None
    no_middle = (
        mid is not None
        and n >= MIN_FIT_ANSWERS
        and mid not in used
        and any(c < mid for c in used)
        and any(c > mid for c in used)
    )
    if not no_middle and (n_foreign < 5 or n_foreign * 100 < n + n_foreign):
        return
    counts = pd.concat([df[v.name].value_counts() for v in items]).groupby(level=0).sum()
    top = counts.sort_values(ascending=False, kind="stable").index[: len(codes) + 3]
    found = _quoted(top)
    if labels is not None:
        by_lang = {
            lang: ", ".join(f"{c} = {labels[c](lang)}" for c in codes) for lang in ("en", "id")
        }
        declared = Message(
            "clean.declared_labels",
            labels=items[0].labels,
            n=len(codes),
            codes=Localised(**by_lang),
        )
        mid_s = (
            Localised(**{x: f"{mid} ({labels[mid](x)})" for x in ("en", "id")})
            if mid is not None
            else ""
        )
    else:
        declared, mid_s = f"range {codes[0]}–{codes[-1]}", str(mid)
    first = items[0]
    cols = column_words(first)
    fewer = len(codes) - 1
    more = Message("clean.more_items", n=len(items) - 1) if len(items) > 1 else ""
    where = errors.located(df["source_file"].iloc[0]) if len(df) else ""
    if no_middle:
        why = Message("clean.why_no_middle", mid=mid_s, n=n, fewer=fewer)
    else:
        why = Message("clean.why_wider", foreign=n_foreign)
    raise errors.InputError(
        Message(
            "clean.scale_misfit",
            where=where,
            columns=cols,
            more=more,
            declared=declared,
            found=found,
            why=why,
        )
    )


def numbers(df, ctx, log):
    """Numbers and Rupiah amounts parsed; impossible values (outside the valid range) set missing."""
    for v in ctx.cb.by_type("numeric", "currency"):
        if v.name not in df:
            continue
        raw = df[v.name]
        p = parse.rupiah(raw) if v.type == "currency" else parse.numeric(raw)
        _mostly_invalid(df, v, p.invalid, raw, "numbers")
        vals = p.values.astype(float)
        log.record("not_a_number", "Not a number: set missing", p.invalid, df, v.name, raw)
        if v.range:
            lo, hi = v.range
            out = vals.notna() & ((vals < lo) | (vals > hi))
            log.record(
                "impossible_value",
                f"Outside the valid range {lo:g}–{hi:g}: set missing",
                out,
                df,
                v.name,
                raw,
            )
            vals = vals.mask(out)
        df[v.name] = vals
    return df


def replicate_weights(df, ctx, log):
    """The export's replicate weight columns (``design.replicate.columns``) as numbers; a cell
    that is not a number of 0 or more stops with its file, row and column (they are the
    producer's, never repaired here)."""
    rep = ctx.cfg.design.replicate
    if rep is None or rep.columns is None:
        return df
    for col in rep.match(df.columns):
        values = _plain_numbers(df[col])
        bad = ~(values >= 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            text = Message("clean.replicate_weight", value=df[col].iloc[i], n=int(bad.sum()))
            where = (df["source_file"].iloc[i], int(df["source_row"].iloc[i]))
            raise errors.InputError(errors.at(where[0], text, where[1], col))
        df[col] = values
    return df


def _plain_numbers(s: pd.Series) -> np.ndarray:
    """Machine-written numbers (a decimal point, or a lone decimal comma) as floats; NaN for
    anything else. Not parse.numeric: its "1.500" = 1500 would misread a weight of 1.500."""
    text = s.astype(str).str.strip()
    comma = text.str.count(",").eq(1) & ~text.str.contains(".", regex=False)
    text = text.where(~comma, text.str.replace(",", ".", regex=False))
    return pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)


def derive(df, ctx, log):
    """Columns derived from answers (ROLES.md `roles.derived`): an age at the wave's reference
    date from a birth year, bands, log amounts; then sessions for non-participants. A column
    the form asked directly (e.g. a numeric `age`) is used as answered, never derived again."""
    a = ctx.cfg.analysis
    for name, spec in derived_specs(ctx.cb).items():
        src = spec["from"]
        if src not in df or name in df:
            continue
        if spec["how"] == "years_before_reference":
            years = pd.Timestamp(ctx.wave.reference_date).year - df[src]
            lo, hi = AGE_LIMITS
            bad = years.notna() & ~years.between(lo, hi)
            # the log's examples say the age, not only the year (formatted for those rows only)
            shown = df.loc[bad, src].map("{:g}".format) + years[bad].map(" (age {:g})".format)
            log.record(
                "impossible_age",
                f"Age outside {lo}–{hi} years: set missing",
                bad,
                df,
                src,
                shown.reindex(df.index),
            )
            df[name] = years.mask(bad)
            df = df.drop(columns=[src])  # the birth year itself is not published
        elif spec["how"] == "bands":
            df[name] = band_labels(df[src], band_cuts(spec, a), money=spec.get("money", False))
        elif spec["how"] == "log":
            df[name] = np.log(df[src].where(df[src] > 0))
    ex = ctx.cb.roles.exposure
    if ex.took_part and ex.took_part in df:
        # non-participants attended no session and took no programme
        nonpart = df[ex.took_part].eq(0).fillna(False).astype(bool)
        if ex.dose and ex.dose in df:
            df.loc[nonpart, ex.dose] = 0
        if ex.programme and ex.programme in df:
            df.loc[nonpart, ex.programme] = np.nan
    return df


def quality_flags(df, ctx, log):
    """Straight-lining and implausibly fast answers are flagged for review, never dropped."""
    items = [v.name for v in ctx.cb.by_type("likert") if v.name in df]
    c = ctx.cfg.cleaning
    answered = df[items].notna().sum(axis=1)
    try:  # vectorised "one distinct answer" (row-wise nunique is slow: 40 s per 100,000 rows)
        vals = df[items].astype("float64").to_numpy()
        one = np.fmax.reduce(vals, axis=1) == np.fmin.reduce(vals, axis=1) if items else False
        same = pd.Series(one, index=df.index) & answered.ge(c.straightline_min_items)
    except (TypeError, ValueError):
        same = df[items].nunique(axis=1).eq(1) & answered.ge(c.straightline_min_items)
    df["flag_straightline"] = same.values
    log.record(
        "flag_straightline",
        f"Flagged: the same answer to all {len(items)} agreement items (kept)",
        same,
        df,
        None,
    )
    end = df.get("submitted_at")
    if "ended_at" in df and end is not None:  # Kobo: the device's end time, not the upload
        end = df["ended_at"].fillna(end)
    if end is not None and "started_at" in df and df["started_at"].notna().any():
        secs = (end - df["started_at"]).dt.total_seconds()
        fast = (secs.ge(0) & secs.lt(c.min_seconds)).fillna(False).astype(bool)
    else:
        fast = pd.Series(False, index=df.index)
    df["flag_fast"] = fast.values
    log.record(
        "flag_fast",
        f"Flagged: completed in under {c.min_seconds:g} seconds (kept; needs start and end times)",
        fast,
        df,
        None,
    )
    return df


# --- what a problem costs ------------------------------------------------------------------


# (what, fix) of each problem for the error that stops a run, in English and Indonesian.
def analysis_roles(cfg: SurveyConfig, cb: Codebook) -> dict[str, list[str]]:
    """Design columns, covariates, breakdowns and weighting margins the analysis will use:
    the config's `analysis.<role>` when set, else the codebook's `roles.<role>`."""
    roles = cb.roles

    def pick(key: str) -> list[str]:  # as pipelines.plan reads them
        return list(getattr(cfg.analysis, key, None) or getattr(roles, key, None) or [])

    w = cfg.design.weights
    return {
        "design": [c for c in (cfg.design.strata, cfg.design.cluster) if c],
        "covariates": pick("covariates"),
        "breakdowns": pick("breakdowns"),
        "margins": list(w.margins) if w.method == "rake" else [],
    }


def _affected(column: str | None, cb: Codebook) -> set[str]:
    """A column and every column made from it (kecamatan from site, age and its band from a
    birth year): blanking the first blanks them all."""
    if column is None:
        return set()
    made = [(spec["from"], name) for name, spec in derived_specs(cb).items()]
    made.append(("site", "kecamatan"))
    out, grew = {column}, True
    while grew:
        new = {name for src, name in made if src in out} - out
        out |= new
        grew = bool(new)
    return out


# A loss of fewer respondents is said but never stops a run: in a survey of a few dozen, one
# mistyped birth year would otherwise exceed any share.
MIN_STOP_LOSS = 10


def account_losses(df, ctx, log):
    """Say what each value-blanking problem costs: respondents leaving every estimate (no
    design stratum/cluster), leaving the adjusted models (a covariate missing), breakdowns left
    with fewer than two groups, weighting margins emptied. A problem costing more than
    `cleaning.max_loss_share` of the respondents (and at least MIN_STOP_LOSS), or emptying a
    weighting level, stops the run unless `cleaning.accept_loss` lists it."""
    roles = analysis_roles(ctx.cfg, ctx.cb)
    design = [c for c in roles["design"] if c in df]
    in_design = df[design].notna().all(axis=1) if design else pd.Series(True, index=df.index)
    covs = [c for c in roles["covariates"] if c in df]
    c, n = ctx.cfg.cleaning, len(df)
    n_kept = int(in_design.sum())
    stops = []

    groups: dict[str, int] = {}  # distinct answers per column among the rows the design keeps

    def kept(col: str) -> pd.Series:  # one column of the rows the design keeps
        return df[col][in_design]

    def n_groups(col: str) -> int:
        if col not in groups:
            groups[col] = kept(col).nunique()
        return groups[col]

    for pos, rows in log.touched:
        rule = log.rules[pos]
        problem = LOSS_PROBLEMS[rule["rule"]]
        cols = _affected(rule["column"], ctx.cb)
        sub = df.loc[rows.intersection(df.index)]
        d_hit = [x for x in design if x in cols]
        out_all = sub[d_hit].isna().any(axis=1) if d_hit else pd.Series(False, index=sub.index)
        c_hit = [x for x in covs if x in cols]
        out_models = (
            sub[c_hit].isna().any(axis=1) & ~out_all & in_design.loc[sub.index]
            if c_hit
            else pd.Series(False, index=sub.index)
        )
        k = int(in_design.loc[sub.index].sum())  # the problem's rows the design keeps
        breakdowns = [
            b
            for b in roles["breakdowns"]
            if b in cols and b in df and k >= 2 and k * 10 >= n_kept and n_groups(b) < 2
        ]
        margins = []
        for m in [m for m in roles["margins"] if m in cols and m in df and k]:
            margins += _emptied(m, kept(m), k, ctx)
        accepted = problem in c.accept_loss
        rule.update(
            problem=problem,
            respondents=n,
            left_every_estimate=int(out_all.sum()),
            left_models=int(out_models.sum()),
            lost_breakdowns="; ".join(breakdowns),
            lost_margins="; ".join(margins),
            accepted=accepted,
        )
        lost = rule["left_every_estimate"] + rule["left_models"]
        if not accepted and (lost > max(c.max_loss_share * n, MIN_STOP_LOSS - 1) or margins):
            stops.append((rule, sub))
    _out_of_estimates(df, in_design, covs, log)
    for m in [m for m in roles["margins"] if m not in df]:  # the form does not ask it
        log.record("margin_not_in_data", "Weighting margin not in the data: raked without it")
        log.rules[-1].update(column=m, values_touched=n, respondents=n)
    if stops:
        _stop_for_loss(stops, ctx)
    return df


def _emptied(m: str, values: pd.Series, k: int, ctx) -> list[str]:
    """Weighting levels of margin `m` a problem that blanked `k` of its answers emptied: all of
    them when no answer is left, else each level now empty that the `k` rows could have filled
    (at least half its expected count, expected at least 5: a level a small sample misses by
    chance, or one no answer can take, is not the problem's doing)."""
    counts = values.value_counts()  # one pass: the levels answered and how often
    present = {str(x) for x in counts.index}
    if not present:
        return [m]
    totals = ctx.cfg.design.weights.margins[m]
    can = margin_levels(ctx.cfg, ctx.cb, m)
    n_all, pop = int(counts.sum()) + k, sum(totals.values())
    out = []
    for lv, total in totals.items():
        expected = n_all * total / pop if pop else 0
        possible = can is None or lv in can
        if lv not in present and possible and expected >= 5 and k >= expected / 2:
            out.append(f"{m}={lv}")
    return out


def _out_of_estimates(df, in_design, covs, log) -> None:
    """Whatever the reason: respondents outside the design, and inside it but missing a
    covariate (the run summary's total)."""
    log.record(
        "out_of_design",
        "Respondents without a design stratum or cluster: in no estimate",
        ~in_design,
    )
    log.rules[-1]["respondents"] = len(df)
    no_cov = df[covs].isna().any(axis=1) & in_design if covs else pd.Series(False, index=df.index)
    log.record(
        "out_of_models", "Respondents missing a covariate: not in the adjusted models", no_cov
    )
    log.rules[-1]["respondents"] = len(df)


def cost_parts(
    n: int, out_all: int, out_models: int, breakdowns: str = "", margins: str = ""
) -> list[Message]:
    """What a problem costs as message phrases: respondents leaving every estimate or the
    adjusted models, breakdowns and weighting margins lost."""
    parts = []
    if out_all:
        parts.append(Message("clean.cost_out_all", out_all=out_all, n=n))
    if out_models:
        key = "clean.cost_out_models_more" if out_all else "clean.cost_out_models"
        parts.append(Message(key, out_models=out_models, n=n))
    if breakdowns:
        parts.append(Message("clean.cost_breakdowns", breakdowns=breakdowns))
    if margins:
        parts.append(Message("clean.cost_margins", margins=margins))
    return parts


def column_words(var) -> errors.Joined:
    """A column as a message names it: its question in the message's language, then its
    variable name ("Gender" (gender) / "Jenis kelamin" (gender))."""
    question = errors.Localised(id=var.question.id, en=var.question.en)
    return errors.Joined(['"', question, f'" ({var.name})'], "")


def _stop_for_loss(stops, ctx) -> None:
    rule, sub = max(stops, key=lambda s: s[0]["left_every_estimate"] + s[0]["left_models"])
    problem, n = rule["problem"], rule["respondents"]
    lost = rule["left_every_estimate"] + rule["left_models"]

    var = next((v for v in ctx.cb.variables if v.name == rule["column"]), None)
    col = column_words(var) if var is not None else f'"{rule["column"]}"'
    first = sub.index[0] if len(sub) else None
    src = sub.at[first, "source_file"] if first is not None else ctx.cfg.source.name
    share = f"{100 * lost / n:.0f}%" if n else "0%"
    limit = f"{100 * ctx.cfg.cleaning.max_loss_share:g}%"
    parts = cost_parts(
        n, rule["left_every_estimate"], rule["left_models"], "", rule["lost_margins"]
    )
    cost = [errors.Joined(parts, "; ")]
    if not rule["lost_margins"]:
        cost.append(Message("clean.over_limit", share=share, limit=limit))
    more = len(stops) - 1
    raise errors.InputError(
        Message(
            "clean.stop_for_loss",
            where=errors.located(src),
            column=col,
            touched=rule["values_touched"],
            what=Message(f"clean.problem.{problem}.what"),
            fix=Message(f"clean.problem.{problem}.fix"),
            examples=rule["examples"],
            cost=errors.Joined(cost, ""),
            more=Message("clean.more_problems", more=more) if more else "",
            accept=f"'cleaning: {{accept_loss: [{problem}]}}'",
            config=ctx.cfg.source.name,
        )
    )


RULES = (
    normalise,
    missing_codes,
    consent,
    submitted,
    duplicates,
    places,
    categorical,
    multi_select,
    yes_no,
    likert,
    numbers,
    replicate_weights,
    other_dates,
    not_asked,
    derive,
    quality_flags,
    account_losses,
)


def clean_wave(
    raw: pd.DataFrame, cfg: SurveyConfig, cb: Codebook, wave: Wave
) -> tuple[pd.DataFrame, CleaningLog]:
    """Apply every rule in order to one ingested wave; return tidy data and its log."""
    log = CleaningLog()
    ctx = Context(cfg, cb, wave)
    df = raw.copy()
    log.record("rows_in", "Rows read from the raw files", pd.Series(True, index=df.index))
    for rule in RULES:
        df = rule(df, ctx, log)
    log.record("rows_out", "Rows in the processed data", pd.Series(True, index=df.index))
    df = df.reset_index(drop=True)
    df = df[_order(df, cb)]
    from pipelines import schema  # pandera, imported when data are cleaned (not by `check`)

    schema.validate_processed(df, cfg, cb)  # a failure here is a bug in a rule, not bad input
    return df, log


def _order(df: pd.DataFrame, cb: Codebook) -> list[str]:
    first = [
        "wave",
        "respondent_key",
        "key_source",
        "source_file",
        "source_row",
        "site",
        "kecamatan",
        "kelurahan",
    ]
    body = [
        c
        for v in cb.variables
        for c in ([*v.option_columns().values()] if v.type == "multiselect" else [v.name])
        if c in df and c not in first
    ]
    derived = [c for c in derived_specs(cb) if c in df and c not in first + body]
    rest = [c for c in df.columns if c not in first + body + derived]
    return [c for c in first if c in df] + body + derived + rest


# --- across waves ------------------------------------------------------------------------------


def panel(waves: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Respondents (by pseudonymous key) present in more than one wave, long format."""
    both = pd.concat(waves.values(), ignore_index=True)
    both = both[both["respondent_key"].notna()]
    pairs = both.loc[both["wave"].notna(), ["respondent_key", "wave"]].drop_duplicates()
    linked = pairs.loc[pairs["respondent_key"].duplicated(), "respondent_key"]  # in 2+ waves
    return both[both["respondent_key"].isin(linked)].sort_values(["respondent_key", "wave"])


def attrition(waves: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """For each consecutive pair of waves: how many of the first were found again."""
    ids = list(waves)
    rows = []
    for a, b in zip(ids, ids[1:], strict=False):
        ka = set(waves[a]["respondent_key"].dropna())
        kb = set(waves[b]["respondent_key"].dropna())
        rows.append(
            {
                "from_wave": a,
                "to_wave": b,
                "n_from": len(ka),
                "n_to": len(kb),
                "linked": len(ka & kb),
                "retention": len(ka & kb) / len(ka) if ka else np.nan,
            }
        )
    return pd.DataFrame(rows)


# Cleaning rules that set a value missing because it was out of range, not an option or not a
# possible date: counted together in quality.json's "flagged" and in the console summary.
FLAGGED_VALUES = {
    "out_of_range": ("impossible_value", "impossible_age", "likert_out_of_scale"),
    "unknown_option": (
        "unknown_category",
        "multiselect_unknown",
        "multiselect_option_unknown",
        "unknown_yes_no",
    ),
    "impossible_date": ("unknown_date", "parse_*"),
}


def flagged_kind(rule: str) -> str | None:
    """Which kind of flagged value (see FLAGGED_VALUES) a cleaning rule reports, if any."""
    for kind, rules in FLAGGED_VALUES.items():
        if any(rule == r or (r.endswith("*") and rule.startswith(r[:-1])) for r in rules):
            return kind
    return None


def flagged_values(summary: pd.DataFrame) -> tuple[dict[str, int], dict[str, list[dict]]]:
    """Counts of values flagged per kind and, per kind, each column's count and masked examples."""
    counts = dict.fromkeys(FLAGGED_VALUES, 0)
    examples: dict[str, list[dict]] = {k: [] for k in FLAGGED_VALUES}
    for rec in summary.to_dict("records"):
        kind = flagged_kind(str(rec["rule"]))
        if kind is None or not rec["values_touched"]:
            continue
        counts[kind] += int(rec["values_touched"])
        examples[kind].append(
            {
                "column": rec["column"],
                "rule": rec["rule"],
                "n": int(rec["values_touched"]),
                "examples": rec["examples"],
            }
        )
    return counts, examples


def quality(raw: pd.DataFrame, clean: pd.DataFrame, log: CleaningLog, cb: Codebook) -> dict:
    """Counts in, removed and why, flags (rows flagged for review and values set missing as out
    of range, unknown or impossible, with masked examples), questions not asked, and item
    missingness: the data-quality summary."""
    summary = log.summary()
    s = summary.set_index("rule")
    removed = {
        r: int(s.loc[r, "rows_touched"])
        for r in ("no_consent", "duplicate_submission")
        if r in s.index
    }
    items = [v.name for v in cb.variables if v.name in clean and v.type not in ("text",)]
    items += [c for v in cb.by_type("multiselect") for c in multiselect.option_columns_in(clean, v)]
    counts, examples = flagged_values(summary)
    asked = summary[summary["rule"].eq("not_asked")]
    return {
        "rows_in": len(raw),
        "rows_out": len(clean),
        "removed": removed,
        "flagged": {**{f: int(clean[f].sum()) for f in FLAGS if f in clean}, **counts},
        "flagged_examples": examples,
        "not_asked": {
            str(c): int(n) for c, n in zip(asked["column"], asked["rows_touched"], strict=True)
        },
        # respondents the analysis leaves out: no stratum/cluster; missing a covariate
        "left_out": {
            r: int(s.loc[r, "rows_touched"])
            for r in ("out_of_design", "out_of_models")
            if r in s.index
        },
        "item_missing_share": {c: round(float(clean[c].isna().mean()), 4) for c in items},
    }


def dictionary(cb: Codebook, columns: list[str]) -> pd.DataFrame:
    """The data dictionary of the processed data, generated from the codebook."""
    rows = []
    by_name = {x.name: x for x in cb.variables}  # looked up once: a Kobo form has hundreds
    option_of = {col: x for x in cb.by_type("multiselect") for col in x.option_columns().values()}
    other_of = {multiselect.other_text_column(x): x for x in cb.variables}
    for c in columns:
        v, ms = by_name.get(c), option_of.get(c)
        if ms is not None:
            lvl = ms.options[c.split(multiselect.SEP)[1]]
            rows.append(
                {
                    "variable": c,
                    "type": "multiselect option",
                    "question_id": f"{ms.question.id}: {lvl.id}",
                    "question_en": f"{ms.question.en}: {lvl.en}",
                    "values": "1 = dipilih / selected; 0 = tidak dipilih / not selected",
                }
            )
            continue
        other = other_of.get(c)
        if v is None and other is not None:
            rows.append(
                {
                    "variable": c,
                    "type": "text (other, specify)",
                    "question_id": f"{other.question.id}: lainnya (sebutkan)",
                    "question_en": f"{other.question.en}: other (please specify)",
                    "values": "free text, personal data masked",
                }
            )
            continue
        if v is None:
            rows.append(
                {
                    "variable": c,
                    "type": "derived",
                    "question_id": "",
                    "question_en": "",
                    "values": "",
                }
            )
            continue
        if v.levels:
            values = "; ".join(f"{k} = {lvl.id} / {lvl.en}" for k, lvl in v.levels.items())
        elif v.labels:
            values = "; ".join(f"{k} = {t.id} / {t.en}" for k, t in cb.label_set(v).labels.items())
        elif v.type == "yesno":
            values = "1 = Ya / Yes; 0 = Tidak / No"
        else:
            values = f"range {v.range[0]:g}–{v.range[1]:g}" if v.range else ""
        scale = next((n for n, s in cb.scales.items() if c in s.items), "")
        rows.append(
            {
                "variable": c,
                "type": v.type,
                "question_id": v.question.id,
                "question_en": v.question.en,
                "values": values,
                "scale": scale,
                "reverse_coded": any(c in s.reverse for s in cb.scales.values()),
            }
        )
    return pd.DataFrame(rows)
