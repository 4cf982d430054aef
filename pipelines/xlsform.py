"""XLSForm (the Kobo/ODK form definition): choice codes in an export translated to their labels.

Kobo exports answers of `select_one` and `select_multiple` questions as choice *codes* (`opt_2`,
`sma`, `a4`). When a wave's file names its form (`xlsform: form.xlsx`), the form's `survey` sheet
(`type`, `name`) says which list each question uses and its `choices` sheet (`list_name`, `name`,
`label::Indonesian (id)`, `label::English (en)`, ...) gives the labels, so the codebook can match
answers by their label as it does for Google Forms. Codes the form does not list are left as
they are (and then logged by cleaning if the codebook does not know them either).

:func:`codebook_from_xlsform` turns a form (``.xlsx`` or legacy ``.xls``) into a codebook:
select_one/select_multiple with their lists, integer/decimal constraints as ranges, ``relevant``
kept so cleaning can tell "not asked" from "not answered" (:func:`relevant_mask`), labels per
language (``label::Indonesian (id)``, ``label::English (en)``, plain ``label``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from pipelines import i18n
from pipelines.errors import InputError, Message, at


@dataclass(frozen=True)
class XLSForm:
    questions: dict[str, tuple[str, str]]  # question name -> (select_one|select_multiple, list)
    labels: dict[str, dict[str, list[str]]]  # list -> code -> labels, preferred language first

    def question_of(self, header: str) -> str | None:
        """The form's question behind an export header: `q`, `group/q`, R's `group.q`."""
        h = str(header).lstrip("\ufeff")
        for cand in (h, h.rsplit("/", 1)[-1], h.rsplit(".", 1)[-1], re.sub(r"^X_", "_", h)):
            if cand in self.questions:
                return cand
        return None

    def option_labels(self, question_header: str, code: str) -> list[str]:
        q = self.question_of(question_header)
        if q is None:
            return []
        return self.labels.get(self.questions[q][1], {}).get(str(code).strip(), [])

    def translate(self, df: pd.DataFrame) -> tuple[pd.DataFrame, int]:
        """Codes -> preferred label in every select column; returns the frame and cells changed."""
        changed = 0
        for h in df.columns:
            q = self.question_of(h) if h not in ("source_file", "source_row") else None
            if q is None:
                continue
            kind, lst = self.questions[q]
            table = {c: labs[0] for c, labs in self.labels.get(lst, {}).items() if labs}
            if not table:
                continue

            def one(x, kind=kind, table=table):
                t = str(x).strip()
                if kind == "select_one":
                    return table.get(t, x)
                codes = t.split()
                if codes and all(c in table for c in codes):
                    return "; ".join(table[c] for c in codes)
                return x

            new = df[h].map(one)
            changed += int((new != df[h]).sum())
            df[h] = new
        return df, changed


def _label_columns(cols: list[str]) -> list[str]:
    """Label columns, Indonesian first, then English, then any other."""
    labels = [c for c in cols if c.split("::")[0].strip().lower() == "label"]

    def rank(c: str) -> int:
        low = c.lower()
        if "indonesia" in low or "(id)" in low or "bahasa" in low:
            return 0
        if "english" in low or "(en)" in low:
            return 1
        return 2

    return sorted(labels, key=rank)


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Excel 97-2003 (.xls) files start so


def excel_engine(path: Path) -> str:
    """The pandas engine for an Excel file by its first bytes, not its name: ``xlrd`` for
    legacy .xls (Kobo and ODK still offer forms in it); for .xlsx ``calamine`` (Rust, about
    10x faster than openpyxl on a survey export, same text), ``openpyxl`` without it."""
    with open(path, "rb") as fh:
        if fh.read(8) == OLE2:
            return "xlrd"
    return "calamine" if _has_calamine() else "openpyxl"


@lru_cache(maxsize=1)
def _has_calamine() -> bool:
    import importlib.util

    return importlib.util.find_spec("python_calamine") is not None


def excel_file(path: Path) -> pd.ExcelFile:
    """An Excel file opened with the engine its bytes call for (see :func:`excel_engine`)."""
    import warnings

    with warnings.catch_warnings():  # pandas 3 announces calamine; xlrd reads .xls today
        warnings.filterwarnings("ignore", message="The xlrd engine is deprecated")
        return pd.ExcelFile(path, engine=excel_engine(path))


def _fail(path: Path, name: str, /, row=None, column=None, **fields) -> InputError:
    """'In file X, row R, column "C": <message name>' as an InputError."""
    return InputError(at(Path(path).name, Message(name, **fields), row, column))


def read_sheets(path: Path) -> dict[str, pd.DataFrame]:
    """The survey, choices (and settings, if any) sheets of an XLSForm, .xlsx or .xls, as text;
    sheet and column names trimmed, sheet names lower-cased."""
    path = Path(path)
    try:
        sheets = pd.read_excel(excel_file(path), sheet_name=None, dtype=str)
    except FileNotFoundError:
        raise _fail(
            path,
            "xlsform.not_found",
        ) from None
    except ImportError:
        raise _fail(
            path,
            "xlsform.no_xlrd",
        ) from None
    except Exception:  # noqa: BLE001 - openpyxl and xlrd raise many kinds for a damaged file
        raise _fail(
            path,
            "xlsform.unreadable",
        ) from None
    sheets = {
        k.strip().lower(): v.rename(columns=lambda c: str(c).strip()) for k, v in sheets.items()
    }
    for name, need in (("survey", {"type", "name"}), ("choices", {"list_name", "name"})):
        cols = set(sheets.get(name, pd.DataFrame()).columns)
        if name not in sheets or not need <= cols:
            raise _fail(
                path,
                "xlsform.no_sheet",
                name=name,
                columns=", ".join(sorted(need)),
            )
    return sheets


def read_xlsform(path: Path) -> XLSForm:
    """Read the survey and choices sheets of an XLSForm (.xlsx or legacy .xls)."""
    sheets = read_sheets(path)
    questions: dict[str, tuple[str, str]] = {}
    for t, n in sheets["survey"][["type", "name"]].dropna().itertuples(index=False):
        m = re.match(r"^\s*(select_one|select_multiple)\s+(\S+)", t)
        if m:
            questions[n.strip()] = (m.group(1), m.group(2))
    ch = sheets["choices"]
    label_cols = _label_columns(list(ch.columns))
    labels: dict[str, dict[str, list[str]]] = {}
    for rec in ch.dropna(subset=["list_name", "name"]).to_dict("records"):
        labs = [str(rec[c]).strip() for c in label_cols if pd.notna(rec[c]) and str(rec[c]).strip()]
        labels.setdefault(rec["list_name"].strip(), {})[str(rec["name"]).strip()] = labs
    return XLSForm(questions, labels)


# --- XLSForm -> codebook ---------------------------------------------------------------------

_SKIP_TYPES = {
    "note", "calculate", "begin_group", "end_group", "begin group", "end group", "geopoint",
    "geotrace", "geoshape", "audit", "deviceid", "subscriberid", "simserial", "phonenumber",
    "username", "email", "image", "audio", "video", "file", "barcode", "acknowledge", "hidden",
    "xml-external", "start-geopoint", "background-audio", "rank",
}  # fmt: skip
_DATE_TYPES = {"today", "date", "datetime", "start", "end"}
_META_ROLES = {"start": "started_at", "end": "ended_at"}
# free-text questions whose answers are personal: never kept (dropped at ingest after the key)
_PERSONAL_HINTS = (
    ("nik", r"\bnik\b|nomor induk|national id"),
    ("phone", r"phone|telep|telp|\bhp\b|whatsapp|\bwa\b|handphone|nomor hp|mobile"),
    ("email", r"e-?mail|surel"),
    ("address", r"alamat|address"),
    ("name", r"\bnama\b|\bname\b|full_name|nama_lengkap"),
)


def _languages(cols: list[str]) -> tuple[str | None, str | None, str | None]:
    """(Indonesian, English, plain) label columns of a sheet, where present."""
    labels = [c for c in cols if c.split("::")[0].strip().lower() == "label"]
    idn = next((c for c in labels if re.search(r"indonesia|bahasa|\(id\)", c, re.I)), None)
    en = next((c for c in labels if re.search(r"english|\(en\)", c, re.I)), None)
    plain = next((c for c in labels if "::" not in c), None)
    return idn, en, plain


def _text_of(rec: dict, langs, fallback: str) -> dict[str, str]:
    """{id, en} from a row's labels: each language's own column, else the plain label, else
    the other language, else the name."""

    def get(c):
        v = rec.get(c) if c else None
        return str(v).strip() if v is not None and pd.notna(v) and str(v).strip() else None

    idn, en, plain = (get(c) for c in langs)
    return {"id": idn or plain or en or fallback, "en": en or plain or idn or fallback}


def _code(name: str, taken: set[str]) -> str:
    """A codebook option code (a-z, 0-9, _) for a choice name; unique within its list."""
    base = re.sub(r"[^a-z0-9_]+", "_", str(name).strip().lower()).strip("_") or "option"
    code, i = base, 2
    while code in taken:
        code, i = f"{base}_{i}", i + 1
    taken.add(code)
    return code


def _choices(sheets, langs) -> dict[str, dict[str, dict]]:
    """list_name -> {code: {id, en, match}} with every label and the original name in match."""
    out: dict[str, dict[str, dict]] = {}
    ch = sheets["choices"]
    label_cols = [c for c in ch.columns if c.split("::")[0].strip().lower() == "label"]
    for rec in ch.dropna(subset=["list_name", "name"]).to_dict("records"):
        lst = str(rec["list_name"]).strip()
        name = str(rec["name"]).strip()
        taken = {c for c in out.get(lst, {})}
        code = _code(name, taken)
        text = _text_of(rec, langs, name)
        extra = {str(rec[c]).strip() for c in label_cols if pd.notna(rec.get(c))}
        match = sorted({name, *extra} - {code, text["id"], text["en"], ""})
        out.setdefault(lst, {})[code] = {**text, "match": match}
    return out


_CMP = re.compile(r"^\s*\.\s*(>=|<=|>|<|=)\s*(-?\d+(?:\.\d+)?)\s*$")


def constraint_range(constraint: str, integer: bool) -> tuple[float, float] | None:
    """The range a numeric constraint allows: ". >= 0 and . <= 120" -> (0, 120); strict bounds
    of an integer move by one (". > 0" -> 1); a bound not given is infinite. None when the
    constraint is anything else (an "or", another question, a regex)."""
    if not isinstance(constraint, str) or not constraint.strip():
        return None
    lo, hi = float("-inf"), float("inf")
    for part in re.split(r"\band\b", constraint):
        m = _CMP.match(part.strip().strip("()"))
        if not m:
            return None
        op, v = m.group(1), float(m.group(2))
        step = 1.0 if integer else 0.0
        if op in (">=", "="):
            lo = max(lo, v)
        if op in ("<=", "="):
            hi = min(hi, v)
        if op == ">":
            lo = max(lo, v + step)
        if op == "<":
            hi = min(hi, v - step)
    return None if (lo, hi) == (float("-inf"), float("inf")) else (lo, hi)


def _personal_kind(name: str, label: str) -> str | None:
    text = f"{name} {label}".lower()
    return next((k for k, rx in _PERSONAL_HINTS if re.search(rx, text)), None)


def codebook_from_xlsform(path: Path, codebook_id: str | None = None):
    """A codebook (:class:`pipelines.codebook.Codebook`) from an XLSForm (.xlsx or .xls).

    Every question becomes a variable named as in the form (Kobo exports use those names as
    headers; the labels in each language are aliases too): select_one -> categorical with the
    list's choices as levels, select_multiple -> multiselect (one 0/1 column per choice),
    integer/decimal -> numeric with the constraint's range, text -> text (or personal when the
    name or label says name/phone/NIK/e-mail/address), date/start/end/today -> datetime
    (start/end with their roles), plus Kobo's ``_submission_time``. ``relevant`` (with the
    relevance of enclosing groups) is kept for cleaning, and such a question is not required in
    an export (Kobo leaves out the column of a question nobody was asked). A text question ``<select>_other`` is
    the "other, specify" answer of that select: it is not a variable of its own but kept,
    masked, beside the question's "other" option (``<question>__other_text``). Notes, calculations, GPS and repeats
    are left out. Choice names outside a-z, 0-9, _ get a code and keep the name in ``match``.
    """
    from pipelines.codebook import Codebook

    path = Path(path)
    sheets = read_sheets(path)
    survey = sheets["survey"]
    langs = _languages(list(survey.columns))
    choice_langs = _languages(list(sheets["choices"].columns))
    lists = _choices(sheets, choice_langs)
    settings = sheets.get("settings")
    info = settings.iloc[0].to_dict() if settings is not None and len(settings) else {}
    label_cols = [c for c in survey.columns if c.split("::")[0].strip().lower() == "label"]
    variables: list[dict] = [
        {
            "name": "submitted_at",
            "type": "datetime",
            "role": "submitted_at",
            "required": False,
            "question": {"id": "Waktu kirim", "en": "Submission time"},
            "aliases": ["_submission_time", "X_submission_time", "SubmissionDate"],
        }
    ]
    selects = {
        str(n).strip()
        for t, n in survey[["type", "name"]].dropna().itertuples(index=False)
        if re.match(r"^\s*select_(one|multiple)\s", str(t))
    }
    groups: list[str | None] = []  # relevance of each open group
    repeat = 0
    for i, rec in enumerate(survey.to_dict("records")):
        row = i + 2  # spreadsheet row (row 1 holds the headers)
        t = str(rec.get("type") or "").strip()
        name = str(rec.get("name") or "").strip()
        low = t.lower()
        kind = low.split()[0] if low else ""
        if low.startswith(("begin_group", "begin group", "begin_repeat", "begin repeat")):
            rel = rec.get("relevant")
            groups.append(str(rel).strip() if pd.notna(rel) and str(rel).strip() else None)
            repeat += "repeat" in low
            continue
        if low.startswith(("end_group", "end group", "end_repeat", "end repeat")):
            if "repeat" in low:
                repeat = max(0, repeat - 1)
            if groups:
                groups.pop()
            continue
        if not t or not name or repeat or kind in _SKIP_TYPES or low in _SKIP_TYPES:
            continue
        if kind == "text" and name.endswith("_other") and name[: -len("_other")] in selects:
            continue  # the "other, specify" text: kept with its question as <q>__other_text
        text = _text_of(rec, langs, name)
        aliases = sorted(
            {str(rec[c]).strip() for c in label_cols if pd.notna(rec.get(c))}
            - {text["id"], text["en"], ""}
        )
        rels = [g for g in groups if g]
        if pd.notna(rec.get("relevant")) and str(rec.get("relevant")).strip():
            rels.append(str(rec["relevant"]).strip())
        var: dict = {"name": name, "question": text, "aliases": [name, *aliases]}
        if rels:  # a question nobody was asked may be missing from the export altogether
            var["relevant"] = " and ".join(f"({r})" for r in rels) if len(rels) > 1 else rels[0]
            var["required"] = False
        m = re.match(r"^(select_one|select_multiple)\s+(\S+)(\s+or_other)?", t)
        if m:
            options = dict(lists.get(m.group(2), {}))
            if not options:
                raise _fail(
                    path,
                    "xlsform.no_choice_list",
                    name=name,
                    list=m.group(2),
                    row=row,
                    column="type",
                )
            if m.group(3) and "other" not in options:
                options["other"] = {"id": "Lainnya", "en": "Other", "match": []}
            key = "levels" if m.group(1) == "select_one" else "options"
            var |= {"type": "categorical" if key == "levels" else "multiselect", key: options}
        elif kind in ("integer", "decimal", "range"):
            var["type"] = "numeric"
            rng = constraint_range(rec.get("constraint"), integer=kind == "integer")
            if kind == "range":
                params = dict(re.findall(r"(\w+)\s*=\s*(-?[\d.]+)", str(rec.get("parameters"))))
                rng = (float(params.get("start", 1)), float(params.get("end", 10)))
            if rng:
                var["range"] = rng
        elif kind in _DATE_TYPES:
            var["type"] = "datetime"
            if kind in _META_ROLES:
                var |= {"role": _META_ROLES[kind], "required": False}
        elif kind in ("text", "string"):
            personal = _personal_kind(name, f"{text['id']} {text['en']}")
            var |= {"type": "personal", "personal": personal} if personal else {"type": "text"}
        elif kind == "time":
            var["type"] = "text"
        else:
            continue
        variables.append(var)
    title = str(info.get("form_title") or path.stem)
    data = {
        "id": codebook_id or str(info.get("form_id") or re.sub(r"\W+", "-", path.stem).lower()),
        "version": str(info.get("version") or "1"),
        "title": {"id": title, "en": title},
        "variables": variables,
    }
    return Codebook.model_validate(data)


# --- relevant: "not asked" -------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<ref>\$\{[^}]+\})|(?P<str>'[^']*'|\"[^\"]*\")|(?P<num>-?\d+(?:\.\d+)?)"
    r"|(?P<op>!=|>=|<=|=|>|<)|(?P<punct>[(),])|(?P<word>[A-Za-z][\w:-]*))"
)


class _Unsupported(Exception):
    """An expression this evaluator does not know: the rule is skipped, never guessed."""


def _tokens(expr: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    expr = expr.strip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise _Unsupported(expr[pos:])
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def relevant_mask(expr: str, df: pd.DataFrame, cb) -> pd.Series | None:
    """Where an XLSForm ``relevant`` expression is true, row by row, on cleaned data (level
    codes, 0/1 option columns, numbers), with ODK's rules for empty answers (``${x} = 'a'`` is
    false, ``!=`` true, ``selected`` false). Supports ``${q}``, literals, = != < <= > >=,
    and/or/not(), selected(), count-selected(), string-length(). None when the expression
    uses anything else or names a question the data lack (then nothing is set missing)."""
    try:
        toks = _tokens(expr)
        val, pos = _or(toks, 0, df, cb)
        if pos != len(toks):
            raise _Unsupported(expr)
        return _truth(val, df).astype(bool)
    except (_Unsupported, KeyError, StopIteration, IndexError):
        return None


class _Ref:
    def __init__(self, name: str, df: pd.DataFrame, cb):
        self.var = next((v for v in cb.variables if v.name == name), None)
        if self.var is None:
            raise _Unsupported(name)
        cols = self.var.option_columns().values() if self.var.type == "multiselect" else []
        if self.var.name not in df and not any(c in df for c in cols):
            raise _Unsupported(name)
        self.df = df

    def values(self) -> pd.Series:
        v = self.var
        if v.type == "multiselect":
            return self.count()
        return self.df[v.name]

    def code(self, literal: str):
        """A form literal as the cleaned data hold it (a level code, 1/0, a number)."""
        v, lit = self.var, str(literal)
        if v.type == "yesno":
            return {"yes": 1, "ya": 1, "true": 1, "1": 1, "no": 0, "tidak": 0}.get(lit.lower())
        if v.type in ("numeric", "currency"):
            return float(lit)
        table = v.levels or v.options
        for code, lvl in table.items():
            if lit in (code, *lvl.match):
                return code
        return lit

    def selected(self, literal: str) -> pd.Series:
        code = self.code(literal)
        if self.var.type == "multiselect":
            col = f"{self.var.name}__{code}"
            if col not in self.df:
                raise _Unsupported(col)
            return self.df[col].eq(1).fillna(False).astype(bool)
        return self.df[self.var.name].astype(object).eq(code).fillna(False).astype(bool)

    def count(self) -> pd.Series:
        cols = [c for c in self.var.option_columns().values() if c in self.df]
        sub = self.df[cols].astype("float64")
        return sub.sum(axis=1).where(sub.notna().any(axis=1))


def _or(toks, pos, df, cb):
    left, pos = _and(toks, pos, df, cb)
    while pos < len(toks) and toks[pos] == ("word", "or"):
        right, pos = _and(toks, pos + 1, df, cb)
        left = _truth(left, df) | _truth(right, df)
    return left, pos


def _and(toks, pos, df, cb):
    left, pos = _cmp(toks, pos, df, cb)
    while pos < len(toks) and toks[pos] == ("word", "and"):
        right, pos = _cmp(toks, pos + 1, df, cb)
        left = _truth(left, df) & _truth(right, df)
    return left, pos


def _cmp(toks, pos, df, cb):
    left, pos = _term(toks, pos, df, cb)
    if pos < len(toks) and toks[pos][0] == "op":
        op = toks[pos][1]
        right, pos = _term(toks, pos + 1, df, cb)
        return _compare(left, op, right, df), pos
    return left, pos


def _compare(a, op: str, b, df) -> pd.Series:
    if isinstance(b, _Ref) and not isinstance(a, _Ref):
        a, b = b, a
        op = {">": "<", "<": ">", ">=": "<=", "<=": ">="}.get(op, op)
    if isinstance(a, _Ref):
        x = a.values()
        y = (
            a.code(b)
            if isinstance(b, str | float | int)
            else (b.values() if isinstance(b, _Ref) else b)
        )
    else:
        x, y = a, b
    if isinstance(y, str) and not isinstance(x, pd.Series):
        raise _Unsupported(op)
    if op in ("=", "!="):
        same = pd.Series(x, index=df.index).astype(object).eq(y).fillna(False).astype(bool)
        return same if op == "=" else ~same
    xf = pd.to_numeric(pd.Series(x, index=df.index), errors="coerce")
    yf = (
        pd.to_numeric(pd.Series(y, index=df.index), errors="coerce")
        if isinstance(y, pd.Series)
        else float(y)
    )
    res = {">": xf > yf, "<": xf < yf, ">=": xf >= yf, "<=": xf <= yf}[op]
    return res.fillna(False).astype(bool)


def _term(toks, pos, df, cb):
    kind, text = toks[pos]
    if kind == "ref":
        return _Ref(text[2:-1].strip(), df, cb), pos + 1
    if kind == "str":
        return text[1:-1], pos + 1
    if kind == "num":
        return float(text), pos + 1
    if (kind, text) == ("punct", "("):
        val, pos = _or(toks, pos + 1, df, cb)
        if toks[pos] != ("punct", ")"):
            raise _Unsupported(")")
        return val, pos + 1
    if kind == "word" and pos + 1 < len(toks) and toks[pos + 1] == ("punct", "("):
        args, pos = [], pos + 2
        while toks[pos] != ("punct", ")"):
            val, pos = _or(toks, pos, df, cb)
            args.append(val)
            if toks[pos] == ("punct", ","):
                pos += 1
        pos += 1
        return _call(text, args, df), pos
    if (kind, text) in (("word", "true"), ("word", "false")):
        return pd.Series(text == "true", index=df.index), pos + 1
    raise _Unsupported(text)


def _call(fn: str, args: list, df) -> pd.Series:
    if fn == "not" and len(args) == 1:
        return ~_truth(args[0], df)
    if fn == "selected" and len(args) == 2 and isinstance(args[0], _Ref):
        return args[0].selected(str(args[1]))
    if fn == "count-selected" and len(args) == 1 and isinstance(args[0], _Ref):
        return args[0].count()
    if fn == "string-length" and len(args) == 1 and isinstance(args[0], _Ref):
        return args[0].values().astype("string").str.len().fillna(0)
    raise _Unsupported(fn)


def _truth(val, df) -> pd.Series:
    if isinstance(val, _Ref):  # a bare ${q}: true when answered
        return val.values().notna().astype(bool)
    if isinstance(val, pd.Series):
        if val.dtype == bool:
            return val
        return val.fillna(0).astype(bool) if pd.api.types.is_numeric_dtype(val) else val.notna()
    return pd.Series(bool(val), index=df.index)


# --- codebook -> XLSForm and a question list for Google Forms ------------------------------

ID_LABEL, EN_LABEL = "label::Indonesian (id)", "label::English (en)"
YESNO_LIST = "ya_tidak"
YESNO_CHOICES = {"ya": ("Ya", "Yes"), "tidak": ("Tidak", "No")}
_META_TYPES = {"started_at": "start", "ended_at": "end"}
# what XLSForm has no type for travels in an extra column (XLSForm tools ignore unknown ones)
DAMPAK_TYPE = "dampak::type"
DAMPAK_ROLE = "dampak::role"


def _whole(x) -> bool:
    """True for a whole number; infinite bounds (no limit) count as whole."""
    return x is not None and (not math.isfinite(float(x)) or float(x).is_integer())


def _plain(x) -> str:
    """A number as a form writes it: 500000000, 2.5 (never 5e+08)."""
    x = float(x)
    return str(int(x)) if math.isfinite(x) and x.is_integer() else repr(x)


def _range_message(rng) -> tuple[str, str]:
    """'Isi angka 0 sampai 120' / 'Enter a number from 0 to 120' (or one bound)."""
    lo, hi = (
        f"{x:,.0f}".replace(",", ".") if math.isfinite(x) and float(x).is_integer() else _plain(x)
        for x in (float(v) for v in rng)
    )
    if not math.isfinite(float(rng[1])):
        return f"Isi angka paling kecil {lo}", f"Enter a number of at least {lo}"
    if not math.isfinite(float(rng[0])):
        return f"Isi angka paling besar {hi}", f"Enter a number of at most {hi}"
    return f"Isi angka {lo} sampai {hi}", f"Enter a number from {lo} to {hi}"


def _range_constraint(rng) -> str:
    lo, hi = rng
    parts = []
    if lo is not None and math.isfinite(float(lo)):
        parts.append(f". >= {_plain(lo)}")
    if hi is not None and math.isfinite(float(hi)):
        parts.append(f". <= {_plain(hi)}")
    return " and ".join(parts)


def form_rows(cb) -> tuple[list[dict], list[dict]]:
    """(survey rows, choices rows) of the XLSForm for a codebook; see :func:`export_form`."""
    survey: list[dict] = []
    choices: list[dict] = []
    lists: set[str] = set()

    def add_list(name: str, items: list[tuple[str, str, str]]) -> None:
        if name in lists:
            return
        lists.add(name)
        choices.extend(
            {"list_name": name, "name": code, ID_LABEL: idn, EN_LABEL: en}
            for code, idn, en in items
        )

    for v in cb.variables:
        row = {"type": "", "name": v.name, ID_LABEL: v.question.id, EN_LABEL: v.question.en}
        row["required"] = "yes" if v.required else ""
        extra = ""
        if v.type == "datetime" and v.role == "submitted_at":
            continue  # Kobo records it by itself (_submission_time): kept in settings
        if v.type == "datetime":
            row["type"] = _META_TYPES.get(v.role, "datetime")
        elif v.type == "yesno":
            add_list(YESNO_LIST, [(c, i, e) for c, (i, e) in YESNO_CHOICES.items()])
            row["type"] = f"select_one {YESNO_LIST}"
        elif v.type == "categorical" and v.levels:
            add_list(v.name, [(c, lv.id, lv.en) for c, lv in v.levels.items()])
            row["type"] = f"select_one {v.name}"
        elif v.type == "categorical":  # names from the config (sites, kelurahan): free text
            row["type"], extra = "text", "categorical"
        elif v.type == "multiselect":
            add_list(v.name, [(c, lv.id, lv.en) for c, lv in v.options.items()])
            row["type"] = f"select_multiple {v.name}"
        elif v.type == "likert" and v.labels:
            ls = cb.label_sets[v.labels]
            add_list(v.labels, [(str(c), t.id, t.en) for c, t in sorted(ls.labels.items())])
            row["type"], extra = f"select_one {v.labels}", "likert"
        elif v.type in ("likert", "numeric", "currency"):
            rng = v.range
            whole = rng is None or all(_whole(x) for x in rng)
            row["type"] = "integer" if whole or v.type == "likert" else "decimal"
            extra = "" if v.type == "numeric" else v.type
            if rng is not None:
                row["constraint"] = _range_constraint(rng)
                idn, en = _range_message(rng)
                row["constraint_message::Indonesian (id)"] = idn
                row["constraint_message::English (en)"] = en
        elif v.type == "personal":
            row["type"], extra = "text", f"personal {v.personal}"
        else:  # text, identifier
            row["type"], extra = "text", "" if v.type == "text" else v.type
        row[DAMPAK_TYPE] = extra
        row[DAMPAK_ROLE] = v.role or ""
        row["relevant"] = getattr(v, "relevant", None) or ""  # when the codebook keeps it
        survey.append(row)
    return survey, choices


def export_form(cb, out: Path) -> list[Path]:
    """Write `<id>.xlsx` (an XLSForm: survey, choices, settings; labels in Indonesian and
    English; select lists, integer/decimal constraints from ranges) and `<id>-questions.md` /
    `.csv` (the questions and their answer options for building a Google Form), so the next
    wave is collected already matching the codebook."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    survey, choices = form_rows(cb)
    cols = ["type", "name", ID_LABEL, EN_LABEL, "required", "relevant", "constraint",
            "constraint_message::Indonesian (id)", "constraint_message::English (en)",
            DAMPAK_TYPE, DAMPAK_ROLE]  # fmt: skip
    s = pd.DataFrame(survey).reindex(columns=cols).fillna("")
    c = pd.DataFrame(choices, columns=["list_name", "name", ID_LABEL, EN_LABEL])
    settings = pd.DataFrame(
        [{"form_title": cb.title.id, "form_id": cb.id, "version": cb.version,
          "default_language": "Indonesian (id)", "dampak::title_en": cb.title.en}]
    )  # fmt: skip
    sub = cb.by_role("submitted_at")
    if sub is not None:
        settings["dampak::submitted_at"] = sub.name
        settings["dampak::submitted_at_id"] = sub.question.id
        settings["dampak::submitted_at_en"] = sub.question.en
        settings["dampak::submitted_at_required"] = "yes" if sub.required else "no"
    form = out / f"{cb.id}.xlsx"
    with pd.ExcelWriter(form, engine="openpyxl") as xl:
        s.to_excel(xl, sheet_name="survey", index=False)
        c.to_excel(xl, sheet_name="choices", index=False)
        settings.to_excel(xl, sheet_name="settings", index=False)
    md, csv_rows = _question_list(cb)
    md_path, csv_path = out / f"{cb.id}-questions.md", out / f"{cb.id}-questions.csv"
    md_path.write_text(md, encoding="utf-8")
    pd.DataFrame(csv_rows).to_csv(csv_path, index=False, encoding="utf-8-sig")
    return [form, md_path, csv_path]


CODEBOOK_LANGS = ("id", "en")  # the codebook's text languages: the question list shows both


def _answers_of(cb, v) -> list[tuple[str, str]]:
    if v.type == "yesno":
        return list(YESNO_CHOICES.values())
    if v.type == "likert" and v.labels:
        return [(t.id, t.en) for _, t in sorted(cb.label_sets[v.labels].labels.items())]
    items = v.levels if v.type == "categorical" else v.options
    return [(lv.id, lv.en) for lv in items.values()]


def _question_list(cb) -> tuple[str, list[dict]]:
    """Markdown and CSV rows: every question a person answers, in both languages."""
    lines = [
        f"# {cb.title.id} / {cb.title.en}",
        "",
        *(i18n.t("question_list.intro", x) for x in CODEBOOK_LANGS),
        "",
    ]
    rows = []
    n = 0
    for v in cb.variables:
        if v.type == "datetime" and v.role in ("submitted_at", "started_at", "ended_at"):
            continue  # Google Forms records the time itself
        n += 1
        req = " *" if v.required else ""
        lines.append(f"{n}. **{v.question.id}**{req}  ")
        lines.append(f"   _{v.question.en}_  ")
        kind = {x: i18n.t(f"question_list.kind.{v.type}", x) for x in CODEBOOK_LANGS}
        lines.append(f"   {' / '.join(kind.values())}" + (
            f"; {v.range[0]:g}-{v.range[1]:g}" if v.range and v.type != "likert" else ""))  # fmt: skip
        answers = _answers_of(cb, v) if v.type in ("yesno", "categorical", "likert",
                                                    "multiselect") else []  # fmt: skip
        if v.type == "likert" and not v.labels and v.range:
            answers = [(f"{k}", f"{k}") for k in range(int(v.range[0]), int(v.range[1]) + 1)]
        lines += [f"   - {a} / {b}" for a, b in answers]
        lines.append("")
        rows.append(
            {
                "number": n,
                "variable": v.name,
                "required": "yes" if v.required else "no",
                "kind_id": kind["id"],
                "kind_en": kind["en"],
                "question_id": v.question.id,
                "question_en": v.question.en,
                "options_id": " | ".join(a for a, _ in answers),
                "options_en": " | ".join(b for _, b in answers),
            }
        )
    lines.append("\\* " + " / ".join(i18n.t("question_list.required", x) for x in CODEBOOK_LANGS))
    return "\n".join(lines) + "\n", rows


def codebook_from_exported_form(path: Path, base=None):
    """A codebook from an XLSForm written by :func:`export_form`: the inverse for every field
    an XLSForm carries (names, types, labels in both languages, choice lists, ranges from
    constraints, required), with Dampak's `dampak::type` column telling Likert, money,
    personal and identifier questions apart. `base` (a codebook) supplies what a form cannot
    carry (aliases, roles, scales, missing codes, option `match` spellings), variable by variable.

    (Reads only Dampak's own exports; any Kobo/ODK form: ``codebook_from_xlsform``.)"""
    from pipelines.codebook import Codebook, Variable

    sheets = {k: v.fillna("") for k, v in read_sheets(path).items()}
    survey, ch = sheets["survey"], sheets["choices"]
    info = sheets["settings"].iloc[0].to_dict() if "settings" in sheets else {}
    lists: dict[str, dict[str, dict]] = {}
    for rec in ch.to_dict("records"):
        lists.setdefault(rec["list_name"], {})[str(rec["name"])] = {
            "id": rec.get(ID_LABEL, ""),
            "en": rec.get(EN_LABEL, ""),
        }
    base_vars = {v.name: v for v in base.variables} if base is not None else {}
    label_sets, variables = {}, []
    if info.get("dampak::submitted_at"):
        name = info["dampak::submitted_at"]
        var = {"name": name, "type": "datetime", "role": "submitted_at"}
        var["required"] = info.get("dampak::submitted_at_required", "yes") != "no"
        var["question"] = {
            "id": info["dampak::submitted_at_id"],
            "en": info["dampak::submitted_at_en"],
        }
        variables.append(_with_base(var, base_vars.get(name)))
    for rec in survey.to_dict("records"):
        t, name, extra = rec["type"].strip(), rec["name"].strip(), rec.get(DAMPAK_TYPE, "").strip()
        var: dict = {"name": name, "question": {"id": rec[ID_LABEL], "en": rec[EN_LABEL]}}
        var["required"] = rec.get("required", "").strip().lower() in ("yes", "true", "true()")
        kind = t.split()[0] if t else ""
        lst = t.split()[1] if len(t.split()) > 1 else ""
        rng = constraint_range(rec.get("constraint", ""), integer=kind == "integer")
        if kind in ("start", "end"):
            var |= {"type": "datetime", "role": {"start": "started_at", "end": "ended_at"}[kind]}
        elif kind in ("datetime", "date", "today"):
            var["type"] = "datetime"
        elif kind == "select_one" and extra == "likert":
            codes = lists[lst]
            label_sets[lst] = {
                "points": len(codes),
                "labels": {int(c): t for c, t in codes.items()},
            }
            var |= {"type": "likert", "labels": lst}
        elif kind == "select_one" and lst == YESNO_LIST:
            var["type"] = "yesno"
        elif kind in ("select_one", "select_multiple"):
            key = "levels" if kind == "select_one" else "options"
            var |= {"type": "categorical" if key == "levels" else "multiselect", key: lists[lst]}
        elif kind in ("integer", "decimal"):
            var["type"] = extra if extra in ("likert", "currency") else "numeric"
            if rng:
                var["range"] = list(rng)
        elif extra.startswith("personal"):
            var |= {"type": "personal", "personal": extra.split()[1]}
        elif extra in ("identifier", "categorical"):
            var["type"] = extra
        else:
            var["type"] = "text"
        if rec.get("relevant", "").strip() and "relevant" in Variable.model_fields:
            var["relevant"] = rec["relevant"].strip()
        if rec.get(DAMPAK_ROLE, "").strip():
            var["role"] = rec[DAMPAK_ROLE].strip()
        var = _with_base(var, base_vars.get(name))
        variables.append(var)
    data = {
        "id": info.get("form_id") or Path(path).stem,
        "version": str(info.get("version") or "1"),
        "title": {"id": info.get("form_title", ""), "en": info.get("dampak::title_en", "")},
        "label_sets": _with_set_kinds(label_sets, base),
        "variables": variables,
    }
    if base is not None:
        data |= {"missing_codes": list(base.missing_codes),
                 "scales": {k: s.model_dump(exclude_defaults=True) for k, s in base.scales.items()},
                 "roles": base.roles.model_dump(by_alias=True, exclude_defaults=True)}  # fmt: skip
    return Codebook.model_validate(data)


def _with_base(var: dict, base) -> dict:
    """What a form cannot carry, from the original variable: aliases, roles, match spellings,
    short label, ordered, sensitive."""
    if base is None:
        return var
    keep = base.model_dump(mode="json", exclude_defaults=True)
    for k in ("aliases", "role", "label", "ordered", "sensitive", "personal"):
        if k in keep:
            var.setdefault(k, keep[k])
    for key in ("levels", "options"):
        for code, lv in (keep.get(key) or {}).items():
            if code in var.get(key, {}) and lv.get("match"):
                var[key][code]["match"] = lv["match"]
    return var


def _with_set_kinds(label_sets: dict, base) -> dict:
    if base is None:
        return {k: {**s, "kind": "agreement" if s["points"] in (4, 5) else "custom"}
                for k, s in label_sets.items()}  # fmt: skip
    out = {k: {**s, "kind": base.label_sets[k].kind} if k in base.label_sets else s
           for k, s in label_sets.items()}  # fmt: skip
    unused = {k: ls.model_dump() for k, ls in base.label_sets.items() if k not in out}
    return {k: out.get(k) or unused[k] for k in [*base.label_sets, *out] if k in out or k in unused}
