"""Read what a consultation report needs from the lake with delta-rs (no Spark session).

Reports run beside the nightly jobs, on a laptop or a web server, where starting a JVM for a few
thousand gold rows would cost more than the report. Every read is pruned by month partition and
filtered by pyarrow before pandas sees it; silver.air_hourly is never read (the gold tables hold
the daily products). The Delta version of each table read is kept for the report's footer, so a
figure can be traced to the table state it came from.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
from deltalake import DeltaTable

from smartmon.beijing_time import beijing_day_bounds_utc
from smartmon.catalog.names import (
    GOLD_AQI_DAILY,
    GOLD_EVAL_MONTHLY,
    GOLD_FORECAST_CITY_DAILY,
    GOLD_FORECAST_SKILL,
    GOLD_FORECASTS,
    GOLD_HEX_DAILY,
    GOLD_QC_SCREENING,
    GOLD_REGION_DAILY,
    GOLD_SCENARIO_RESULTS,
    GOLD_UPWIND_CANDIDATES,
    GOLD_WATER_CLASS,
    SILVER_QC_FLAGS,
    SILVER_RIVER_SECTIONS,
    SILVER_STATIONS,
)
from smartmon.errors import TableError
from smartmon.report.area import Area, Period

log = logging.getLogger(__name__)

# every table a report reads (the reports job declares these as its reads)
READS = (GOLD_AQI_DAILY, GOLD_EVAL_MONTHLY, GOLD_FORECASTS, GOLD_FORECAST_CITY_DAILY, GOLD_FORECAST_SKILL, GOLD_HEX_DAILY,
         GOLD_QC_SCREENING, GOLD_REGION_DAILY, GOLD_SCENARIO_RESULTS, GOLD_UPWIND_CANDIDATES, GOLD_WATER_CLASS, SILVER_QC_FLAGS, SILVER_RIVER_SECTIONS, SILVER_STATIONS)

SKILL_DAYS = 7  # the report shows the skill of the week's issues beside the forecast
STATION_COLUMNS = ["station_id", "name", "tier", "kind", "network", "province_code", "city_code", "county_code",
                   "lat", "lon", "h3_r7", "h3_r9"]
AQI_COLUMNS = ["station_id", "day", "aqi", "level", "category", "primary_pollutant", "exceedances", "so2", "no2", "co",
               "pm10", "pm25", "o3_1h_max", "o3_8h_max", "n_pm25", "n_pm10", "n_so2", "n_no2", "n_co", "n_o3", "rule_set"]


_NULLABLE_INT64 = {pa.int64(): pd.Int64Dtype()}


class LakeReader:
    """Reads tables at <root>/<layer>/<table>; an absent table reads as empty (the section says so)."""

    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/")
        self.versions: dict[str, int] = {}

    def _path(self, fqn: str) -> str:
        layer, name = fqn.split(".", 1)
        return f"{self.root}/{layer}/{name}"

    def read(self, fqn: str, columns: list[str] | None = None, where: ds.Expression | None = None) -> pd.DataFrame:
        path = self._path(fqn)
        if not DeltaTable.is_deltatable(path):
            log.warning("%s not found at %s: its report sections will say there is no data", fqn, path)
            return pd.DataFrame(columns=columns or [])
        try:
            table = DeltaTable(path)
            self.versions[fqn] = table.version()
            dataset = table.to_pyarrow_dataset()
            cols = [c for c in columns if c in dataset.schema.names] if columns else None
            # BIGINT H3 cells with nulls must not become float64 (2^53 < 6e17: the ids would change)
            out = dataset.to_table(columns=cols, filter=where).to_pandas(types_mapper=_NULLABLE_INT64.get)
        except (OSError, pa.ArrowException) as exc:
            raise TableError(f"cannot read {fqn} at {path}: {exc}") from exc
        log.debug("read %s v%s: %d rows", fqn, self.versions[fqn], len(out))
        return out


@dataclass
class ReportInputs:
    """The rows a report rests on, already cut to the period's months (area filtering is pure)."""

    stations: pd.DataFrame
    aqi_daily: pd.DataFrame
    region_daily: pd.DataFrame
    eval_monthly: pd.DataFrame
    hex_daily: pd.DataFrame
    water_class: pd.DataFrame
    forecasts: pd.DataFrame
    forecast_city_daily: pd.DataFrame
    forecast_skill: pd.DataFrame
    qc_flags: pd.DataFrame
    qc_screening: pd.DataFrame
    scenario_results: pd.DataFrame
    river_sections: pd.DataFrame
    upwind: pd.DataFrame
    versions: dict[str, int] = field(default_factory=dict)


def _day_range(start: date, end: date) -> ds.Expression:
    return (ds.field("day") >= pa.scalar(start, pa.date32())) & (ds.field("day") <= pa.scalar(end, pa.date32()))


def _months(months: list[str]) -> ds.Expression:
    return ds.field("month").isin(months)


def read_stations(reader: LakeReader) -> pd.DataFrame:
    """The registry: read first, since it decides whether the asked area exists."""
    return reader.read(SILVER_STATIONS, STATION_COLUMNS)


def load_inputs(reader: LakeReader, area: Area, period: Period, stations: pd.DataFrame) -> ReportInputs:
    """Read every table of the report for the period's series window (I/O only, no business rules)."""
    months = period.months
    window = _day_range(period.series_start, period.end)
    lo, hi = beijing_day_bounds_utc(period.start, period.end)
    # forecasts issued up to the end of the period's last Beijing day, in its month or the one
    # before (gold.forecasts keeps every issue: an older one is not what the period was told)
    issue_cutoff = hi
    ts = pa.timestamp("us", tz="UTC")
    inputs = ReportInputs(
        stations=stations,
        aqi_daily=reader.read(GOLD_AQI_DAILY, AQI_COLUMNS, _months(months) & window),
        region_daily=reader.read(GOLD_REGION_DAILY, ["scope", "code", "day", "pollutant", "value", "n_stations"],
                                 _months(months) & window),
        eval_monthly=reader.read(GOLD_EVAL_MONTHLY, None, ds.field("period") == period.start.strftime("%Y-%m")),
        hex_daily=reader.read(GOLD_HEX_DAILY, ["cell", "day", "value_sum", "n_stations"],
                              _months([m for m in months if m >= period.start.strftime("%Y-%m")])
                              & _day_range(period.start, period.end) & (ds.field("resolution") == 7)
                              & (ds.field("pollutant") == "pm25")),
        water_class=reader.read(GOLD_WATER_CLASS),
        forecasts=reader.read(GOLD_FORECASTS, ["station_id", "target", "issued_at", "horizon_h", "ts", "value",
                                                 "model_name", "model_version"],
                              _months(_with_previous([period.end.strftime("%Y-%m")]))
                              & (ds.field("issued_at") <= pa.scalar(issue_cutoff, ts)) & (ds.field("kind").is_null() | (ds.field("kind") != "backtest"))),
        forecast_city_daily=reader.read(GOLD_FORECAST_CITY_DAILY, None,
                                        _months(_with_previous([period.end.strftime("%Y-%m")]))
                                        & (ds.field("issued_at") <= pa.scalar(issue_cutoff, ts)) & (ds.field("kind") == "nightly")),
        # the skill of the issues of the week up to the period's end, as far as they had come true
        forecast_skill=reader.read(GOLD_FORECAST_SKILL, None,
                                   _months(_with_previous([period.end.strftime("%Y-%m")]))
                                   & (ds.field("issued_at") <= pa.scalar(issue_cutoff, ts))
                                   & (ds.field("issued_at") > pa.scalar(issue_cutoff - timedelta(days=SKILL_DAYS), ts))
                                   & (ds.field("kind") == "nightly")),
        qc_flags=reader.read(SILVER_QC_FLAGS, ["station_id", "parameter", "ts_from", "ts_to", "rule", "level", "detail"],
                             _months(_with_previous(months)) & (ds.field("ts_from") <= pa.scalar(hi, ts))
                             & (ds.field("ts_to") > pa.scalar(lo, ts))),
        qc_screening=reader.read(GOLD_QC_SCREENING, ["station_id", "day", "score", "rank", "reason", "parameter"],
                                 _months(months) & _day_range(period.start, period.end)),
        scenario_results=reader.read(GOLD_SCENARIO_RESULTS),
        river_sections=reader.read(SILVER_RIVER_SECTIONS, ["section_id", "name", "province_code", "city_code"]),
        upwind=reader.read(GOLD_UPWIND_CANDIDATES, None,
                           (ds.field("from_ts") <= pa.scalar(hi, ts)) & (ds.field("to_ts") > pa.scalar(lo, ts))),
    )
    inputs.versions = dict(reader.versions)
    log.info("read %d tables for %s %s %s", len(inputs.versions), area.slug, period.kind, period.label)
    return inputs


def _with_previous(months: list[str]) -> list[str]:
    """A flag's partition is the Beijing month of its start: one that began the month before can
    still cover the period, so read that month too."""
    first = datetime.strptime(months[0], "%Y-%m").replace(tzinfo=UTC)
    prev = (first.replace(day=1) - pd.Timedelta(days=1)).strftime("%Y-%m")
    return [prev, *months]
