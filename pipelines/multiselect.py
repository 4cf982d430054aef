"""Multi-select ("tick all that apply") questions, in every shape the export tools write them.

A codebook variable of type `multiselect` lists its `options` (code: labels). The processed data
hold one 0/1 column per option, `<variable>__<code>`; a row that did not answer the question has
missing values in all of them. The raw exports come in two shapes:

* one column for the question: Kobo's space-separated choice codes (`borrow internet`), Google
  Forms' comma-separated labels (`Meminjam buku, Internet dan komputer`), or labels joined by `;`
  (as `pipelines.xlsform` translates Kobo codes);
* one column per option: Kobo `group/question/option` (1/0), the same read into R
  (`question.option`, TRUE/FALSE), SurveyMonkey's two-row header (`question - Option label`, the
  label in ticked cells and blanks elsewhere), SPSS/Stata dichotomies (`question - Option`,
  value labels Ya/Tidak or 1/0).

`split_option_columns` (ingest) renames per-option columns to `<variable>__<code>` and drops the
question's own column, which is redundant then; `parse_question` and `parse_option` (clean) turn
either shape into 0/1.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from pipelines.codebook import Codebook, Variable, header_key, unify_text

SEP = "__"
_SELECTED = {"1", "1 0", "true", "ya", "iya", "yes", "y", "selected", "dipilih", "checked", "x"}
_NOT_SELECTED = {
    "0",
    "0 0",
    "false",
    "tidak",
    "no",
    "n",
    "not selected",
    "tidak dipilih",
    "unchecked",
}
_SKIPPED = {"n a", "na"}  # N/A, n/a, NA, #N/A: the question was not asked (Kobo, R)
_HEADER_SEPARATORS = ("/", ".", " - ", ": ")
_OTHER_WORDS = {"other", "others", "lainnya", "lain lain", "lain", "yang lain", "other option"}
# "Other (please specify)", "Lainnya (sebutkan)", "Other, specify": a free-text answer column
_SPECIFY = re.compile(
    r"^(?:other|others|lainnya|lain lain|lain)\b.*\b(?:specify|sebutkan|tuliskan|isi)\b"
)


def fold(x) -> str:
    """Case-, punctuation- and spacing-insensitive key of a label or code (curly and straight
    apostrophes, dashes and non-breaking spaces unified first, see codebook.unify_text)."""
    t = unify_text(x).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", t).split())


def option_lookup(v: Variable) -> dict[str, str]:
    """Every known spelling of every option (code, Indonesian, English, matches) -> code."""
    table: dict[str, str] = {}
    for code, lvl in v.options.items():
        for text in [code, lvl.id, lvl.en, *lvl.match]:
            table.setdefault(fold(text), code)
    return table


def _header_keys(v: Variable, overrides: dict[str, str]) -> set[str]:
    texts = [v.name, *v.aliases, v.question.id, v.question.en]
    texts += [h for h, var in overrides.items() if var == v.name]
    return {header_key(t) for t in texts}


def _splits(header: str):
    """(question part, option part) candidates of a per-option header."""
    for sep in _HEADER_SEPARATORS:
        if sep not in header:
            continue
        parent, option = header.rsplit(sep, 1)
        yield parent, option
        if sep in parent:  # R turns `group/question/option` into `group.question.option`
            yield parent.rsplit(sep, 1)[1], option


def split_option_columns(
    df: pd.DataFrame,
    cb: Codebook,
    overrides: dict[str, str],
    option_labels: Callable[[str, str], list[str]] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Rename one-column-per-option headers to `<variable>__<code>`; drop the question's own
    column when its options have columns. `option_labels(question_header, code)` may give more
    spellings of an option (an XLSForm's choice labels). Returns the frame and the renamed
    columns."""
    renamed: list[str] = []
    for v in cb.by_type("multiselect"):
        keys, table = _header_keys(v, overrides), option_lookup(v)
        renames: dict[str, str] = {}
        for h in df.columns:
            if h in ("source_file", "source_row") or SEP in str(h):
                continue
            for parent, option in _splits(str(h)):
                if header_key(parent) not in keys:
                    continue
                texts = [option, *(option_labels(parent, option) if option_labels else [])]
                code = next((table[fold(t)] for t in texts if fold(t) in table), None)
                target = f"{v.name}{SEP}{code}" if code else None
                if target and target not in renames.values():
                    renames[h] = target
                    break
        if renames:
            parent_cols = [h for h in df.columns if h not in renames and header_key(h) in keys]
            df = df.drop(columns=parent_cols).rename(columns=renames)
            renamed += list(renames.values())
    return df, renamed


# --- "Other (please specify)" ------------------------------------------------------------------

TEXT_SUFFIX = "_text"


def other_code(v: Variable) -> str | None:
    """The option (multiselect) or level (categorical) that stands for "other", if any."""
    choices = v.options if v.type == "multiselect" else v.levels
    for code, lvl in choices.items():
        if any(fold(t) in _OTHER_WORDS for t in [code, lvl.id, lvl.en, *lvl.match]):
            return code
    return None


def other_text_column(v: Variable) -> str | None:
    """Processed column of the free text that goes with the "other" answer of `v`:
    `<variable>__<other code>_text` (masked like every free text)."""
    code = other_code(v)
    return f"{v.name}{SEP}{code}{TEXT_SUFFIX}" if code else None


def _is_text(col: pd.Series, v: Variable, code: str) -> bool:
    """Whether a column holds typed answers rather than ticks (1/0, TRUE/FALSE, the label)."""
    own = {fold(t) for t in [code, v.options[code].id, v.options[code].en]} if v.options else set()
    keys = {fold(x) for x in pd.unique(col.dropna().astype(str))} - {""}
    return bool(keys - _SELECTED - _NOT_SELECTED - _SKIPPED - own)


def _other_kind(header: str, keys: set[str], col: pd.Series, v: Variable, code: str) -> bool:
    """Whether `header` is the specify-text column of `v`'s "other" answer: Kobo
    `<question>_other`, `<question>/other` or `.other` holding text, SurveyMonkey
    `<question> - Other (please specify)`."""
    h = str(header)
    for suffix in ("_other", "_lainnya"):
        if h.endswith(suffix) and header_key(h[: -len(suffix)]) in keys:
            return True
    for parent, option in _splits(h):
        if header_key(parent) not in keys:
            continue
        if _SPECIFY.match(fold(option)):
            return True
        if fold(option) in _OTHER_WORDS | {fold(code)} and _is_text(col, v, code):
            return True
    return False


def split_other_text(
    df: pd.DataFrame, cb: Codebook, overrides: dict[str, str]
) -> tuple[pd.DataFrame, list[str]]:
    """Rename "Other (please specify)" columns to `<variable>__<code>_text` (multi-select and
    categorical questions with an "other" answer); where a multi-select export has no tick
    column for "other" (SurveyMonkey), one is added: ticked wherever text was typed, "N/A"
    where the text column says the question was not asked. Returns the frame and the text
    columns. Run before :func:`split_option_columns` (a Kobo `/other` column may hold text)."""
    texts: list[str] = []
    for v in cb.by_type("multiselect", "categorical"):
        code, target = other_code(v), other_text_column(v)
        if code is None or target in df:
            continue
        keys = _header_keys(v, overrides)
        h = next(
            (
                h
                for h in df.columns
                if h not in ("source_file", "source_row")
                and SEP not in str(h)
                and _other_kind(h, keys, df[h], v, code)
            ),
            None,
        )
        if h is None:
            continue
        df = df.rename(columns={h: target})
        texts.append(target)
    return df, texts


def add_other_ticks(df: pd.DataFrame, cb: Codebook, texts: list[str]) -> list[str]:
    """For multi-select questions exported one column per option without a tick column for
    "other": `<variable>__<other>` from its text (1 where typed), added to `df` in place.
    Returns the columns added."""
    added = []
    for v in cb.by_type("multiselect"):
        target, code = other_text_column(v), other_code(v)
        tick = f"{v.name}{SEP}{code}" if code else None
        if target not in texts or tick in df or not option_columns_in(df, v):
            continue
        text = df[target].astype(str).str.strip()
        keys = text.map(fold)
        typed = text.ne("") & text.ne("nan")
        df[tick] = np.where(keys.isin(_SKIPPED), "N/A", np.where(typed, "1", ""))
        added.append(tick)
    return added


def option_columns_in(df: pd.DataFrame, v: Variable) -> list[str]:
    """The per-option columns of `v` present in `df`, in codebook order."""
    return [c for c in v.option_columns().values() if c in df]


# --- parsing -----------------------------------------------------------------------------------


def _match_pieces(pieces: list[str], table: dict[str, str]) -> list[str] | None:
    """Split a label list into options, allowing labels that themselves contain commas."""
    best: list[list[str] | None] = [None] * (len(pieces) + 1)
    best[0] = []
    for i in range(1, len(pieces) + 1):
        for j in range(i):
            if best[j] is None:
                continue
            code = table.get(fold(" ".join(pieces[j:i])))
            if code is not None:
                best[i] = [*best[j], code]
                break
    return best[-1]


def _selected_codes(text: str, v: Variable, table: dict[str, str]) -> tuple[set[str] | None, bool]:
    """Codes ticked in one cell, and whether an unlisted answer was counted as 'other'."""
    pieces = [p for p in re.split(r"\s*[,;|]\s*", text) if p.strip()]
    got = _match_pieces(pieces, table)
    if got is not None:
        return set(got), False
    tokens = text.split()
    codes = {fold(c): c for c in v.options}
    if tokens and all(fold(t) in codes for t in tokens):  # Kobo: space-separated codes
        return {codes[fold(t)] for t in tokens}, False
    if "other" in v.options:  # Google Forms "Lainnya: ..." free answer: counted, never kept
        return {table.get(fold(p), "other") for p in pieces}, True
    return None, False


def parse_question(s: pd.Series, v: Variable) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """One question column -> 0/1 frame (Int64, a column per option); masks of cells not
    understood (set missing) and of cells with an unlisted answer counted as 'other'."""
    table = option_lookup(v)
    cols = v.option_columns()
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    n_opt = len(cols)
    vals = np.zeros((len(uniques) + 1, n_opt), dtype="int64")
    na = np.ones((len(uniques) + 1, n_opt), dtype=bool)
    bad = np.zeros(len(uniques) + 1, dtype=bool)
    other = np.zeros(len(uniques) + 1, dtype=bool)
    for i, u in enumerate(uniques):
        text = str(u).strip()
        if not text:
            continue
        got, was_other = _selected_codes(text, v, table)
        if got is None:
            bad[i] = True
            continue
        vals[i] = [int(c in got) for c in cols]
        na[i] = False
        other[i] = was_other
    out = pd.DataFrame(
        {
            c: pd.arrays.IntegerArray(vals[codes, k], na[codes, k])
            for k, c in enumerate(cols.values())
        },
        index=s.index,
    )
    return out, pd.Series(bad[codes], index=s.index), pd.Series(other[codes], index=s.index)


def parse_option(s: pd.Series, v: Variable, code: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """One per-option column -> 0/1 (Int64): 1/0, TRUE/FALSE, Ya/Tidak, or the option's own
    label in a ticked cell (SurveyMonkey). Blank stays missing here; N/A (not asked) is missing
    too and never becomes 0. Returns (values, invalid, not asked)."""
    own = {fold(t) for t in [code, v.options[code].id, v.options[code].en, *v.options[code].match]}

    def one(x) -> int | None | str:
        k = fold(x) if isinstance(x, str) else ("" if pd.isna(x) else fold(x))
        if not k:
            return "blank"
        if k in _SKIPPED:
            return "skipped"
        if k in _SELECTED or k in own:
            return 1
        if k in _NOT_SELECTED:
            return 0
        return None

    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    res = [one(u) for u in uniques] + ["blank"]
    ints = np.array([r if isinstance(r, int) else 0 for r in res], dtype="int64")
    missing = np.array([not isinstance(r, int) for r in res])
    bad = np.array([r is None for r in res])
    skipped = np.array([r == "skipped" for r in res])
    values = pd.Series(pd.arrays.IntegerArray(ints[codes], missing[codes]), index=s.index)
    return values, pd.Series(bad[codes], index=s.index), pd.Series(skipped[codes], index=s.index)
