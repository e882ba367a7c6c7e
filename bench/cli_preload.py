"""`nightcast run` with the change proposed for nightcast/cli.py: TensorFlow imported, and the train
step compiled, in a background thread while Prefect starts its temporary server.

`python -m bench.cli_preload [nightcast run options]`; measured by `make bench` beside the plain run.
"""

from __future__ import annotations

import sys
import threading


def main(argv: list[str]) -> int:
    from nightcast.cli import build_parser, main as cli_main, prepare_prefect, settings_from_args

    settings = settings_from_args(build_parser().parse_args(["run", *argv]))
    prepare_prefect()
    import flows.retrain  # noqa: F401  (what command_run imports first: Prefect, the flow, the stages)
    from tasks import train

    # Started only now: imports hold the GIL, so the preload would only slow the imports above; from
    # here on the main thread mostly waits for Prefect's server, which starts in a subprocess.
    threading.Thread(target=train.preload, kwargs={"time_step": settings.time_step,
                                                   "batch_size": settings.batch_size},
                     daemon=True, name="tensorflow-preload").start()
    return cli_main(["run", *argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
