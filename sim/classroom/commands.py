"""The classroom's sub-commands: ``trustsim app``, ``trustsim animate``, ``trustsim lessons``."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

from .text import DEFAULT_LANG, LANGS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "app",
        help="serve the classroom page (ring view, plots, lessons)",
        description="Serve the classroom page with Solara and print its URL.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument(
        "--port", type=int, default=8765, help="port (default: 8765; 0 picks a free one)"
    )
    p.add_argument("--lang", choices=LANGS, default=DEFAULT_LANG, help="first language of the page")
    p.add_argument(
        "--lesson", help="open this lesson or shipped scenario first (default: lesson 1)"
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
        "--out", type=Path, required=True, help="FILE.gif, or FILE.mp4 when ffmpeg is present"
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


def solara_command(host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        "trustsim.classroom.app",
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--log-level",
        "warning",
    ]


def cmd_app(args: argparse.Namespace) -> int:
    from ..errors import UsageError, require

    require("solara", "trustsim app")
    if args.lesson:
        from .session import catalogue

        keys = [item.key for item in catalogue()]
        if args.lesson not in keys:
            raise UsageError(
                f"--lesson {args.lesson}: no such lesson or scenario (allowed: {', '.join(keys)})"
            )
    from .assets import ensure

    for line in ensure(log=lambda msg: print(msg, flush=True)):
        print(f"warning: {line}", file=sys.stderr)
    port = args.port or free_port(args.host)
    env = {
        **os.environ,
        "TRUSTSIM_LANG": args.lang,
        "TRUSTSIM_LESSON": args.lesson or "",
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    }
    print(f"classroom: http://{args.host}:{port}/  (Ctrl-C to stop)", flush=True)
    cmd = solara_command(args.host, port)
    os.execve(cmd[0], cmd, env)  # the server replaces this process: one pid to stop


def cmd_animate(args: argparse.Namespace) -> int:
    from .animate import animate

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
    from .lessons import all_lessons

    for lesson in all_lessons():
        print(
            f"{lesson.info.order}. {lesson.id}: {lesson.text(args.lang).title}  ({lesson.path.name})"
        )
    return 0
