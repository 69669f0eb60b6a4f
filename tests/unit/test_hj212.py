import csv

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartmon.standards.hj212 import FrameError, ack_for, build_frame, crc16, parse_cp, parse_frame

EXAMPLE = "##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80"


def test_crc_of_the_standards_example_and_not_modbus():
    data = EXAMPLE[6:-4].encode()
    assert crc16(data) == 0x1C80
    assert crc16(data) != 0x0759  # what the Modbus CRC gives


def test_every_real_frame_verifies_exactly_when_the_dataset_says(data_root):
    with open(data_root / "hj212_messages/hj212_messages.tsv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert len(rows) == 27
    for r in rows:
        ok = True
        try:
            parse_frame(r["message"])
        except FrameError:
            ok = False
        assert ok == (r["crc_ok"] == "True"), r["message"][:60]
    assert sum(r["crc_ok"] == "True" for r in rows) == 19


@pytest.mark.parametrize(
    "frame, reason",
    [
        (EXAMPLE[:-4] + "1C81", "CRC mismatch: frame says 1C81, data segment gives 1C80"),
        (EXAMPLE[:60], "truncated"),
        ("#0101" + EXAMPLE[6:], "does not start with ##"),
        ("##0090" + EXAMPLE[6:], "CRC"),
        (build_frame("QN=1;ST=32;CN=2011;CP=&&a=1").strip(), "no CP=&&...&& payload"),
    ],
)
def test_bad_frames_are_refused_with_the_reason(frame, reason):
    with pytest.raises(FrameError, match=reason.replace("(", r"\(").replace(".", r"\.").replace("*", r"\*")):
        parse_frame(frame)


segment = st.text(alphabet="0123456789ABCDEFabcdef", min_size=1, max_size=24)  # MN is alphanumeric


@given(segment, st.sampled_from(["2011", "2051", "2061", "2031"]), st.integers(0, 255), st.floats(0, 1e6, allow_nan=False))
@settings(max_examples=200, deadline=None)
def test_build_then_parse_round_trips(mn, cn, flag, value):
    data = f"QN=20240101000000000;ST=22;CN={cn};PW=123456;MN={mn};Flag={flag};CP=&&DataTime=20240101000000;a34004-Rtd={value},a34004-Flag=N&&"
    frame = parse_frame(build_frame(data))
    assert frame.fields["MN"] == mn and frame.cn == cn and frame.flag == flag
    plain, items = parse_cp(frame.cp)
    assert plain["DataTime"] == "20240101000000"
    assert ("a34004", "Rtd", str(value)) in items and ("a34004", "Flag", "N") in items
    assert (ack_for(frame, "x") is not None) == bool(flag & 1)


def test_ack_answers_a_data_upload_with_9014_and_echoes_qn():
    ack = ack_for(parse_frame("##0101" + EXAMPLE[6:]), "now")
    assert ack is not None and ack.endswith("\r\n")
    reply = parse_frame(ack)
    assert reply.cn == "9011" and reply.fields["QN"] == "20160801085857223"  # CN 1062 is a request, not data
    up = parse_frame(build_frame("QN=1;ST=22;CN=2011;PW=1;MN=M;Flag=5;CP=&&DataTime=20240101000000&&"))
    assert parse_frame(ack_for(up, "now")).cn == "9014"
