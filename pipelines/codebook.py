"""The instrument (codebook): variables, their types, answer labels and scales, loaded from YAML.

The bundled TPBIS instrument lives in `pipelines/instruments/tpbis.yaml`; a survey may name its own.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from pipelines.config import Text, read_yaml
from pipelines.errors import ConfigError

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
    """Answer labels of an ordinal item. `agreement` sets also accept the built-in vocabulary
    of agreement words (SS/S/N/TS/STS, English, variants); `custom` sets only their labels."""

    points: Literal[4, 5]
    kind: Literal["agreement", "custom"] = "agreement"
    labels: dict[int, Text]


class Variable(_Model):
    name: str
    type: VarType
    question: Text
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

    @model_validator(mode="after")
    def _typed(self):
        if self.type == "personal" and self.personal is None:
            raise ValueError(f"variable '{self.name}': type personal needs 'personal' kind")
        if self.type == "categorical" and not self.levels and self.role is None:
            raise ValueError(f"variable '{self.name}': categorical needs 'levels'")
        if self.type == "likert" and not self.labels:
            raise ValueError(f"variable '{self.name}': likert needs 'labels' (a label set)")
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

    @model_validator(mode="before")
    @classmethod
    def _with_optional(cls, data):
        """`optional_variables` (asked by some versions of the form only) join `variables`."""
        if isinstance(data, dict) and "optional_variables" in data:
            data = dict(data)
            extra = [{**v, "required": False} for v in data.pop("optional_variables") or []]
            data["variables"] = [*(data.get("variables") or []), *extra]
        return data

    @model_validator(mode="after")
    def _consistent(self):
        names = [v.name for v in self.variables]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"variable names must be unique: {sorted(dupes)}")
        for v in self.variables:
            if v.labels and v.labels not in self.label_sets:
                raise ValueError(f"variable '{v.name}' uses unknown label set '{v.labels}'")
        for s_name, s in self.scales.items():
            unknown = [i for i in s.items + s.reverse if i not in names]
            if unknown:
                raise ValueError(f"scale '{s_name}' names unknown items {unknown}")
        return self

    def var(self, name: str) -> Variable:
        return next(v for v in self.variables if v.name == name)

    def by_type(self, *types: str) -> list[Variable]:
        return [v for v in self.variables if v.type in types]

    def by_role(self, role: str) -> Variable | None:
        return next((v for v in self.variables if v.role == role), None)

    @property
    def personal(self) -> list[Variable]:
        return self.by_type("personal")

    def label_set(self, v: Variable) -> LabelSet:
        return self.label_sets[v.labels]


def header_key(text: str) -> str:
    """Normalise a header for matching: NFKC, case-folded, punctuation and spacing ignored."""
    t = unicodedata.normalize("NFKC", str(text)).casefold().lstrip("\ufeff")
    t = re.sub(r"^x\.u\.feff\.", "", t)  # a BOM as R's read.csv mangles it: X.U.FEFF.start
    t = re.sub(r"^[^/]*/", "", t) if "/" in t and " " not in t else t  # kobo group/question
    return re.sub(r"[\W_]+", " ", t).strip()


def load_codebook(ref: str, base_dir: Path = Path(".")) -> Codebook:
    """Load a bundled instrument by name (`tpbis`) or a codebook YAML by path."""
    path = INSTRUMENTS / f"{ref}.yaml" if "/" not in ref and not ref.endswith(".yaml") else None
    if path is None or not path.is_file():
        path = (base_dir / ref).resolve()
    if not path.is_file():
        raise ConfigError(
            f"Codebook '{ref}' not found: name a bundled instrument ({_bundled()}) "
            "or a YAML file next to the config.",
            id_text=f"Codebook '{ref}' tidak ditemukan: sebut instrumen bawaan ({_bundled()}) "
            "atau berkas YAML di samping konfigurasi.",
        )
    try:
        data = read_yaml(path.read_text(encoding="utf-8"))
        return Codebook.model_validate(data)
    except yaml.YAMLError as e:
        raise ConfigError(f"Codebook {path} is not valid YAML: {e}") from None
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"Codebook {path}, key '{loc}': {first['msg']}.") from None


def _bundled() -> str:
    return ", ".join(sorted(p.stem for p in INSTRUMENTS.glob("*.yaml")))
