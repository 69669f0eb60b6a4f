import csv

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartmon.standards.hj212 import (
    FrameError,
    ack_for,
    build_frame,
    crc16,
    join_split,
    parse_cp,
    parse_frame,
    refused_line,
)

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


def test_the_upper_system_answers_uploads_and_notifications_and_nothing_else():
    request = parse_frame(EXAMPLE)  # CN 1062: an upper system sets a device's interval
    assert request.wants_ack and ack_for(request, "now") is None  # we are not the device
    up = parse_frame(build_frame("QN=20240101000000001;ST=22;CN=2011;PW=1;MN=M;Flag=5;CP=&&DataTime=20240101000000&&"))
    reply = parse_frame(ack_for(up, "now"))
    assert (reply.cn, reply.st, reply.qn, reply.mn, reply.pw, reply.flag) == ("9014", "91", "20240101000000001", "M", "1", 4)
    note = parse_frame(build_frame("QN=2;ST=22;CN=1013;PW=1;MN=M;Flag=5;CP=&&PolId=a34004&&"))
    assert parse_frame(ack_for(note, "now")).cn == "9013"
    for cn in ("9011", "9012", "9013", "9014"):  # a device's replies (and stray answers) are never answered
        assert ack_for(parse_frame(build_frame(f"QN=3;ST=22;CN={cn};PW=1;MN=M;Flag=5;CP=&&QnRtn=1&&")), "now") is None
    assert ack_for(parse_frame(build_frame("QN=4;ST=22;CN=2011;PW=1;MN=M;Flag=4;CP=&&&&")), "now") is None  # no A bit


def test_both_protocol_versions_are_read_and_answered_in_their_own():
    v2005 = parse_frame(build_frame("QN=5;ST=32;CN=2011;PW=123456;MN=88888880000001;Flag=1;CP=&&DataTime=20160801000000;011-Rtd=3&&"))
    v2017 = parse_frame(build_frame("QN=6;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&DataTime=20160801000000&&"))
    bare = parse_frame(build_frame("ST=32;CN=2011;PW=123456;MN=LD130133000015;CP=&&DataTime=20160824000000&&"))
    assert (v2005.protocol, v2017.protocol, bare.protocol) == ("2005", "2017", "2005")
    assert parse_frame(build_frame("ST=21;CN=2011;PW=1;MN=Z;Flag=8;CP=&&&&")).protocol == "V2"
    assert parse_frame(ack_for(v2005, "now")).flag == 0 and parse_frame(ack_for(v2017, "now")).flag == 4
    assert bare.wants_ack is False and bare.qn == ""
    v2005_ack = build_frame("ST=32;CN=2011;PW=123456;MN=M;Flag=1;CP=&&&&")  # no QN: the upper system's time
    assert parse_frame(ack_for(parse_frame(v2005_ack), "20240101080000000")).qn == "20240101080000000"


@pytest.mark.parametrize(
    "header, split",
    [
        ("Flag=7;PNUM=3;PNO=2", (3, 2)),  # 2017: D bit
        ("PNUM=0002;PNO=0002", (2, 2)),  # 2005 style: PNUM/PNO without a Flag
        ("Flag=5", None),
        ("Flag=4;PNUM=1;PNO=1", None),  # one packet of one is no split
    ],
)
def test_split_packets_are_recognised(header, split):
    assert parse_frame(build_frame(f"QN=1;ST=31;CN=2051;PW=1;MN=M;{header};CP=&&a=1&&")).split == split


@pytest.mark.parametrize("header", ["Flag=7", "Flag=7;PNUM=2;PNO=3", "PNUM=x;PNO=1"])
def test_a_split_packet_without_usable_numbers_is_refused(header):
    with pytest.raises(FrameError, match="PNUM|PNO"):
        parse_frame(build_frame(f"QN=1;ST=31;CN=2051;PW=1;MN=M;{header};CP=&&a=1&&")).split


def test_split_packets_join_into_one_frame_in_packet_order():
    parts = [parse_frame(build_frame(f"QN=7;ST=31;CN=2051;PW=1;MN=M;Flag=7;PNUM=3;PNO={n};CP=&&DataTime=20240101000000;{cp}&&"))
             for n, cp in ((3, "a3-Avg=3"), (1, "a1-Avg=1,a1-Flag=N"), (2, "a2-Avg=2"))]
    joined = parse_frame(join_split(parts))
    assert joined.flag == 5 and "PNUM" not in joined.fields and "PNO" not in joined.fields and joined.split is None
    assert joined.cp == "DataTime=20240101000000;a1-Avg=1,a1-Flag=N;a2-Avg=2;a3-Avg=3"
    assert (joined.qn, joined.mn, joined.cn) == ("7", "M", "2051")


def test_a_refused_line_is_refused_again_with_the_receivers_reason():
    line = refused_line("unknown device MN=X:\tnot in the registry", EXAMPLE + "\r\n")
    assert line.endswith("\t" + EXAMPLE) and "\n" not in line
    with pytest.raises(FrameError, match="^receiver: unknown device MN=X: not in the registry$"):
        parse_frame(line)
    with pytest.raises(FrameError, match="at most 9999"):
        build_frame("x" * 10_000)
