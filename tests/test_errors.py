"""Dampak's exceptions: one root, a sentence in the staff member's language, file/row/column."""

from __future__ import annotations

import pytest

from pipelines import errors
from pipelines.errors import (
    ConfigError,
    DampakError,
    InputError,
    Joined,
    Message,
    RunError,
    located,
    msg,
)


def test_every_error_is_a_dampak_error_the_cli_catches():
    for cls in (ConfigError, InputError, RunError):
        assert issubclass(cls, DampakError)
    with pytest.raises(DampakError):
        raise InputError("In file a.csv, row 3: bad.")


def test_message_follows_the_messages_language():
    e = RunError(Message("steps.missing", file="clean.parquet", step="ingest"))
    assert e.text("en") == "clean.parquet is missing: run the 'ingest' stage first."
    assert e.text("id") == "clean.parquet belum ada: jalankan tahap 'ingest' terlebih dahulu."
    errors.set_language("id")
    assert errors.current_language() == "id"
    assert str(e) == e.text("id") and msg("where.row", row=2) == "baris 2"
    assert str(InputError("Only English.")) == "Only English."  # a plain sentence as it is
    errors.set_language("en")
    assert str(e) == e.text("en") and msg("where.row", row=2) == "row 2"


def test_a_field_that_is_a_message_renders_in_the_same_language():
    inner = Message("config.near_line", line=4)
    e = ConfigError(Message("config.bad_yaml", path="s.yaml", where=inner))
    assert (
        e.text("en")
        == "Config file s.yaml is not valid YAML near line 4: check indentation and colons."
    )
    assert "dekat baris 4" in e.text("id")
    both = Joined([Message("where.row", row=1), "x"], "; ")
    assert both.text("id") == "baris 1; x"


def test_a_message_missing_from_the_catalogue_is_a_clear_error():
    from pipelines.i18n import TranslationError

    with pytest.raises(TranslationError, match="msg.no.such"):
        msg("no.such")
    with pytest.raises(TranslationError, match="'path'"):
        msg("config.not_found")


def test_located_names_file_row_and_column_in_both_languages():
    assert located("a.csv").text("en") == "file a.csv"
    assert located("a.csv").text("id") == "berkas a.csv"
    where = located("a.csv", 7, "umur")
    assert where.text("en") == 'file a.csv, row 7, column "umur"'
    assert where.text("id") == 'berkas a.csv, baris 7, kolom "umur"'
    assert located("a.csv", column="x").text("en") == 'file a.csv, column "x"'


def _looks_like_key(node) -> bool:
    import ast

    text = node.value if isinstance(node, ast.Constant) else None
    return isinstance(text, str) and "." in text and " " not in text and text[0].isalpha()


def _message_keys_in_code() -> set[str]:
    """Every literal message key the code passes to Message/msg or a module's _fail helper."""
    import ast
    from pathlib import Path

    import pipelines

    found = set()
    for path in Path(pipelines.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            at = {"Message": 0, "msg": 0, "add": 0, "_fail": None, "_file_error": 1, "_skip": 3}
            if name not in at:
                continue
            args = node.args if at[name] is None else node.args[at[name] : at[name] + 1]
            found |= {a.value for a in args[:2] if _looks_like_key(a)}
    return found


def test_every_message_the_code_names_is_in_the_catalogue():
    from pipelines.i18n import catalog

    keys = _message_keys_in_code()
    assert len(keys) > 100, len(keys)  # the scan sees the call sites
    missing = sorted(k for k in keys if f"msg.{k}" not in catalog("en"))
    assert not missing, missing


def test_keys_made_from_names_are_in_the_catalogue():
    """Cleaning-log rules, loss problems, value kinds, variable types, analyses and planning
    units are worded by key: each has its text."""
    from typing import get_args

    from pipelines.codebook import VarType
    from pipelines.config import LossProblem
    from pipelines.i18n import catalog
    from pipelines.plan import ANALYSES
    from pipelines.planning import PLAN_UNIT
    from pipelines.runner import WARN_RULES

    strings = catalog("en")
    for rule in WARN_RULES:
        assert f"msg.runner.warn.{rule}" in strings, rule
    for problem in get_args(LossProblem):
        assert f"msg.clean.problem.{problem}.what" in strings, problem
        assert f"msg.clean.problem.{problem}.fix" in strings, problem
    for kind in ("dates", "numbers"):
        assert f"msg.clean.kind_{kind}" in strings
    for var_type in get_args(VarType):  # init's to-do list and the Google Forms question list
        assert f"msg.init.todo.type.{var_type}" in strings, var_type
        assert f"question_list.kind.{var_type}" in strings, var_type
    for analysis in ANALYSES:
        assert f"analyses.{analysis}" in strings, analysis
    for unit in set(PLAN_UNIT.values()) | {"sd"}:
        assert {f"planning.unit.{unit}.{x}" for x in ("effect", "name")} <= set(strings), unit


def test_no_sentence_pairs_left_in_the_code():
    """Staff messages come from the catalogue only: no English/Indonesian pairs in the code
    (a branch merged from before the catalogue would bring them back)."""
    import re
    from pathlib import Path

    import pipelines

    for path in Path(pipelines.__file__).parent.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bid_text=|\bsay\(", text), path


# codebook answer labels (data, in the codebook's two languages), not interface text
_DATA_PAIRS = {"YESNO_CHOICES"}


def _text_by_language(source: str, langs) -> list[str]:
    """Texts typed per language in code: a dict keyed by language codes whose values are tables
    (``{"en": {...}, "id": {...}}``), ``Localised(en="...", id="...")`` with typed text, or a
    dict of (text, text) pairs (``{"site": ("per library", "per perpustakaan")}``). A codebook
    text ``{"id": label, "en": label}`` is data and passes."""
    import ast

    found, tree = [], ast.parse(source)
    allowed = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and {getattr(t, "id", "") for t in node.targets} & _DATA_PAIRS
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict) and id(node) not in allowed:
            by_lang = [
                v
                for k, v in zip(node.keys, node.values, strict=True)
                if isinstance(k, ast.Constant) and k.value in langs
            ]
            tables = (ast.Dict, ast.Tuple, ast.List)
            if len(by_lang) >= 2 and any(isinstance(v, tables) for v in by_lang):
                found.append(f"line {node.lineno}: texts keyed by language")
            pairs = [v for v in node.values if isinstance(v, ast.Tuple) and len(v.elts) == 2]
            if (
                node.values
                and len(pairs) == len(node.values)
                and all(
                    isinstance(e, ast.Constant) and isinstance(e.value, str)
                    for v in pairs
                    for e in v.elts
                )
            ):
                found.append(f"line {node.lineno}: pairs of texts")
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Localised":
            typed = (ast.Constant, ast.JoinedStr)
            if any(kw.arg in langs and isinstance(kw.value, typed) for kw in node.keywords):
                found.append(f"line {node.lineno}: Localised with typed text")
    return found


def test_no_texts_keyed_by_language_left_in_the_code():
    """Adding a language is adding a folder: no per-language tables of text in the code."""
    from pathlib import Path

    import pipelines
    from pipelines.i18n import languages

    for path in Path(pipelines.__file__).parent.rglob("*.py"):
        assert not _text_by_language(path.read_text(encoding="utf-8"), languages()), path


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ('TEXT = {"en": {"head": "Plan"}, "id": {"head": "Rencana"}}', True),
        ('KINDS = {"yesno": ("Pilihan ganda", "Multiple choice")}', True),
        ('x = Localised(en="type", id="jenis")', True),
        ('x = Localised(en=d.type, id=Message("init.todo.see_review"))', False),
        ('label = {"id": f"Skala {i}", "en": f"Scale {i}"}', False),  # a codebook text
        ('opts = {"id": idn or plain, "en": en or plain}', False),
        ('other = {"id": "Lainnya", "en": "Other", "match": []}', False),  # a codebook level
        ('x = Localised(**{lang: labels[c](lang) for lang in ("en", "id")})', False),
        ('YESNO_CHOICES = {"ya": ("Ya", "Yes"), "tidak": ("Tidak", "No")}', False),
    ],
)
def test_the_language_table_scan_tells_interface_text_from_data(source, flagged):
    assert bool(_text_by_language(source, ("id", "en"))) is flagged
