"""What every source adapter shares: reading lines exactly as sent, and the parse result.

An adapter turns one format into bronze rows and checks nothing else (conformance happens in
silver). It refuses only what it cannot read: bytes that are not valid in the declared
encoding, lines with the wrong number of fields, frames that fail their own checksum.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv


@dataclass
class Parsed:
    """The result of parsing one file: accepted rows, refused records, and how many were read."""

    rows: pa.Table
    rejects: list[tuple[int | None, str, str]] = field(default_factory=list)  # (line, raw, reason)
    records_read: int = 0

    @property
    def records_accepted(self) -> int:
        return self.records_read - len(self.rejects)


@dataclass(frozen=True)
class Line:
    number: int  # 1-based
    text: str | None  # None when the bytes did not decode
    raw: bytes


def read_lines(path: Path, encoding: str = "utf-8") -> Iterator[Line]:
    """Yield every line of a file with its number; undecodable lines keep their raw bytes.

    Lines are split on LF (CRLF's CR is dropped); a final line without LF is still a line (a
    truncated record then fails its field count, not silently disappears)."""
    data = path.read_bytes()
    if encoding.lower().replace("-", "") in ("utf8", "utf8sig") and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    for i, raw in enumerate(parts, start=1):
        raw = raw.removesuffix(b"\r")
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            text = None
        yield Line(i, text, raw)


def first_line(path: Path, encoding: str = "utf-8", limit: int = 65536) -> str | None:
    """The file's first line (BOM dropped), or None when it is empty or does not decode: what a
    content check reads, so recognising a file does not depend on its name."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(limit)
    except OSError:
        return None
    head = head.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].removesuffix(b"\r")
    try:
        return head.decode(encoding) if head else None
    except UnicodeDecodeError:
        return None


def raw_text(line: Line) -> str:
    """The payload to keep in quarantine: text where it decoded, else the bytes as latin-1."""
    return line.text if line.text is not None else line.raw.decode("latin-1")


def decode_reason(line: Line, encoding: str) -> str:
    try:
        line.raw.decode(encoding)
    except UnicodeDecodeError as exc:
        return f"not valid {encoding} at byte {exc.start} of the line ({exc.reason})"
    return "undecodable"


def split_csv(text: str, delimiter: str = ",") -> list[str]:
    return next(csv.reader([text], delimiter=delimiter), [])


def csv_records(
    path: Path,
    expected_header: list[str] | None = None,
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    skip_blank: bool = False,
) -> tuple[list[str], list[tuple[int, list[str]]], list[tuple[int | None, str, str]], int]:
    """(header, [(line, fields)], rejects, records_read) for a delimited file.

    Every line after the header is a record; a record is refused when it does not decode, or
    has a different field count than the header. skip_blank ignores lines holding only
    delimiters and whitespace (the EPA files end with 27 such lines): they are counted as read
    and listed as refused with reason 'blank line', so the reconciliation still balances."""
    lines = read_lines(path, encoding)
    first = next(lines, None)
    if first is None or first.text is None:
        header: list[str] = []
        rejects = [(1, raw_text(first), "header missing or undecodable")] if first else [(None, "", "empty file")]
        return header, [], rejects, len(rejects)
    header = [h.strip() for h in split_csv(first.text, delimiter)]
    rejects: list[tuple[int | None, str, str]] = []
    refused_file = None
    if expected_header is not None and header[: len(expected_header)] != expected_header:
        refused_file = f"file refused: header {header[:len(expected_header)]} is not the expected {expected_header}"
    records: list[tuple[int, list[str]]] = []
    read = 0
    for line in lines:
        read += 1
        if refused_file:
            rejects.append((line.number, raw_text(line), refused_file))
            continue
        if line.text is None:
            rejects.append((line.number, raw_text(line), decode_reason(line, encoding)))
            continue
        if skip_blank and not line.text.replace(delimiter, "").strip():
            rejects.append((line.number, line.text, "blank line"))
            continue
        try:
            fields = split_csv(line.text, delimiter)
        except csv.Error as exc:
            rejects.append((line.number, line.text, f"unparseable line: {exc}"))
            continue
        if len(fields) != len(header):
            rejects.append((line.number, line.text, f"expected {len(header)} fields, got {len(fields)}"))
            continue
        records.append((line.number, fields))
    return header, records, rejects, read


def table(columns: dict[str, list], lines: list[int], maps: dict[str, list] | None = None) -> pa.Table:
    """Bronze rows: every value as text (map columns for a source's variable headers), plus the line."""
    arrays = {k: pa.array(v, type=pa.string()) for k, v in columns.items()}
    for k, v in (maps or {}).items():
        arrays[k] = pa.array(v, type=pa.map_(pa.string(), pa.string()))
    arrays["source_line"] = pa.array(lines, type=pa.int64())
    return pa.table(arrays)


def mapped_csv(path: Path, layouts: dict[str, list[str]], *, encoding: str = "utf-8") -> Parsed:
    """A CSV whose header tells its layout: rows as (layout, header -> value map).

    The first layout whose required columns are all in the header wins; a header matching none
    refuses every line of the file, naming the header and the layouts known."""
    header, records, rejects, read = csv_records(path, encoding=encoding)
    layout = next((name for name, required in layouts.items() if header and set(required) <= set(header)), None)
    if layout is None and records:
        reason = f"file refused: header {header} matches no known layout ({', '.join(layouts)})"
        rejects = rejects + [(line, ",".join(fields), reason) for line, fields in records]
        records = []
    cols: dict[str, list] = {"layout": [layout] * len(records)}
    fields_col = [[(h, v) for h, v in zip(header, fields, strict=True) if v != ""] for _, fields in records]
    return Parsed(table(cols, [line for line, _ in records], {"fields": fields_col}), rejects, read)


def _arrow_flat_csv(path: Path, expected_header: list[str], names: list[str], encoding: str) -> Parsed | None:
    """Arrow's C++ reader for the plain case, with the same result as the line-by-line path;
    None when the file is not plain (quotes, empty lines, bare CR, bytes that do not decode, an
    unexpected header), which the line-by-line path then reads and explains."""
    data = path.read_bytes()
    if b'"' in data or b"\n\n" in data or data.count(b"\r") != data.count(b"\r\n") or data.startswith(b"\xef\xbb\xbf"):
        return None
    rejects: list[tuple[int | None, str, str]] = []

    def invalid(row: pa_csv.InvalidRow) -> str:
        rejects.append((row.number, row.text, f"expected {row.expected_columns} fields, got {row.actual_columns}"))
        return "skip"

    try:
        t = pa_csv.read_csv(
            pa.BufferReader(data),
            read_options=pa_csv.ReadOptions(encoding=encoding, use_threads=False, block_size=1 << 26),
            parse_options=pa_csv.ParseOptions(invalid_row_handler=invalid, ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(expected_header, pa.string()),
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError, LookupError):
        return None
    if [c.strip() for c in t.column_names] != expected_header or any(r[0] is None for r in rejects):
        return None
    bad = np.array([r[0] for r in rejects], dtype="int64")
    lines = np.setdiff1d(np.arange(2, 2 + t.num_rows + len(rejects), dtype="int64"), bad, assume_unique=True)
    cols = {n: t.column(i).combine_chunks() for i, n in enumerate(names)}
    return Parsed(pa.table({**cols, "source_line": pa.array(lines)}), rejects, t.num_rows + len(rejects))


def flat_csv(path: Path, expected_header: list[str], names: list[str], *, encoding: str = "utf-8") -> Parsed:
    """A CSV with a fixed header: fields renamed to names, every value kept as text.

    Plain files go through Arrow's reader (about ten times faster on the large tier feeds);
    anything else line by line, so every refusal still names its line and reason."""
    fast = _arrow_flat_csv(path, expected_header, names, encoding)
    if fast is not None:
        return fast
    _, records, rejects, read = csv_records(path, expected_header, encoding=encoding)
    cols: dict[str, list] = {n: [fields[i] for _, fields in records] for i, n in enumerate(names)}
    return Parsed(table(cols, [line for line, _ in records]), rejects, read)
