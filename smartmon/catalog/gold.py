"""Gold: products for managers and downstream platforms."""

from smartmon.catalog.spec import Col, TableSpec, register

PIPELINE_RUNS = register(
    TableSpec(
        layer="gold",
        name="pipeline_runs",
        description="Every task of every pipeline run: when, rows in and out, status and error.",
        columns=(
            Col("run_id", "string", "one id per `smartmon nightly` invocation and date", False),
            Col("run_date", "date", "the date the run was for"),
            Col("task", "string", "task name in the DAG", False),
            Col("attempt", "int", "1 for the first try; retries count up"),
            Col("started_at", "timestamp", "UTC"),
            Col("ended_at", "timestamp", "UTC"),
            Col("rows_in", "bigint", "rows the task read"),
            Col("rows_out", "bigint", "rows the task wrote (Delta operation metrics)"),
            Col("status", "string", "ok | failed | retried | skipped"),
            Col("error", "string", "first line of the error, when failed"),
        ),
        keys=("run_id", "task", "attempt"),
    )
)

AQI_HOURLY = register(
    TableSpec(
        layer="gold",
        name="aqi_hourly",
        description="Real-time (hourly) AQI per station by HJ 633, every IAQI, primary pollutant(s), "
        "category and colour. The rule set follows the observation date (HJ 633-2012 before "
        "2026-03-01, HJ 633-2026 from then) unless the job was run with a pinned rule set.",
        columns=(
            Col("station_id", "string", "silver.stations key", False),
            Col("ts", "timestamp", "end of the averaging hour, UTC", False),
            Col("rule_set", "string", "HJ633-2012 | HJ633-2026", False),
            Col("month", "string", "yyyy-MM in Beijing time (partition)", False),
            Col("aqi", "int", "AQI (null when no pollutant, or 2026 rule 5.3 withholds it)"),
            Col("primary_pollutant", "string", "pollutant(s) whose IAQI equals the AQI when AQI > 50, comma-separated"),
            Col("level", "int", "1..6"),
            Col("category", "string", "优 良 轻度污染 中度污染 重度污染 严重污染"),
            Col("colour", "string", "category colour, #RRGGBB"),
            Col("iaqi_so2", "int", "SO2 1 h IAQI"),
            Col("iaqi_no2", "int", "NO2 1 h IAQI"),
            Col("iaqi_co", "int", "CO 1 h IAQI"),
            Col("iaqi_o3", "int", "O3 1 h IAQI"),
            Col("iaqi_pm10", "int", "PM10 IAQI (24 h table)"),
            Col("iaqi_pm25", "int", "PM2.5 IAQI (24 h table)"),
            Col("n_pollutants", "int", "pollutants with a valid value"),
            Col("n_excluded", "int", "values left out because an ERROR QC flag covers them (silver.qc_flags)"),
        ),
        keys=("station_id", "ts", "rule_set"),
        partition_by=("month",),
        zorder=("station_id",),
    )
)

QC_SCREENING = register(
    TableSpec(
        layer="gold",
        name="qc_screening",
        description="Falsification screening: one row per station and Beijing day with an anomaly "
        "score for patterns typical of interference (drop against the neighbours, flat line, "
        "broken diurnal shape), ranked for review (rank 1 = most suspicious).",
        columns=(
            Col("station_id", "string", "silver.stations key", False),
            Col("day", "date", "Beijing date", False),
            Col("month", "string", "yyyy-MM (partition)", False),
            Col("score", "double", "max of the component scores; >= 1 is worth a look"),
            Col("rank", "int", "1 = most suspicious station-day of the screened window"),
            Col("reason", "string", "drop | flat | shape: the component that gave the score"),
            Col("drop_score", "double", "lowest 3 h mean robust z against neighbours / 4 (0 if none below 0)"),
            Col("flat_score", "double", "longest unchanged run in hours / 8"),
            Col("shape_score", "double", "(usual - today's correlation with the neighbours' course) / 0.6"),
            Col("n_hours", "int", "hours with a value and enough neighbours"),
            Col("parameter", "string", "parameter screened (pm25)"),
            Col("rule_version", "string", "QC rule book version"),
        ),
        keys=("station_id", "day"),
        partition_by=("month",),
    )
)

_MOVING_DOC = {
    "pm25": "PM2.5", "pm10": "PM10", "so2": "SO2", "no2": "NO2", "co": "CO (mg/m3, 0.1)",
}
AIR_MOVING = register(
    TableSpec(
        layer="gold",
        name="air_moving",
        description="Moving values per station and hour from the valid hourly values (ERROR-flagged "
        "values left out): 24 h means, O3 8 h means, O3 maxima, with the hours they rest on. "
        "Conventions as CNEMC publishes them (README 'Moving values').",
        columns=(
            Col("station_id", "string", "silver.stations key", False),
            Col("ts", "timestamp", "end of the last hour of the window, UTC", False),
            Col("month", "string", "yyyy-MM of ts in Beijing time (partition)", False),
            *(Col(f"{p}_24h", "double", f"{d} mean of the 24 h ending at ts; >= 20 valid hours; GB/T 8170 rounding")
              for p, d in _MOVING_DOC.items()),
            Col("o3_8h", "double", "O3 mean of the 8 h ending at ts within the Beijing day (restarts at 01:00); >= 3/4 of the hours"),
            Col("o3_24h", "double", "O3 maximum 1 h value of the 24 h ending at ts (>= 20 valid hours)"),
            Col("o3_8h_24h", "double", "O3 maximum 8 h value of the Beijing day so far"),
            *(Col(f"n_{p}_24h", "int", f"valid {p} hours in the 24 h window") for p in _MOVING_DOC),
            Col("n_o3_8h", "int", "valid O3 hours in the 8 h window"),
            Col("n_o3_24h", "int", "valid O3 hours in the 24 h window"),
        ),
        keys=("station_id", "ts"),
        partition_by=("month",),
        zorder=("station_id",),
    )
)

MOVING_AGREEMENT = register(
    TableSpec(
        layer="gold",
        name="moving_agreement",
        description="Computed moving values against the ones a source published itself, per source, "
        "Beijing day and measure, for complete windows (every hour present) and partial ones "
        "(sum the counts over a month's days for the month).",
        columns=(
            Col("source", "string", "source that published the values (cnemc-archive)", False),
            Col("month", "string", "yyyy-MM (Beijing time of the hours)", False),
            Col("day", "date", "Beijing day of the hours compared"),
            Col("measure", "string", "pm25_24h ... o3_8h, o3_24h, o3_8h_24h", False),
            Col("window", "string", "complete | partial", False),
            Col("n_compared", "bigint", "station-hours with both values"),
            Col("n_equal", "bigint", "equal after rounding"),
            Col("n_tie", "bigint", "not equal, but the mean lies exactly half way and the source took the other neighbour"),
            Col("n_equal_or_tie", "bigint", "n_equal + n_tie"),
            Col("share_equal", "double", "n_equal / n_compared"),
            Col("share_equal_or_tie", "double", "n_equal_or_tie / n_compared"),
        ),
        keys=("source", "month", "day", "measure", "window"),
    )
)

_DAILY_POLLUTANTS = (
    ("so2", "SO2 24 h mean (>= 20 hours)"), ("no2", "NO2 24 h mean (>= 20 hours)"),
    ("co", "CO 24 h mean, mg/m3 (>= 20 hours)"), ("pm10", "PM10 24 h mean (>= 20 hours)"),
    ("pm25", "PM2.5 24 h mean (>= 20 hours)"), ("o3_1h_max", "O3 daily maximum 1 h (>= 20 hours)"),
    ("o3_8h_max", "O3 daily maximum 8 h: windows ending 08:00-24:00 with >= 6 hours, >= 14 such windows"),
)
_DAILY_AQI_COLS = (
    Col("rule_set", "string", "HJ633-2012 | HJ633-2026 (by date unless pinned)", False),
    Col("aqi", "int", "daily AQI (null when no pollutant, or 2026 rule 5.3 withholds it)"),
    Col("primary_pollutant", "string", "pollutant(s) whose IAQI equals the AQI when AQI > 50"),
    Col("level", "int", "1..6"),
    Col("category", "string", "优 良 轻度污染 中度污染 重度污染 严重污染"),
    Col("colour", "string", "#RRGGBB"),
    *(Col(f"iaqi_{p}", "int", f"{p} IAQI ({t})") for p, t in (
        ("so2", "24 h table"), ("no2", "24 h table"), ("co", "24 h table"), ("o3", "max 1 h on the 1 h table"),
        ("o3_8h", "max 8 h on the 8 h table"), ("pm10", "24 h table"), ("pm25", "24 h table"))),
    Col("n_pollutants", "int", "pollutants with a valid daily value"),
    Col("limit_set", "string", "GB 3095 limit set of the day (or pinned)"),
    Col("exceedances", "string", "pollutants above their GB 3095 24 h / 8 h limit, comma-separated"),
)

AQI_DAILY = register(
    TableSpec(
        layer="gold",
        name="aqi_daily",
        description="Daily values and daily AQI per station and Beijing day (HJ 633, GB 3095 validity), "
        "from the valid hourly values.",
        columns=(
            Col("station_id", "string", "silver.stations key", False),
            Col("day", "date", "Beijing date (hours ending 01:00 .. 24:00)", False),
            Col("month", "string", "yyyy-MM of day (partition)", False),
            *(Col(p, "double", d) for p, d in _DAILY_POLLUTANTS),
            *(Col(f"n_{p}", "int", f"valid {p} hours") for p in ("so2", "no2", "co", "pm10", "pm25", "o3")),
            Col("n_o3_8h", "int", "valid O3 8 h windows ending 08:00-24:00"),
            *_DAILY_AQI_COLS,
        ),
        keys=("station_id", "day", "rule_set"),
        partition_by=("month",),
        zorder=("station_id",),
    )
)

_EVAL_COLS = (
    Col("scope", "string", "station | city | province | nation", False),
    Col("code", "string", "station_id, or GB/T 2260 code (nation: 000000)", False),
    Col("period", "string", "yyyy-MM (monthly) or yyyy (annual)", False),
    Col("name", "string", "station or city name where known"),
    Col("parent_code", "string", "city of a station, province of a city"),
    Col("n_stations", "int", "stations that contributed"),
    Col("n_cities", "int", "cities averaged (province, nation)"),
    Col("n_days", "int", "valid days (city: days with a city value)"),
    Col("valid", "boolean", "every index statistic rests on enough days: >= 27 a month (25 in February), >= 324 a year"),
    Col("so2", "double", "SO2 mean of daily means"),
    Col("no2", "double", "NO2 mean of daily means"),
    Col("pm10", "double", "PM10 mean of daily means"),
    Col("pm25", "double", "PM2.5 mean of daily means"),
    Col("co_p95", "double", "CO 95th percentile of daily means (k = 1 + (n-1)p)"),
    Col("o3_8h_p90", "double", "O3 90th percentile of daily maximum 8 h"),
    Col("so2_p98", "double", "SO2 98th percentile of daily means"),
    Col("no2_p98", "double", "NO2 98th percentile of daily means"),
    Col("pm10_p95", "double", "PM10 95th percentile of daily means"),
    Col("pm25_p95", "double", "PM2.5 95th percentile of daily means"),
    Col("comprehensive_index", "double", "I_sum = sum C_i / S_i (HJ 663)"),
    Col("primary_pollutant", "string", "largest single index"),
    Col("good_days", "int", "days with AQI <= 100"),
    Col("aqi_days", "int", "days with an AQI"),
    Col("good_share", "double", "优良天数比例: good_days / aqi_days (province, nation: mean of cities)"),
    Col("exceedance_days", "int", "days with AQI > 100"),
    Col("limit_set", "string", "GB 3095 limit set of the period (or pinned)"),
    Col("rank", "int", "rank by comprehensive index within scope and period, 1 = cleanest (rows with all six statistics; see valid)"),
)

EVAL_MONTHLY = register(
    TableSpec(
        layer="gold",
        name="eval_monthly",
        description="HJ 663 monthly evaluation of stations, cities (mean of the city's national stations), "
        "provinces and the nation (means of city statistics), with the monthly city ranking.",
        columns=_EVAL_COLS,
        keys=("scope", "code", "period"),
    )
)

EVAL_ANNUAL = register(
    TableSpec(
        layer="gold",
        name="eval_annual",
        description="HJ 663 annual evaluation, same layout as gold.eval_monthly over calendar years.",
        columns=_EVAL_COLS,
        keys=("scope", "code", "period"),
    )
)

WATER_CLASS = register(
    TableSpec(
        layer="gold",
        name="water_class",
        description="GB 3838 single-factor evaluation per section, day and month: each parameter's mean, "
        "class and exceedance multiple, and the section's class (worst parameter). ERROR-flagged values "
        "are left out and counted.",
        columns=(
            Col("station_id", "string", "water section (silver.stations)", False),
            Col("period_type", "string", "day | month", False),
            Col("period", "string", "yyyy-MM-dd or yyyy-MM, Beijing time", False),
            Col("parameter", "string", "ph, do, codmn, nh3n, tp ... (GB 3838 parameters)", False),
            Col("value", "double", "mean of the valid values"),
            Col("n_values", "int", "valid values"),
            Col("n_excluded", "int", "values left out under an ERROR QC flag"),
            Col("water_class", "int", "1..6 (6 = 劣V) of this parameter"),
            Col("class_name", "string", "I II III IV V 劣V"),
            Col("exceedance_multiple", "double", "(C - S) / S against the target class (no multiple for DO, pH)"),
            Col("target_class", "int", "class the section must meet (III unless configured)"),
            Col("section_class", "int", "worst class of the section's parameters in the period"),
            Col("section_class_name", "string", "I .. 劣V"),
            Col("worst_parameters", "string", "parameters that set the section class"),
            Col("meets_target", "boolean", "section_class <= target_class"),
        ),
        keys=("station_id", "period_type", "period", "parameter"),
    )
)

_AGG_COLS = (
    Col("day", "date", "Beijing date", False),
    Col("pollutant", "string", "so2 no2 co pm10 pm25 o3_8h_max", False),
    Col("value", "double", "mean of the stations' daily values = value_sum / n_stations"),
    Col("value_sum", "double", "sum of the stations' daily values (additive across tiers and resolutions)"),
    Col("n_stations", "int", "stations with a valid daily value"),
    Col("month", "string", "yyyy-MM of day (partition)", False),
)

HEX_DAILY = register(
    TableSpec(
        layer="gold",
        name="hex_daily",
        description="Daily station values aggregated per H3 cell (res 5 and 7) and pollutant; sums and "
        "counts add up across resolutions.",
        columns=(
            Col("resolution", "int", "H3 resolution: 7 (the station's cell) or 5 (that cell's parent)", False),
            Col("cell", "bigint", "H3 cell id", False),
            *_AGG_COLS,
        ),
        keys=("resolution", "cell", "day", "pollutant"),
        partition_by=("month",),
        zorder=("cell",),
    )
)

REGION_DAILY = register(
    TableSpec(
        layer="gold",
        name="region_daily",
        description="Daily station values aggregated per county, city, province and the nation "
        "(三级贯通: sums and counts roll up exactly from county to nation).",
        columns=(
            Col("scope", "string", "county | city | province | nation", False),
            Col("code", "string", "GB/T 2260 code (nation: 000000)", False),
            *_AGG_COLS,
        ),
        keys=("scope", "code", "day", "pollutant"),
        partition_by=("month",),
        zorder=("code",),
    )
)

MODEL_ALIASES = register(
    TableSpec(
        layer="gold",
        name="model_aliases",
        description="Every change of a registered model's alias (champion, challenger): which version "
        "served from when, the one before, and why.",
        columns=(
            Col("model_name", "string", "smartmon.<scenario>.<target>", False),
            Col("alias", "string", "champion | challenger", False),
            Col("version", "string", "registered model version now behind the alias", False),
            Col("previous_version", "string", "version behind it before (null: first time)"),
            Col("reason", "string", "the promotion gate's verdict or the operator's reason"),
            Col("score", "double", "holdout score the decision used (mean SMAPE over hours 1-48)"),
            Col("changed_at", "timestamp", "UTC", False),
        ),
        append_only=True,
    )
)

FORECASTS = register(
    TableSpec(
        layer="gold",
        name="forecasts",
        description="Forecasts per station, target, issue and horizon, every issue kept: the nightly's "
        "national issue (16:00 UTC, horizons 1-72 h) and the research forecaster's (00:00 UTC, 1-48 h), "
        "each row with the model version that made it and the last hour that model was trained on.",
        columns=(
            Col("station_id", "string", "silver.stations key", False),
            Col("target", "string", "pm25 | pm10 | o3 | no2 (models); o3_8h, aqi (derived from them, nightly issues)", False),
            Col("issued_at", "timestamp", "issue time, UTC (data up to it)", False),
            Col("horizon_h", "int", "hours ahead, 1..72", False),
            Col("ts", "timestamp", "end of the forecast hour, UTC", False),
            Col("value", "double", "forecast concentration, ug/m3 (aqi rows: the AQI)"),
            Col("model_name", "string", "smartmon.national.<target> (nightly; o3_8h: the o3 model's; aqi: "
                "smartmon.national) or smartmon.control.<target>", False),
            Col("model_version", "string", "registered version behind @champion when the batch ran (aqi rows: "
                "the pollutants' versions, pm25:3,...)", False),
            Col("month", "string", "yyyy-MM of issued_at (partition)", False),
            Col("trained_until", "timestamp", "last observation hour (UTC) the model was trained on; before issued_at"),
            Col("kind", "string", "nightly | backtest | research"),
            Col("iaqi", "int", "HJ 633 IAQI of the value (real-time tables: 1 h, PM on the 24 h table; o3_8h on "
                "the 8 h table; aqi rows: the AQI); nightly issues"),
            Col("primary_pollutant", "string", "aqi rows: primary pollutant(s) when the AQI is above 50"),
            Col("level", "int", "aqi rows: AQI level 1-6"),
        ),
        keys=("station_id", "target", "issued_at", "horizon_h", "kind"),
        partition_by=("month",),
    )
)

FORECAST_CITY_DAILY = register(
    TableSpec(
        layer="gold",
        name="forecast_city_daily",
        description="The city forecast of the next three Beijing days as CNEMC and the provinces publish it, "
        "from each nightly issue: the city's daily values (means of its forecast stations' daily values), "
        "HJ 633 daily IAQIs, AQI, level and primary pollutant, and the range of its stations' daily AQIs. "
        "SO2 and CO are not forecast.",
        columns=(
            Col("city_code", "string", "GB/T 2260 city code", False),
            Col("issued_at", "timestamp", "issue time, UTC", False),
            Col("kind", "string", "nightly | backtest", False),
            Col("day", "date", "Beijing day forecast", False),
            Col("lead_days", "int", "days after the issue's Beijing day, 1..3", False),
            Col("month", "string", "yyyy-MM of issued_at (partition)", False),
            Col("pm25", "double", "PM2.5 daily mean, ug/m3"),
            Col("pm10", "double", "PM10 daily mean, ug/m3"),
            Col("no2", "double", "NO2 daily mean, ug/m3"),
            Col("o3_1h_max", "double", "O3 daily maximum 1 h, ug/m3"),
            Col("o3_8h_max", "double", "O3 daily maximum 8 h, ug/m3"),
            *(Col(f"iaqi_{p}", "int", f"{p} daily IAQI") for p in ("pm25", "pm10", "no2", "o3", "o3_8h")),
            Col("aqi", "int", "daily AQI of the city"),
            Col("aqi_p10", "double", "10th percentile of the city's stations' daily AQIs"),
            Col("aqi_p90", "double", "90th percentile of the city's stations' daily AQIs"),
            Col("level", "int", "AQI level 1-6"),
            Col("category", "string", "优 良 轻度污染 ..."),
            Col("primary_pollutant", "string", "primary pollutant(s) when the AQI is above 50"),
            Col("n_stations", "int", "stations of the city forecast"),
            Col("rule_set", "string", "HJ 633 rule set of the day"),
            Col("model_version", "string", "the pollutants' model versions, pm25:3,..."),
        ),
        keys=("city_code", "issued_at", "day", "kind"),
        partition_by=("month",),
    )
)

_SCORES = tuple(
    c for who, what in (("", "the forecast"), ("persistence_", "persistence (the last valid value at or before the issue, within 24 h)"),
                        ("climatology_", "the climatology of the target hour (pm25, pm10, o3, no2)"))
    for c in (Col(f"{who}smape", "double", f"SMAPE of {what} (KDD Cup 2018: 2|F-A|/(F+A), 0 where both are 0)"),
              Col(f"{who}rmse", "double", f"RMSE of {what}"),
              Col(f"{who}bias", "double", f"mean F - A of {what}"))
)

FORECAST_SKILL = register(
    TableSpec(
        layer="gold",
        name="forecast_skill",
        description="Forecasts scored as they come true: every issue whose target hours have been observed "
        "(valid values, QC applied), by target, horizon, network and city, with persistence and the "
        "climatology on the same pairs (grain station_hour); and each city-day AQI forecast against the "
        "observed daily AQI, with its level and primary pollutant (grain city_day). Rows aggregate with n; "
        "an issue is re-scored each night until its last hour has come true.",
        columns=(
            Col("grain", "string", "station_hour | city_day", False),
            Col("issued_at", "timestamp", "issue time, UTC", False),
            Col("kind", "string", "nightly | backtest", False),
            Col("target", "string", "station_hour: pm25 pm10 o3 no2 o3_8h aqi; city_day: aqi", False),
            Col("horizon_h", "int", "station_hour: hours ahead; city_day: the hour the day ends (24, 48, 72)", False),
            Col("lead_days", "int", "Beijing days after the issue's day, 1..3", False),
            Col("network", "string", "silver.stations network (city_day: all)", False),
            Col("city_code", "string", "GB/T 2260 city code ('' where a station has none)", False),
            Col("month", "string", "yyyy-MM of issued_at (partition)", False),
            Col("n", "int", "pairs scored: forecast, observation and persistence all present"),
            *_SCORES,
            Col("n_climatology", "int", "of the pairs, those with a climatology"),
            Col("level_hit", "int", "city_day: 1 when the forecast AQI level is the observed one"),
            Col("primary_hit", "int", "city_day: 1 when the forecast primary pollutant(s) equal the observed"),
            Col("persistence_level_hit", "int", "city_day: 1 when the issue day's observed level is the observed one"),
            Col("observed_aqi", "int", "city_day: the observed daily AQI (the city's stations' means, six pollutants)"),
        ),
        keys=("grain", "issued_at", "kind", "target", "horizon_h", "network", "city_code"),
        partition_by=("month",),
    )
)

SOURCE_APPORTIONMENT = register(
    TableSpec(
        layer="gold",
        name="source_apportionment",
        description="PMF source apportionment (EPA PMF conventions, robust mode) of a speciation "
        "dataset: factor profiles with bootstrap intervals, and factor contributions per sample. "
        "One solution per dataset and factor count (the best of the random starts by Q(robust)); "
        "factors are normalised to a mean contribution of 1, so profiles read in the data's units.",
        columns=(
            Col("dataset", "string", "silver.speciation dataset", False),
            Col("station_id", "string", "silver.stations key of the site"),
            Col("factors", "int", "number of factors of the solution", False),
            Col("kind", "string", "profile | contribution", False),
            Col("factor", "int", "1..factors", False),
            Col("species", "string", "species (profile rows; '' on contribution rows)", False),
            Col("sample_time", "timestamp", "sample (contribution rows; null on profile rows)"),
            Col("value", "double", "profile: concentration per unit contribution; contribution: G (mean 1)"),
            Col("species_share", "double", "profile: the factor's share of the species' modelled total (0-1)"),
            Col("bs_p05", "double", "profile: bootstrap 5th percentile"),
            Col("bs_p50", "double", "profile: bootstrap median"),
            Col("bs_p95", "double", "profile: bootstrap 95th percentile"),
            Col("bs_mapped", "int", "bootstrap replicates whose factor mapped to this one (r >= 0.6)"),
            Col("category", "string", "profile: strong | weak (S/N category; bad species are not modelled)"),
            Col("q_true", "double", "Q of the solution"),
            Col("q_robust", "double", "Q(robust) of the solution (|e/u| > 4 down-weighted)"),
            Col("q_expected", "double", "degrees of freedom: samples x species - factors x (samples + species)"),
            Col("starts", "int", "random starts run"),
            Col("seed", "bigint", "seed of the best start"),
            Col("mlflow_run_id", "string", "MLflow run with the parameters, Q values and plots"),
        ),
        keys=("dataset", "factors", "kind", "factor", "species", "sample_time"),
    )
)

UPWIND_CANDIDATES = register(
    TableSpec(
        layer="gold",
        name="upwind_candidates",
        description="Upwind attribution of an episode at a receptor: each candidate with its rank and "
        "evidence (bearing and distance, whether it lies in the upwind sector of the back-trajectories, "
        "trajectory hours near it, the lag and correlation by which its concentrations led the "
        "receptor's, its episode mean against its own previous week).",
        columns=(
            Col("receptor_id", "string", "silver.stations key of the receptor", False),
            Col("from_ts", "timestamp", "episode start, UTC", False),
            Col("to_ts", "timestamp", "episode end, UTC", False),
            Col("candidate_id", "string", "silver.stations key (or source id) of the candidate", False),
            Col("candidate_kind", "string", "monitoring station | emission source"),
            Col("candidate_name", "string", "name in the registry"),
            Col("pollutant", "string", "the pollutant of the episode (silver.air_hourly column)"),
            Col("rank", "int", "1 = most likely contributor, within its candidate_kind"),
            Col("score", "double", "share of trajectory hours near the candidate x its lead correlation (>= 0) for "
                "stations, x (1 + anomaly) for emission sources (smartmon.upwind.rank_sources)"),
            Col("bearing_deg", "double", "from the receptor to the candidate, degrees from north"),
            Col("distance_km", "double", "receptor to candidate"),
            Col("in_sector", "boolean", "within 45 degrees of the upwind sector"),
            Col("residence_h", "double", "back-trajectory hours within one H3 res-6 ring of the candidate"),
            Col("lead_h", "int", "hours by which the candidate's series best leads the receptor's (0: none)"),
            Col("lead_r", "double", "correlation at that lead"),
            Col("episode_mean", "double", "candidate's mean during the episode"),
            Col("excess_ratio", "double", "episode mean / mean of the 7 days before"),
            Col("sector_deg", "double", "upwind sector: mean bearing of the back-trajectories, concentration-weighted"),
            Col("sector_label", "string", "N, NE, ... or calm"),
            Col("met_station_id", "string", "station whose winds drove the trajectories"),
            Col("met_distance_km", "double", "receptor to that station"),
            Col("hours_back", "int", "trajectory length, hours"),
            Col("source_sector", "string", "emission sources: the sector in silver.emission_sources"),
            Col("emission_ratio", "double", "emission sources: mean hourly emission of the episode's pollutants (and "
                "precursors) / in the source's other hours within a week either side"),
            Col("reporting_gap_h", "double", "emission sources: episode hours without HJ 212 hourly data"),
            Col("power_ratio", "double", "emission sources: daily kWh on the episode's days / on the other days"),
        ),
        keys=("receptor_id", "from_ts", "to_ts", "pollutant", "candidate_id"),
    )
)

SCENARIO_RESULTS = register(
    TableSpec(
        layer="gold",
        name="scenario_results",
        description="Results of scenario runs (`smartmon scenario run`): per scenario, output and entity, the "
        "distribution over the Monte Carlo draws, with the spec, its hash and the model versions used. "
        "The same spec run again writes nothing new.",
        columns=(
            Col("scenario_id", "string", "hash of the spec (draws and seed included)", False),
            Col("name", "string", "the spec's name"),
            Col("kind", "string", "carbon | water | control"),
            Col("output", "string", "e.g. co2_base_t, co2_scenario_t, delta_co2_t, delta_pm25, section_class, p_meets_target", False),
            Col("entity_kind", "string", "region | station | hex_r7 | hex_r9 | section | source | total", False),
            Col("entity_id", "string", "GB/T 2260 code, station_id, H3 cell, section_id, source_id or 'all'", False),
            Col("nominal", "double", "the value with every factor at its central estimate"),
            Col("mean", "double", "mean over the draws"),
            Col("p05", "double", "5th percentile over the draws"),
            Col("p50", "double", "median"),
            Col("p95", "double", "95th percentile"),
            Col("unit", "string", "t CO2, ug/m3, mg/L, class, probability ..."),
            Col("draws", "int", "Monte Carlo draws"),
            Col("spec", "string", "the spec as JSON"),
            Col("model_versions", "string", "JSON: registered models and Delta table versions used"),
            Col("mlflow_run_id", "string", "the run's summary in MLflow"),
            Col("run_at", "timestamp", "UTC"),
        ),
        keys=("scenario_id", "output", "entity_kind", "entity_id"),
    )
)
