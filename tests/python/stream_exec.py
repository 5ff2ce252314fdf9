"""The official Python client's `kubernetes.stream.stream` exec against the
simulator: a command's output, a non-zero exit status read from the error
channel, and an interactive shell fed through stdin.

Usage: stream_exec.py KUBECONFIG CONTEXT NAMESPACE POD
Prints one line per result; exits non-zero on any failure.
"""

import sys

from kubernetes import client, config
from kubernetes.stream import stream
from websocket import ABNF


def main():
    kubeconfig, context, ns, pod = sys.argv[1:5]
    config.load_kube_config(config_file=kubeconfig, context=context)
    v1 = client.CoreV1Api()

    out = stream(v1.connect_get_namespaced_pod_exec, pod, ns,
                 command=["hostname"], stderr=True, stdin=False, stdout=True, tty=False)
    print(f"hostname: {out.strip()}")

    resp = stream(v1.connect_get_namespaced_pod_exec, pod, ns,
                  command=["sh", "-c", "exit 3"], stderr=True, stdin=False, stdout=True,
                  tty=False, _preload_content=False)
    resp.run_forever(timeout=30)
    print(f"exit code: {resp.returncode}")

    resp = stream(v1.connect_get_namespaced_pod_exec, pod, ns,
                  command=["sh"], stderr=True, stdin=True, stdout=True, tty=False,
                  _preload_content=False)
    resp.write_stdin("cat /etc/hostname\n")
    got = ""
    while resp.is_open() and "\n" not in got:
        resp.update(timeout=30)
        got += resp.read_stdout()
    print(f"interactive: {got.strip()}")
    # a WebSocket ping is answered with a pong carrying the same payload
    resp.sock.ping(b"are-you-there")
    while True:
        opcode, frame = resp.sock.recv_data_frame(True)
        if opcode == ABNF.OPCODE_PONG:
            print(f"pong: {frame.data.decode()}")
            break
    resp.write_stdin("exit 0\n")
    resp.run_forever(timeout=30)
    if resp.returncode != 0:
        print(f"interactive exit code {resp.returncode}", file=sys.stderr)
        sys.exit(1)
    resp.close()


if __name__ == "__main__":
    main()
