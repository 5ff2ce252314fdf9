"""The official Python client reads a node_exporter's /metrics through the
pod proxy, as any Kubernetes tool would: every exporter pod (found by its
label) answers for its own node with node_exporter's names.

Usage: pod_proxy.py KUBECONFIG CONTEXT
Prints one line per exporter; exits non-zero on any failure.
"""

import sys

from kubernetes import client, config
from kubernetes.client.rest import ApiException


def main():
    kubeconfig, context = sys.argv[1], sys.argv[2]
    config.load_kube_config(config_file=kubeconfig, context=context)
    v1 = client.CoreV1Api()
    pods = v1.list_namespaced_pod(
        "monitoring", label_selector="app.kubernetes.io/name=node-exporter"
    ).items
    assert pods, "no exporter pods"
    for p in pods:
        text = v1.connect_get_namespaced_pod_proxy_with_path(
            f"{p.metadata.name}:9100", "monitoring", "metrics"
        )
        node = p.spec.node_name
        assert f'nodename="{node}"' in text, f"{p.metadata.name}: not {node}"
        limit = [l for l in text.splitlines() if l.startswith("node_nf_conntrack_entries_limit ")]
        assert limit == ["node_nf_conntrack_entries_limit 262144"], limit
        print(f"{p.metadata.name} on {node}: ok")
    try:
        v1.connect_get_namespaced_pod_proxy_with_path("nope:9100", "monitoring", "metrics")
        raise AssertionError("a missing pod answered")
    except ApiException as e:
        assert e.status == 404, e.status
        print("missing pod: 404")


if __name__ == "__main__":
    main()
