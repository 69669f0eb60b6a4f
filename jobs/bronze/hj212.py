"""hj212: HJ 212 frames from the landing zone (one frame per line, as the receiver writes them)
and the hj212_messages dataset export (TSV with a 'message' column)."""

from __future__ import annotations

from pathlib import Path

from jobs.bronze.base import (
    Line,
    Parsed,
    decode_reason,
    raw_text,
    read_lines,
    split_csv,
    table,
)
from smartmon.catalog.names import (
    BRONZE_HJ212_FRAMES,
    SILVER_HJ212_VALUES,
    SILVER_SOURCE_EMISSIONS,
)
from smartmon.standards.hj212 import FrameError, parse_frame

NAME = "hj212"
BRONZE = BRONZE_HJ212_FRAMES
COLUMNS = ["frame", "crc", "qn", "st", "cn", "mn", "flag", "cp"]


FOLDER = "hj212_messages"
SOURCE = NAME
FEEDS = (SILVER_HJ212_VALUES, SILVER_SOURCE_EMISSIONS)


def matches(path: Path) -> bool:
    """The dataset export (.tsv) and the receiver's landing files (.hj212)."""
    return path.suffix in (".tsv", ".hj212")


def _frames(path: Path) -> list[Line]:
    """Lines holding one frame each; for the TSV export, the message column of each row."""
    lines = list(read_lines(path))
    if path.suffix != ".tsv" or not lines or lines[0].text is None:
        return lines
    header = split_csv(lines[0].text, "\t")
    col = header.index("message")
    out = []
    for ln in lines[1:]:
        if ln.text is None:
            out.append(ln)
            continue
        fields = split_csv(ln.text, "\t")
        text = fields[col] if len(fields) > col else ln.text
        out.append(Line(ln.number, text, ln.raw))
    return out


def parse(path: Path) -> Parsed:
    lines = _frames(path)
    cols: dict[str, list] = {c: [] for c in COLUMNS}
    numbers, rejects = [], []
    for ln in lines:
        if ln.text is None:
            rejects.append((ln.number, raw_text(ln), decode_reason(ln, "utf-8")))
            continue
        if not ln.text.strip():
            rejects.append((ln.number, ln.text, "blank line"))
            continue
        try:
            frame = parse_frame(ln.text.strip())
        except FrameError as exc:
            rejects.append((ln.number, ln.text, f"HJ 212 frame refused: {exc}"))
            continue
        f = frame.fields
        for c, v in zip(COLUMNS, [frame.text, frame.crc, f.get("QN"), f.get("ST"), f.get("CN"), f.get("MN"), f.get("Flag"), frame.cp], strict=True):
            cols[c].append(v)
        numbers.append(ln.number)
    return Parsed(table(cols, numbers), rejects, len(lines))
