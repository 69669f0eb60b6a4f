"""GB 3838-2002 surface-water classes: single-factor evaluation as data, with a Python
reference and a Spark expression built from the same table (mg/L; pH dimensionless).

A section's class is the worst class of its parameters (1 = I ... 5 = V, 6 = 劣V). River
evaluation leaves out water temperature, TN and fecal coliform; temperature, pH and DO get no
exceedance multiple. pH outside 6-9 meets no class and is taken as 劣V (the usual reading of
"pH 6-9 for all classes").
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

CLASS_NAMES = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "劣V"}
RIVER, LAKE = "river", "lake"
TARGET_DEFAULT = 3

# parameter -> upper limits of classes I..V (DO: lower limits, higher is better).
LIMITS: dict[str, tuple[float, ...]] = {
    "do": (7.5, 6, 5, 3, 2),
    "codmn": (2, 4, 6, 10, 15),
    "cod": (15, 15, 20, 30, 40),
    "bod5": (3, 3, 4, 6, 10),
    "nh3n": (0.15, 0.5, 1.0, 1.5, 2.0),
    "tp": (0.02, 0.1, 0.2, 0.3, 0.4),
}
LAKE_LIMITS = {"tp": (0.01, 0.025, 0.05, 0.1, 0.2), "tn": (0.2, 0.5, 1.0, 1.5, 2.0)}
HIGHER_IS_BETTER = {"do"}
NO_MULTIPLE = {"do", "ph", "water_temp"}


def evaluated(waterbody: str = RIVER) -> tuple[str, ...]:
    """Parameters that enter the class for the water body type (pH included)."""
    base = ("ph", *LIMITS)
    return (*base, "tn") if waterbody == LAKE else base


def _limits(parameter: str, waterbody: str) -> tuple[float, ...]:
    if waterbody == LAKE and parameter in LAKE_LIMITS:
        return LAKE_LIMITS[parameter]
    return LIMITS[parameter]


def water_class(parameter: str, value: float | None, waterbody: str = RIVER) -> int | None:
    """Class 1..6 of one value; None when missing or not a class parameter."""
    if value is None or parameter not in evaluated(waterbody):
        return None
    if parameter == "ph":
        return 1 if 6 <= value <= 9 else 6
    limits = _limits(parameter, waterbody)
    for i, lim in enumerate(limits, start=1):
        if (value >= lim) if parameter in HIGHER_IS_BETTER else (value <= lim):
            return i
    return 6


def exceedance_multiple(parameter: str, value: float | None, target: int = TARGET_DEFAULT, waterbody: str = RIVER) -> float | None:
    """(C - S) / S against the target class's limit when C is above it, else 0."""
    if value is None or parameter in NO_MULTIPLE or parameter not in evaluated(waterbody):
        return None
    s = _limits(parameter, waterbody)[target - 1]
    return max(0.0, (value - s) / s)


def class_column(parameter: Column, value: Column, waterbody: str = RIVER) -> Column:
    """water_class() as a Spark expression over (parameter, value) columns."""
    expr = F.when((parameter == "ph") & (value >= 6) & (value <= 9), F.lit(1)).when(parameter == "ph", F.lit(6))
    for name in evaluated(waterbody):
        if name == "ph":
            continue
        per = F.lit(6)
        for i, lim in reversed(list(enumerate(_limits(name, waterbody), start=1))):
            cond = (value >= F.lit(lim)) if name in HIGHER_IS_BETTER else (value <= F.lit(lim))
            per = F.when(cond, F.lit(i)).otherwise(per)
        expr = expr.when(parameter == name, per)
    return F.when(value.isNull(), F.lit(None)).otherwise(expr).cast("int")


def multiple_column(parameter: Column, value: Column, target: int = TARGET_DEFAULT, waterbody: str = RIVER) -> Column:
    expr = None
    for name in evaluated(waterbody):
        if name in NO_MULTIPLE:
            continue
        s = _limits(name, waterbody)[target - 1]
        m = F.greatest(F.lit(0.0), (value - F.lit(s)) / F.lit(s))
        expr = F.when(parameter == name, m) if expr is None else expr.when(parameter == name, m)
    return F.when(value.isNull(), F.lit(None)).otherwise(expr).cast("double")


def class_name_column(cls: Column) -> Column:
    expr = None
    for k, v in CLASS_NAMES.items():
        expr = F.when(cls == k, F.lit(v)) if expr is None else expr.when(cls == k, F.lit(v))
    return expr
