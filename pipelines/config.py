"""Load and validate a survey config (YAML) once, into a typed, immutable `SurveyConfig`.

Everything survey-specific lives in the YAML: files, header mapping, codebook, sites, design,
languages, thresholds. Errors name the file, the key and what was expected.
"""

from __future__ import annotations

import datetime as dt
import difflib
import fnmatch
import hashlib
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from pipelines.errors import ConfigError, Message, set_language
from pipelines.i18n import languages


def _known_language(lang: str) -> str:
    """A language the catalogue has (a folder of pipelines/locales), refused like a Literal."""
    if lang not in languages():
        known = " or ".join(repr(x) for x in languages())
        raise PydanticCustomError(
            "literal_error", "Input should be {expected}", {"expected": known}
        )
    return lang


Lang = Annotated[str, AfterValidator(_known_language)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Model):
    """A user-facing text in Indonesian and English."""

    id: str
    en: str

    def __call__(self, lang: str) -> str:
        return self.id if lang == "id" else self.en  # another language: English


class SurveyInfo(_Model):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    title: Text
    city: str
    synthetic: bool = False


class InputFile(_Model):
    path: str
    format: Literal["csv", "xlsx", "sav", "dta", "kobo"]
    sheet: str | int | None = None
    header_rows: Annotated[int, Field(ge=1, le=2)] = 1
    skip_rows: Annotated[int, Field(ge=0)] = 0
    delimiter: str | None = None
    encoding: str | None = None
    xlsform: str | None = None


class Wave(_Model):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$")]
    label: Text
    reference_date: dt.date
    files: Annotated[list[InputFile], Field(min_length=1)]


class Site(_Model):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    name: str
    kecamatan: str
    aliases: list[str] = []


class Places(_Model):
    kecamatan: dict[str, list[str]]
    aliases: dict[str, str] = {}


class Weights(_Model):
    """How the analysis weights rows. ``file``: weights delivered in a CSV/Excel file beside
    the config (``path``), one row per ``key`` value - a respondent id or a group such as
    ``site`` or ``kelurahan`` - with the weight in ``column`` (decimal commas allowed);
    ``file_key`` names the file's key column when it differs from the data's ``key``;
    data rows whose key the file lacks stop the run (``unmatched: error``) or get the mean
    weight (``unmatched: mean``), and are reported either way. ``rake`` starts from ``column``
    (a design weight, e.g. the one replicate weights were made from) when given, else from 1."""

    method: Literal["rake", "column", "none", "file"]
    column: str | None = None
    path: str | None = None
    key: str | None = None
    file_key: str | None = None
    unmatched: Literal["error", "mean"] = "error"
    trim_ratio: Annotated[float, Field(gt=1)] | None = 5.0
    margins: dict[str, dict[str, float]] = {}
    # raked weights: SEs from the raking residuals (as R's rake() design), or weights as fixed
    variance: Literal["calibrated", "fixed"] = "calibrated"

    @model_validator(mode="after")
    def _complete(self):
        if self.method == "rake" and not self.margins:
            raise ValueError("method 'rake' needs 'margins' (population totals per variable)")
        if self.method == "column" and not self.column:
            raise ValueError("method 'column' needs 'column' (the weight column's name)")
        if self.method == "file":
            lacking = [k for k in ("path", "key", "column") if not getattr(self, k)]
            if lacking:
                raise ValueError(
                    f"method 'file' needs {', '.join(lacking)} (path: the weights file beside "
                    "the config; key: the data column its rows match, e.g. site; column: the "
                    "file's weight column)"
                )
            if not self.path.lower().endswith((".csv", ".xlsx", ".xls")):
                raise ValueError("method 'file': 'path' must be a .csv, .xlsx or .xls file")
        elif self.path or self.key or self.file_key:
            raise ValueError("'path', 'key' and 'file_key' belong to method 'file'")
        return self


ReplicateType = Literal["JK1", "JKn", "bootstrap", "BRR", "Fay"]


def _natural(name: str) -> list:
    """Sort key that puts repw_2 before repw_10."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


class Replicate(_Model):
    """Replicate weights, as national rounds ship them: export columns (``columns``: a glob such
    as ``repw_*`` or a list) of the given ``type`` with R's ``scale``, ``rscales``, ``rho`` (Fay)
    and ``mse`` (``svrepdesign``), beside the main weight (``design.weights.method: column``);
    or ``create`` (JK1, JKn, bootstrap with ``replicates``) from the config's strata and
    clusters (``as.svrepdesign``)."""

    columns: str | Annotated[list[str], Field(min_length=2)] | None = None
    type: ReplicateType | None = None
    scale: Annotated[float, Field(gt=0)] | None = None
    rscales: Annotated[float, Field(gt=0)] | list[Annotated[float, Field(gt=0)]] | None = None
    rho: Annotated[float, Field(ge=0, lt=1)] | None = None
    mse: bool = False
    create: Literal["JK1", "JKn", "bootstrap"] | None = None
    replicates: Annotated[int, Field(ge=2)] | None = None

    @model_validator(mode="after")
    def _complete(self):
        def fail(key: str, **fields):
            raise ValueError(Message(f"config.replicate.{key}", **fields).text())

        if (self.columns is None) == (self.create is None):
            fail("columns_or_create")
        if self.create is not None:
            given = [k for k in ("type", "scale", "rscales", "rho") if getattr(self, k) is not None]
            if given:
                fail("given_only", keys=", ".join(given))
            if self.replicates is not None and self.create != "bootstrap":
                fail("replicates_bootstrap")
            return self
        if self.type is None:
            fail("needs_type")
        if self.replicates is not None:
            fail("replicates_bootstrap")
        if self.type == "JKn" and self.rscales is None:
            fail("jkn_rscales")
        if self.type == "Fay" and self.rho is None:
            fail("fay_rho")
        if self.rho is not None and self.type != "Fay":
            fail("rho_fay")
        if self.type in ("BRR", "Fay") and self.scale is not None:
            fail("brr_scale")
        return self

    def match(self, headers) -> list[str]:
        """The replicate weight columns among ``headers``: the glob's matches in natural order,
        or the listed names that are there (the caller reports the others)."""
        if isinstance(self.columns, list):
            return [c for c in self.columns if c in set(headers)]
        return sorted(fnmatch.filter([str(h) for h in headers], self.columns or ""), key=_natural)

    def missing(self, headers) -> list[str]:
        """Listed replicate columns ``headers`` lack, or the glob itself when nothing matches."""
        if isinstance(self.columns, list):
            return [c for c in self.columns if c not in set(headers)]
        return [] if len(self.match(headers)) >= 2 else [str(self.columns)]

    def design_options(self, columns: list[str]) -> dict:
        """Keyword arguments of :class:`pipelines.stats.ReplicateDesign` for these columns."""
        opts = {"type": self.type, "scale": self.scale, "rscales": self.rscales, "mse": self.mse}
        return {"repweights": columns, **opts, "rho": self.rho}


class Design(_Model):
    strata: str | None = "kecamatan"
    # one sampling-unit column, or one per stage (e.g. [site, respondent_key]); the first is the
    # library (site) the reports break down by
    cluster: str | list[str] | None = "site"
    # population number of units per stratum (or sampling fractions), one column per stage
    fpc: str | list[str] | None = None
    weights: Weights = Weights(method="none")
    replicate: Replicate | None = None

    @model_validator(mode="after")
    def _replicates(self):
        rep = self.replicate
        if rep is None:
            return self
        w = self.weights
        based = w.method in ("column", "file") or (w.method == "rake" and w.column)
        if rep.columns is not None and not based:
            raise ValueError(Message("config.replicate.main_weight").text())
        if rep.create == "JK1" and self.strata:
            raise ValueError(Message("config.replicate.jk1_strata", strata=self.strata).text())
        if rep.create is not None and len(self.stage_ids) > 1:
            raise ValueError(Message("config.replicate.one_stage").text())
        return self

    @model_validator(mode="after")
    def _stages(self):
        ids = self.stage_ids
        fpcs = [] if self.fpc is None else [self.fpc] if isinstance(self.fpc, str) else self.fpc
        if isinstance(self.cluster, list) and not ids:
            raise ValueError("design.cluster is an empty list; give a column name or leave it out")
        if len(set(ids)) != len(ids):
            raise ValueError(f"design.cluster names a column twice: {ids}")
        if isinstance(self.fpc, list) and len(fpcs) != len(ids):
            raise ValueError(
                f"design.fpc lists {len(fpcs)} columns but design.cluster {len(ids)} stages; "
                "give one fpc per stage"
            )
        if len(ids) > 1 and isinstance(self.fpc, str):
            raise ValueError(
                f"design.cluster has {len(ids)} stages, so design.fpc must be a list with one "
                "column per stage (or left out)"
            )
        return self

    @property
    def stage_ids(self) -> list[str]:
        """Sampling-unit columns, one per stage (empty: respondents are the units)."""
        c = self.cluster
        return [] if c is None else [c] if isinstance(c, str) else list(c)

    @property
    def site(self) -> str | None:
        """The first-stage sampling unit (the library), or None."""
        return (self.stage_ids or [None])[0]


class Analysis(_Model):
    age_bands: Annotated[list[int], Field(min_length=2)] = [15, 25, 35, 45, 60]
    income_bands: Annotated[list[float], Field(min_length=2)] = [0, 1e6, 2.5e6, 5e6]
    # None: the codebook's roles decide (covariates, breakdowns, headline outcomes)
    covariates: list[str] | None = None
    breakdowns: list[str] | None = None
    headline: list[str] | None = None
    min_sessions_dose: int = 1
    # inclusion lens (issue 14 item 3): a group smaller than this, or with fewer events (the
    # rarer of yes/no) per coefficient of its own than this, is reported "too uncertain"
    min_group_size: Annotated[int, Field(ge=2)] = 30
    min_events_per_variable: Annotated[float, Field(ge=1)] = 5.0

    @field_validator("age_bands", "income_bands")
    @classmethod
    def _increasing(cls, v):
        if any(b <= a for a, b in zip(v, v[1:], strict=False)):
            raise ValueError("band limits must increase")
        return v


# Cleaning problems whose cost (respondents leaving the estimates, weighting levels emptied)
# a config may accept explicitly: `cleaning.accept_loss: [unmatched_site]`.
LossProblem = Literal[
    "unmatched_site",
    "unmatched_kelurahan",
    "unknown_category",
    "unknown_yes_no",
    "not_a_number",
    "impossible_value",
    "impossible_age",
    "likert_out_of_scale",
]


class Cleaning(_Model):
    duplicates: Literal["keep_last", "keep_first"] = "keep_last"
    min_seconds: Annotated[float, Field(ge=0)] = 180
    straightline_min_items: Annotated[int, Field(ge=3)] = 10
    # a problem that removes more than this share of a wave's respondents from the estimates
    # (or empties a weighting level) stops the run, unless listed in accept_loss
    max_loss_share: Annotated[float, Field(ge=0, le=1)] = 0.05
    accept_loss: list[LossProblem] = []


class Indicator(_Model):
    name: str
    year: int
    value: float
    scale: str = "0-100"
    source: str = ""


class Report(_Model):
    languages: Annotated[list[Lang], Field(min_length=1)] = ["id", "en"]
    formats: Annotated[list[Literal["html", "pdf"]], Field(min_length=1)] = ["html", "pdf"]
    suppression_threshold: Annotated[int, Field(ge=1)] = 10
    official_indicators: list[Indicator] = []
    # precision warning beside a library's numbers: fewer respondents than this, or an interval
    # wider than this share of the outcome's range (a proportion's range is 0-1)
    precision_min_n: Annotated[int, Field(ge=1)] = 30
    precision_max_ci_share: Annotated[float, Field(gt=0, le=1)] = 0.25
    # the cover: who publishes, whom to ask (an office, not an e-mail or phone: the privacy scan
    # refuses those in outputs), how to cite (each in Indonesian and English)
    institution: Text | None = None
    contact: str | None = None
    citation: Text | None = None


class SurveyConfig(_Model):
    """A validated survey config. `base_dir` is the folder raw file paths are relative to."""

    survey: SurveyInfo
    instrument: str = "tpbis"
    messages_language: Lang = "id"
    waves: Annotated[list[Wave], Field(min_length=1)]
    columns: dict[str, str] = {}
    places: Places
    sites: list[Site] = Field(default_factory=list)  # none: the form names no library
    design: Design = Design()
    analysis: Analysis = Analysis()
    cleaning: Cleaning = Cleaning()
    report: Report = Report()
    base_dir: Path = Path(".")
    source: Path = Path("survey.yaml")

    @model_validator(mode="after")
    def _consistent(self):
        wave_ids = [w.id for w in self.waves]
        if len(set(wave_ids)) != len(wave_ids):
            raise ValueError(f"wave ids must be unique, got {wave_ids}")
        site_ids = [s.id for s in self.sites]
        if len(set(site_ids)) != len(site_ids):
            raise ValueError(f"site ids must be unique, got {site_ids}")
        for s in self.sites:
            if s.kecamatan not in self.places.kecamatan:
                raise ValueError(
                    f"site '{s.id}' is in kecamatan '{s.kecamatan}', "
                    f"which places.kecamatan does not list"
                )
        kel = self.kelurahan
        for alias, target in self.places.aliases.items():
            if target not in kel:
                raise ValueError(
                    f"places.aliases: '{alias}' points to unknown kelurahan '{target}'"
                )
        margins = self.design.weights.margins
        if "kelurahan" in margins and set(margins["kelurahan"]) != set(kel):
            missing = sorted(set(kel) - set(margins["kelurahan"]))
            extra = sorted(set(margins["kelurahan"]) - set(kel))
            raise ValueError(
                f"design.weights.margins.kelurahan must list every kelurahan "
                f"(missing {missing}, unknown {extra})"
            )
        return self

    @property
    def kelurahan(self) -> dict[str, str]:
        """Each kelurahan mapped to its kecamatan."""
        return {k: kec for kec, ks in self.places.kecamatan.items() for k in ks}

    @property
    def site_ids(self) -> list[str]:
        return [s.id for s in self.sites]

    def site(self, site_id: str) -> Site:
        return next(s for s in self.sites if s.id == site_id)

    def wave_files(self, wave: Wave) -> list[Path]:
        return [self.base_dir / f.path for f in wave.files]


def _read_yaml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(Message("config.not_found", path=path)) from None
    except UnicodeDecodeError:
        raise ConfigError(Message("config.not_utf8", path=path)) from None
    try:
        data = read_yaml(text, source=Message("config.file", path=path))
    except yaml.YAMLError as e:
        line = getattr(getattr(e, "problem_mark", None), "line", None)
        where = Message("config.near_line", line=line + 1) if line is not None else ""
        raise ConfigError(Message("config.bad_yaml", path=path, where=where)) from None
    if not isinstance(data, dict):
        raise ConfigError(Message("config.not_mapping", path=path))
    return data


def _merge(base: dict, child: dict) -> dict:
    """Child keys replace base keys; `waves` are appended to the base's waves."""
    out = dict(base)
    for k, v in child.items():
        out[k] = base.get("waves", []) + v if k == "waves" else v
    return out


def _load_raw(path: Path, seen: tuple[Path, ...] = (), read: list[Path] | None = None) -> dict:
    data = _read_yaml(path)
    if read is not None:
        read.append(path.resolve())
    parent = data.pop("extends", None)
    if parent is None:
        return data
    parent_path = (path.parent / parent).resolve()
    if parent_path in seen:
        raise ConfigError(f"Config file {path}: 'extends' forms a loop through {parent_path}.")
    return _merge(_load_raw(parent_path, (*seen, path.resolve()), read), data)


# Validated configs by file, with the content hash of every file read for them: a kernel that
# writes one report per library (the runner's warm kernels) reads a national config once, not
# once per library. A config is frozen, so the same object can be handed out again.
_LOADED: dict[Path, tuple[tuple[tuple[Path, str], ...], SurveyConfig]] = {}


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def _cached(path: Path) -> SurveyConfig | None:
    """The config loaded before from ``path`` if none of its files has changed since."""
    hit = _LOADED.get(path.resolve())
    if hit is None or any(_digest(p) != d for p, d in hit[0]):
        return None
    return hit[1]


def _describe(err: dict, model_fields: list[str]) -> str:
    loc = ".".join(str(p) for p in err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(err["loc"][-1])
        close = difflib.get_close_matches(key, model_fields, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown key '{loc}'{hint}"
    if kind == "missing":
        return f"key '{loc}' is required but missing"
    got = err.get("input")
    got_s = f" (got {got!r})" if not isinstance(got, dict | list) else ""
    return f"key '{loc}': {err['msg']}{got_s}" if loc else err["msg"]


def _known_keys() -> list[str]:
    keys: set[str] = set()
    for model in (
        SurveyConfig,
        SurveyInfo,
        InputFile,
        Wave,
        Site,
        Places,
        Weights,
        Design,
        Replicate,
    ):
        keys.update(model.model_fields)
    keys.update(Analysis.model_fields, Cleaning.model_fields, Report.model_fields)
    return sorted(keys)


def file_problems(cfg: SurveyConfig) -> list[ConfigError]:
    """Every file the config names (raw exports, a weights file) that lies outside the survey's
    folder or does not exist, one error each (an export's `paths` says which file)."""
    root = cfg.base_dir.resolve()
    out = []
    for wave in cfg.waves:
        for i, f in enumerate(wave.files):
            p = (cfg.base_dir / f.path).resolve()
            key = f"waves.{wave.id}.files.{i}.path"
            if not p.is_relative_to(root):
                err = ConfigError(
                    Message("config.outside", source=cfg.source, key=key, path=f.path, root=root)
                )
            elif not p.is_file():
                err = ConfigError(Message("config.raw_missing", source=cfg.source, key=key, path=p))
            else:
                continue
            err.paths = (cfg.base_dir / f.path,)
            out.append(err)
    w = cfg.design.weights
    if w.method == "file":  # the weights file beside the config
        p, key = (cfg.base_dir / w.path).resolve(), "design.weights.path"
        if not p.is_relative_to(root) or not p.is_file():
            why = (
                "config.weights_outside" if not p.is_relative_to(root) else "config.weights_missing"
            )
            out.append(ConfigError(Message(why, source=cfg.source, key=key, path=w.path)))
    return out


def _check_paths(cfg: SurveyConfig) -> None:
    problems = file_problems(cfg)
    if problems:
        raise problems[0]


class DuplicateKeyError(yaml.YAMLError):
    """A mapping names the same key twice: YAML keeps the last silently, hiding the first."""

    def __init__(self, key, line: int, first_line: int):
        super().__init__(
            f"the key '{key}' is given twice (lines {first_line} and {line}); merge them into one"
        )
        self.key, self.line, self.first_line = key, line, first_line


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's C parser (5x faster than the pure-Python one) with a constructor that refuses
    a key given twice in one mapping (merge keys `<<` may still be overridden, as YAML says)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node.start_mark.line + 1)
                except TypeError:  # an unhashable key: the base constructor names it
                    continue
                if first != key_node.start_mark.line + 1:
                    raise DuplicateKeyError(key, key_node.start_mark.line + 1, first)
        return super().construct_mapping(node, deep=deep)


def read_yaml(text: str, source: str | Path | None = None):
    """Parse YAML safely with libyaml's C parser when installed (a national config lists 2,400
    sites and every site report reads it). Every YAML Dampak loads (configs, codebooks, locale
    files) comes through here, so a key given twice is an error naming the file, line and key,
    never a silently dropped block. Without `source` the DuplicateKeyError (a YAMLError) is
    raised for the caller to name the file."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except DuplicateKeyError as e:
        if source is None:
            raise
        where = source if isinstance(source, Message) else str(source)
        raise ConfigError(
            Message("config.key_twice", where=where, line=e.line, key=e.key, first=e.first_line)
        ) from None


def load_config(path: str | Path, check_files: bool = True) -> SurveyConfig:
    """Read, merge (`extends`) and validate a survey config; raise ConfigError naming file and key."""
    path = Path(path)
    cfg = _cached(path)
    if cfg is not None and cfg.source == path:
        if "messages_language" in cfg.model_fields_set:  # as a first load would
            set_language(cfg.messages_language)
    else:
        cfg = _validated(path)
    if check_files:
        _check_paths(cfg)
    return cfg


def _validated(path: Path) -> SurveyConfig:
    """Read, merge and validate ``path`` (and keep it for the next load of the same files)."""
    read: list[Path] = []
    data = _load_raw(path, read=read)
    if data.get("messages_language") in languages():  # so even config errors speak it
        set_language(data["messages_language"])
    data = {**data, "base_dir": path.parent, "source": path}
    try:
        cfg = SurveyConfig.model_validate(data)
    except ValidationError as e:
        problems = [_describe(err, _known_keys()) for err in e.errors()[:12]]  # all, in one go
        raise ConfigError(
            Message("config.invalid", path=path, problems="; ".join(problems))
        ) from None
    if len(_LOADED) > 16:
        _LOADED.clear()
    _LOADED[path.resolve()] = (tuple((p, _digest(p)) for p in read), cfg)
    return cfg


def config_as_dict(cfg: SurveyConfig) -> dict[str, Any]:
    """The merged config as plain data (for the run manifest)."""
    return cfg.model_dump(mode="json", exclude={"base_dir", "source"})
