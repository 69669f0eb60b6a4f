"""Every table's name, once, as a constant: code names tables through these, never through string
literals (a test walks the code base for them). A test checks that these and the
declared tables are the same set."""

from __future__ import annotations

from typing import Final

# bronze
BRONZE_CNEMC_HOURLY: Final = "bronze.cnemc_hourly"
BRONZE_COUNTY_AIR: Final = "bronze.county_air"
BRONZE_ENERGY_USE: Final = "bronze.energy_use"
BRONZE_ENTERPRISES: Final = "bronze.enterprises"
BRONZE_HJ212_FRAMES: Final = "bronze.hj212_frames"
BRONZE_HYDROLOGY: Final = "bronze.hydrology"
BRONZE_INGEST_BATCHES: Final = "bronze.ingest_batches"
BRONZE_INGEST_LEDGER: Final = "bronze.ingest_ledger"
BRONZE_KDD_AQ: Final = "bronze.kdd_aq"
BRONZE_KDD_MEO: Final = "bronze.kdd_meo"
BRONZE_LAND_USE: Final = "bronze.land_use"
BRONZE_PMF_SPECIATION: Final = "bronze.pmf_speciation"
BRONZE_POWER_USE: Final = "bronze.power_use"
BRONZE_PROVINCIAL_AIR: Final = "bronze.provincial_air"
BRONZE_QUARANTINE: Final = "bronze.quarantine"
BRONZE_STATION_LISTS: Final = "bronze.station_lists"
BRONZE_STATISTICS: Final = "bronze.statistics"
BRONZE_TOWNSHIP_SENSORS: Final = "bronze.township_sensors"
BRONZE_UCI_HOURLY: Final = "bronze.uci_hourly"
BRONZE_WATER_AUTO: Final = "bronze.water_auto"
# silver
SILVER_AIR_HOURLY: Final = "silver.air_hourly"
SILVER_CHANGED_DAYS: Final = "silver.changed_days"
SILVER_CHANGE_MARKS: Final = "silver.change_marks"
SILVER_AUDIT_LOG: Final = "silver.audit_log"
SILVER_CONFORMED_BATCHES: Final = "silver.conformed_batches"
SILVER_COUNTY_STATS: Final = "silver.county_stats"
SILVER_DEVICES: Final = "silver.devices"
SILVER_EMISSION_SOURCES: Final = "silver.emission_sources"
SILVER_ENERGY_USE: Final = "silver.energy_use"
SILVER_HJ212_VALUES: Final = "silver.hj212_values"
SILVER_LAND_USE: Final = "silver.land_use"
SILVER_METEO_HOURLY: Final = "silver.meteo_hourly"
SILVER_POWER_USE: Final = "silver.power_use"
SILVER_QC_FLAGS: Final = "silver.qc_flags"
SILVER_RIVER_SECTIONS: Final = "silver.river_sections"
SILVER_SECTION_FLOW: Final = "silver.section_flow"
SILVER_SOURCE_EMISSIONS: Final = "silver.source_emissions"
SILVER_SPECIATION: Final = "silver.speciation"
SILVER_STATION_ALIASES: Final = "silver.station_aliases"
SILVER_STATIONS: Final = "silver.stations"
SILVER_VALUE_CORRECTIONS: Final = "silver.value_corrections"
SILVER_WATER_OBS: Final = "silver.water_obs"
# gold
GOLD_AIR_MOVING: Final = "gold.air_moving"
GOLD_AQI_DAILY: Final = "gold.aqi_daily"
GOLD_AQI_HOURLY: Final = "gold.aqi_hourly"
GOLD_EVAL_ANNUAL: Final = "gold.eval_annual"
GOLD_EVAL_MONTHLY: Final = "gold.eval_monthly"
GOLD_FORECASTS: Final = "gold.forecasts"
GOLD_FORECAST_CITY_DAILY: Final = "gold.forecast_city_daily"
GOLD_FORECAST_SKILL: Final = "gold.forecast_skill"
GOLD_HEX_DAILY: Final = "gold.hex_daily"
GOLD_MODEL_ALIASES: Final = "gold.model_aliases"
GOLD_MOVING_AGREEMENT: Final = "gold.moving_agreement"
GOLD_PIPELINE_RUNS: Final = "gold.pipeline_runs"
GOLD_QC_SCREENING: Final = "gold.qc_screening"
GOLD_REGION_DAILY: Final = "gold.region_daily"
GOLD_SCENARIO_RESULTS: Final = "gold.scenario_results"
GOLD_SOURCE_APPORTIONMENT: Final = "gold.source_apportionment"
GOLD_UPWIND_CANDIDATES: Final = "gold.upwind_candidates"
GOLD_WATER_CLASS: Final = "gold.water_class"
# features
FEATURES_AIR_CLIMATOLOGY: Final = "features.air_climatology"
FEATURES_AIR_FORECAST: Final = "features.air_forecast"

# outputs that are not tables, named so the job graph can order their writers and readers
MODELS: Final = "mlflow.champions"  # registered champion models (`smartmon train`), read by the forecasts
REPORTS: Final = "files.reports"  # the consultation reports' files (reports/ or $SMARTMON_REPORTS_DIR)
ARTIFACTS: Final = (MODELS, REPORTS)
