"""HJ 212-2005 / HJ 212-2017 framing: length, CRC16, fields, CP payload, acknowledgements.

Frame: '##' + 4-digit decimal length of the data segment + data segment + 4 hex CRC (+ CR LF).
The CRC is the standard's own (not Modbus): crc=0xFFFF; per byte crc=(crc>>8)^b, then 8 times
shift right and XOR 0xA001 when the bit shifted out was 1.

Flag (2017): bits V5..V0 D A. A asks for an answer, D says the packet is one of a split message
(PNUM packets in all, this one PNO), V is the protocol version: 0 for HJ/T 212-2005, 1 for
HJ 212-2017. 2005 devices often send no Flag (and no QN) at all; some split them by PNUM/PNO
without the D bit. The same CRC and layout serve both versions, so one parser reads both.

This platform is the *upper system* (上位机): it answers a device's uploads with 9014 (data
response) and its notifications with 9013 (notification response) when the A bit asks for it,
records the device's 9011/9012 replies without answering, and never answers a command that an
upper system sends to a device (it is not a device).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

FLAG_ACK = 0x01  # A bit: the sender wants an acknowledgement
FLAG_SPLIT = 0x02  # D bit: split packet, PNUM/PNO follow
VERSIONS = {0: "2005", 1: "2017"}  # Flag's version bits (Flag >> 2)
DATA_FLAGS = {
    "N": "normal", "F": "stopped", "M": "maintenance", "S": "manual setting", "D": "fault",
    "C": "calibration", "T": "above range", "B": "communication fault", "P": "power failure",
}
# Commands only an upper system sends to a device (set, control, stop): a device sending one to
# us is misconfigured or not a device; we do not execute or answer it.
TO_DEVICE = {
    "1000": "set timeout and retries", "1012": "set the device time", "1062": "set the real-time data interval",
    "1064": "set the minute data interval", "1072": "set the access password", "2012": "stop real-time data",
    "2022": "stop device status", "3011": "zero/span calibration", "3012": "take a sample now",
    "3013": "start cleaning/back-flush", "3014": "comparison sampling", "3015": "keep an over-limit sample",
    "3016": "set the sampling period", "3021": "set device parameters",
}
NOTIFICATIONS = {"1013": "time calibration request"}  # device -> upper system notifications: answered with 9013
DEVICE_REPLIES = {"9011": "request response", "9012": "execution result"}  # recorded, never answered
UPPER_REPLIES = {"9013", "9014"}  # what an upper system answers; from a device: recorded, never answered


def _crc_table() -> tuple[int, ...]:
    """The per-byte table of the standard's CRC: the same result as shifting bit by bit, eight
    times fewer Python steps (the simulator writes hundreds of thousands of frames)."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16(data: bytes) -> int:
    """HJ 212's CRC: crc=0xFFFF; per byte crc=(crc>>8)^b, then 8 shifts with XOR 0xA001."""
    crc = 0xFFFF
    for b in data:
        crc = (crc >> 8) ^ b
        crc = (crc >> 8) ^ _CRC_TABLE[crc & 0xFF]
    return crc


class FrameError(ValueError):
    """A frame that fails its own checks; the message is the quarantine reason."""


# A landed line the receiver refused (unknown device, wrong password, a command meant for a
# device, a split message missing packets, a line torn by a crash): the mark, the reason, a tab
# and the frame as received. parse_frame refuses such a line with that reason, so the bronze
# adapter quarantines it like any bad frame and `read = bronze + quarantine` still holds.
REFUSED_MARK = "#!refused "


def refused_line(reason: str, frame_text: str) -> str:
    """The landing line of a frame the receiver refused (no line ending)."""
    clean = " ".join(reason.split())  # one line, no tab: the tab ends the reason
    return f"{REFUSED_MARK}{clean}\t" + frame_text.rstrip("\r\n")


@dataclass
class Frame:
    text: str
    data: str
    crc: str
    fields: dict[str, str] = field(default_factory=dict)
    cp: str = ""

    @property
    def st(self) -> str:
        return self.fields.get("ST", "")

    @property
    def cn(self) -> str:
        return self.fields.get("CN", "")

    @property
    def mn(self) -> str:
        return self.fields.get("MN", "")

    @property
    def pw(self) -> str:
        return self.fields.get("PW", "")

    @property
    def qn(self) -> str:
        return self.fields.get("QN", "")

    @property
    def flag(self) -> int | None:
        value = self.fields.get("Flag")
        return int(value) if value and value.isdigit() else None

    @property
    def wants_ack(self) -> bool:
        return self.flag is not None and bool(self.flag & FLAG_ACK)

    @property
    def version_bits(self) -> int:
        """Flag's V5..V0; 0 (HJ/T 212-2005) when the frame has no Flag, as 2005 devices send."""
        return (self.flag or 0) >> 2

    @property
    def protocol(self) -> str:
        """'2005', '2017', or 'V<n>' for version bits no standard defines yet."""
        return VERSIONS.get(self.version_bits, f"V{self.version_bits}")

    @property
    def split(self) -> tuple[int, int] | None:
        """(PNUM, PNO) when the frame is one packet of a split message, else None.

        The D bit says so in 2017; 2005 devices (and some 2017 ones) send PNUM/PNO without it, so
        PNUM > 1 counts too. A D bit without usable PNUM/PNO raises FrameError."""
        pnum, pno = self.fields.get("PNUM"), self.fields.get("PNO")
        d_bit = self.flag is not None and bool(self.flag & FLAG_SPLIT)
        if pnum is None and pno is None and not d_bit:
            return None
        if not (pnum and pno and pnum.isdigit() and pno.isdigit()):
            raise FrameError(f"split packet (Flag D bit or PNUM/PNO) without a numeric PNUM and PNO: PNUM={pnum} PNO={pno}")
        total, number = int(pnum), int(pno)
        if not 1 <= number <= total:
            raise FrameError(f"packet number PNO={pno} outside 1..PNUM={pnum}")
        if total == 1 and not d_bit:
            return None
        return total, number


_HEAD = re.compile(r"^##(\d{4})")


def parse_frame(text: str) -> Frame:
    """Verify length and CRC and split the header fields; raise FrameError with the reason.

    A line the receiver marked as refused (REFUSED_MARK) raises FrameError with the receiver's
    reason, so whoever reads a landing file refuses it for the same reason the receiver did."""
    text = text.rstrip("\r\n")
    if text.startswith(REFUSED_MARK):
        reason = text[len(REFUSED_MARK):].split("\t", 1)[0]
        raise FrameError(f"receiver: {reason}")
    m = _HEAD.match(text)
    if not m:
        raise FrameError("does not start with ## and a 4-digit length")
    length = int(m.group(1))
    body = text[6:]
    raw = body.encode("utf-8")
    if len(raw) < length + 4:
        raise FrameError(f"truncated: length field says {length} bytes of data, frame has {max(len(raw) - 4, 0)}")
    data_bytes, crc_text = raw[:length], raw[length:].decode("ascii", errors="replace")
    if len(crc_text) != 4:
        raise FrameError(f"length field {length} does not match the data segment ({len(raw) - 4} bytes before the CRC)")
    try:
        data = data_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FrameError("the length field cuts a character in two") from exc
    computed = crc16(data_bytes)
    try:
        sent = int(crc_text, 16)
    except ValueError as exc:
        raise FrameError(f"CRC {crc_text!r} is not 4 hex digits") from exc
    if sent != computed:
        raise FrameError(f"CRC mismatch: frame says {crc_text.upper()}, data segment gives {computed:04X}")
    head, sep, rest = data.partition("CP=&&")
    if not sep or not rest.endswith("&&"):
        raise FrameError("no CP=&&...&& payload")
    fields = {}
    for part in head.split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            fields[k.strip()] = v.strip()
    return Frame(text=text, data=data, crc=crc_text.upper(), fields=fields, cp=rest[:-2])


def parse_cp(cp: str) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """(plain fields such as DataTime, [(code, key, value)]) from a CP payload.

    'a34004-Rtd=12,a34004-Flag=N;a21026-Avg=3' -> ({}, [('a34004','Rtd','12'), ...])."""
    plain: dict[str, str] = {}
    items: list[tuple[str, str, str]] = []
    for group in cp.split(";"):
        for part in group.split(","):
            if "=" not in part:
                continue
            k, v = part.split("=", 1)
            k = k.strip()
            if "-" in k:
                code, key = k.split("-", 1)
                items.append((code, key, v.strip()))
            else:
                plain[k] = v.strip()
    return plain, items


def build_frame(data: str) -> str:
    """Wrap a data segment into a full frame with length and CRC (and CR LF)."""
    raw = data.encode("utf-8")
    if len(raw) > 9999:
        raise FrameError(f"data segment of {len(raw)} bytes: a frame's 4-digit length field holds at most 9999")
    return f"##{len(raw):04d}{data}{crc16(raw):04X}\r\n"


def join_split(parts: list[Frame]) -> str:
    """One frame (CR LF-less) holding a split message's packets, in PNO order.

    The header is the first packet's without PNUM/PNO and with the D bit cleared; the CP groups
    are concatenated, a plain group that repeats (each packet carries DataTime) kept once. The
    packets' own CRCs were verified on arrival; the joined frame carries a CRC of its own."""
    if not parts:
        raise ValueError("no packets to join")
    ordered = sorted(parts, key=lambda f: f.split[1] if f.split else 0)
    first = ordered[0]
    head = []
    for key, value in first.fields.items():
        if key in ("PNUM", "PNO"):
            continue
        if key == "Flag" and first.flag is not None:
            value = str(first.flag & ~FLAG_SPLIT)
        head.append(f"{key}={value}")
    groups: list[str] = []
    seen_plain: set[str] = set()
    for f in ordered:
        for group in f.cp.split(";"):
            if not group:
                continue
            plain = "=" in group and "-" not in group.split("=", 1)[0] and "," not in group
            if plain and group in seen_plain:
                continue
            if plain:
                seen_plain.add(group)
            groups.append(group)
    return build_frame(";".join(head) + ";CP=&&" + ";".join(groups) + "&&").rstrip("\r\n")


def ack_for(frame: Frame, now_qn: str) -> str | None:
    """What the upper system answers a verified frame from a device, or None.

    Only when the Flag's A bit asks for an answer: a notification (CN 1013) gets 9013, an
    upload (data, status, the device's own information) 9014, QN echoed (the current time when
    a 2005 frame has none) and Flag carrying the device's protocol version, so a 2005 device
    gets a 2005 answer. A device's 9011/9012 reply is recorded, never answered (answering a reply
    would start a loop), and a command that only an upper system sends to a device (set,
    control, stop: CN 1062 and the like) is not answered: this platform is not a device and
    asks nothing it was not asked."""
    if not frame.wants_ack or frame.cn in TO_DEVICE or frame.cn in DEVICE_REPLIES or frame.cn in UPPER_REPLIES:
        return None
    qn = frame.qn or now_qn
    flag = frame.version_bits << 2
    cn = "9013" if frame.cn in NOTIFICATIONS else "9014"
    return build_frame(f"QN={qn};ST=91;CN={cn};PW={frame.pw};MN={frame.mn};Flag={flag};CP=&&&&")
