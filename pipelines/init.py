"""`init`: a first `survey.yaml` (and, for questions the bundled codebook does not know, a draft
codebook) from the exports in a folder, every guess marked `# REVIEW:` for a person to confirm.

Headers are matched to the bundled TPBIS codebook by three rules, each match keeping its
evidence: *exact* (the header is a question text, name or alias as written), *normalised* (equal
after :func:`pipelines.codebook.header_key`: case, punctuation, spacing, Kobo groups) and *fuzzy*
(rapidfuzz ratio >= :data:`FUZZY_MIN` on question texts; written under `columns:` for review).
The answers of every other question are read to guess its kind: agreement scales (4, 5 or 6
points, Indonesian or English, any case), yes/no, numbers and money, dates, multi-select (labels
joined by commas, or one column per option), single choice, free text, personal data.
Nothing is written over an existing file unless `force` is given; raw files are only read.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml
from pydantic import ValidationError

from pipelines import multiselect, parse
from pipelines.codebook import Codebook, header_key, load_codebook
from pipelines.config import Analysis, InputFile
from pipelines.derived import NUMBER_HOWS, NUMBER_TYPES
from pipelines.errors import InputError, Message, msg
from pipelines.i18n import t as translate
from pipelines.ingest import SOURCE_ID_KEYS, read_file

FUZZY_MIN = 88  # rapidfuzz ratio (0-100) a header needs to be taken for a question text
FUZZY_MIN_LENGTH = 12  # shorter texts (names, aliases) are matched exactly or normalised only
EXPORT_FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xls": "xlsx"}
EXPORT_FORMATS |= {".sav": "sav"}
EXPORT_FORMATS |= {".dta": "dta"}
FORMAT_PREFERENCE = ["csv", "xlsx", "sav", "dta"]  # one export of the same answers is enough
# Export metadata that is no question (Kobo, ODK, SurveyMonkey): never a variable
METADATA_KEYS = {
    "id", "index", "status", "submitted by", "version", "validation status", "notes", "tags",
    "today", "deviceid", "x id", "x index", "x status", "x version", "x notes", "x tags",
    "x submitted by", "x validation status", "respondent id", "collector id", "ip address",
    "first name", "last name", "custom data 1", "username", "simserial", "subscriberid",
    "phonenumber", "audit", "instancename", "meta instancename", "formhub uuid", "x parent index",
    *SOURCE_ID_KEYS,
}  # fmt: skip
SLIGHT = re.compile(r"\b(agak|sedikit|slightly|somewhat)\b")
PERSONAL_HEADERS = (
    ("nik", r"\bnik\b|nomor induk|national id"),
    ("phone", r"\bhp\b|whatsapp|\bwa\b|telepon|telp|phone|handphone|\bponsel\b"),
    ("email", r"e-?mail|surel"),
    ("address", r"\balamat\b|address"),
    (
        "name",
        r"^(nama|name)\b(?!.*\b(kampus|sekolah|perpustakaan|desa|instansi|usaha|kelurahan|"
        r"tempat|organisasi|universitas|perusahaan|kegiatan|produk|kota|kabupaten)\b)|full name",
    ),
)
MONEY_WORDS = r"pendapatan|penghasilan|gaji|income|biaya|pengeluaran|\brp\b|rupiah|omzet|upah"
ROLE_HEADERS = {  # a guessed question's job in the pipeline, from words in its header
    "site": r"^(nama |lokasi )?(perpustakaan|library|taman baca|tbm)\b|"
    r"(perpustakaan|library) (yang|mana|tempat|you)|\bsite\b",
    "kelurahan": r"kelurahan|\bdesa\b|nagari|\bward\b",
    "submitted_at": r"timestamp|cap waktu|submission|waktu pengisian|tanggal pengisian",
    "consent": r"bersedia|consent|persetujuan|\bagree to\b|willing to (participate|take part)",
}
DEMOGRAPHIC = {
    "gender": r"jenis kelamin|gender|\bsex\b",
    "age": r"\bumur\b|\busia\b|\bage\b",
    "education": r"pendidikan|education",
    "disability": r"disabilitas|disabilit",
    "occupation": r"pekerjaan|occupation",
}
# an age header about something else than the respondent (a business, a child, a building)
NOT_OWN_AGE = r"usaha|bisnis|business|anak|child|gedung|bangunan|building|rumah|house|buku|book"
AGE_YEARS = (0, 120)  # a respondent's age in years: answers outside are no ages
AGE_BAND = {"from": "age", "how": "bands", "cuts": "age_bands"}  # ROLES.md default band


@dataclass
class HeaderMatch:
    """One export header and what it was matched to, with the evidence."""

    file: str
    header: str
    variable: str | None  # codebook variable (or a draft's name); None: metadata, ignored
    rule: str  # exact | normalised | fuzzy | option | new | metadata
    score: float = 100.0
    question: str = ""  # the codebook text the header matched


@dataclass
class Draft:
    """A guessed codebook variable for a question the bundled codebook does not know."""

    var: dict
    review: list[str] = field(default_factory=list)
    header: str = ""
    label_set: tuple[str, dict] | None = None
    youngest: float | None = None  # an asked age's lowest answer (its bands start there)


@dataclass
class InitResult:
    written: list[Path]
    matches: list[HeaderMatch]
    drafts: list[Draft]
    todo: list[str]

    def share(self, rule: str) -> float:
        real = [m for m in self.matches if m.rule != "metadata"]
        return sum(m.rule == rule for m in real) / max(len(real), 1)


def _fail(name: str, /, **fields) -> InputError:
    return InputError(Message(name, **fields))


# --- finding and reading the exports --------------------------------------------------------


def _is_xlsform(path: Path) -> bool:
    if path.suffix.lower() not in (".xlsx", ".xls"):
        return False
    try:
        from pipelines.xlsform import excel_file

        sheets = excel_file(path).sheet_names
    except Exception:  # noqa: BLE001 - not a readable workbook: not a form either
        return False
    return {"survey", "choices"} <= {s.strip().lower() for s in sheets}


def find_exports(folder: Path) -> tuple[list[Path], Path | None, list[Path]]:
    """(exports to read, the XLSForm if any, exports skipped as another format of the same
    answers: `x.csv` and `x.sav` are one export saved twice)."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~")))
    forms = [p for p in files if _is_xlsform(p)]
    exports = [p for p in files if p.suffix.lower() in EXPORT_FORMATS and p not in forms]
    by_stem: dict[str, list[Path]] = {}
    for p in exports:
        by_stem.setdefault(p.stem, []).append(p)
    keep, skipped = [], []
    for group in by_stem.values():
        group.sort(key=lambda p: FORMAT_PREFERENCE.index(EXPORT_FORMATS[p.suffix.lower()]))
        keep.append(group[0])
        skipped += group[1:]
    return sorted(keep), (forms[0] if forms else None), skipped


def _two_row_header(path: Path) -> bool:
    """SurveyMonkey: the row under the questions says 'Response' / 'Open-Ended Response' or
    names options under a merged question cell."""
    from pipelines.xlsform import excel_file

    top = pd.read_excel(excel_file(path), header=None, nrows=2, dtype=str)
    return len(top) >= 2 and _response_row(top.iloc[1])


def _response_row(row: pd.Series) -> bool:
    """SurveyMonkey's second header row: 'Response' / 'Open-Ended Response' under questions."""
    sub = row.fillna("").astype(str).str.strip().str.casefold()
    return bool(sub.isin(["response", "open-ended response", "jawaban"]).sum() >= 2)


def _title_rows(path: Path) -> int:
    """Rows above a spreadsheet's header (a title, a date line, blank rows): the header is the
    first of the top 20 rows filled at least 80% as wide as the widest of them."""
    from pipelines.xlsform import excel_file

    top = pd.read_excel(excel_file(path), header=None, nrows=20, dtype=str)
    filled = top.notna().sum(axis=1)
    if top.empty or filled.max() < 2:
        return 0
    return int((filled >= 0.8 * filled.max()).to_numpy().argmax())


def detect_spec(path: Path, folder: Path, form: Path | None) -> InputFile:
    """How to read one export: its format, title and header rows and (for Kobo) its form."""
    fmt = EXPORT_FORMATS[path.suffix.lower()]
    rel = path.relative_to(folder).as_posix()
    spec = {"path": rel, "format": fmt}
    if fmt == "xlsx" and _two_row_header(path):
        spec["header_rows"] = 2
    elif fmt == "xlsx" and (above := _title_rows(path)):
        spec["skip_rows"] = above
    if fmt in ("csv", "xlsx"):
        df = read_file(path, InputFile(**spec))
        if fmt == "csv" and len(df) and _response_row(df.iloc[0]):  # SurveyMonkey's CSV
            spec["header_rows"] = 2
            df = read_file(path, InputFile(**spec))
        head = df.columns
        kobo = any(header_key(h) in SOURCE_ID_KEYS for h in head) or any(
            re.fullmatch(r"[A-Za-z_][\w-]*(/[\w-]+)+", str(h)) for h in head
        )
        if kobo:
            spec["format"] = "kobo"
            if form is not None:
                spec["xlsform"] = form.relative_to(folder).as_posix()
    return InputFile(**spec)


def read_export(path: Path, spec: InputFile, form_path: Path | None, cb: Codebook) -> pd.DataFrame:
    """The export as text as ingest sees it: submission ids dropped, the codebook's option
    columns named `<variable>__<code>`, Kobo choice codes turned into labels."""
    df = read_file(path, spec)
    df = df.drop(columns=[h for h in df.columns if header_key(h) in SOURCE_ID_KEYS])
    form = None
    if spec.xlsform and form_path is not None:
        from pipelines.xlsform import read_xlsform

        form = read_xlsform(form_path)
    df, _ = multiselect.split_option_columns(df, cb, {}, form.option_labels if form else None)
    if form is not None:
        df, _ = form.translate(df)
    return df


# --- header matching ---------------------------------------------------------------------------


def _texts(cb: Codebook) -> list[tuple[str, str, str]]:
    """(text, variable, kind of text) for every name, alias and question of the codebook."""
    out = []
    for v in cb.variables:
        out += [(v.name, v.name, "name"), *((a, v.name, "alias") for a in v.aliases)]
        out += [(v.question.id, v.name, "question"), (v.question.en, v.name, "question")]
    return out


def match_headers(file: str, headers: list[str], cb: Codebook) -> list[HeaderMatch]:
    """Each header's match: exact, normalised, fuzzy (question texts), or none (rule 'new')."""
    from rapidfuzz import fuzz, process

    texts = _texts(cb)
    exact = {}
    for t, var, _ in texts:
        exact.setdefault(t.strip(), (var, t))
    norm = {}
    for t, var, _ in texts:
        norm.setdefault(header_key(t), (var, t))
    long = {header_key(t): (var, t) for t, var, kind in texts if len(t) >= FUZZY_MIN_LENGTH}
    long_keys = list(long)
    out, taken = [], set()
    for h in headers:
        raw = str(h).lstrip("\ufeff").strip()
        key = header_key(h)
        if key in METADATA_KEYS:
            out.append(HeaderMatch(file, h, None, "metadata", 100.0))
            continue
        if multiselect.SEP in str(h):  # an option column already named <variable>__<code>
            var = str(h).split(multiselect.SEP)[0]
            out.append(HeaderMatch(file, h, var, "option", 100.0, cb.var(var).question.id))
            continue
        hit = None
        if raw in exact and exact[raw][0] not in taken:
            hit = HeaderMatch(file, h, exact[raw][0], "exact", 100.0, exact[raw][1])
        elif key in norm and norm[key][0] not in taken:
            hit = HeaderMatch(file, h, norm[key][0], "normalised", 100.0, norm[key][1])
        elif len(key) >= FUZZY_MIN_LENGTH and long_keys:
            best = process.extractOne(key, long_keys, scorer=fuzz.ratio, score_cutoff=FUZZY_MIN)
            if best and long[best[0]][0] not in taken:
                var, text = long[best[0]]
                hit = HeaderMatch(file, h, var, "fuzzy", round(best[1], 1), text)
        if hit is None:
            hit = HeaderMatch(file, h, None, "new", 0.0)
        else:
            taken.add(hit.variable)
        out.append(hit)
    return out


# --- guessing the kind of a question from its answers ---------------------------------------


STOPWORDS = set(
    [
        "apakah",
        "anda",
        "yang",
        "di",
        "ke",
        "dari",
        "dalam",
        "saya",
        "berapa",
        "kali",
        "untuk",
        "dan",
        "atau",
        "dengan",
        "ini",
        "itu",
        "adalah",
        "the",
        "a",
        "an",
        "of",
        "to",
        "in",
        "do",
        "you",
        "your",
        "is",
        "are",
        "did",
        "what",
        "how",
        "which",
        "for",
        "and",
        "or",
    ]
)


def slug(text: str, taken: set[str], limit: int = 30) -> str:
    """A short variable or option name (a-z, 0-9, _) for a header or label: its first words
    that say something, whole words up to `limit` characters; unique within `taken`."""
    text = str(text)
    text = text.rsplit("/", 1)[-1] if " " not in text else text  # Kobo `group/question`
    words = multiselect.fold(text).replace("_", " ").split()
    words = [re.sub(r"[^a-z0-9]", "", w) for w in words]
    useful = [w for w in words if w and w not in STOPWORDS] or [w for w in words if w]
    t = ""
    for w in useful:
        if t and len(t) + 1 + len(w) > limit:
            break
        t = f"{t}_{w}" if t else w[:limit]
    t = t or "q"
    if t[0].isdigit():
        t = f"q_{t}"
    name, i = t, 2
    while name in taken:
        name, i = f"{t}_{i}", i + 1
    taken.add(name)
    return name


def _answers(s: pd.Series, missing: list[str]) -> pd.Series:
    """The non-blank answers that are not missing codes, as stripped text."""
    t = s.astype(str).str.strip()
    t = t[(t != "") & (t.str.casefold() != "nan")]
    if not missing:
        return t
    return t[~parse.missing_codes(t, missing).to_numpy()]


def agreement_level(text: str) -> int | str | None:
    """Semantic level of an agreement answer: -3..3 (3 strongly agree, 1 slightly agree),
    'neutral', or None when the answer is no agreement word."""
    key = parse._key(text)
    slight = bool(SLIGHT.search(key))
    level = parse._likert_level(SLIGHT.sub(" ", key).strip() if slight else key)
    if level is None or level == "neutral":
        return level
    if key in parse._ABBREV or len(key) <= 3:
        return None  # bare abbreviations (S, TS) are too short to be sure of on their own
    sign = 1 if level > 0 else -1
    return sign * (1 if slight else (3 if abs(level) == 2 else 2))


AGREE_EN = {-3: "Strongly disagree", -2: "Disagree", -1: "Slightly disagree",
            "neutral": "Neutral", 1: "Slightly agree", 2: "Agree", 3: "Strongly agree"}  # fmt: skip
AGREE_ID = {-3: "Sangat tidak setuju", -2: "Tidak setuju", -1: "Agak tidak setuju",
            "neutral": "Netral", 1: "Agak setuju", 2: "Setuju", 3: "Sangat setuju"}  # fmt: skip


def likert_set(values: list[str]) -> tuple[str, dict, str] | None:
    """(set name, label set, review note) when every answer is an agreement word; the number
    of points from the words seen (a middle word: 5; 'agak/slightly': 6); labels spelt as the
    answers spell them (e.g. upper case), codes from disagree (1) to agree."""
    levels = {v: agreement_level(v) for v in values}
    if not values or any(lv is None for lv in levels.values()):
        return None
    seen = set(levels.values())
    slight = any(isinstance(lv, int) and abs(lv) == 1 for lv in seen)
    order = [-3, -2, -1, 1, 2, 3] if slight else [-3, -2, 2, 3]
    if "neutral" in seen:
        order.insert(len(order) // 2, "neutral")
    spelt = {lv: v for v, lv in sorted(levels.items(), key=lambda kv: -values.count(kv[0]))}
    upper = all(v == v.upper() for v in values)
    labels = {}
    for code, lv in enumerate(order, 1):
        idn = spelt.get(lv) or (AGREE_ID[lv].upper() if upper else AGREE_ID[lv])
        labels[code] = {"id": idn, "en": AGREE_EN[lv]}
    points = len(order)
    kind = "agreement" if points in (4, 5) else "custom"
    name = f"agree{points}" + ("_upper" if upper else "")
    note = f"{points}-point agreement scale read from the answers"
    if points == 4:
        note += "; no middle answer was seen: if the form offered one (Netral), make it 5 points"
    missing = [lv for lv in order if lv not in seen]
    if missing:
        note += f"; {len(missing)} of its labels were never chosen, check their wording"
    return name, {"points": points, "kind": kind, "labels": labels}, note


def _options_from(values: pd.Series) -> list[str] | None:
    """Google Forms checkbox answers: labels joined by ', ' that recur across answers."""
    pieces = [[p.strip() for p in re.split(r"\s*[;,]\s+|\s*;\s*", v) if p.strip()] for v in values]
    if not any(len(p) > 1 for p in pieces):
        return None
    counts = Counter(p for ps in pieces for p in set(ps))
    if len(counts) > 25 or sum(c >= 2 for c in counts.values()) < 0.6 * len(counts):
        return None
    return sorted(counts, key=lambda p: (-counts[p], p))


def _personal_kind(header: str, values: pd.Series) -> str | None:
    text = multiselect.fold(header)
    hit = next((k for k, rx in PERSONAL_HEADERS if re.search(rx, text)), None)
    if hit:
        return hit
    v = values.astype(str).head(200)
    if len(v) and v.str.contains(r"@\w+\.\w", regex=True).mean() > 0.8:
        return "email"
    digits = v.str.replace(r"[\s\-.+()]", "", regex=True)
    if len(v) and digits.str.fullmatch(r"\d{16}").mean() > 0.8:
        return "nik"
    if len(v) and digits.str.fullmatch(r"(62|0)8\d{7,11}").mean() > 0.8:
        return "phone"
    return None


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def _question(header: str) -> dict:
    return {"id": header, "en": header}


def guess_variable(header: str, s: pd.Series, taken: set[str], missing: list[str]) -> Draft:
    """A draft codebook variable for one unknown question, from its header and answers."""
    answers = _answers(s, missing)
    distinct = list(pd.unique(answers))
    fold = multiselect.fold(header)
    role = next((r for r, rx in ROLE_HEADERS.items() if re.search(rx, fold)), None)
    name = role if role in ("site", "kelurahan") and role not in taken else None
    name = name or slug(header, taken)
    taken.add(name)
    var: dict = {"name": name, "question": _question(header)}
    n = len(answers)
    personal = _personal_kind(header, answers)
    if personal and role not in ("site", "kelurahan"):
        return Draft(var | {"type": "personal", "personal": personal}, [
            f"personal data ({personal}): dropped at ingest, never analysed"], header)  # fmt: skip
    if n == 0:
        return Draft(var | {"type": "text", "required": False},
                     ["no answers at all: kind unknown; set its type"], header)  # fmt: skip
    sample = pd.Series(distinct, dtype=object)
    if role == "consent" and sample.str.match(r"(?i)^(ya|iya|yes|tidak|no)\b").all():
        return Draft(var | {"type": "yesno", "role": "consent"}, [
            "consent question: rows without a yes are removed"], header)  # fmt: skip
    yn = parse.yes_no(sample)
    if not yn.invalid.any() and not sample.str.fullmatch(r"\d+").all():
        return Draft(var | {"type": "yesno"}, [f"yes/no ({', '.join(distinct[:4])})"], header)
    lk = likert_set([str(d) for d in distinct])
    if lk:
        set_name, ls, note = lk
        return Draft(var | {"type": "likert", "labels": set_name}, [note], header, (set_name, ls))
    all_digits = sample.str.fullmatch(r"\d+(\.0+)?").all()
    nums = parse.numeric(sample)
    money = re.search(MONEY_WORDS, fold) or sample.str.contains(r"(?i)\brp|juta|ribu").any()
    if money:
        rp = parse.rupiah(sample)
        if rp.invalid.mean() <= 0.1:
            top = float(rp.values.max())
            return Draft(var | {"type": "currency", "range": [0, _num(max(top * 10, 1e6))]}, [
                f"money (Rupiah), answers up to {top:,.0f}; the range is a guess"], header)  # fmt: skip
    if not nums.invalid.any():
        vals = nums.values.astype(float)
        lo, hi = float(vals.min()), float(vals.max())
        if all_digits and len(distinct) <= 11 and lo >= 0 and hi in (4, 5, 6, 7, 10):
            rng = [0 if lo == 0 else 1, int(hi)]
            return Draft(var | {"type": "numeric", "range": rng}, [
                f"whole numbers {lo:g}-{hi:g} only: if this is a rating scale, set "
                f"type: likert (keep range: {rng}) and list it under roles.outcomes"], header)  # fmt: skip
        if lo >= 1900 and hi <= dt.date.today().year and all_digits:
            return Draft(var | {"type": "numeric", "range": [1900, dt.date.today().year]},
                         ["a year (e.g. of birth); the range is a guess"], header)  # fmt: skip
        rng = [_num(min(lo, 0)), _num(hi * 2 if hi > 0 else 1)]
        return Draft(var | {"type": "numeric", "range": rng}, [
            f"number, answers {lo:g}-{hi:g}; the range (impossible values outside) is a guess"],
            header)  # fmt: skip
    dates = parse.dates(sample)
    if dates.invalid.mean() <= 0.1:
        note = "date/time" + (" (submission time)" if role == "submitted_at" else "")
        extra = {"role": "submitted_at"} if role == "submitted_at" else {}
        return Draft(var | {"type": "datetime", **extra}, [note], header)
    options = _options_from(answers)
    if options:
        codes: set[str] = set()
        opts = {slug(o, codes, 24): {"id": o, "en": o} for o in options}
        return Draft(var | {"type": "multiselect", "options": opts}, [
            f"tick-all-that-apply with {len(opts)} options read from answers joined by commas; "
            "add options nobody ticked, and English labels"], header)  # fmt: skip
    place = role in ("site", "kelurahan") and sample.str.len().mean() < 80
    if place or (len(distinct) <= max(12, min(30, n // 5)) and len(distinct) < max(2, 0.6 * n)):
        codes = set()
        levels = {slug(d, codes, 24): {"id": d, "en": d} for d in sorted(distinct)}
        note = f"single choice with {len(levels)} answers seen; add any never chosen"
        if role in ("site", "kelurahan"):
            return Draft(var | {"type": "categorical", "role": "site" if role == "site" else
                                "residence"}, [f"{role}: its names go to survey.yaml"], header)  # fmt: skip
        return Draft(var | {"type": "categorical", "levels": levels}, [
            note + "; English labels are copies of the Indonesian: translate them"], header)  # fmt: skip
    return Draft(var | {"type": "text", "required": False}, [
        "free text: masked for names, phones and NIK; quoted only in reports' quotes"], header)  # fmt: skip


NUMBERED = re.compile(r"^(?P<prefix>.*?\D)(?P<num>\d+)$")
# a word of a weight column's name: repw_1, repwt1, rw1, pwgtp1, w_rep_1, wgt, bobot, final_weight
WEIGHT_WORDS = re.compile(
    r"(?i)(?<![a-z])(rep|repw|repwt|repwgt|rw|w|wt|wgt|wgtp|pwgtp|weights?|bobot|replicate)(?![a-z])"
)


def _numbers(s: pd.Series) -> pd.Series | None:
    """The answers as numbers (decimal commas allowed), or None when an answer is not one."""
    text = s.astype(str).str.strip().replace({"": None, "nan": None, "NaN": None})
    x = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")
    return x if x.notna().sum() == text.notna().sum() and x.notna().any() else None


def replicate_columns(headers: list[str], all_headers: list[str], df: pd.DataFrame) -> dict | None:
    """Replicate weight columns among unknown headers: the longest run (two or more) of
    numbered columns ``<prefix>1 .. <prefix>k`` whose prefix names a weight (``repwt1``,
    ``rw1``, ``pwgtp1``, ``w_rep_1``) holding numbers of 0 or more; with the glob that
    selects exactly them and the main weight beside them (an unnumbered weight column), if any."""
    runs: dict[str, dict[int, str]] = {}
    for h in headers:
        m = NUMBERED.match(str(h))
        if m and WEIGHT_WORDS.search(m["prefix"]):
            runs.setdefault(m["prefix"], {})[int(m["num"])] = h
    best = None
    for prefix, cols in runs.items():
        if len(cols) < 2 or sorted(cols) != list(range(1, len(cols) + 1)):
            continue
        values = [_numbers(df[h]) for h in cols.values()]
        if any(v is None or (v < 0).any() for v in values):
            continue
        if best is None or len(cols) > len(best[1]):
            best = (prefix, [cols[k] for k in sorted(cols)])
    if best is None:
        return None
    prefix, cols = best
    names = [str(h) for h in all_headers]
    glob = next(
        (
            g
            for g in (f"{prefix}*", f"{prefix}[0-9]*")
            if set(fnmatch.filter(names, g)) == set(cols)
        ),
        None,
    )
    stem = re.sub(r"(?i)[_.]?rep[_.]?$|^rep[_.]?", "", prefix.rstrip("_."))
    weights = [
        h
        for h in all_headers
        if h not in cols
        and not NUMBERED.match(str(h))
        and WEIGHT_WORDS.search(str(h))
        and (w := _numbers(df[h])) is not None
        and (w > 0).all()
    ]
    weight = next((h for h in weights if str(h).lower() == stem.lower()), None)
    if weight is None and weights:  # the nearest weight column before the replicates
        at = all_headers.index(cols[0])
        weight = min(weights, key=lambda h: abs(all_headers.index(h) - at))
    return {"columns": cols, "glob": glob, "weight": weight}


def option_groups(headers: list[str], df: pd.DataFrame) -> dict[str, list[tuple[str, str]]]:
    """One-column-per-option questions among unknown headers: parent -> [(header, option)].
    Kobo writes `group/q/option` beside `group/q`; R `q.option`; SurveyMonkey and SPSS
    `Question - Option`. A group needs two or more option columns holding ticks only."""
    ticks = {*multiselect._SELECTED, *multiselect._NOT_SELECTED, ""}
    groups: dict[str, list[tuple[str, str]]] = {}
    for h in headers:
        for sep in ("/", ".", " - "):
            if sep not in str(h):
                continue
            parent, option = str(h).rsplit(sep, 1)
            if not option.strip():
                continue
            vals = {multiselect.fold(v) for v in df[h].astype(str).unique()}
            own = multiselect.fold(option)
            if vals <= ticks | {own, "nan", "na", "n a"}:
                groups.setdefault(parent, []).append((h, option.strip()))
                break
    return {p: hs for p, hs in groups.items() if len(hs) >= 2}


# --- the respondent's age ------------------------------------------------------------------


def _is_demographic(header: str, what: str | None = None) -> bool:
    """A header that asks one of DEMOGRAPHIC's questions (``what``: that one only)."""
    text = multiselect.fold(header)
    rules = [DEMOGRAPHIC[what]] if what else DEMOGRAPHIC.values()
    return any(re.search(rx, text) for rx in rules)


def _is_own_age(d: Draft, answers: pd.Series) -> bool:
    """A numeric draft that asks the respondent's age: an age header (not a business's or a
    child's) whose answers are years a person can be."""
    if d.var["type"] != "numeric" or not _is_demographic(d.header, "age"):
        return False
    if re.search(NOT_OWN_AGE, multiselect.fold(d.header)):
        return False
    years = pd.to_numeric(answers, errors="coerce").dropna()
    return len(years) > 0 and bool(years.between(*AGE_YEARS).all())


def _age_name_free(cb: Codebook, matched: list[str], drafts: list[Draft]) -> bool:
    """The name `age` is free for an asked age: no matched question or draft has it and the
    bundled codebook's derived `age` (from a birth year) is not written for this form."""
    derived = cb.roles.derived.get("age")
    from_birth_year = derived is not None and derived.from_ in matched
    return (
        "age" not in matched and not from_birth_year and all(d.var["name"] != "age" for d in drafts)
    )


def _own_age(drafts, matches, taken: set[str], cb: Codebook, matched: list[str], df) -> None:
    """The asked age becomes the variable `age` (banded as `age_band` for breakdowns, see
    :func:`_roles`) when the form asks no birth year; other numeric demographics are noted
    as covariates only."""
    free = _age_name_free(cb, matched, drafts)
    for d in drafts:
        if free and d.header in df and _is_own_age(d, df[d.header]):
            old, free = d.var["name"], False
            taken.discard(old)
            taken.add("age")
            d.var = {"name": "age", **{k: v for k, v in d.var.items() if k != "name"}}
            d.var |= {"label": {"id": "Umur", "en": "Age"}, "range": list(AGE_YEARS)}
            d.youngest = float(pd.to_numeric(df[d.header], errors="coerce").min())
            d.review = [
                "the respondent's age in years: a covariate, and banded as age_band for "
                "breakdowns (cut points: analysis.age_bands in survey.yaml, or the band's own cuts)"
            ]
            for m in matches:
                if m.variable == old:
                    m.variable = "age"
        elif d.var["type"] in ("numeric", "currency") and _is_demographic(d.header):
            d.review.append(
                "a number: a covariate, not a breakdown (one group per value); to break down "
                "by it, band it under roles.derived (how: bands) and list the band"
            )


# --- writing the YAML ------------------------------------------------------------------------


def _dump(obj, indent: int = 0) -> str:
    text = yaml.safe_dump(obj, allow_unicode=True, sort_keys=False, width=100)
    pad = " " * indent
    return "".join(pad + line + "\n" for line in text.splitlines())


def _comment(lines: list[str], indent: int = 0) -> str:
    return "".join(" " * indent + f"# REVIEW: {line}\n" for line in lines)


def _types(cb: Codebook, present: set[str], drafts: list[Draft]) -> dict[str, str]:
    """The type of every question the draft codebook has (bundled or guessed)."""
    types = {n: cb.var(n).type for n in present if cb.has(n)}
    return types | {d.var["name"]: d.var["type"] for d in drafts}


def _derived(
    cb: Codebook, known: set[str], types: dict[str, str], youngest: float | None = None
) -> dict[str, dict]:
    """The bundled derived columns whose source the form asks (bands only of a number), and
    an age band when the form asks a numeric age and the bundled codebook bands none."""
    derived: dict[str, dict] = {}
    for name, d in cb.roles.derived.items():
        number = types.get(d.from_) in NUMBER_TYPES or derived.get(d.from_, {}).get("how") in (
            NUMBER_HOWS
        )
        if (d.from_ in known or d.from_ in derived) and (d.how != "bands" or number):
            derived[name] = d.model_dump(by_alias=True, exclude_defaults=True)
    bands_age = any(d["from"] == "age" and d["how"] == "bands" for d in derived.values())
    if types.get("age") == "numeric" and not bands_age and "age_band" not in known:
        derived["age_band"] = dict(AGE_BAND)
    band, cuts = derived.get("age_band") or {}, Analysis().age_bands
    asked = band.get("from") == "age" and band.get("cuts") == "age_bands"
    if asked and youngest is not None and youngest < cuts[0]:  # children answered too:
        band["cuts"] = [0, *cuts]  # a band of their own, from 0
    return derived


def _roles(cb: Codebook, present: set[str], drafts: list[Draft], scales: dict) -> dict:
    """Draft roles: the bundled codebook's roles limited to what the form asked, plus outcomes
    from guessed scales, yes/no and money questions and covariates from demographic guesses.
    A number (an age, an amount) is never a breakdown: its band is, when one is derived."""
    r = cb.roles
    types = _types(cb, present, drafts)
    known = present | set(scales)
    youngest = next((d.youngest for d in drafts if d.var["name"] == "age"), None)
    derived = _derived(cb, known, types, youngest)
    known |= set(derived)
    numbers = {n for n, t in types.items() if t in NUMBER_TYPES}
    numbers |= {n for n, d in derived.items() if d["how"] in NUMBER_HOWS}
    outcomes = []
    for o in r.outcomes:
        src = o.from_ or o.var
        if src in known:
            outcomes.append(o.model_dump(by_alias=True, exclude_defaults=True))
    in_scale = {i for s in scales.values() for i in s["items"]}
    for s_name in scales:
        if s_name not in cb.scales:
            outcomes.append({"var": s_name, "kind": "scale"})
    demog = []
    for d in drafts:
        v = d.var
        if v.get("role") or v["type"] in ("personal", "text"):
            continue
        if v["type"] == "likert" and v["name"] not in in_scale:
            outcomes.append({"var": v["name"], "kind": "likert"})
        elif v["type"] == "yesno":
            outcomes.append({"var": v["name"], "kind": "yesno"})
        elif v["type"] == "currency":
            outcomes.append({"var": v["name"], "kind": "money"})
        if _is_demographic(d.header):
            demog.append(v["name"])
    exposure = {k: c for k, c in r.exposure.model_dump().items() if c in present}
    names = {o["var"] for o in outcomes}
    roles: dict = {"exposure": exposure, "outcomes": outcomes}
    if r.headline is not None:
        roles["headline"] = [h for h in r.headline if h in names]
    roles["covariates"] = list(dict.fromkeys([c for c in r.covariates if c in known] + demog))
    bands = [n for n, d in derived.items() if d["how"] == "bands" and d["from"] in demog]
    breakdowns = [c for c in r.breakdowns if c in known] + [*demog, *bands]
    roles["breakdowns"] = [c for c in dict.fromkeys(breakdowns) if c not in numbers]
    roles["link"] = [c for c in r.link if c in present]
    roles["derived"] = derived
    return {k: v for k, v in roles.items() if v not in ({}, [], None) or k == "outcomes"}


MAX_NEW_LEVELS = 12  # more unknown answers than this: not a coding of the same question


def answered_levels(v, answers: pd.Series) -> tuple[dict, list[str]]:
    """A matched categorical question as this form answered it: answers that none of the
    bundled levels spells (codes 1/2, another education list) become levels of their own,
    named by the answer and marked for review, so `check` does not stop on them."""
    from pipelines.clean import category_key, level_table

    data = v.model_dump(mode="json", exclude_defaults=True, by_alias=True)
    if v.type != "categorical" or not v.levels:
        return data, []
    known = level_table(v)
    new = [str(a) for a in answers.value_counts().index if category_key(a) not in known]
    if not new or len(new) > MAX_NEW_LEVELS:
        return data, []
    taken = set(data["levels"])
    for answer in new:
        data["levels"][slug(answer, taken, 24)] = {"id": answer, "en": answer, "match": [answer]}
    shown = ", ".join(repr(a) for a in new[:5])
    return data, [
        f"{len(new)} answer(s) are not among the bundled options ({shown}): added as levels of "
        "their own; give each its labels, or move it to the 'match' list of the level it means"
    ]


def codebook_yaml(
    survey_id: str,
    cb: Codebook,
    matched: list[str],
    drafts: list[Draft],
    evidence: dict,
    answers: dict[str, pd.Series] | None = None,
) -> str:
    """The draft codebook: matched bundled variables as they are (categorical ones with the
    form's own answers added as levels), new ones guessed and marked."""
    present = set(matched) | {d.var["name"] for d in drafts}
    label_sets = {
        k: ls.model_dump(mode="json")
        for k, ls in cb.label_sets.items()
        if any(cb.var(m).labels == k for m in matched)
    }
    for d in drafts:
        if d.label_set:
            label_sets.setdefault(d.label_set[0], d.label_set[1])
    scales = {
        k: s.model_dump(exclude_defaults=True)
        for k, s in cb.scales.items()
        if all(i in present for i in s.items)
    }
    new_likert = [d for d in drafts if d.var["type"] == "likert" and d.label_set]
    by_set: dict[str, list[str]] = {}
    for d in new_likert:
        by_set.setdefault(d.label_set[0], []).append(d.var["name"])
    scale_notes = {}
    for i, (set_name, items) in enumerate(by_set.items(), 1):
        if len(items) >= 3:
            name = f"scale_{i}"
            scales[name] = {"label": {"id": f"Skala {i}", "en": f"Scale {i}"}, "items": items}
            scale_notes[name] = (
                f"{len(items)} new items share the {set_name} answers: one scale? Name it, "
                "split it, and list negatively worded items under 'reverse'"
            )
    out = [
        "# Draft codebook written by `python -m pipelines init`: the questions of this survey.\n",
        "# Lines marked REVIEW are guesses from the answers; confirm or correct each, then delete\n",
        "# the REVIEW line. Every key is described in docs/codebook.md.\n",
        _dump({"id": survey_id, "version": "0.1"}),
        _dump({"title": {"id": f"Survei {survey_id}", "en": f"Survey {survey_id}"}}),
        _comment(["give the instrument its real title (id, en)"]),
    ]
    if label_sets:
        out.append(_dump({"label_sets": label_sets}))
    out.append(_dump({"missing_codes": list(cb.missing_codes)}))
    out.append("variables:\n")
    for name in matched:
        v = cb.var(name)
        ev = evidence.get(name)
        out.append(f"  # matched {ev}\n" if ev else "")
        if ev and "fuzzy" in ev:
            out.append(_comment([f"header only resembles the question of '{name}': same one?"], 2))
        data, review = answered_levels(v, (answers or {}).get(name, pd.Series([], dtype=str)))
        out.append(_comment(review, 2))
        out.append(_dump([data], 2))
    for d in drafts:
        out.append(f"  # new question, from the header: {d.header[:80]!r}\n")
        out.append(_comment(d.review, 2))
        out.append(_dump([d.var], 2))
    if scales:
        out.append("scales:\n")
        for name, s in scales.items():
            out.append(_comment([scale_notes[name]], 2) if name in scale_notes else "")
            out.append(_dump({name: s}, 2))
    roles = _roles(cb, present, drafts, scales)
    out.append(_comment(["what each question is for in the analysis (docs/codebook.md#roles)"]))
    out.append(_dump({"roles": roles}))
    return "".join(out)


def evidence_comment(matches: list[HeaderMatch], limit: int = 400) -> str:
    """How init read each column (file, header, rule, score, the codebook text matched), as
    comments at the end of survey.yaml: the evidence behind every match, for review."""
    lines = [
        "\n# How init read each column: file | header -> variable (rule, score: text matched)\n"
    ]
    for m in matches[:limit]:
        target = m.variable or "(ignored: export metadata)"
        score = f", {m.score:g}" if m.rule == "fuzzy" else ""
        text = f': "{m.question[:60]}"' if m.question and m.question != m.header else ""
        header = str(m.header).replace("\n", " ")[:70]
        lines.append(f"#   {m.file} | {header} -> {target} ({m.rule}{score}{text})\n")
    if len(matches) > limit:
        lines.append(f"#   ... and {len(matches) - limit} more columns\n")
    return "".join(lines)


def _site_words(name: str) -> str:
    """A site's name without the words every site shares (for a short id)."""
    rest = re.sub(r"(?i)\b(perpustakaan|perpus|umum|kelurahan|desa|daerah|taman baca)\b", "", name)
    return rest if rest.strip() else name


def config_yaml(
    survey_id: str,
    instrument: str,
    waves: list[dict],
    columns: dict[str, tuple[str, str]],
    sites: dict[str, list[str]],
    kelurahan: dict[str, list[str]],
    lang: str,
    replicate: dict | None = None,
) -> str:
    """survey.yaml with every guess marked: waves, sites, places, design (replicate weight
    columns found: a commented ``design.replicate`` suggestion)."""
    kec = "TODO-kecamatan"
    out = [
        "# Survey config written by `python -m pipelines init`. Lines marked REVIEW or TODO are\n",
        "# guesses: correct them, delete the marker, then run `python -m pipelines check` on this\n",
        "# file. Every key: data/raw/solok/solok_2025.yaml (a complete example) and README.md.\n",
        _comment(["the survey's title (id, en) and its city or kabupaten (city: TODO)"]),
        _dump(
            {
                "survey": {
                    "id": survey_id,
                    "title": {"id": f"Survei {survey_id}", "en": f"Survey {survey_id}"},
                    "city": "TODO",
                }
            }
        ),
        _dump({"instrument": instrument, "messages_language": lang}),
        "waves:\n",
    ]
    for w in waves:
        out.append(_comment([w.pop("_review")], 2))
        out.append(_dump([w], 2))
    if columns:
        out.append("# Headers matched only approximately (raw header: variable):\ncolumns:\n")
        for h, (var, why) in columns.items():
            out.append(_comment([why], 2))
            out.append(_dump({h: var}, 2))
    # no kelurahan and no library asked: no place to group, so none is invented
    places: dict = {
        "kecamatan": {kec: list(kelurahan) or ["TODO-kelurahan"]} if kelurahan or sites else {}
    }
    aliases = {a: k for k, al in kelurahan.items() for a in al}
    if aliases:
        places["aliases"] = aliases
    if kelurahan or sites:
        note = [
            "TODO: group the kelurahan under their kecamatan (strata of the design);",
            f"{len(kelurahan)} names were read from the answers"
            if kelurahan
            else "the form asks no kelurahan: list the kecamatan of the sites",
        ]
    else:
        note = ["the form asks no kelurahan and names no library: no places to list"]
    out.append(_comment(note))
    out.append(_dump({"places": places}))
    out.append(
        _comment(
            [
                f"{len(sites)} sites read from the answers: give each its kecamatan (TODO),",
                "check that each is one library (similar spellings were merged into `aliases`)",
            ]
            if sites
            else ["the form names no library: no library reports (add `sites` if it does)"]
        )
    )
    site_ids: set[str] = set()
    rows = [
        {"id": slug(_site_words(s), site_ids, 30).replace("_", "-"), "name": s, "kecamatan": kec}
        | ({"aliases": sites[s]} if sites.get(s) else {})
        for s in sites
    ]
    out.append("sites:\n" if rows else "sites: []\n")
    for r in rows:
        out.append(_dump([r], 2).replace("\n  -", "\n  -").rstrip("\n") + "\n")
    out.append(
        _comment(
            [
                "design: strata kecamatan, clusters sites; no weights until you give"
                if sites
                else "design: the form names no library, so no strata or clusters (each"
                " respondent its own unit; name the columns the sample was drawn by, if any);"
                " no weights until you give",
                "population margins (method: rake) or a weight column (docs/codebook.md)",
            ]
        )
    )
    # the kecamatan comes from the site: without a site question there is none to stratify by
    design = {"strata": "kecamatan" if sites else None, "cluster": "site" if sites else None}
    design["fpc"] = None
    design["weights"] = {"method": "none"}
    out.append(_dump({"design": design}))
    if replicate:
        out.append(_replicate_comment(replicate))
    out.append(_dump({"report": {"languages": ["id", "en"], "formats": ["html", "pdf"]}}))
    return "".join(out)


def _replicate_comment(rep: dict) -> str:
    """The suggested ``design.weights`` and ``design.replicate`` lines, commented out."""
    cols = rep["columns"]
    weight = rep.get("weight_var") or "TODO-weight"
    columns = rep["glob"] or cols
    lines = [
        f"{len(cols)} replicate weight columns ({cols[0]} ... {cols[-1]})"
        + (f" beside the weight {rep['weight']}" if rep.get("weight") else "")
        + ": to use them,",
        "replace `weights` above with these lines, uncommented, and set the type the data",
        "producer documents (JK1, JKn, bootstrap, BRR or Fay; scale, rscales: docs/codebook.md)",
    ]
    block = _dump(
        {
            "weights": {"method": "column", "column": weight},
            "replicate": {"columns": columns, "type": "TODO"},
        }
    )
    return _comment(lines, 2) + "".join(f"  # {line}\n" for line in block.splitlines())


# --- the whole thing -------------------------------------------------------------------------


def _year(path: Path) -> str | None:
    m = re.search(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)", path.stem)
    return m.group(1) if m else None


def _values_of(frames: list[pd.DataFrame], header_to_var: dict[str, str], var: str) -> pd.Series:
    parts = [
        df[h]
        for df in frames
        for h in df.columns
        if header_to_var.get(h) == var and h in df.columns
    ]
    return pd.concat(parts, ignore_index=True) if parts else pd.Series([], dtype=object)


def init_survey(
    folder: str | Path,
    force: bool = False,
    survey_id: str | None = None,
    lang: str = "id",
    instrument: str = "tpbis",
) -> InitResult:
    """Write `survey.yaml` (and `codebook.yaml` when needed) for the exports in `folder`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise _fail(
            "init.no_folder",
            folder=folder,
        )
    config_path, codebook_path = folder / "survey.yaml", folder / "codebook.yaml"
    for p in (config_path, codebook_path):
        if p.exists() and not force:
            raise _fail(
                "init.exists",
                folder=folder,
                name=p.name,
            )
    exports, form, skipped = find_exports(folder)
    if not exports:
        raise _fail(
            "init.no_export",
            folder=folder,
        )
    cb = load_codebook(instrument)
    survey_id = survey_id or slug(folder.name, set(), 40).replace("_", "-")
    frames, matches, specs = [], [], []
    for path in exports:
        spec = detect_spec(path, folder, form)
        df = read_export(path, spec, form, cb)
        headers = [h for h in df.columns if h not in ("source_file", "source_row")]
        matches += match_headers(path.name, headers, cb)
        frames.append(df)
        specs.append((path, spec, df))
    header_to_var = {m.header: m.variable for m in matches if m.variable}
    matched_vars = []
    for m in matches:
        if m.variable and m.rule != "new":
            var = m.variable
            if var not in matched_vars:
                matched_vars.append(var)
    evidence = {}
    for m in matches:
        if m.variable and m.rule not in ("new", "metadata") and m.variable not in evidence:
            score = f", score {m.score:g}" if m.rule == "fuzzy" else ""
            evidence[m.variable] = f'"{m.header[:60]}" ({m.rule}{score}) in {m.file}'
    # unknown headers: questions of the XLSForm, one-column-per-option groups, then one each
    new_headers = list(dict.fromkeys(m.header for m in matches if m.rule == "new"))
    all_df = pd.concat(frames, ignore_index=True)
    taken = set(matched_vars) | set(cb.scales) | set(cb.roles.derived)
    taken |= {o.var for o in cb.roles.outcomes}
    drafts: list[Draft] = []
    xform = None
    if form is not None:
        from pipelines.xlsform import read_xlsform

        xform = read_xlsform(form)
        drafts = _drafts_from_form(form, xform, new_headers, matches, taken)
        done = {m.header for m in matches if m.rule in ("form", "form-option")}
        new_headers = [h for h in new_headers if h not in done]
    questions = {header_key(n): n for n in [*matched_vars, *(d.var["name"] for d in drafts)]}
    for h in list(new_headers):  # "Other (please specify)" text of a known question: ingest
        base = re.sub(r"(?i)(_other|_lainnya|[/.]other)$", "", str(h))  # keeps it, masked
        if base != str(h) and header_key(base) in questions:
            new_headers.remove(h)
            for m in matches:
                if m.header == h:
                    m.variable, m.rule = questions[header_key(base)], "other-text"
    all_headers = list(dict.fromkeys(m.header for m in matches))
    replicate = replicate_columns(new_headers, all_headers, all_df)
    if replicate:
        new_headers = [h for h in new_headers if h not in replicate["columns"]]
        for m in matches:
            if m.header in replicate["columns"]:
                m.rule = "replicate-weight"
    groups = option_groups(new_headers, all_df)
    in_group = {h for hs in groups.values() for h, _ in hs}
    for parent, hs in groups.items():
        codes: set[str] = set()
        opts = {}
        for _, o in hs:
            labs = (xform.option_labels(parent, o) if xform else []) or [o]
            opts[slug(labs[0], codes, 24)] = {"id": labs[0], "en": labs[-1], "match": [o]}
        for (h, _), code in zip(hs, opts, strict=True):
            if multiselect.fold(h) == multiselect.fold(opts[code]["id"]):
                opts[code].pop("match")
        name = slug(parent.rsplit("/", 1)[-1], taken)
        var = {"name": name, "type": "multiselect", "question": _question(parent)}
        var["options"] = {c: {k: v for k, v in o.items() if v != [c]} for c, o in opts.items()}
        drafts.append(Draft(var, [f"tick-all-that-apply: one column per option ({len(hs)})"],
                            parent))  # fmt: skip
        for m in matches:
            if m.header in {h for h, _ in hs}:
                m.variable, m.rule = name, "new-option"
        if parent in all_df.columns:  # Kobo's own column of the question: redundant
            in_group.add(parent)
            for m in matches:
                if m.header == parent:
                    m.variable, m.rule = name, "new-option"
    missing = list(cb.missing_codes)
    for h in new_headers:
        if h in in_group:
            continue
        d = guess_variable(h, all_df[h], taken, missing)
        drafts.append(d)
        for m in matches:
            if m.header == h:
                m.variable = d.var["name"]
    _own_age(drafts, matches, taken, cb, matched_vars, all_df)
    # single-role guesses must stay single (the first wins)
    seen_roles: set[str] = set(v.role for v in cb.variables if v.name in matched_vars and v.role)
    for d in drafts:
        r = d.var.get("role")
        if r in seen_roles:
            d.var.pop("role")
            d.review.append(f"another question already has the role {r}")
            if d.var["type"] == "categorical" and not d.var.get("levels"):
                d.var["type"] = "text"
        elif r:
            seen_roles.add(r)
    header_to_var = {m.header: m.variable for m in matches if m.variable}
    # sites, kelurahan and dates from the answers
    site_var = (
        "site" if "site" in matched_vars or any(d.var["name"] == "site" for d in drafts) else None
    )
    sites = _distinct(_values_of(frames, header_to_var, site_var), missing) if site_var else {}
    kel = _distinct(_values_of(frames, header_to_var, "kelurahan"), missing)
    submitted = next(
        (v.name for v in cb.variables if v.role == "submitted_at" and v.name in matched_vars),
        next((d.var["name"] for d in drafts if d.var.get("role") == "submitted_at"), None),
    )
    waves = _waves(specs, header_to_var, submitted)
    columns = {
        m.header: (m.variable, f"fuzzy match (score {m.score:g}) to {m.question[:70]!r}")
        for m in matches
        if m.rule == "fuzzy"
    }
    required_missing = [v.name for v in cb.variables if v.required and v.name not in matched_vars]
    needs_codebook = bool(drafts) or bool(required_missing)
    written = []
    if needs_codebook:
        answers = {
            n: _answers(_values_of(frames, header_to_var, n), missing)
            for n in matched_vars
            if cb.var(n).type == "categorical"
        }
        text = codebook_yaml(survey_id, cb, matched_vars, drafts, evidence, answers)
        try:
            Codebook.model_validate(yaml.safe_load(text))  # what we write must load
        except ValidationError as e:
            raise _fail(
                "init.bad_draft",
                folder=folder,
                msg=e.errors()[0]["msg"],
            ) from None
        codebook_path.write_text(text, encoding="utf-8")
        written.append(codebook_path)
    if replicate:
        replicate["weight_var"] = header_to_var.get(replicate["weight"])
    cfg_text = config_yaml(
        survey_id, codebook_path.name if needs_codebook else instrument, waves, columns, sites,
        kel, lang, replicate,
    )  # fmt: skip
    config_path.write_text(cfg_text + evidence_comment(matches), encoding="utf-8")
    written.insert(0, config_path)
    todo = _todo(config_path, written, matches, drafts, skipped, sites, kel, lang, replicate)
    return InitResult(written, matches, drafts, todo)


def _drafts_from_form(form: Path, xform, headers: list[str], matches, taken: set[str]):
    """Drafts for the export's questions its XLSForm defines (``codebook_from_xlsform``): the
    form's types, choice lists, ranges and `relevant`, with yes/no and agreement lists turned
    into yesno and likert. Marks the headers' matches 'form' (option columns 'form-option')."""
    from pipelines.xlsform import codebook_from_xlsform

    fcb = codebook_from_xlsform(form)
    drafts, seen = [], {}

    def find(header: str) -> str | None:  # `q`, Kobo `group/q`, R `group.q`
        h = str(header).lstrip("\ufeff")
        cands = (h, h.rsplit("/", 1)[-1], h.rsplit(".", 1)[-1], xform.question_of(h))
        return next((c for c in cands if c and fcb.has(c)), None)

    for h in headers:
        q, option = find(h), False
        if q is None:
            for sep in ("/", "."):
                parent = find(str(h).rsplit(sep, 1)[0]) if sep in str(h) else None
                if parent and fcb.var(parent).type == "multiselect":
                    q, option = parent, True
                    break
        if q is None:
            continue
        if q not in seen:
            d = _draft_from_form(fcb.var(q), str(h).rsplit("/", 1)[0] if option else h, taken)
            d.review.insert(0, f"from the form {form.name}: {fcb.var(q).type}")
            drafts.append(d)
            seen[q] = d.var["name"]
        for m in matches:
            if m.header == h:
                m.variable, m.rule = seen[q], "form-option" if option else "form"
    _mark_consent(drafts)
    return drafts


def _mark_consent(drafts: list[Draft]) -> None:
    """The form's consent question, so it is no outcome: among its first three yes/no questions,
    the first whose name or text speaks of consent and that every respondent is asked (no
    `relevant`). Rows without a yes are then removed, as the form's own flow intends."""
    if any(d.var.get("role") == "consent" for d in drafts):
        return
    for d in [d for d in drafts if d.var["type"] == "yesno"][:3]:
        text = " ".join([d.var["name"], *(d.var.get("question") or {}).values()])
        if not d.var.get("relevant") and re.search(ROLE_HEADERS["consent"], multiselect.fold(text)):
            d.var["role"] = "consent"
            d.review.append("consent question: rows without a yes are removed")
            return


def _draft_from_form(v, header: str, taken: set[str]) -> Draft:
    var = v.model_dump(mode="json", exclude_defaults=True, by_alias=True)
    if var["name"] in taken:
        var["name"] = slug(var["name"], taken)
    taken.add(var["name"])
    review, label_set = [], None
    if v.type == "categorical" and v.levels:
        labels = [lv.id for lv in v.levels.values()]
        lk = likert_set(labels)
        if not parse.yes_no(pd.Series(labels, dtype=object)).invalid.any():
            var = {k: x for k, x in var.items() if k not in ("levels", "ordered")}
            var["type"] = "yesno"
            review.append(f"yes/no list ({', '.join(labels)})")
        elif lk:
            var = {k: x for k, x in var.items() if k not in ("levels", "ordered")}
            var |= {"type": "likert", "labels": lk[0]}
            label_set = lk[:2]
            review.append(lk[2])
    if v.type == "text":
        review.append("free text: masked for names, phones and NIK")
    return Draft(var, review, header, label_set)


def _distinct(s: pd.Series, missing: list[str]) -> dict[str, list[str]]:
    """Place names as answered, grouped: spellings that are one place to the place matcher
    (case, spacing, Roman numerals) or nearly so (rapidfuzz ratio >= FUZZY_MIN) become one
    name (the most frequent spelling) with the other spellings that differ as its aliases."""
    from rapidfuzz import fuzz

    counts = _answers(s, missing).value_counts()
    groups: dict[str, list[tuple[str, int]]] = {}
    for text, n in counts.items():
        groups.setdefault(parse._place_key(text), []).append((str(text), int(n)))
    order = sorted(groups, key=lambda k: -sum(n for _, n in groups[k]))
    merged: dict[str, list[str]] = {}  # key of the kept group -> keys merged into it
    for key in order:
        home = next((k for k in merged if fuzz.ratio(k, key) >= FUZZY_MIN), None)
        merged.setdefault(home or key, []).append(key)
    out = {}
    for keys in merged.values():
        spellings = [t for k in keys for t, _ in groups[k]]
        name = spellings[0]
        out[name] = [t for k in keys[1:] for t, _ in groups[k][:1]]
    return out


def _month_year(d: dt.date, lang: str) -> str:
    """ "Desember 2026" / "December 2026": a wave's month in the label's own language."""
    from babel.dates import format_date

    return format_date(d, "MMMM y", locale=translate("format.babel_locale", lang))


def _waves(specs, header_to_var: dict[str, str], submitted: str | None) -> list[dict]:
    """One wave per year named in the file names (else one wave), each with its files and a
    reference date: the last submission date, or today."""
    by_wave: dict[str, list] = {}
    for path, spec, df in specs:
        by_wave.setdefault(_year(path) or "1", []).append((path, spec, df))
    out = []
    for i, (wid, items) in enumerate(sorted(by_wave.items()), 1):
        ref, why = None, "no submission time was found: set the date answers refer to"
        if submitted:
            stamps = [df[h] for _, _, df in items for h in df.columns
                      if header_to_var.get(h) == submitted]  # fmt: skip
            if stamps:
                d = parse.dates(pd.concat(stamps, ignore_index=True)).values.dropna()
                if len(d):
                    ref = d.max().date()
                    why = "reference date = the last submission; set the date answers refer to"
        ref = ref or dt.date.today()
        files = [spec.model_dump(exclude_defaults=True) for _, spec, _ in items]
        when = {lang: wid if wid != "1" else _month_year(ref, lang) for lang in ("id", "en")}
        out.append(
            {
                "id": wid,
                "label": {"id": f"Gelombang {i} ({when['id']})", "en": f"Wave {i} ({when['en']})"},
                "reference_date": ref,
                "files": files,
                "_review": why,
            }
        )
    return out


NOTES_LANG = "en"  # the language init's REVIEW notes are written in


def _todo(
    config_path, written, matches, drafts, skipped, sites, kel, lang, replicate=None
) -> list[str]:
    """The short list of what a person must look at, in the messages language."""
    real = [m for m in matches if m.rule != "metadata"]
    by_rule = Counter(m.rule for m in real)
    t = []

    def add(name, /, **fields):
        t.append(Message(name, **fields).text(lang))

    names = ", ".join(p.name for p in written)
    add("init.todo.written", names=names, parent=config_path.parent)
    known = sum(by_rule[r] for r in ("exact", "normalised", "fuzzy", "option"))
    form_n = by_rule["form"] + by_rule["form-option"]
    add(
        "init.todo.matched",
        known=known,
        n=len(real),
        exact=by_rule["exact"],
        normalised=by_rule["normalised"],
        fuzzy=by_rule["fuzzy"],
        option=by_rule["option"],
        drafts=len(drafts),
        form=Message("init.todo.from_form", n=form_n) if form_n else "",
    )
    for m in real:
        if m.rule == "fuzzy":
            add(
                "init.todo.fuzzy",
                file=m.file,
                header=m.header[:60],
                question=m.question[:60],
                score=m.score,
            )
    for d in drafts:
        kind = Message(f"init.todo.type.{d.var['type']}")
        review = d.review[0] if lang == NOTES_LANG else Message("init.todo.see_review")
        add("init.todo.draft", name=d.var["name"], header=d.header[:50], type=kind, review=review)
    if replicate:
        cols = replicate["columns"]
        weight = replicate["weight"] or Message("init.todo.no_weight")
        add("init.todo.replicate", n=len(cols), first=cols[0], last=cols[-1], weight=weight)
    if sites or kel:
        add("init.todo.places", sites=len(sites), kelurahan=len(kel))
    else:
        add("init.todo.city")
    for p in skipped:
        add(
            "init.todo.skipped",
            name=p.name,
        )
    add(
        "init.todo.then",
        config_path=config_path,
    )
    return t


def print_result(result: InitResult) -> None:
    for line in result.todo:
        print(f"- {line}")
    print(msg("init.review"))
