"""Body of tests/bench/fleet_bench: see there."""

import socket
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab, policy_exchange, unix_socket_accepts, wait_for, wait_port  # noqa: E402
sys.path.insert(0, str(Path(__file__).resolve().parent))
from policy_bench import load  # noqa: E402

DESTINATIONS = 200
CONNS = 50
REQUESTS = 100_000
ROUNDS = 3
STORES = {"memory only (backend none)": "backend = none\n",
          "SQLite": "backend = sqlite\npath = {dir}/bench{n}.db\n",
          "Redis": "backend = redis\nredis = unix:{dir}/redis.sock\nredis_prefix = bench{n}:\n"}


def start(lab, n, store):
    port = 10060 + n
    log = lab.dir / f"bench{n}.log"
    conf = lab.dir / f"bench{n}.conf"
    conf.write_text(lab.conf.read_text().replace("[log]\ntarget = stderr\n", "") + f"""security_level = encrypt

[policy]
listen = inet:127.0.0.1:{port}
socketmap_listen =

[store]
{store.format(dir=lab.dir, n=n)}
[log]
target = file:{log}
""")
    lab.spawn(f"bench{n}", [str(lab.policyd), "--config", str(conf)])
    wait_port("127.0.0.1", port)
    return port, log


def ask(port, domains):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        for d in domains:
            policy_exchange(s, f"user@{d}")


def main():
    build = Path(sys.argv[1]).resolve()
    with Lab(Path(tempfile.gettempdir()) / "mxtls-lab-fleet-bench", build, bench=2 * DESTINATIONS,
             bench_cases=["healthy12"]) as lab:
        sock = lab.dir / "redis.sock"
        lab.spawn("redis", ["redis-server", "--port", "0", "--unixsocket", str(sock), "--save", "", "--appendonly", "no"])
        wait_for(lambda: unix_socket_accepts(sock), what="redis-server")
        domains = [f"b{i}.bench.test" for i in range(DESTINATIONS)]

        # Cached answers: each store learns the same destinations, then the
        # three are loaded in turn, round after round.
        instances = {}
        for n, (label, store) in enumerate(STORES.items()):
            port, log = start(lab, n, store)
            ask(port, domains)
            wait_for(lambda: all(f"probe: domain={d}," in log.read_text() for d in domains), timeout=120,
                     what=f"{label}: every destination probed")
            instances[label] = port
        results = {label: [] for label in STORES}
        print(f"cached policy answers, {CONNS} persistent connections, {REQUESTS} requests, {DESTINATIONS} destinations, "
              f"{ROUNDS} rounds interleaved")
        for _ in range(ROUNDS):
            for label, port in instances.items():
                results[label].append(load(build, "policy", f"inet:127.0.0.1:{port}", domains, CONNS, REQUESTS))
        if not all(all(runs) for runs in results.values()):
            print("NO RATIO: a load run failed (above)")
            return 1
        best = {label: max(float(m["rps"]) for m in runs) for label, runs in results.items()}
        memory = best["memory only (backend none)"]
        for label, runs in results.items():
            p99 = sorted(m["p99"] for m in runs)[len(runs) // 2]
            print(f"  {label:<28} best {best[label]:>9.0f} req/s   median p99 {p99:>7}   {best[label] / memory:.0%} of memory only")

        # Probes per destination across three instances sharing one Redis.
        fresh = [f"b{i}.bench.test" for i in range(DESTINATIONS, 2 * DESTINATIONS)]
        fleet = [start(lab, 10 + n, "backend = redis\nredis = unix:{dir}/redis.sock\nredis_prefix = fleet:\n")
                 for n in range(3)]
        threads = [threading.Thread(target=ask, args=(port, fresh)) for port, _ in fleet]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        def known(d):
            return sum(log.read_text().count(f"probe: domain={d},") + log.read_text().count(f"fleet: domain={d},")
                       for _, log in fleet)
        wait_for(lambda: all(known(d) >= 3 for d in fresh), timeout=180, what="every instance to know every destination")
        probes = sum(log.read_text().count("probe: domain=") for _, log in fleet)
        print(f"\n3 instances sharing one Redis, asked about the same {len(fresh)} new destinations at once: "
              f"{probes} probes = {probes / len(fresh):.2f} per destination")
    return 0


if __name__ == "__main__":
    sys.exit(main())
