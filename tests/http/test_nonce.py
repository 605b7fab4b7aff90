"""Nonces strictly increase per API key across threads, processes and restarts."""

from __future__ import annotations

import itertools
import threading
import time

from httpsupport import ORDER, run_workers

from xest.credentials import Credentials
from xest.http import Transport
from xest.http.nonce import NonceSource, key_digest, nonce_source
from xest.http.storage import cache_dir

KEY = "NONCEKEY-abcdefghijklmnop"


def test_eight_processes_never_repeat_or_go_backwards(sim):
    outputs = run_workers("nonce", sim.url, 8, KEY, "200")
    per_process = [[int(line) for line in out.split()] for out in outputs]
    assert all(len(seq) == 200 for seq in per_process)
    for seq in per_process:
        assert all(a < b for a, b in itertools.pairwise(seq))
    everything = [n for seq in per_process for n in seq]
    assert len(set(everything)) == 1600
    # And the sequence carries on above all of them in this process.
    assert nonce_source(KEY)() > max(everything)


def test_processes_bursting_past_the_clock_stay_unique(sim):
    # With the stored nonce ahead of the clock every nonce is "last + 1": only the lock keeps
    # two processes from drawing the same one.
    path = cache_dir() / "nonces" / key_digest(KEY)
    nonce_source(KEY)()
    start = time.time_ns() // 1000 + 10**12
    path.write_text(str(start))
    outputs = run_workers("nonce", sim.url, 8, KEY, "200")
    everything = sorted(int(n) for out in outputs for n in out.split())
    assert everything == list(range(start + 1, start + 1601))


def test_threads_share_one_sequence():
    source = nonce_source(KEY)
    seen: list[list[int]] = [[] for _ in range(8)]

    def draw(i: int) -> None:
        for _ in range(200):
            seen[i].append(source())

    threads = [threading.Thread(target=draw, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(10)
    for seq in seen:
        assert len(seq) == 200 and all(a < b for a, b in itertools.pairwise(seq))
    assert len({n for seq in seen for n in seq}) == 1600


def test_sequence_survives_a_restart_and_a_clock_behind_it():
    first = nonce_source(KEY)
    last = max(first() for _ in range(5))
    # Push the stored nonce far ahead of the wall clock, as a fast burst or a clock step would.
    ahead = NonceSource(KEY, cache_dir() / "nonces")
    path = cache_dir() / "nonces" / key_digest(KEY)
    path.write_text(str(last + 10**9))
    assert ahead() == last + 10**9 + 1  # a new source (a restarted process) reads the file


def test_seeded_from_the_wall_clock_in_microseconds():
    before = time.time_ns() // 1000
    n = nonce_source("fresh-key-0001")()
    assert before <= n <= time.time_ns() // 1000


def test_keys_have_separate_sequences_and_files_never_name_the_key():
    a, b = nonce_source("key-A-123456"), nonce_source("key-B-654321")
    a(), b()
    files = sorted(p.name for p in (cache_dir() / "nonces").iterdir())
    assert files == sorted([key_digest("key-A-123456"), key_digest("key-B-654321")])
    for p in (cache_dir() / "nonces").iterdir():
        assert b"key-" not in p.read_bytes()
    assert "key-A" not in repr(a)


def test_signing_context_draws_from_the_shared_source(sim):
    creds = Credentials(KEY, "SECRET-123456789", "carol")
    drawn = []

    def sign(req, c, ctx):
        drawn.append(ctx.nonce())

    t1 = Transport("echo", sim.url)
    t2 = Transport("echo", sim.url)
    t1.request(ORDER, signer=sign, credentials=creds)
    t2.request(ORDER, signer=sign, credentials=creds)
    direct = nonce_source(KEY)()
    assert drawn[0] < drawn[1] < direct
