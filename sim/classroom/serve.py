"""The classroom's server process (``trustsim app`` becomes it): the Solara page on
uvicorn, which says where to open it only once the server answers there.

``solara run`` prints its address before the server listens (opening it at once gave
"connection refused") and checks for a new Solara version over the network; this starts the
same app, in production mode, without either.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable

APP = "trustsim.classroom.app"
ANNOUNCE_ENV = "TRUSTSIM_ANNOUNCE"  # the lines to print once the page answers
WAIT_SECONDS = 300.0


def probe_url(host: str, port: int) -> str:
    """Where this machine reaches the server (a wildcard address is reached on loopback)."""
    near = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    near = f"[{near}]" if ":" in near else near
    return f"http://{near}:{port}/readyz"


def answers(url: str) -> bool:
    """Whether an HTTP server answers at ``url`` (any status counts)."""
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def announce_when_up(server: object, url: str, lines: str) -> None:
    """Print ``lines`` once the server has started and answers at ``url``."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline and not getattr(server, "should_exit", False):
        if getattr(server, "started", False) and answers(url):
            print(lines, flush=True)
            return
        time.sleep(0.05)


EXIT_INTERRUPTED = 130  # as trustsim.errors says; not imported: this process starts light


def until_stopped(serve: Callable[[], None], said: Callable[[], str]) -> int:
    """Serve until Ctrl-C or SIGTERM, then print ``said()`` as one line on stderr and return
    130, as every other command ends. uvicorn shuts down gracefully on either signal and
    then raises it again; SIGTERM is made Ctrl-C for that (also before the server runs)."""

    from trustsim.errors import sigterm_as_interrupt  # here: importing this module stays light

    try:
        with sigterm_as_interrupt():
            serve()
    except KeyboardInterrupt:
        print(said(), file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    return 0


def stopped_line(host: str, port: int) -> str:
    return (
        f"stopped: the classroom page at http://{host}:{port}/ is closed (its sessions keep "
        f"nothing); `trustsim app` serves it again"
    )


def main(host: str, port: int) -> int:
    return until_stopped(lambda: _serve(host, port), lambda: stopped_line(host, port))


def _serve(host: str, port: int) -> None:
    import uvicorn
    from solara.__main__ import LOGGING_CONFIG
    from solara.server import settings

    # Solara warns on every page load over plain http on an address other than
    # "localhost" that it falls back to a SameSite=Lax cookie: the right cookie for this
    # page, which is never embedded in another site's frame.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    settings.main.mode = "production"
    settings.telemetry.mixpanel_enable = False
    os.environ.update(SOLARA_APP=APP, SERVER_NAME=host, SERVER_PORT=str(port))
    config = uvicorn.Config(
        "solara.server.starlette:app",
        host=host,
        port=port,
        log_config=LOGGING_CONFIG,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    lines = os.environ.get(ANNOUNCE_ENV, "")
    threading.Thread(
        target=announce_when_up, args=(server, probe_url(host, port), lines), daemon=True
    ).start()
    server.run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
