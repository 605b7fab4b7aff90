"""Issue 15.4: an agent stops within a second whatever its call is doing, and leaves no thread
behind."""

from __future__ import annotations

import threading
import time

from hostile import HostileServer, trickle

from xest.agents.base import Agent
from xest.http import Endpoint, Transport

GET = Endpoint("thing", "GET", "/thing", retry=False)


def test_stopping_agents_mid_call_is_quick_and_leaves_no_thread():
    with HostileServer(trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 9999\r\n\r\n", 0.2)) as server:
        transport = Transport("hostile", server.url, cache=False, read_timeout=30)
        agents, events = [], []
        for i in range(5):
            agent = Agent(f"hostile-{i}")
            agent.subscribe(events.append)
            agent.add_task("thing", lambda: transport.request(GET), 60)
            agents.append(agent.start(wait=False))
        time.sleep(0.5)  # every agent is inside its call now
        started = time.monotonic()
        for agent in agents:
            agent.stop()
        assert time.monotonic() - started < 1.0
        time.sleep(0.2)
        left = [t.name for t in threading.enumerate() if t.name.startswith("xest-hostile")]
        assert left == []
        assert all(not a.running for a in agents)
        # Being cut short by stop() is no failure of the exchange: no poll_failed event.
        assert [e.kind for e in events if e.kind == "poll_failed"] == []
        assert all(a.task_state("thing").failures == 0 for a in agents)
