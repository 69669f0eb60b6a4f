"""What a table declaration is: TableSpec and its columns, the type vocabulary, the registry
itself. The layer modules (bronze.py, silver.py, ...) import this module, and the package
imports them, so these live apart from the package's __init__ (no import cycle)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pyspark.sql import types as T

from smartmon.errors import TableError

LAYERS = ("bronze", "silver", "gold", "features")

_SIMPLE = {
    "string": T.StringType(),
    "double": T.DoubleType(),
    "float": T.FloatType(),
    "bigint": T.LongType(),
    "int": T.IntegerType(),
    "smallint": T.ShortType(),
    "boolean": T.BooleanType(),
    "timestamp": T.TimestampType(),
    "date": T.DateType(),
    "binary": T.BinaryType(),
}


def spark_type(name: str) -> T.DataType:
    """Map the small type vocabulary of the registry to Spark types (no JVM needed)."""
    name = name.strip().lower()
    if name in _SIMPLE:
        return _SIMPLE[name]
    if name.startswith("array<") and name.endswith(">"):
        return T.ArrayType(spark_type(name[6:-1]))
    if name.startswith("map<") and name.endswith(">"):
        key, value = name[4:-1].split(",", 1)
        return T.MapType(spark_type(key), spark_type(value))
    raise TableError(f"unsupported column type {name!r} in the table registry")


@dataclass(frozen=True)
class Col:
    name: str
    type: str
    doc: str
    nullable: bool = True


@dataclass(frozen=True)
class TableSpec:
    layer: str
    name: str
    columns: tuple[Col, ...]
    description: str
    keys: tuple[str, ...] = ()
    partition_by: tuple[str, ...] = ()
    append_only: bool = False
    zorder: tuple[str, ...] = ()
    extra_properties: dict[str, str] = field(default_factory=dict)

    @property
    def fqn(self) -> str:
        return f"{self.layer}.{self.name}"

    @property
    def schema(self) -> T.StructType:
        return T.StructType([T.StructField(c.name, spark_type(c.type), c.nullable) for c in self.columns])

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def properties(self) -> dict[str, str]:
        """Change data feed on silver and gold; bronze is append-only; never deletion vectors."""
        props = {"delta.enableDeletionVectors": "false"}
        if self.layer in ("silver", "gold", "features"):
            props["delta.enableChangeDataFeed"] = "true"
        if self.append_only:
            props["delta.appendOnly"] = "true"
        props.update(self.extra_properties)
        return props


_REGISTRY: dict[str, TableSpec] = {}


def register(spec: TableSpec) -> TableSpec:
    if spec.layer not in LAYERS:
        raise TableError(f"{spec.name}: layer must be one of {LAYERS}")
    if spec.fqn in _REGISTRY:
        raise TableError(f"table {spec.fqn} declared twice")
    names = spec.column_names
    missing = [k for k in (*spec.keys, *spec.partition_by, *spec.zorder) if k not in names]
    if missing:
        raise TableError(f"{spec.fqn}: keys/partitions {missing} are not columns")
    _REGISTRY[spec.fqn] = spec
    return spec


# Lineage carried by every bronze and silver row: where the value came from, in which batch.
LINEAGE = (
    Col("source", "string", "source adapter name, e.g. cnemc-archive", False),
    Col("source_file", "string", "landing file (path as received) or receiver log the row came from"),
    Col("source_line", "bigint", "1-based line in source_file, or frame number for messages"),
    Col("batch_id", "string", "ingest batch that first wrote this row (see bronze.ingest_batches)"),
    Col("ingested_at", "timestamp", "UTC time the batch ran"),
)
