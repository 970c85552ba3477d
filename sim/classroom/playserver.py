"""The class's web server: the projector page, students' phone pages and their JSON API.

Plain HTML pages (no install, no Solara kernel per phone) that talk JSON to a Starlette
app served by uvicorn. Screens long-poll: a request waits until the state it shows has
changed, so a round's results reach every phone as soon as the round is over. All market
changes run on the server's event loop, one at a time (a round of 40 salespeople takes
milliseconds), so no request sees half a round.

- ``/`` join page (name and room code; the QR code's link fills the code in)
- ``/p/{token}`` a student's page; the token in the link is the salesperson, so a phone
  that reloads or reconnects is the same salesperson
- ``/t/{key}`` the projector; only the teacher's link (printed at start) can run rounds
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from trustsim.classroom.choices import Choice, ChoiceError
from trustsim.classroom.debrief import debrief
from trustsim.classroom.market import Market, PlayError
from trustsim.classroom.playtext import strings

POLL_SECONDS = 25.0  # a long poll answers at the latest after this, unchanged
MAX_BODY = 4096  # bytes of a client's request body
ROOM_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def room_code(n: int = 4) -> str:
    return "".join(secrets.choice(ROOM_LETTERS) for _ in range(n))


@dataclass
class Signal:
    """A version number and an event that wakes the long polls waiting on it."""

    version: int = 0
    event: asyncio.Event = field(default_factory=asyncio.Event)

    def bump(self) -> None:
        self.version += 1
        self.event.set()
        self.event = asyncio.Event()

    async def wait(self, since: int) -> None:
        if self.version > since:
            return
        event = self.event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), POLL_SECONDS)


@dataclass
class Room:
    """The server's state: the market, the room code, the timer and the session file."""

    market: Market
    join_url: str
    out: Path | None = None
    timer: float = 0.0  # seconds per round (0: the teacher starts each round)
    code: str = field(default_factory=room_code)
    key: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    paused: bool = False
    ends_at: float | None = None  # wall-clock end of this round's timer
    left: float | None = None  # seconds left when paused
    revealed: bool = False
    sessions: int = 1
    saved: str = ""
    students: Signal = field(default_factory=Signal)  # what students' screens show
    board: Signal = field(default_factory=Signal)  # what the projector shows
    task: asyncio.Task | None = None
    round_started: float = 0.0

    # ------------------------------------------------------------------ actions
    def changed(self, students: bool) -> None:
        self.board.bump()
        if students:
            self.students.bump()

    def start_timer(self, seconds: float | None = None) -> None:
        if self.task:
            self.task.cancel()
            self.task = None
        self.ends_at = None
        seconds = self.timer if seconds is None else seconds
        if seconds > 0 and not self.paused:
            self.ends_at = time.time() + seconds
            self.task = asyncio.get_running_loop().create_task(self._count_down(seconds))

    async def _count_down(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self.task = None
        self.run_round()

    def run_round(self) -> None:
        self.market.run_round()
        self.revealed = False
        self.save()
        self.start_timer()
        self.changed(students=True)

    def save(self) -> None:
        if self.out is None:
            return
        from trustsim.classroom.sessionfile import write

        path = self.out
        if self.sessions > 1:
            path = path.with_name(f"{path.stem}-{self.sessions}{path.suffix}")
        write(self.market, path)
        self.saved = str(path)

    def pause(self, on: bool) -> None:
        if on and not self.paused:
            self.left = max(0.0, self.ends_at - time.time()) if self.ends_at else None
            self.paused = True
            self.start_timer(0)
        elif not on and self.paused:
            self.paused = False
            self.start_timer(self.left)
        self.changed(students=True)

    def reset(self) -> None:
        self.market.reset()
        self.sessions += 1
        self.revealed = False
        self.saved = ""
        self.start_timer()
        self.changed(students=True)

    # ------------------------------------------------------------------ views
    def common(self) -> dict[str, Any]:
        m = self.market
        return {
            "round": m.round,
            "weeks": m.weeks,
            "paused": self.paused,
            "ends_at": self.ends_at,
            "left": self.left if self.paused else None,
            "now": time.time(),
            "players": len(m.players),
            "chosen": m.chosen(),
        }

    def student_view(self, token: str) -> dict[str, Any]:
        m = self.market
        p = m.player(token)
        return {
            **self.common(),
            "version": self.students.version,
            "name": p.name,
            "seat": p.seat,
            "first_round": p.first_round,
            "chose": p.choice is not None,
            "choice": (p.choice or p.last).as_dict(),
            "history": m.history(p.seat),
            "events": m.events.get(p.seat, []),
            "customers": m.seat_customers(p.seat),
            "debrief": self.debrief() if self.revealed else None,
        }

    def board_view(self) -> dict[str, Any]:
        m = self.market
        totals = m.totals()
        players = [
            {
                "seat": p.seat,
                "name": p.name,
                "chose": p.choice is not None,
                "style": p.last.style,
                **totals.get(p.seat, {}),
            }
            for p in sorted(m.players.values(), key=lambda p: p.seat)
        ]
        return {
            **self.common(),
            "version": self.board.version,
            "room": self.code,
            "join_url": self.join_url,
            "timer": self.timer,
            "seats": m.seats,
            "table": players,
            "rings": m.market_rings(),
            "feed": m.feed[-12:],
            "saved": self.saved,
            "debrief": self.debrief() if self.revealed else None,
        }

    def debrief(self) -> dict[str, Any]:
        return debrief(self.market.rounds, self.market.outcomes)


def _finite(value: Any) -> Any:
    """``value`` with every NaN as None: JSON has no NaN (a student with no customers yet
    has no mean trust)."""
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


class JSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return super().render(_finite(content))


def _page(name: str) -> str:
    return files("trustsim.classroom").joinpath(name).read_text(encoding="utf-8")


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSON({"error": message}, status_code=status)


async def _body(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ChoiceError(f"request too large (over {MAX_BODY} bytes)")
    if not raw:
        return {}
    import json

    try:
        return json.loads(raw)
    except ValueError:
        raise ChoiceError("the request is not JSON") from None


def _since(request: Request) -> int:
    text = request.query_params.get("since", "-1")
    return int(text) if text.lstrip("-").isdigit() else -1


def make_app(room: Room, lang: str, on_ready: Callable[[], None] | None = None) -> Starlette:
    """The Starlette app serving ``room``."""

    def html(name: str) -> Callable:
        async def page(request: Request) -> Response:
            return HTMLResponse(_page(name).replace("__LANG__", lang))

        return page

    async def text(request: Request) -> Response:
        return JSON(strings())

    async def style(request: Request) -> Response:
        return Response(_page("play.css"), media_type="text/css")

    async def script(request: Request) -> Response:
        return Response(_page("play.js"), media_type="text/javascript")

    async def qr(request: Request) -> Response:
        import io

        import segno

        buf = io.BytesIO()
        segno.make(f"{room.join_url}?room={room.code}", error="m").save(buf, kind="svg", scale=6)
        return Response(buf.getvalue(), media_type="image/svg+xml")

    async def join(request: Request) -> Response:
        try:
            data = await _body(request)
            if not isinstance(data, dict) or str(data.get("room", "")).upper() != room.code:
                return _error("wrong room code: it is on the projector", 403)
            player = room.market.join(str(data.get("name", "")))
        except (ChoiceError, PlayError) as exc:
            return _error(str(exc))
        room.changed(students=False)
        return JSON({"token": player.token, "link": f"/p/{player.token}"})

    async def me(request: Request) -> Response:
        token = request.path_params["token"]
        if token not in room.market.players:
            return _error("unknown player: join again", 404)
        await room.students.wait(_since(request))
        if token not in room.market.players:
            return _error("you were removed from the game: join again", 404)
        return JSON(room.student_view(token))

    async def choose(request: Request) -> Response:
        token = request.path_params["token"]
        try:
            choice = Choice.parse(await _body(request))
            room.market.choose(token, choice)
        except (ChoiceError, PlayError) as exc:
            return _error(str(exc), 404 if isinstance(exc, PlayError) else 400)
        room.changed(students=False)
        return JSON(room.student_view(token))

    def teacher(request: Request) -> bool:
        return secrets.compare_digest(request.path_params["key"], room.key)

    async def board(request: Request) -> Response:
        if not teacher(request):
            return _error("not the teacher's link", 403)
        await room.board.wait(_since(request))
        return JSON(room.board_view())

    async def act(request: Request) -> Response:
        if not teacher(request):
            return _error("not the teacher's link", 403)
        action = request.path_params["action"]
        try:
            data = await _body(request)
            if action == "run":
                room.run_round()
            elif action in ("pause", "resume"):
                room.pause(action == "pause")
            elif action == "reset":
                room.reset()
            elif action == "remove":
                room.market.remove(int(data.get("seat", -1)))
                room.changed(students=True)
            elif action == "debrief":
                room.revealed = not room.revealed
                room.changed(students=True)
            elif action == "timer":
                seconds = data.get("seconds")
                if not isinstance(seconds, int | float) or not 0 <= seconds <= 3600:
                    return _error("seconds must be from 0 to 3600")
                room.timer = float(seconds)
                room.start_timer()
                room.changed(students=True)
            else:
                return _error(f"unknown action {action!r}", 404)
        except (ChoiceError, PlayError, ValueError) as exc:
            return _error(str(exc))
        return JSON(room.board_view())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        room.start_timer()
        if on_ready:
            on_ready()
        yield
        if room.task:
            room.task.cancel()

    routes = [
        Route("/", html("play_join.html")),
        Route("/p/{token}", html("play_student.html")),
        Route("/t/{key}", html("play_teacher.html")),
        Route("/play.css", style),
        Route("/play.js", script),
        Route("/text.json", text),
        Route("/qr.svg", qr),
        Route("/api/join", join, methods=["POST"]),
        Route("/api/p/{token}", me),
        Route("/api/p/{token}/choose", choose, methods=["POST"]),
        Route("/api/t/{key}", board),
        Route("/api/t/{key}/{action}", act, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
