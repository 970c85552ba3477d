"""The classroom's sub-commands: ``trustsim app``, ``trustsim animate``, ``trustsim lessons``."""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
import time
from pathlib import Path

from trustsim.classroom.text import DEFAULT_LANG, LANGS
from trustsim.errors import describe_os_error
from trustsim.runtime.files import out_path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "app",
        help="serve the classroom page (ring view, plots, lessons)",
        description="Serve the classroom page with Solara and print its URL.",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this computer only; "
        "0.0.0.0 lets students' devices connect)",
    )
    p.add_argument(
        "--port", type=int, default=8765, help="port (default: 8765; 0 picks a free one)"
    )
    p.add_argument("--lang", choices=LANGS, default=DEFAULT_LANG, help="first language of the page")
    p.add_argument(
        "--lesson", help="open this lesson or shipped scenario first (default: lesson 1)"
    )
    p.add_argument(
        "--max-sessions",
        type=int,
        metavar="N",
        help="browsers served at once, each with its own model; more see a 'classroom is "
        "full' page (default: sized to this machine, 20 per CPU core)",
    )
    p.add_argument(
        "--predictions",
        metavar="FILE",
        help="CSV file the classes' lesson predictions and outcomes are written to "
        "(default: predictions-<date>.csv here, written at the first prediction)",
    )
    p.set_defaults(func=cmd_app)

    p = sub.add_parser(
        "animate",
        help="render the ring view over time as a GIF (or MP4)",
        description="Run SCENARIO (a shipped scenario, a lesson id or a TOML file) "
        "on the Mesa engine and write the ring view of one customer, "
        "one frame per step.",
    )
    p.add_argument(
        "scenario", help="a shipped scenario, a lesson id (e.g. breach_way_back) or a file"
    )
    p.add_argument(
        "--out", type=out_path, required=True, help="FILE.gif, or FILE.mp4 when ffmpeg is present"
    )
    p.add_argument("--steps", type=int, help="steps to show (default: the scenario's run.steps)")
    p.add_argument(
        "--customer", type=int, help="whose rings to draw (default: the lesson's, else 0)"
    )
    p.add_argument("--lang", choices=LANGS, default=DEFAULT_LANG)
    p.add_argument("--fps", type=float, default=8.0, help="frames per second (default: 8)")
    p.add_argument(
        "--try", dest="try_this", action="store_true", help="apply the lesson's 'try this'"
    )
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.set_defaults(func=cmd_animate)

    p = sub.add_parser("lessons", help="list the classroom lessons in teaching order")
    p.add_argument("--lang", choices=LANGS, default=DEFAULT_LANG)
    p.set_defaults(func=cmd_lessons)


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def check_host(host: str) -> None:
    """Refuse a --host that names no address (exit 2) before anything starts."""
    from trustsim.errors import UsageError

    try:
        socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, TypeError, ValueError) as exc:
        why = getattr(exc, "strerror", None) or "not a host name or address"
        raise UsageError(
            f"--host {host}: no such address ({why}); use 127.0.0.1 (this computer only) "
            "or 0.0.0.0 (students' devices too)"
        ) from None


def check_port(host: str, port: int) -> None:
    """Refuse a port out of range (bad input, exit 2) or one another program holds (the
    server cannot be created there: exit 73, like an --out that cannot be created)."""
    from trustsim.errors import OutputError, UsageError

    if not 0 < port < 65536:
        raise UsageError(f"--port {port}: must be in 1..65535 (0 picks a free one)")
    try:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except socket.gaierror as exc:
        raise UsageError(
            f"--host {host}: not an address of this computer ({exc.strerror})"
        ) from None
    except OSError as exc:
        if exc.errno == errno.EADDRNOTAVAIL:
            raise UsageError(
                f"--host {host}: not an address of this computer; use 127.0.0.1 "
                "(this computer only) or 0.0.0.0 (students' devices too)"
            ) from None
        cause = "another program listens there" if exc.errno == errno.EADDRINUSE else None
        raise OutputError(
            "starting the classroom server",
            f"{host}:{port}",
            cause or describe_os_error(exc),
            kept="nothing was started",
            next_step="choose another --port (or --port 0 for a free one) or stop that program",
        ) from None


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback, private (LAN) ones first.

    Read from the network interfaces (psutil): nothing is sent anywhere.
    """
    import ipaddress

    import psutil

    found = []
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family != socket.AF_INET:
                continue
            ip = ipaddress.ip_address(a.address)
            if not (ip.is_loopback or ip.is_link_local):
                found.append(ip)
    return [str(ip) for ip in sorted(found, key=lambda ip: (not ip.is_private, ip))]


def student_urls(host: str, port: int) -> list[str]:
    """What students type: the given address, or for 0.0.0.0 / :: each LAN address."""
    if host in ("0.0.0.0", "::", ""):
        hosts = lan_addresses() or ["127.0.0.1"]
    else:
        hosts = [host]
    return [f"http://{h}:{port}/" for h in hosts]


LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def server_command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "trustsim.classroom.serve", host, str(port)]


def announcement(host: str, port: int, urls: list[str], limit: int) -> str:
    """What ``trustsim app`` prints once the page answers."""
    lines = [f"classroom: http://{host}:{port}/  (Ctrl-C to stop)"]
    if host in LOCAL_HOSTS:
        lines.append("only this computer can open it; --host 0.0.0.0 lets students connect")
    else:
        lines += [f"students open: {url}" for url in urls]
    lines.append(f"up to {limit} browsers at once (--max-sessions)")
    return "\n".join(lines)


def cmd_app(args: argparse.Namespace) -> int:
    from trustsim.classroom.predict import ENV as PREDICTIONS_ENV
    from trustsim.classroom.serve import ANNOUNCE_ENV
    from trustsim.errors import UsageError, require

    require("solara", "trustsim app")
    if args.lesson:
        from trustsim.classroom.session import catalogue

        keys = [item.key for item in catalogue()]
        if args.lesson not in keys:
            raise UsageError(
                f"--lesson {args.lesson}: no such lesson or scenario (allowed: {', '.join(keys)})"
            )
    from trustsim.classroom.capacity import ENV as MAX_ENV
    from trustsim.classroom.capacity import default_max_sessions

    if args.max_sessions is not None and args.max_sessions < 1:
        raise UsageError(f"--max-sessions {args.max_sessions}: must be at least 1")
    given = os.environ.get(MAX_ENV, "")
    if args.max_sessions is None and given and not (given.isdigit() and int(given) >= 1):
        raise UsageError(f"{MAX_ENV}={given!r}: must be a whole number, at least 1")
    limit = args.max_sessions or (int(given) if given else default_max_sessions())
    check_host(args.host)
    port = args.port or free_port(args.host)
    check_port(args.host, port)
    from trustsim.classroom.assets import ensure

    for line in ensure(log=lambda msg: print(msg, flush=True)):
        print(f"warning: {line}", file=sys.stderr)
    urls = student_urls(args.host, port)
    reachable = args.host not in LOCAL_HOSTS
    env = {
        **os.environ,
        "TRUSTSIM_LANG": args.lang,
        "TRUSTSIM_LESSON": args.lesson or "",
        PREDICTIONS_ENV: str(
            Path(args.predictions or f"predictions-{time.strftime('%Y%m%d-%H%M%S')}.csv").resolve()
        ),
        "TRUSTSIM_ADDRESS": urls[0] if reachable else "",  # the header shows it to students
        ANNOUNCE_ENV: announcement(args.host, port, urls, limit),
        MAX_ENV: str(limit),
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        # a closed tab's session (and its place) is freed after a minute, not a day
        "SOLARA_KERNEL_CULL_TIMEOUT": os.environ.get("SOLARA_KERNEL_CULL_TIMEOUT", "60s"),
    }
    cmd = server_command(args.host, port)
    os.execve(cmd[0], cmd, env)  # the server replaces this process: one pid to stop


def cmd_animate(args: argparse.Namespace) -> int:
    from trustsim.classroom.animate import animate

    path = animate(
        args.scenario,
        args.out,
        steps=args.steps,
        customer=args.customer,
        lang=args.lang,
        fps=args.fps,
        try_this=args.try_this,
        overrides=args.overrides,
    )
    print(f"wrote {path}")
    return 0


def cmd_lessons(args: argparse.Namespace) -> int:
    from trustsim.classroom.lessons import all_lessons

    for lesson in all_lessons():
        print(
            f"{lesson.info.order}. {lesson.id}: {lesson.text(args.lang).title}  ({lesson.path.name})"
        )
    return 0
