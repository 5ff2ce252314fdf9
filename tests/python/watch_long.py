"""The official Python client's watch without timeout_seconds: the server
must not cut it short. Reads N changes made one at a time over a single
watch, then closes it; the caller checks how many watch requests the
server saw.

Usage: watch_long.py KUBECONFIG CONTEXT NAMESPACE N
Prints one line per step; exits non-zero on any failure.
"""

import sys
import threading
import time

from kubernetes import client, config, watch


def main():
    kubeconfig, context, ns, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    config.load_kube_config(config_file=kubeconfig, context=context)
    v1 = client.CoreV1Api()
    pods = v1.list_namespaced_pod(ns)
    rv = pods.metadata.resource_version
    # the scenario's timeline rolls out api (its pods come and go): change
    # a pod that stays
    target = sorted(p.metadata.name for p in pods.items if not p.metadata.name.startswith("api-"))[0]
    print(f"listed {len(pods.items)} pods at {rv}")

    done = threading.Event()

    def patch():
        # one change every half second, in its own client
        own = client.CoreV1Api()
        i = 0
        while not done.is_set() and i < n * 4:
            own.patch_namespaced_pod(target, ns, {"metadata": {"annotations": {"test/long": str(i)}}})
            i += 1
            time.sleep(0.5)

    t = threading.Thread(target=patch, daemon=True)
    t.start()
    w = watch.Watch()
    seen = 0
    started = time.monotonic()
    for ev in w.stream(v1.list_namespaced_pod, ns, resource_version=rv):
        if ev["type"] == "MODIFIED" and ev["object"].metadata.name == target:
            seen += 1
            if seen >= n:
                w.stop()
    done.set()
    print(f"read {seen} changes over {time.monotonic() - started:.0f}s on one watch")


if __name__ == "__main__":
    main()
