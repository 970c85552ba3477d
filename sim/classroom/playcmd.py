"""``trustsim class`` (serve a class that plays the market) and ``trustsim class replay FILE``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from trustsim.classroom.text import DEFAULT_LANG, LANGS

MAX_SEATS = 200


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "class",
        help="a class plays the market: students run salespeople from their phones",
        description="Serve the projector page and the students' join page; each student "
        "runs a salesperson, the model plays the rest. 'trustsim class replay FILE' plays "
        "a saved session again from its seed and choices.",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this computer only; "
        "0.0.0.0 lets students' phones connect)",
    )
    p.add_argument("--port", type=int, default=8766, help="port (default: 8766; 0 picks one)")
    p.add_argument("--lang", choices=LANGS, default=DEFAULT_LANG, help="first language")
    p.add_argument("--scenario", default="baseline", help="market scenario (default: baseline)")
    p.add_argument("--seed", type=int, help="seed of the market (default: the scenario's)")
    p.add_argument("--seats", type=int, default=40, help="salespeople in the market (default: 40)")
    p.add_argument("--weeks", type=int, default=6, help="weeks per round (default: 6)")
    p.add_argument(
        "--timer", type=float, default=0, help="seconds per round; 0: the teacher starts each"
    )
    p.add_argument(
        "--out",
        type=Path,
        help="session file, rewritten after every round (default: class-<date>.parquet)",
    )
    p.set_defaults(func=cmd_class)
    rsub = p.add_subparsers(dest="class_command")
    r = rsub.add_parser("replay", help="replay a saved session and check it is reproduced")
    r.add_argument("file", type=Path, help="a session .parquet written by trustsim class")
    r.set_defaults(func=cmd_replay)


def _check(args: argparse.Namespace) -> None:
    from trustsim.errors import UsageError

    if not 1 <= args.seats <= MAX_SEATS:
        raise UsageError(f"--seats {args.seats}: use 1 to {MAX_SEATS}")
    if not 1 <= args.weeks <= 520:
        raise UsageError(f"--weeks {args.weeks}: use 1 to 520")
    if not 0 <= args.timer <= 3600:
        raise UsageError(f"--timer {args.timer}: use 0 to 3600 seconds")


def check_session_file(out: Path) -> None:
    """Refuse, before the market is built, a session file that could never be written
    (a folder, under a file, a place without write access): rounds are saved there."""
    import errno
    import tempfile

    from trustsim.errors import output_errors

    again = "choose another --out (a file in a folder you may write to) and start the class again"
    with output_errors("checking the class's session file", out, "nothing was started", again):
        if out.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(out))
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out.parent, prefix=f".{out.name}.", suffix=".probe"):
            pass


def cmd_class(args: argparse.Namespace) -> int:
    from trustsim.errors import require

    _check(args)
    require("segno", "trustsim class")
    require("uvicorn", "trustsim class")
    import uvicorn

    from trustsim.classroom.commands import check_host, check_port, free_port, student_urls
    from trustsim.classroom.market import Market
    from trustsim.classroom.playserver import Room, make_app
    from trustsim.classroom.serve import until_stopped
    from trustsim.loader import load_scenario

    check_host(args.host)
    if args.port:
        check_port(args.host, args.port)
    scenario = load_scenario(args.scenario)
    seed = scenario.run.seed if args.seed is None else args.seed
    out = args.out or Path(f"class-{time.strftime('%Y%m%d-%H%M%S')}.parquet")
    check_session_file(out)  # after the other inputs: a refusal leaves no folder made
    print("preparing the market (the first start compiles the model)...", flush=True)
    market = Market(scenario, seed, args.seats, args.weeks)
    _warm_up(market)
    port = args.port or free_port(args.host)
    join_url = student_urls(args.host, port)[0]
    room = Room(market, join_url, out=out, timer=args.timer)
    local = (
        f"http://127.0.0.1:{port}"
        if args.host in ("0.0.0.0", "::")
        else f"http://{args.host}:{port}"
    )

    def ready() -> None:
        print(f"projector: {local}/t/{room.key}  (keep this link to yourself)", flush=True)
        print(f"students open: {join_url}  room code {room.code}", flush=True)
        print(f"session file: {out} (after every round)  Ctrl-C to stop", flush=True)

    app = make_app(room, args.lang, on_ready=ready)
    # uvicorn.Server, not uvicorn.run: run() swallows the Ctrl-C that ends the class
    server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=port, log_level="warning"))
    return until_stopped(server.run, lambda: stopped_line(room))


def stopped_line(room) -> str:
    """What ``trustsim class`` says when Ctrl-C or SIGTERM ends it: where the rounds are."""
    kept = f"every finished round is in {room.saved}" if room.saved else "no round was played"
    return f"stopped: the class is closed; {kept}"


def _warm_up(market) -> None:
    """Compile the core's step and load Parquet on a throw-away copy, so the first round
    is not slow."""
    import tempfile

    from trustsim.classroom.market import Market
    from trustsim.classroom.sessionfile import write

    spare = Market(market.scenario, market.seed, 1 if market.seats == 1 else 2, 1)
    spare.join("warm-up")
    spare.run_round()
    with tempfile.TemporaryDirectory() as tmp:
        write(spare, Path(tmp) / "warm-up.parquet")


def cmd_replay(args: argparse.Namespace) -> int:
    from trustsim.classroom.sessionfile import check_replay

    market, diffs = check_replay(args.file)
    if diffs:
        for line in diffs[:20]:
            print(line, file=sys.stderr)
        print(f"{args.file}: the replay differs in {len(diffs)} outcomes", file=sys.stderr)
        return 1
    n = len(market.outcomes)
    print(
        f"{args.file}: {market.round} rounds, {n} student-rounds reproduced exactly "
        f"(seed {market.seed}, {market.seats} salespeople, {market.weeks} weeks a round)"
    )
    return 0
