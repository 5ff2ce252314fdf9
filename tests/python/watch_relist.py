"""The official Python client against the simulator: list, watch from the
list's resourceVersion, get 410 Expired once that version has left the
history window, and recover by relisting.

Usage: watch_relist.py KUBECONFIG CONTEXT NAMESPACE HISTORY_SIZE
Prints one line per step; exits non-zero on any failure.
"""

import sys

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException


def main():
    kubeconfig, context, ns, history = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    config.load_kube_config(config_file=kubeconfig, context=context)
    v1 = client.CoreV1Api()

    pods = v1.list_namespaced_pod(ns)
    rv = pods.metadata.resource_version
    # the scenario's timeline rolls out api (its pods come and go): change
    # a pod that stays
    names = sorted(p.metadata.name for p in pods.items if not p.metadata.name.startswith("api-"))
    assert names, "no pods listed"
    print(f"listed {len(names)} pods at {rv}")

    # A change after the list must arrive on a watch from the list's version.
    target = names[0]
    v1.patch_namespaced_pod(target, ns, {"metadata": {"annotations": {"test/step": "one"}}})
    w = watch.Watch()
    seen = False
    for ev in w.stream(v1.list_namespaced_pod, ns, resource_version=rv, timeout_seconds=20):
        if ev["object"].metadata.name == target and ev["type"] == "MODIFIED":
            seen = True
            w.stop()
    assert seen, "watch from the list's resourceVersion missed the change"
    print("watch from resourceVersion saw MODIFIED")

    # Push the list's version out of the history window.
    for i in range(history + 20):
        v1.patch_namespaced_pod(target, ns, {"metadata": {"annotations": {"test/step": str(i)}}})
    try:
        for _ in watch.Watch().stream(v1.list_namespaced_pod, ns, resource_version=rv, timeout_seconds=20):
            pass
        print("no 410 received", file=sys.stderr)
        sys.exit(1)
    except ApiException as e:
        assert e.status == 410, f"expected 410, got {e.status}"
        print("got 410 Expired")

    # Recover: relist, then watch from the fresh version.
    fresh = v1.list_namespaced_pod(ns)
    rv2 = fresh.metadata.resource_version
    assert int(rv2) > int(rv), "relist did not advance the resourceVersion"
    v1.patch_namespaced_pod(target, ns, {"metadata": {"annotations": {"test/step": "after-relist"}}})
    w = watch.Watch()
    recovered = False
    for ev in w.stream(v1.list_namespaced_pod, ns, resource_version=rv2, timeout_seconds=20):
        ann = ev["object"].metadata.annotations or {}
        if ann.get("test/step") == "after-relist":
            recovered = True
            w.stop()
    assert recovered, "watch after relist missed the change"
    print("recovered after relist")


if __name__ == "__main__":
    main()
