"""TensorFlow's native start-up notices are dropped from file descriptor 2 while it is imported, and nothing else
is: a real error line, another thread's line, a child process's line all arrive. TensorFlow's C++ side is played
by stand-ins that write the very lines an AVX-512 CPU makes it print, so this holds on every machine."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import pytest

from nightcast.quiet_import import import_quietly, is_notice, notices_filtered

NOTICES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1764000000.123456    1234 port.cc:153] oneDNN custom operations are on. You may see slightly "
    "different numerical results due to floating-point round-off errors from different computation orders. "
    "To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.",
    "I0000 00:00:1764000000.234567    1234 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use "
    "available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX512F AVX512_VNNI AVX512_BF16 AVX_VNNI AMX_TILE AMX_INT8 AMX_BF16 "
    "FMA, in other operations, rebuild TensorFlow with the appropriate compiler flags.",
]
KEPT = [
    "E0000 00:00:1764000000.345678    1234 op_kernel.cc:1857] OP_REQUIRES failed: a real TensorFlow error",
    "W0000 00:00:1764000000.456789    1234 loader.cc:88] a real TensorFlow warning from another file",
    "WARNING: something else entirely",
    "Traceback (most recent call last):",
]


def write_lines(lines: list[str]) -> None:
    os.write(2, "".join(line + "\n" for line in lines).encode())


def test_exactly_the_start_up_notices_are_recognised():
    assert all(is_notice(line.encode()) for line in NOTICES)
    assert not any(is_notice(line.encode()) for line in KEPT)
    assert is_notice(NOTICES[0].encode() + b"\r")  # a terminal's line ending


def test_the_filter_drops_the_notices_and_keeps_every_other_line_in_order(capfd):
    with notices_filtered():
        write_lines([NOTICES[0], KEPT[0], NOTICES[1], KEPT[1]])
        other = threading.Thread(target=write_lines, args=([KEPT[2]],))
        other.start()
        other.join()
        # one write of the whole line (print writes the newline apart, and pytest's sys.stderr may reach the
        # captured file without passing fd 2, so the filter's thread could write between the two)
        sys.stderr.write("python's own stderr\n")
        sys.stderr.flush()
        write_lines([NOTICES[2], NOTICES[3], KEPT[3]])
        os.write(2, b"a last line without its newline")
    lines = capfd.readouterr().err.splitlines()
    assert "python's own stderr" in lines and not [line for line in lines if is_notice(line.encode())]
    fd_lines = [line for line in lines if line != "python's own stderr"]
    assert fd_lines == [KEPT[0], KEPT[1], KEPT[2], KEPT[3], "a last line without its newline"]
    os.write(2, NOTICES[0].encode() + b"\n")  # outside the import, fd 2 is the real one again
    assert capfd.readouterr().err == NOTICES[0] + "\n"


def test_a_child_started_during_the_import_keeps_its_stderr(capfd):
    code = "import os, time; time.sleep(0.8); os.write(2, b'the child, after the import\\n')"
    with notices_filtered():
        child = subprocess.Popen([sys.executable, "-c", code])
    assert child.wait(timeout=60) == 0
    for _ in range(50):  # the filter's thread forwards the child's line once the child writes it
        err = capfd.readouterr().err
        if err:
            break
        threading.Event().wait(0.1)
    assert err == "the child, after the import\n"


@pytest.fixture
def stand_in(tmp_path, monkeypatch):
    """A module that writes TensorFlow's notices and one real error to fd 2 when imported."""
    (tmp_path / "tensorflow_stand_in.py").write_text(
        textwrap.dedent(
            f"""
            import os
            os.write(2, {"".join(line + chr(10) for line in [NOTICES[0], NOTICES[1], KEPT[0], NOTICES[3]])!r}.encode())
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "tensorflow_stand_in"
    sys.modules.pop("tensorflow_stand_in", None)


def test_an_import_through_the_filter_shows_only_real_lines(stand_in, capfd):
    module = import_quietly(stand_in)
    assert module is sys.modules[stand_in] and import_quietly(stand_in) is module
    assert capfd.readouterr().err == KEPT[0] + "\n"


def test_a_second_thread_waits_for_the_module_another_thread_is_importing(tmp_path, monkeypatch):
    """sys.modules holds a module from the start of its import: the second thread must get it whole."""
    (tmp_path / "slow_stand_in.py").write_text("import time\ntime.sleep(0.5)\nREADY = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    got: list = []
    first = threading.Thread(target=lambda: got.append(import_quietly("slow_stand_in")))
    first.start()
    while "slow_stand_in" not in sys.modules:
        threading.Event().wait(0.01)
    got.append(import_quietly("slow_stand_in"))  # while the first thread is still in time.sleep
    first.join()
    assert [module.READY for module in got] == [True, True]
    sys.modules.pop("slow_stand_in", None)
