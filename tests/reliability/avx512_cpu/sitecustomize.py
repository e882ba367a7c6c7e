"""Plays an AVX-512 CPU for the processes a test starts with this folder on PYTHONPATH: when `tensorflow` is
first imported, the notices TensorFlow's C++ side writes there (before absl's logging exists, whatever
TF_CPP_MIN_LOG_LEVEL says) are written to file descriptor 2; with PLAY_TENSORFLOW_ERROR=1, one line of a real
error follows, which must still reach the console."""

import os
import sys

NOTICES = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    "I0000 00:00:1764000000.123456    4242 port.cc:153] oneDNN custom operations are on. You may see slightly "
    "different numerical results due to floating-point round-off errors from different computation orders. To "
    "turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.\n"
    "I0000 00:00:1764000000.234567    4242 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use "
    "available CPU instructions in performance-critical operations.\n"
    "To enable the following instructions: AVX512F AVX512_VNNI AVX512_BF16 AVX_VNNI, in other operations, "
    "rebuild TensorFlow with the appropriate compiler flags.\n"
)
REAL_ERROR = "E0000 00:00:1764000000.345678    4242 stand_in.cc:1] a real TensorFlow error that must be seen\n"


class PlayedCpu:
    """A meta path finder that writes the notices once, as the first import of tensorflow starts."""

    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow":
            sys.meta_path.remove(self)
            os.write(2, (NOTICES + (REAL_ERROR if os.environ.get("PLAY_TENSORFLOW_ERROR") else "")).encode())
        return None


sys.meta_path.insert(0, PlayedCpu())
