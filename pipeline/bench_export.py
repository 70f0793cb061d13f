"""`make bench-export`: how fast `notices export` writes each format, and the xlsx writers compared.

    python -m pipeline.bench_export [--db FILE] [--rows N]

1. Every format of the whole-database export (`export_database`) on a database of data/raw/ (ingested
   into a temporary folder unless --db is given): seconds and total size.
2. The same rows (the items table repeated to --rows rows: text-heavy, Chinese, like a task export)
   written as one xlsx sheet by XlsxWriter (what export uses, constant_memory), by openpyxl's
   write-only mode (when installed: it is a test dependency), and by a minimal writer of our own (a zip
   of the XML parts, inline strings, frozen header, widths), for the choice of XlsxWriter: seconds,
   file size, peak Python memory (tracemalloc), and whether openpyxl reads the file back.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import duckdb

ROOT = Path(__file__).resolve().parent.parent


def _database(db: str | None, folder: Path) -> Path:
    if db:
        return Path(db)
    from pipeline.ingest import ingest

    path = folder / "raw.duckdb"
    ingest([ROOT / "data" / "raw"], path, workers=1)
    return path


def bench_formats(db: Path, folder: Path) -> None:
    from pipeline.export import FORMATS, export_database
    from pipeline.store import Store

    print(f"whole-database export of {db} (tables and views):")
    with Store.open(db, read_only=True) as store:
        for fmt in FORMATS:
            out = folder / f"export_{fmt}"
            start = time.perf_counter()
            result = export_database(store, out, fmt)
            seconds = time.perf_counter() - start
            size = sum(p.stat().st_size for p in result.files)
            print(f"  {fmt:<8} {seconds:6.2f} s  {size / 1e6:7.2f} MB  {len(result.files)} file(s)")


def _rows(db: Path, count: int) -> tuple[list[str], list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(
            "SELECT i.document_id, i.item_key, i.label, i.text, i.units_text, i.first_line, d.issued_date "
            "FROM items i JOIN documents d USING (document_id), range(?) r ORDER BY r.range, i.document_id, i.item_key "
            "LIMIT ?", [count // 100 + 1, count])
        return [c[0] for c in cursor.description], cursor.fetchall()


def write_xlsxwriter(path: Path, columns: list[str], rows: list[tuple]) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                           "strings_to_numbers": False, "strings_to_urls": False})
    sheet = book.add_worksheet("items")
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, columns)
    sheet.freeze_panes(1, 0)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, int):
                sheet.write_number(r, c, value)
            elif hasattr(value, "isoformat"):
                sheet.write_datetime(r, c, value, date)
            else:
                sheet.write_string(r, c, value)
    sheet.set_column(0, len(columns) - 1, 20)
    book.close()


def write_openpyxl(path: Path, columns: list[str], rows: list[tuple]) -> None:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("items")
    sheet.freeze_panes = "A2"
    for c in range(len(columns)):
        sheet.column_dimensions[openpyxl.utils.get_column_letter(c + 1)].width = 20
    sheet.append(columns)
    for row in rows:
        sheet.append(row)
    book.save(path)


_CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                  '<Default Extension="xml" ContentType="application/xml"/>'
                  '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                  '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                  '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
             'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="items" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                  '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                  '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>')
_STYLES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
           '<fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders>'
           '<cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="2"><xf/><xf numFmtId="164" applyNumberFormat="1"/></cellXfs>'
           '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')


def write_own(path: Path, columns: list[str], rows: list[tuple]) -> None:
    """A minimal xlsx: the five XML parts a workbook needs, one sheet streamed into the zip."""
    import datetime as dt

    def ref(c: int, r: int) -> str:
        letters = ""
        c += 1
        while c:
            c, rem = divmod(c - 1, 26)
            letters = chr(65 + rem) + letters
        return f"{letters}{r}"

    def text(value: str) -> str:  # XML-escaped, without the control characters XML 1.0 forbids
        return escape("".join(ch for ch in value if ch >= " " or ch in "\t\n\r"))

    epoch = dt.date(1899, 12, 30)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, part in (("[Content_Types].xml", _CONTENT_TYPES), ("_rels/.rels", _RELS), ("xl/workbook.xml", _WORKBOOK),
                           ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS), ("xl/styles.xml", _STYLES)):
            z.writestr(name, part)
        with z.open("xl/worksheets/sheet1.xml", "w") as out:
            out.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                      b'<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
                      + f'<cols><col min="1" max="{len(columns)}" width="20" customWidth="1"/></cols><sheetData>'.encode())
            for r, row in enumerate([tuple(columns), *rows], start=1):
                cells = []
                for c, value in enumerate(row):
                    if value is None:
                        continue
                    if isinstance(value, int):
                        cells.append(f'<c r="{ref(c, r)}"><v>{value}</v></c>')
                    elif isinstance(value, dt.date):
                        cells.append(f'<c r="{ref(c, r)}" s="1"><v>{(value - epoch).days}</v></c>')
                    else:
                        cells.append(f'<c r="{ref(c, r)}" t="inlineStr"><is><t xml:space="preserve">{text(value)}</t></is></c>')
                out.write(f'<row r="{r}">{"".join(cells)}</row>'.encode())
            out.write(b"</sheetData></worksheet>")


def bench_xlsx_writers(db: Path, folder: Path, count: int) -> None:
    columns, rows = _rows(db, count)
    print(f"one sheet of {len(rows):,} task rows ({len(columns)} columns, Chinese text):")
    writers = [("XlsxWriter", write_xlsxwriter), ("own zip+XML", write_own)]
    try:
        import openpyxl  # noqa: F401

        writers.insert(1, ("openpyxl", write_openpyxl))
    except ImportError:
        print("  (openpyxl not installed: pip install '.[test]')")
    for name, write in writers:
        path = folder / f"{name.split()[0]}.xlsx"
        start = time.perf_counter()
        write(path, columns, rows)
        seconds = time.perf_counter() - start
        tracemalloc.start()  # a second run: tracing slows the writer, so it is not the timed one
        write(path, columns, rows)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        readable = "?"
        try:
            import openpyxl

            book = openpyxl.load_workbook(path, read_only=True)
            read = sum(1 for _ in book.active.iter_rows(values_only=True))
            book.close()
            readable = "yes" if read == len(rows) + 1 else f"{read - 1:,} rows"
        except ImportError:
            pass
        except Exception as exc:  # noqa: BLE001 - the point is to report it
            readable = f"no ({exc})"
        print(f"  {name:<12} {seconds:6.2f} s  {path.stat().st_size / 1e6:6.2f} MB  peak Python memory "
              f"{peak / 1e6:6.1f} MB  openpyxl reads it back: {readable}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="database to export (default: data/raw/ ingested into a temporary folder)")
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the xlsx writers' comparison")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_export_") as tmp:
        folder = Path(tmp)
        db = _database(args.db, folder)
        bench_formats(db, folder)
        bench_xlsx_writers(db, folder, args.rows)


if __name__ == "__main__":
    main()
