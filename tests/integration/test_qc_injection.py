"""Faults injected into a week of real CNEMC hours are caught (recall >= 0.9 over the injected
faults, no fault type below 0.7: offsets need more than a week to stand out) while <= 1% of untouched station-hours get a WARNING or ERROR
flag. The figures are printed; the month's are in the README
(python -m experiments.qc_fault_injection --days 31)."""

import json

from experiments.qc_fault_injection import REQUIRED, evaluate, read_days


def test_injected_faults_are_caught_with_few_false_alarms(spark, lake, stations_built, data_root, capsys):
    clean = read_days(spark, data_root / "china_national_aq_hourly", 7)
    res = evaluate(spark, clean, lake.read("silver.stations"))
    with capsys.disabled():
        print("\nQC fault injection:", json.dumps(res.as_dict()))
    assert set(REQUIRED) <= set(res.events)
    assert all(res.events[k] >= 10 for k in REQUIRED), res.events
    assert res.overall_recall >= 0.9, res.recall
    assert all(res.recall[k] >= 0.7 for k in REQUIRED), res.recall
    assert res.false_positive_rate <= 0.01
