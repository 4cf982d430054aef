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
