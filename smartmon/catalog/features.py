"""Features: point-in-time-correct training tables. Every value of a row is computed from data
with ts <= issued_at; the targets are never stored here (they are read from silver at training
time), so a feature table cannot leak the future by construction and a test checks it does not."""

from smartmon.catalog.spec import Col, TableSpec, register

LAG_POLLUTANTS = ("pm25", "pm10", "o3", "no2", "co", "so2")
TARGETS = ("pm25", "pm10", "o3")  # the research forecaster's (experiments/control_forecast.py)
NATIONAL_TARGETS = ("pm25", "pm10", "o3", "no2")  # the nightly's pooled national forecaster
CLIM_TARGETS = NATIONAL_TARGETS  # the climatology serves both
LAG_STATS = {
    "last": "value of the hour ending at issued_at",
    "mean3": "mean of the last 3 hours",
    "mean6": "mean of the last 6 hours",
    "mean24": "mean of the last 24 hours",
    "max24": "maximum of the last 24 hours",
    "lag24": "value 24 hours before issued_at",
}
# the station's own meteorology, else the inverse-distance-weighted values of the weather
# stations and grid points within 25 km (features.air_forecast.weather_for)
METEO = {
    "temp_c": "air temperature at issue, degC",
    "dewpoint_c": "dew point at issue, degC",
    "humidity_pct": "relative humidity at issue, %",
    "pressure_hpa": "pressure at issue, hPa",
    "pressure_d24": "pressure change over the last 24 h, hPa",
    "wind_u": "eastward wind at issue, m/s",
    "wind_v": "northward wind at issue, m/s",
    "wind_u_mean24": "mean eastward wind of the last 24 h",
    "wind_v_mean24": "mean northward wind of the last 24 h",
    "rain_sum24": "precipitation of the last 24 h, mm",
}
NEIGHBOUR = {
    "nb_pm25_last": "mean PM2.5 of the other stations in the H3 k-ring (res 5, k 2) at issue",
    "nb_pm25_mean24": "their mean PM2.5 of the last 24 h",
    "nb_o3_last": "their mean O3 at issue",
    "nb_count": "stations in the k-ring with a PM2.5 value at issue",
}
STATION = {
    "lat": "station latitude, degrees (silver.stations)",
    "lon": "station longitude, degrees",
    "history_days": "Beijing days of the 31 ending with the issue's on which the station reported any "
    "pollutant by the issue time (the nightly forecasts stations with at least 7)",
}
CALENDAR = {
    "doy_sin": "sin(2 pi day-of-year / 365.25) of the issue date",
    "doy_cos": "cos(2 pi day-of-year / 365.25)",
    "dow": "day of week of the issue date in Beijing, 1 = Sunday",
}


def feature_columns() -> list[str]:
    cols = [f"{p}_{s}" for p in LAG_POLLUTANTS for s in LAG_STATS]
    return [*cols, *METEO, *NEIGHBOUR, *STATION, *CALENDAR]


AIR_FORECAST = register(
    TableSpec(
        layer="features",
        name="air_forecast",
        description="One row per station and issue time: the nightly's issue at 16:00 UTC (the last "
        "complete hour of the Beijing day) for every station of every network, and 00:00 UTC issues "
        "built on request for the research forecaster (the KDD Cup 2018 setting). Lags and rolling "
        "statistics of every pollutant, observed meteorology (wind as vectors), H3 k-ring neighbours, "
        "station context and calendar terms, all from data with ts <= issued_at.",
        columns=(
            Col("station_id", "string", "silver.stations key", False),
            Col("issued_at", "timestamp", "forecast issue time, UTC; every feature uses data up to it", False),
            Col("month", "string", "yyyy-MM of issued_at (partition)", False),
            *(Col(f"{p}_{s}", "double", f"{p}: {d}") for p in LAG_POLLUTANTS for s, d in LAG_STATS.items()),
            *(Col(n, "double", d) for n, d in METEO.items()),
            *(Col(n, "double", d) for n, d in NEIGHBOUR.items()),
            *(Col(n, "double", d) for n, d in STATION.items()),
            *(Col(n, "double", d) for n, d in CALENDAR.items()),
        ),
        keys=("station_id", "issued_at"),
        partition_by=("month",),
    )
)

CLIMATOLOGY = register(
    TableSpec(
        layer="features",
        name="air_climatology",
        description="Diurnal climatology baseline: per station, UTC day and hour of day, the mean of that "
        "hour over the previous 30 days (days D-30 .. D-1, so known at 00:00 UTC of day D).",
        columns=(
            Col("station_id", "string", "silver.stations key", False),
            Col("day", "date", "UTC date D", False),
            Col("hod", "int", "UTC hour of day of the hour's end, 0..23", False),
            Col("month", "string", "yyyy-MM of day (partition)", False),
            *(Col(f"clim_{t}", "double", f"{t} mean at this hour over days D-30 .. D-1") for t in CLIM_TARGETS),
        ),
        keys=("station_id", "day", "hod"),
        partition_by=("month",),
    )
)
