"""The dictionary a database was built with is kept in it (issue 15).

An analyst's --dictionary entries go to custom_units; later commands use them without the
flag; bad lines are refused, one line each; no mention points at a unit missing from `units`.
"""

from __future__ import annotations

import duckdb
import pytest
from typer.testing import CliRunner

from cli import app
from tests.conftest import RAW

runner = CliRunner()
FUTURE_BUREAU = "北京市未来产业局\tmunicipal\tgovernment\t北京市\t市未来局\t\n"


@pytest.fixture
def folder(tmp_path):
    """Seed 003 (北京) with one unit list naming a bureau no dictionary knows."""
    folder = tmp_path / "notices"
    folder.mkdir()
    text = next(RAW.glob("003_*.txt")).read_text(encoding="utf-8")
    changed = text.replace("（市国资委、市总工会、市经信局、市知识产权局）", "（市国资委、市未来局）")
    assert changed != text
    (folder / "beijing.txt").write_text(changed, encoding="utf-8")
    return folder


def _future_bureau(db) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT DISTINCT canonical_name, resolution FROM unit_mentions WHERE raw_text = '市未来局'").fetchall()


def _dangling(db) -> int:
    """Mentions resolved to a canonical name the units table does not hold."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "SELECT count(*) FROM unit_mentions m WHERE m.canonical_name IS NOT NULL "
            "AND m.canonical_name NOT IN (SELECT canonical_name FROM units)"
        ).fetchone()[0]


def test_a_custom_dictionary_stays_with_the_database(folder, tmp_path):
    extra = tmp_path / "my_units.tsv"
    extra.write_text(FUTURE_BUREAU, encoding="utf-8")
    db = tmp_path / "x.duckdb"
    result = runner.invoke(app, ["ingest", str(folder), "--db", str(db), "--dictionary", str(extra)])
    assert result.exit_code == 0, result.output
    assert _future_bureau(db) == [("北京市未来产业局", "alias")]
    # The next ingest, without the flag and with a new file, keeps the entry.
    (folder / "tianjin.txt").write_text(next(RAW.glob("004_*.txt")).read_text(encoding="utf-8"), encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(folder), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "dictionary changed" not in result.output
    assert _future_bureau(db) == [("北京市未来产业局", "alias")]
    assert _dangling(db) == 0
    listed = runner.invoke(app, ["units", "--unresolved", "--db", str(db)])
    assert "市未来局" not in listed.output
    # Forgetting it resolves the stored mentions again: unresolved, and nothing dangling.
    result = runner.invoke(app, ["renormalize", "--db", str(db), "--reset-dictionary"])
    assert result.exit_code == 0 and "0 custom dictionary entries kept" in result.output
    assert _future_bureau(db) == [(None, "unresolved")]
    assert _dangling(db) == 0
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM units WHERE canonical_name = '北京市未来产业局'").fetchone()[0] == 0


def test_a_dictionary_given_later_resolves_what_is_stored(folder, tmp_path):
    db = tmp_path / "x.duckdb"
    assert runner.invoke(app, ["ingest", str(folder), "--db", str(db)]).exit_code == 0
    assert _future_bureau(db) == [(None, "unresolved")]
    extra = tmp_path / "my_units.tsv"
    extra.write_text(FUTURE_BUREAU, encoding="utf-8")
    # Nothing to parse (the file is unchanged), but the stored mentions follow the new entry.
    result = runner.invoke(app, ["ingest", str(folder), "--db", str(db), "--dictionary", str(extra)])
    assert result.exit_code == 0, result.output
    assert "1 unchanged" in result.output and "the unit dictionary changed" in result.output
    assert _future_bureau(db) == [("北京市未来产业局", "alias")]
    # A later entry for the same name replaces the kept one.
    extra.write_text(FUTURE_BUREAU.replace("市未来局", "市未来局|未来局"), encoding="utf-8")
    assert runner.invoke(app, ["renormalize", "--db", str(db), "--dictionary", str(extra)]).exit_code == 0
    with duckdb.connect(str(db), read_only=True) as con:
        kept = con.execute("SELECT canonical_name, aliases FROM custom_units").fetchall()
        aliases = con.execute("SELECT alias FROM unit_aliases WHERE canonical_name = '北京市未来产业局' ORDER BY 1").fetchall()
    assert kept == [("北京市未来产业局", ["市未来局", "未来局"])]
    assert aliases == [("市未来局",), ("未来局",)]


def test_bad_dictionary_lines_are_refused_one_line_each_and_nothing_is_kept(folder, tmp_path):
    db = tmp_path / "x.duckdb"
    assert runner.invoke(app, ["ingest", str(folder), "--db", str(db)]).exit_code == 0
    bad = tmp_path / "bad.tsv"
    bad.write_text(
        "# a comment\n"
        "北京市未来产业局\tmunicipal\tgovernmnet\t北京市\t市未来局\n"   # kind misspelt
        "北京市星空局\tcity\tgovernment\t北京市\t市星空局\n"            # level not a level
        "北京市海洋局\tmunicipal\tgovernment\t北京\t市海洋局\n"          # jurisdiction not a full place name
        "国家未来局\tcentral\tgovernment\t北京市\t未来局\n"             # central with a jurisdiction
        "北京市好局\tmunicipal\tgovernment\t北京市\t市好局\n",           # a good line: not kept either
        encoding="utf-8",
    )
    result = runner.invoke(app, ["ingest", str(folder), "--db", str(db), "--dictionary", str(bad)])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if f"{bad}, line" in line]
    assert [line.split(", line ")[1].split(" ")[0] for line in lines] == ["2", "3", "4", "5"]
    assert "kind 'governmnet'" in lines[0] and "level 'city'" in lines[1]
    assert "jurisdiction '北京'" in lines[2] and "central unit has no jurisdiction" in lines[3]
    assert "4 bad lines" in result.stderr and "Traceback" not in result.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM custom_units").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM ingest_runs").fetchone()[0] == 1


def test_reordered_entries_claiming_one_alias_resolve_stored_mentions_again(folder, tmp_path):
    """Two entries claim 市未来局: the later wins; moving the other one last changes stored mentions."""
    db = tmp_path / "x.duckdb"
    both = tmp_path / "both.tsv"
    both.write_text(FUTURE_BUREAU + "北京市未来发展中心\tmunicipal\tpublic_institution\t北京市\t市未来局\t\n", encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(folder), "--db", str(db), "--dictionary", str(both)]).exit_code == 0
    assert _future_bureau(db) == [("北京市未来发展中心", "alias")]
    again = tmp_path / "again.tsv"
    again.write_text(FUTURE_BUREAU, encoding="utf-8")  # given again: now the later entry
    result = runner.invoke(app, ["ingest", str(folder), "--db", str(db), "--dictionary", str(again)])
    assert "the unit dictionary changed" in result.output
    assert _future_bureau(db) == [("北京市未来产业局", "alias")]


def test_every_mention_of_the_reviewed_notices_has_a_units_row(tmp_path):
    db = tmp_path / "raw.duckdb"
    assert runner.invoke(app, ["ingest", str(RAW), "--db", str(db), "--quiet"]).exit_code == 0
    assert _dangling(db) == 0
    with duckdb.connect(str(db), read_only=True) as con:
        sources = dict(con.execute("SELECT source, count(*) FROM units GROUP BY 1").fetchall())
    assert sources.get("notice", 0) >= 1 and sources.get("jurisdiction_rule", 0) >= 1
    assert runner.invoke(app, ["renormalize", "--db", str(db), "--reset-dictionary"]).exit_code == 0
    assert _dangling(db) == 0
