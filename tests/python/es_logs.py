"""The official Python `elasticsearch` client against the simulator's
Elasticsearch endpoint of one region: it searches a pod's lines, pages them
with a point in time and `search_after` (always the latest PIT id), gets
exactly the lines `kubectl logs --timestamps` gives for the same pod and
time, counts them, closes the PIT, and sees bad credentials, 500s and
timeouts as such.

Usage: es_logs.py ES_URL CA_FILE TOKEN KUBECONFIG CONTEXT NAMESPACE POD ADMIN_URL ADMIN_TOKEN
Prints one line per step; exits non-zero on any failure.
"""

import json
import ssl
import subprocess
import sys
import urllib.request

from elasticsearch import (
    ApiError,
    AuthenticationException,
    ConnectionTimeout,
    Elasticsearch,
    NotFoundError,
)

INDEX = "logs-*"


def admin(url, token, ca, region, method, body=None):
    ctx = ssl.create_default_context(cafile=ca)
    req = urllib.request.Request(
        f"{url}/_sim/regions/{region}/faults",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, context=ctx, timeout=20) as r:
        r.read()


def main():
    es_url, ca, token, kubeconfig, context, ns, pod, admin_url, admin_token = sys.argv[1:10]
    es = Elasticsearch(es_url, ca_certs=ca, basic_auth=("elastic", token), request_timeout=20)

    info = es.info()
    print(f"connected to {info['cluster_name']} version {info['version']['number']}")

    out = subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, "--context", context, "-n", ns,
         "logs", pod, "--timestamps"],
        check=True, capture_output=True, text=True,
    ).stdout
    lines = out.splitlines()
    assert len(lines) >= 40, f"too few kubectl lines: {len(lines)}"
    first, last = lines[0].split(" ", 1)[0], lines[-1].split(" ", 1)[0]
    query = {"bool": {"filter": [
        {"term": {"kubernetes.namespace": ns}},
        {"term": {"kubernetes.pod.name": pod}},
        {"range": {"@timestamp": {"gte": first, "lte": last}}},
    ]}}

    pit = es.open_point_in_time(index=INDEX, keep_alive="1m")["id"]
    first_pit = pit
    size = max(1, len(lines) // 6)
    got, after, pages = [], None, 0
    while True:
        body = dict(query=query, size=size, pit={"id": pit, "keep_alive": "1m"},
                    sort=[{"@timestamp": "asc"}, {"_shard_doc": "asc"}])
        if after is not None:
            body["search_after"] = after
        r = es.search(**body)
        pit = r["pit_id"]
        hits = r["hits"]["hits"]
        if not hits:
            break
        pages += 1
        for h in hits:
            s = h["_source"]
            assert s["kubernetes"]["pod"]["name"] == pod
            got.append(f"{s['@timestamp']} {s['message']}")
        after = hits[-1]["sort"]
    print(f"paged {len(got)} documents in {pages} pages")
    assert pages >= 3, pages
    if got != lines:
        for i, (a, b) in enumerate(zip(got, lines)):
            if a != b:
                print(f"first difference at {i}:\n es      {a!r}\n kubectl {b!r}")
                break
        print(f"es {len(got)} lines, kubectl {len(lines)} lines")
        sys.exit(1)
    print("same lines as kubectl logs")

    try:
        es.search(pit={"id": first_pit}, size=1)
        if first_pit != pit:
            print("an old PIT id still answered")
            sys.exit(1)
    except NotFoundError as e:
        assert e.meta.status == 404
        print("an old PIT id is refused: search_context_missing_exception")
    closed = es.close_point_in_time(id=pit)
    assert closed["succeeded"] and closed["num_freed"] == 1, closed
    print("PIT closed")

    n = es.count(index=INDEX, query=query)["count"]
    assert n == len(lines), (n, len(lines))
    print(f"count {n}")

    r = es.search(index=INDEX, query={"bool": {"filter": [
        {"term": {"kubernetes.pod.name": pod}},
        {"query_string": {"query": "log.level:error OR log.level:warn"}},
    ]}}, size=50, sort=[{"@timestamp": "desc"}])
    levels = {h["_source"].get("log", {}).get("level") for h in r["hits"]["hits"]}
    assert levels and levels <= {"error", "warn"}, levels
    stamps = [h["sort"] for h in r["hits"]["hits"]]
    assert stamps == sorted(stamps, reverse=True), "desc order"
    print(f"query_string on log.level: {sorted(levels)}")

    try:
        es.search(index=INDEX, query={"query_string": {"query": "(unclosed"}})
        sys.exit("a bad query string was accepted")
    except ApiError as e:
        assert e.meta.status == 400, e.meta.status
        print(f"bad query string: 400 {e.error}")

    bad = Elasticsearch(es_url, ca_certs=ca, basic_auth=("elastic", "wrong"))
    try:
        bad.search(index=INDEX, size=1)
        sys.exit("bad credentials were accepted")
    except AuthenticationException as e:
        assert e.meta.status == 401
        print(f"bad credentials: 401 {e.error}")
    key = Elasticsearch(es_url, ca_certs=ca, api_key=token)
    assert key.count(index=INDEX, query=query)["count"] == len(lines)
    print("api key accepted")

    admin(admin_url, admin_token, ca, context, "POST", {"kind": "es_error", "code": 500})
    try:
        es.search(index=INDEX, size=1)
        sys.exit("no 500 under the es_error fault")
    except ApiError as e:
        assert e.meta.status == 500, e.meta.status
        print(f"fault: 500 {e.error}")
    admin(admin_url, admin_token, ca, context, "DELETE")
    admin(admin_url, admin_token, ca, context, "POST", {"kind": "es_latency", "millis": 3000})
    slow = Elasticsearch(es_url, ca_certs=ca, basic_auth=("elastic", token),
                         request_timeout=0.5, max_retries=0)
    try:
        slow.search(index=INDEX, size=1)
        sys.exit("no timeout under the es_latency fault")
    except ConnectionTimeout:
        print("fault: timeout")
    admin(admin_url, admin_token, ca, context, "DELETE")
    print("all es steps passed")


if __name__ == "__main__":
    main()
