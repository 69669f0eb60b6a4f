"""Typed errors. JVM exceptions from Delta are mapped here so callers can retry by type."""

from __future__ import annotations


class SmartmonError(Exception):
    """Base of every error smartmon raises on purpose."""


class ConfigError(SmartmonError):
    """A profile, environment variable or set-up step is wrong; the message says how to fix it."""


class SetupError(SmartmonError):
    """The machine lacks something smartmon needs (Java, the resolved jars)."""


class InputError(SmartmonError):
    """A source sent something that cannot be accepted; names the file and line or message."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        where = ""
        if file:
            where = f"{file}:{line}: " if line is not None else f"{file}: "
        super().__init__(where + message)
        self.file = file
        self.line = line


class TableError(SmartmonError):
    """A table is missing, undeclared, or its data does not fit its declared schema."""


class GraphError(SmartmonError):
    """The job declarations do not make a graph: a cycle, a table with two writers, an unknown
    table or job name."""


class TransientError(SmartmonError):
    """Worth retrying: a concurrent Delta commit, a lost Ray worker."""


class ConcurrentCommitError(TransientError):
    """Another writer committed to the same Delta table first."""


_CONCURRENT_MARKERS = (
    "ConcurrentAppendException",
    "ConcurrentDeleteReadException",
    "ConcurrentDeleteDeleteException",
    "ConcurrentTransactionException",
    "MetadataChangedException",
    "ProtocolChangedException",
    "ConcurrentWriteException",
    "DELTA_CONCURRENT_",
)


def map_jvm_error(exc: BaseException) -> BaseException:
    """Turn a Delta concurrency failure raised through py4j into ConcurrentCommitError.

    delta-spark's own Python exceptions (delta.exceptions) subclass pyspark's captured
    exceptions; matching on the class name or error class also covers errors that arrive
    as a plain Py4JJavaError.
    """
    text = f"{type(exc).__name__}: {exc}"
    if any(marker in text for marker in _CONCURRENT_MARKERS):
        mapped = ConcurrentCommitError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        mapped.__cause__ = exc
        return mapped
    return exc
