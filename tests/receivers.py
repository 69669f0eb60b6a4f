"""What the HJ 212 receiver tests share: the sample devices and their passwords, and the
receiver processes a test starts, killed when it ends (a failing test must not leave one running).

A module uses them with `from tests.receivers import REGISTERED, STARTED, no_receiver_outlives_its_test`
(importing the autouse fixture makes it apply to that module's tests)."""

from __future__ import annotations

import subprocess

import pytest

# the dataset's devices, registered with the password their frames carry, except 41050022000017
# (unknown); the 1062 example (PW=100000) and one LD130133000015 frame (PW=000000) carry another
REGISTERED = {"010000A8900016F000169DC0": "123456", "Z13401000010301": "BF470F88957588DE902D1A52",
              "Y80110010000010": "123456", "ZLDSZ20210127": "123456", "NJGDKYYC202101q0001w0001": "123456",
              "JLYP01_AIR01_0001": "123456", "14513567846884": "123456", "JSRCTD000YD107": "123456",
              "0507A010003242": "123456", "88888880000001": "123456", "LD130133000015": "123456"}

STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def no_receiver_outlives_its_test():
    yield
    while STARTED:
        proc = STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
