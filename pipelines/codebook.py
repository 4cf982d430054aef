"""The instrument (codebook): variables, their types, answer labels and scales, loaded from YAML.

The bundled TPBIS instrument lives in `pipelines/instruments/tpbis.yaml`; a survey may name its own.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipelines.config import Text, read_yaml
from pipelines.errors import ConfigError, Message

INSTRUMENTS = Path(__file__).parent / "instruments"

VarType = Literal[
    "datetime",
    "yesno",
    "categorical",
    "likert",
    "numeric",
    "currency",
    "multiselect",
    "text",
    "identifier",
    "personal",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Level(_Model):
    id: str
    en: str
    match: list[str] = []


class LabelSet(_Model):
    """Answer labels of an ordinal item, keyed by their numeric codes (1..4, 0..10, ...).
    `agreement` sets also accept the built-in vocabulary of agreement words (SS/S/N/TS/STS,
    English, variants); `custom` sets only their labels."""

    points: Annotated[int, Field(ge=2, le=11)]
    kind: Literal["agreement", "custom"] = "agreement"
    labels: dict[int, Text]

    @model_validator(mode="after")
    def _fits(self):
        codes = sorted(self.labels)
        if len(codes) != self.points or codes != list(range(codes[0], codes[0] + self.points)):
            raise ValueError(
                f"a {self.points}-point label set needs {self.points} consecutive codes, "
                f"got {codes}"
            )
        if self.kind == "agreement" and self.points not in (4, 5):
            raise ValueError("an 'agreement' label set has 4 or 5 points; use kind: custom")
        return self

    @property
    def range(self) -> tuple[int, int]:
        """(lowest, highest) code: reverse coding is lowest + highest - x."""
        return min(self.labels), max(self.labels)


class Variable(_Model):
    name: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
    type: VarType
    question: Text
    label: Text | None = None  # a short name for reports (else the question)
    role: str | None = None
    personal: Literal["name", "phone", "nik", "email", "address"] | None = None
    required: bool = True
    aliases: list[str] = []
    levels: dict[str, Level] = {}
    options: dict[str, Level] = {}  # multiselect: one 0/1 column `<name>__<option>` each
    ordered: bool = False
    labels: str | None = None
    range: tuple[float, float] | None = None
    sensitive: bool = False
    # XLSForm `relevant` (e.g. "selected(${hh_hosting}, 'yes')"): where false, the question
    # was not asked; cleaning counts that apart from "not answered" (pipelines.xlsform)
    relevant: str | None = None

    @model_validator(mode="after")
    def _typed(self):
        if self.type == "personal" and self.personal is None:
            raise ValueError(f"variable '{self.name}': type personal needs 'personal' kind")
        if self.type == "categorical" and not self.levels and self.role is None:
            raise ValueError(f"variable '{self.name}': categorical needs 'levels'")
        if self.type == "likert" and not (self.labels or self.range):
            raise ValueError(
                f"variable '{self.name}': likert needs 'labels' (a label set) or a 'range'"
            )
        if self.type == "multiselect" and not self.options:
            raise ValueError(f"variable '{self.name}': multiselect needs 'options'")
        if self.options and self.type != "multiselect":
            raise ValueError(f"variable '{self.name}': only multiselect variables have 'options'")
        bad = [o for o in self.options if not re.fullmatch(r"[a-z0-9_]+", o)]
        if bad:
            raise ValueError(f"variable '{self.name}': option codes must be a-z, 0-9, _: {bad}")
        return self

    def option_columns(self) -> dict[str, str]:
        """Processed column of each option of a multiselect variable: `<name>__<option>`."""
        return {code: f"{self.name}__{code}" for code in self.options}


OutcomeKind = Literal["scale", "likert", "yesno", "money", "count"]


class OutcomeRole(_Model):
    """One outcome the analysis estimates: a scale, a single Likert item, a yes/no, money
    (modelled on the log scale) or a count; `from` + `levels` derive a yes/no from a
    categorical answer (1 when the answer is one of `levels`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    var: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
    kind: OutcomeKind
    label: Text | None = None
    from_: str | None = Field(None, alias="from")
    levels: list[str] = []


class Exposure(_Model):
    """What respondents were exposed to: took part (yes/no), which programme (single choice or
    multi-select) and how many sessions. Each is optional."""

    took_part: str | None = None
    programme: str | None = None
    dose: str | None = None


class Derived(_Model):
    """A column clean makes from an answer: an age from a birth year, or bands of a number
    (cut points: the config's `analysis.age_bands` / `income_bands`, or the codebook's own list)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    from_: str = Field(alias="from")
    how: Literal["years_before_reference", "bands", "log"]
    cuts: Literal["age_bands", "income_bands"] | list[float] | None = None
    money: bool = False
    label: Text | None = None


class Roles(_Model):
    """What each question is *for* in the analysis; the plan is built from this."""

    exposure: Exposure = Exposure()
    outcomes: list[OutcomeRole] = []
    headline: list[str] | None = None
    covariates: list[str] = []
    breakdowns: list[str] = []
    link: list[str] = []
    derived: dict[str, Derived] = {}


class Scale(_Model):
    label: Text
    items: list[str]
    reverse: list[str] = []
    min_answered: int | None = None


class Codebook(_Model):
    id: str
    version: str
    title: Text
    label_sets: dict[str, LabelSet] = {}
    missing_codes: list[str] = []
    variables: list[Variable]
    scales: dict[str, Scale] = {}
    roles: Roles = Roles()

    @model_validator(mode="before")
    @classmethod
    def _with_optional(cls, data):
        """`optional_variables` (asked by some versions of the form only) join `variables`."""
        if isinstance(data, dict) and "optional_variables" in data:
            data = dict(data)
            extra = [{**v, "required": False} for v in data.pop("optional_variables") or []]
            data["variables"] = [*(data.get("variables") or []), *extra]
        return data

    @model_validator(mode="before")
    @classmethod
    def _outcome_names(cls, data):
        """An outcome given by name alone (``outcomes: [skills, business]``) gets the kind its
        scale or variable type implies; a number question must say money or count."""
        roles = data.get("roles") if isinstance(data, dict) else None
        if not isinstance(roles, dict) or not isinstance(roles.get("outcomes"), list):
            return data
        types = {
            v.get("name"): v.get("type") for v in data.get("variables") or [] if isinstance(v, dict)
        }
        kinds = {"likert": "likert", "yesno": "yesno", "currency": "money"}
        outcomes, unclear = [], []
        for o in roles["outcomes"]:
            if not isinstance(o, str):
                outcomes.append(o)
            elif o in (data.get("scales") or {}):
                outcomes.append({"var": o, "kind": "scale"})
            elif types.get(o) in kinds:
                outcomes.append({"var": o, "kind": kinds[types[o]]})
            else:
                unclear.append(o)
        if unclear:
            raise ValueError(
                f"roles.outcomes: {unclear} are not scales or likert, yesno or currency "
                "variables: write each as {var: <name>, kind: money} or {var: <name>, kind: "
                "count} for a number question (docs/codebook.md, roles.outcomes)"
            )
        return {**data, "roles": {**roles, "outcomes": outcomes}}

    @model_validator(mode="after")
    def _consistent(self):
        """Every cross-reference checked; all problems reported together, one per line."""
        problems = self._check_variables() + self._check_roles()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _check_variables(self) -> list[str]:
        names = [v.name for v in self.variables]
        problems = []
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            problems.append(f"variable names must be unique: {sorted(dupes)}")
        for v in self.variables:
            if v.labels and v.labels not in self.label_sets:
                problems.append(f"variable '{v.name}' uses unknown label set '{v.labels}'")
        for s_name, s in self.scales.items():
            unknown = [i for i in s.items + s.reverse if i not in names]
            if unknown:
                problems.append(f"scale '{s_name}' names unknown items {unknown}")
                continue
            not_likert = [i for i in s.items if self.var(i).type != "likert"]
            if not_likert:
                problems.append(f"scale '{s_name}': items {not_likert} are not likert")
                continue
            if any(self.var(i).labels not in (None, *self.label_sets) for i in s.items):
                continue  # the unknown label set is reported above
            ranges = {i: self.item_range(self.var(i)) for i in s.items}
            if len(set(ranges.values())) > 1:
                problems.append(
                    f"scale '{s_name}': its items have different answer ranges {ranges}; "
                    "a scale's items must share one range"
                )
        return problems

    def _check_roles(self) -> list[str]:
        """Every role names a variable, a scale or a derived column of the right type."""
        names = {v.name for v in self.variables}
        r = self.roles
        known = names | set(self.scales) | set(r.derived) | {o.var for o in r.outcomes}
        problems = []
        for k, col in r.exposure.model_dump().items():
            if col is not None and col not in names:
                problems.append(f"roles.exposure.{k}: '{col}' is not a variable")
        ex = r.exposure
        if ex.took_part in names and self.var(ex.took_part).type != "yesno":
            problems.append(f"roles.exposure.took_part: '{ex.took_part}' must be yesno")
        if ex.programme in names and self.var(ex.programme).type not in (
            "categorical",
            "multiselect",
        ):
            problems.append(
                f"roles.exposure.programme: '{ex.programme}' must be categorical or multiselect"
            )
        want = {"scale": None, "likert": ("likert",), "yesno": ("yesno",)}
        want |= {"money": ("currency", "numeric"), "count": ("numeric",)}
        seen = set()
        for i, o in enumerate(r.outcomes):
            where = f"roles.outcomes[{i}] ('{o.var}')"
            if o.var in seen:
                problems.append(f"{where}: listed twice")
            seen.add(o.var)
            if o.from_ is not None:
                if o.kind != "yesno" or not o.levels:
                    problems.append(f"{where}: 'from' derives a yesno outcome and needs 'levels'")
                if o.from_ not in names or self.var(o.from_).type != "categorical":
                    problems.append(f"{where}: 'from: {o.from_}' must be a categorical variable")
                else:
                    bad = [lv for lv in o.levels if lv not in self.var(o.from_).levels]
                    if bad:
                        problems.append(f"{where}: levels {bad} are not levels of '{o.from_}'")
                if o.label is None:
                    problems.append(f"{where}: a derived outcome needs a 'label' (id, en)")
                if o.var in names:
                    problems.append(f"{where}: a derived outcome needs a new name")
            elif o.kind == "scale":
                if o.var not in self.scales:
                    problems.append(f"{where}: kind scale needs a key of 'scales'")
            elif o.var not in names or self.var(o.var).type not in want[o.kind]:
                problems.append(
                    f"{where}: kind {o.kind} needs a variable of type {' or '.join(want[o.kind])}"
                )
        for k in ("covariates", "breakdowns", "link"):
            unknown = [c for c in getattr(r, k) if c not in known]
            if unknown:
                problems.append(f"roles.{k}: {unknown} are not variables or derived columns")
        if r.headline is not None:
            unknown = [h for h in r.headline if h not in seen]
            if unknown:
                problems.append(f"roles.headline: {unknown} are not among roles.outcomes")
        for name, d in r.derived.items():
            if name in names:
                problems.append(f"roles.derived.{name}: a variable already has this name")
            if d.from_ not in known:
                problems.append(f"roles.derived.{name}: 'from: {d.from_}' is unknown")
            if d.how == "bands":
                problems += self._band_problems(name, d)
        return problems

    def _band_problems(self, name: str, d: Derived) -> list[str]:
        """Bands need cut points (a named list, or two or more increasing numbers) and a
        number to cut: a band of a categorical answer would be empty."""
        where = f"roles.derived.{name}"
        if d.cuts is None:
            return [f"{where}: bands need 'cuts' (age_bands, income_bands or a list of numbers)"]
        out = []
        if isinstance(d.cuts, list) and (
            len(d.cuts) < 2 or any(b <= a for a, b in zip(d.cuts, d.cuts[1:], strict=False))
        ):
            out.append(f"{where}: 'cuts' must be two or more increasing numbers, got {d.cuts}")
        if isinstance(d.cuts, list) and not d.money and any(c != int(c) for c in d.cuts):
            out.append(f"{where}: 'cuts' must be whole numbers (bands read 18-29, 30-49, ...)")
        if self.has(d.from_) and self.var(d.from_).type not in ("numeric", "currency"):
            out.append(f"{where}: bands cut a number; '{d.from_}' is {self.var(d.from_).type}")
        return out

    def item_range(self, v: Variable) -> tuple[float, float]:
        """The answer range of a Likert item: its label set's codes, else its `range`."""
        if v.labels:
            return self.label_sets[v.labels].range
        return v.range

    def scale_range(self, name: str) -> tuple[float, float]:
        """The range of a scale's score (the shared range of its items)."""
        return self.item_range(self.var(self.scales[name].items[0]))

    def var(self, name: str) -> Variable:
        return next(v for v in self.variables if v.name == name)

    def has(self, name: str) -> bool:
        return any(v.name == name for v in self.variables)

    def by_type(self, *types: str) -> list[Variable]:
        return [v for v in self.variables if v.type in types]

    def by_role(self, role: str) -> Variable | None:
        return next((v for v in self.variables if v.role == role), None)

    @property
    def personal(self) -> list[Variable]:
        return self.by_type("personal")

    def label_set(self, v: Variable) -> LabelSet:
        return self.label_sets[v.labels]


_APOSTROPHES = re.compile("['\u2018\u2019\u02bc\u02b9`\u00b4]")
_DASHES = re.compile("[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")
_INVISIBLE = re.compile("[\u200b-\u200f\u2060\ufeff\u00ad]")


def unify_text(text) -> str:
    """One spelling for what exports write in several: NFKC (non-breaking spaces become spaces),
    apostrophes of any kind dropped ("master’s" = "master's" = "masters"), en/em/minus dashes
    as "-", zero-width characters removed, whitespace collapsed."""
    t = unicodedata.normalize("NFKC", str(text))
    t = _DASHES.sub("-", _APOSTROPHES.sub("", _INVISIBLE.sub("", t)))
    return " ".join(t.split())


def header_key(text: str) -> str:
    """Normalise a header for matching: unified punctuation (:func:`unify_text`), case-folded,
    punctuation and spacing ignored."""
    t = unify_text(str(text).lstrip("\ufeff")).casefold()
    t = re.sub(r"^x\.u\.feff\.", "", t)  # a BOM as R's read.csv mangles it: X.U.FEFF.start
    t = re.sub(r"^[^/]*/", "", t) if "/" in t and " " not in t else t  # kobo group/question
    return re.sub(r"[\W_]+", " ", t).strip()


def load_codebook(ref: str, base_dir: Path = Path(".")) -> Codebook:
    """Load a bundled instrument by name (`tpbis`) or a codebook YAML by path."""
    path = INSTRUMENTS / f"{ref}.yaml" if "/" not in ref and not ref.endswith(".yaml") else None
    if path is None or not path.is_file():
        path = (base_dir / ref).resolve()
    if not path.is_file():
        raise ConfigError(Message("codebook.not_found", ref=ref, bundled=_bundled()))
    try:
        data = read_yaml(path.read_text(encoding="utf-8"))
        return Codebook.model_validate(data)
    except yaml.YAMLError as e:
        raise ConfigError(f"Codebook {path} is not valid YAML: {e}") from None
    except ValidationError as e:
        raise ConfigError(codebook_problems(path, e)) from None


def codebook_problems(path: Path, err: ValidationError) -> Message:
    """Every problem pydantic found in a codebook, one per line, as a staff message."""
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        msg = str(e["msg"]).removeprefix("Value error, ")
        lines += [f"  - {loc}: {m}" if loc else f"  - {m}" for m in msg.split("; ")]
    n = len(lines)
    key = "codebook.problems" if n > 1 else "codebook.problem"
    return Message(key, path=path, n=n, problems="\n".join(lines))


def _bundled() -> str:
    return ", ".join(sorted(p.stem for p in INSTRUMENTS.glob("*.yaml")))
