"""The Starlette application: pages, one event stream per tab, and the actions' POST routes.

Pages are rendered once (Jinja2) and then kept current by server-sent events: each tab opens
``/events?view=...`` and receives the view's state whenever an agent saw a change (and a
heartbeat), read from the shared agents, never from an exchange. Every route sits behind
:class:`xest_web.security.Guard`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from xest_web import views
from xest_web.actions import Actions, describe
from xest_web.forms import FormError
from xest_web.hub import Hub
from xest_web.security import Guard

log = logging.getLogger("xest.web")

HERE = Path(__file__).parent
PAGES = ("exchanges", "account", "quotes", "orders", "market")
HEARTBEAT = 5.0  # seconds between messages when nothing changed (keeps clocks resynced)
WAKE = 1.0  # seconds a stream waits for a change before re-reading the state anyway


def create_app(hub: Hub, *, token: str, hosts: Iterable[str] = ()) -> Guard:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    actions = Actions(hub)

    def boot(page: str) -> dict[str, Any]:
        return {
            "page": page,
            "accounts": [
                {"key": a.key, "exchange": a.exchange.name, "name": a.name}
                for a in hub.accounts.values()
            ],
            "exchanges": [
                {"name": e.name, "symbols": e.symbols(), "default_symbol": e.default_symbol()}
                for e in hub.exchanges.values()
            ],
            "simulated": hub.simulated,
        }

    def page(name: str) -> Callable[[Request], Any]:
        async def render(request: Request) -> Response:
            data = boot(name)
            return templates.TemplateResponse(
                request,
                f"{name}.html",
                {
                    "page": name,
                    "pages": PAGES,
                    "boot": json.dumps(data).replace("<", "\\u003c"),
                    **data,
                },
            )

        return render

    async def index(request: Request) -> Response:
        return RedirectResponse("/exchanges", status_code=303)

    def builder(params: dict[str, str]) -> tuple[str, Callable[[], dict[str, Any]], Any]:
        """The view asked for, as a function returning its state; FormError when malformed."""
        view = params.get("view", "")
        if view not in views.VIEWS:
            raise FormError("view", f"view must be one of {', '.join(views.VIEWS)}")
        if view == "exchanges":
            return view, lambda: views.exchanges_view(hub), None
        if view == "market":
            exchange = hub.exchanges.get(params.get("exchange", ""))
            if exchange is None:
                raise FormError("exchange", "unknown exchange: pick one from the list")
            symbol = params.get("symbol", "").strip().upper()
            if symbol not in exchange.symbols():
                raise FormError("symbol", f"unknown symbol {symbol[:24]!r} on {exchange.name}")
            return view, lambda: views.market_view(hub, exchange, symbol), (exchange.name, symbol)
        entry = hub.accounts.get(params.get("account", ""))
        if entry is None:
            raise FormError("account", "unknown account: select one from the list")
        build = {
            "account": views.account_view,
            "quotes": views.quotes_view,
            "orders": views.orders_view,
        }[view]
        return view, lambda: build(hub, entry), None

    async def state(request: Request) -> Response:
        try:
            view, build, market = builder(dict(request.query_params))
        except FormError as exc:
            return JSONResponse({"error": str(exc), "field": exc.field}, status_code=400)
        if market is not None:
            watch = await run_in_threadpool(hub.watches.acquire, *market)
            try:
                for _ in range(50):  # a new watch: wait for its first poll (5 s at most)
                    if watch.ticker is not None or watch.book is not None:
                        break
                    await asyncio.sleep(0.1)
                data = build()
            finally:
                await run_in_threadpool(hub.watches.release, *market)
        else:
            data = build()
        return JSONResponse({"view": view, "now": time.time(), "data": data})

    async def events(request: Request) -> Response:
        try:
            view, build, market = builder(dict(request.query_params))
        except FormError as exc:
            return JSONResponse({"error": str(exc), "field": exc.field}, status_code=400)
        return StreamingResponse(
            _stream(hub, view, build, market),
            media_type="text/event-stream",
            headers={"X-Accel-Buffering": "no"},
        )

    def action(name: str) -> Callable[[Request], Any]:
        method = getattr(actions, name)

        async def run(request: Request) -> Response:
            try:
                data = await request.json()
                if not isinstance(data, dict):
                    raise FormError("body", "send a JSON object")
            except (ValueError, UnicodeDecodeError):
                return JSONResponse({"error": "send a JSON object"}, status_code=400)
            except FormError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            try:
                result = await run_in_threadpool(method, data)
            except Exception as exc:
                status, message, field = describe(exc)
                if status >= 500:
                    log.error("xest web: %s failed: %s", name, type(exc).__name__)
                return JSONResponse({"error": message, "field": field}, status_code=status)
            return JSONResponse(result)

        return run

    routes = [
        Route("/", index),
        *(Route(f"/{name}", page(name)) for name in PAGES),
        Route("/events", events),
        Route("/api/state", state),
        *(
            Route(f"/api/{name}", action(name), methods=["POST"])
            for name in ("quote", "accept", "prepare", "confirm", "cancel")
        ),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.hub = hub
    return Guard(app, token=token, hosts=hosts)


async def _stream(
    hub: Hub, view: str, build: Callable[[], dict[str, Any]], market: Any
) -> AsyncIterator[str]:
    """The view's state each time it changes (at most once per wake-up), plus heartbeats."""
    notifier = hub.notifier
    if market is not None:
        await run_in_threadpool(hub.watches.acquire, *market)
    wake = notifier.register()
    try:
        yield "retry: 2000\n\n"
        last, sent = None, 0.0
        while not notifier.closing:
            wake.clear()
            # Off the event loop: reading a quote's state may take a fresh server-time reading
            # when the clock estimate is too loose (the agent's rule, through its limiter).
            data = await run_in_threadpool(build)
            body = json.dumps(data, sort_keys=True)
            if body != last or time.monotonic() - sent > HEARTBEAT:
                message = json.dumps({"view": view, "now": time.time(), "data": data})
                yield f"event: state\ndata: {message}\n\n"
                last, sent = body, time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), WAKE)
    finally:
        notifier.unregister(wake)
        if market is not None:
            await asyncio.shield(run_in_threadpool(hub.watches.release, *market))
