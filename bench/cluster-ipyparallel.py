"""IPython parallel's side of the cluster benchmark (bench/cluster.ts runs it).

Starts a local ipyparallel cluster (controller + N engines, Debian's python3-ipyparallel),
then measures, as bench/cluster.ts does for zmq-ts/cluster:
  - the round-trip latency of one no-op task on a direct view and a load-balanced view
    (p50/p99 over `--latency` tasks, one at a time)
  - the throughput of no-op tasks through the load-balanced view (`--tasks` submitted at
    once, tasks per second until the last result is in)
Prints one JSON line on stdout. Everything else goes to stderr.
"""
import argparse
import json
import sys
import time

import ipyparallel as ipp


def noop():
    return None


def pct(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engines", type=int, default=4)
    ap.add_argument("--tasks", type=int, default=2000)
    ap.add_argument("--latency", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    t0 = time.perf_counter()
    cluster = ipp.Cluster(n=args.engines, log_level=40)
    rc = cluster.start_and_connect_sync()
    rc.wait_for_engines(args.engines, timeout=120)
    startup = time.perf_counter() - t0
    try:
        dview = rc[0]
        lview = rc.load_balanced_view()
        for _ in range(20):  # warm up both paths
            dview.apply_sync(noop)
            lview.apply_sync(noop)

        direct, balanced = [], []
        for _ in range(args.latency):
            t = time.perf_counter()
            dview.apply_sync(noop)
            direct.append((time.perf_counter() - t) * 1e3)
        for _ in range(args.latency):
            t = time.perf_counter()
            lview.apply_sync(noop)
            balanced.append((time.perf_counter() - t) * 1e3)

        rates = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            ars = [lview.apply_async(noop) for _ in range(args.tasks)]
            rc.wait(ars, timeout=600)
            for ar in ars:
                ar.get()
            rates.append(args.tasks / (time.perf_counter() - t))
        rates.sort()
        print(json.dumps({
            "impl": "ipyparallel " + ipp.__version__,
            "engines": args.engines,
            "startup_s": startup,
            "direct_p50_ms": pct(direct, 50), "direct_p99_ms": pct(direct, 99),
            "lb_p50_ms": pct(balanced, 50), "lb_p99_ms": pct(balanced, 99),
            "tasks_per_s": rates[len(rates) // 2], "tasks": args.tasks, "repeat": args.repeat,
        }))
    finally:
        rc.close()
        cluster.stop_cluster_sync()


if __name__ == "__main__":
    sys.exit(main())
