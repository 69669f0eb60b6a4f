"""epa-pmf: speciation feeds in the PMF input layout: a concentration file and an uncertainty
file with the same columns and rows (EPA PMF5 samples: Baltimore, St. Louis, Baton Rouge).

The pair is read together; a concentration line is a record. Its uncertainty line must exist
with the same sample, else the record is refused."""

from __future__ import annotations

import re
from pathlib import Path

from jobs.bronze.base import Parsed, csv_records, table
from smartmon.catalog.names import BRONZE_PMF_SPECIATION, SILVER_SPECIATION

NAME = "epa-pmf"
BRONZE = BRONZE_PMF_SPECIATION


FOLDER = "epa_pmf_esat"
SOURCE = NAME
FEEDS = (SILVER_SPECIATION,)


def matches(path: Path) -> bool:
    return re.search(r"[-_]con\.(txt|csv)$", path.name) is not None


def claims(path: Path) -> bool:
    """The files this adapter reads: a concentration file, or the uncertainty file parsed with it."""
    return matches(path) or re.search(r"[-_]unc\.(txt|csv)$", path.name) is not None


def dataset_name(path: Path) -> str:
    return re.sub(r"^Dataset-|[-_]con\.(txt|csv)$", "", path.name).replace(" ", "").lower()


def uncertainty_path(path: Path) -> Path:
    return path.with_name(re.sub(r"con(\.(txt|csv))$", r"unc\1", path.name))


def parse(path: Path) -> Parsed:
    delim = "\t" if path.suffix == ".txt" else ","
    header, records, rejects, read = csv_records(path, delimiter=delim, skip_blank=True)
    unc_path = uncertainty_path(path)
    if not unc_path.exists():
        return Parsed(table({}, []), [(line, delim.join(f), f"no uncertainty file {unc_path.name}") for line, f in records] + rejects, read)
    u_header, u_records, _, _ = csv_records(unc_path, delimiter=delim, skip_blank=True)
    unc = {fields[0]: fields for _, fields in u_records}
    species = header[1:]
    cols: dict[str, list] = {"dataset": [], "sample": []}
    conc, uncs, lines = [], [], []
    for line, fields in records:
        u = unc.get(fields[0])
        if u is None or u_header != header:
            rejects.append((line, delim.join(fields), f"sample {fields[0]!r} has no matching line in {unc_path.name}"))
            continue
        cols["dataset"].append(dataset_name(path))
        cols["sample"].append(fields[0])
        conc.append(list(zip(species, fields[1:], strict=True)))
        uncs.append(list(zip(species, u[1:], strict=True)))
        lines.append(line)
    return Parsed(table(cols, lines, {"concentration": conc, "uncertainty": uncs}), rejects, read)
