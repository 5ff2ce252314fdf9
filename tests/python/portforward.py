"""The official Python client's `kubernetes.stream.portforward` against the
simulator: an HTTP request through the forward to the pod's port, answered
by the pod's responder.

Usage: portforward.py KUBECONFIG CONTEXT NAMESPACE POD PORT [delete]
Prints the status and body; with `delete`, then deletes the pod and prints
whether the forward was closed. Exits non-zero on any failure.
"""

import sys

from kubernetes import client, config
from kubernetes.stream import portforward


def main():
    kubeconfig, context, ns, pod, port = sys.argv[1:6]
    port = int(port)
    config.load_kube_config(config_file=kubeconfig, context=context)
    v1 = client.CoreV1Api()
    pf = portforward(v1.connect_get_namespaced_pod_portforward, pod, ns, ports=str(port))
    sock = pf.socket(port)
    sock.settimeout(30)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: sim\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    length = next(int(l.split(":", 1)[1]) for l in lines if l.lower().startswith("content-length:"))
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            break
        body += chunk
    print(f"status: {lines[0].split()[1]}")
    print(f"body: {body.decode().strip()}")
    error = pf.error(port)
    if error:
        print(f"forward error: {error}", file=sys.stderr)
        sys.exit(1)
    if sys.argv[6:7] == ["delete"]:
        v1.delete_namespaced_pod(pod, ns)
        # the forward closes: the local socket reads end of file
        while sock.recv(4096):
            pass
        print("closed after delete")
    sock.close()
    pf.close()


if __name__ == "__main__":
    main()
