//! The simulator's node_exporters, read as a cockpit and a real Prometheus
//! read them: through the API server's pod proxy with kubectl, and by a
//! real `prometheus` scraping the plain HTTP targets it writes a config for.

use pitwall_sim::{Fault, Fleet, Scenario};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// Every wait in these tests is bounded by this.
const WAIT: Duration = Duration::from_secs(60);

const SCENARIO: &str = r#"
seed = 11
time_scale = 10.0
node_exporter = true

[[region]]
name = "north"
nodes = 4
namespaces = ["shop"]

[[region]]
name = "south"
nodes = 2
namespaces = ["shop"]

[[workload]]
name = "web"
namespace = "shop"
replicas = 4
image = "registry.local/shop/web:1.0.0"
ports = [8080]

[[workload]]
name = "api"
namespace = "shop"
replicas = 3
image = "registry.local/shop/api:1.0.0"
ports = [8443]
"#;

struct Env {
    fleet: Fleet,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

async fn start() -> Env {
    let scenario = Scenario::from_toml(SCENARIO, "net test").expect("scenario parses");
    let fleet = Fleet::start(scenario, None).await.expect("fleet starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, fleet.kubeconfig_yaml()).expect("write kubeconfig");
    Env {
        fleet,
        dir,
        kubeconfig,
    }
}

/// kubectl's stdout, or its exit code and stderr.
async fn kubectl(kc: &Path, ctx: &str, args: &[&str]) -> Result<String, (i32, String)> {
    let out = tokio::time::timeout(
        WAIT,
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(kc)
            .arg("--context")
            .arg(ctx)
            .arg("--request-timeout=20s")
            .args(args)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("kubectl finishes")
    .expect("kubectl runs");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err((
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }
}

/// One sample of the text exposition: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// A small reader of the text exposition, enough for these assertions.
fn samples(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (head, value) = line.rsplit_once(' ').expect("sample has a value");
        let (name, labels) = match head.split_once('{') {
            Some((n, rest)) => {
                let body = rest.strip_suffix('}').expect("labels close");
                let labels = body
                    .split("\",")
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        let (k, v) = p.split_once("=\"").expect("label is k=\"v\"");
                        (k.to_string(), v.trim_end_matches('"').to_string())
                    })
                    .collect();
                (n.to_string(), labels)
            }
            None => (head.to_string(), BTreeMap::new()),
        };
        out.push((name, labels, value.parse().expect("numeric value")));
    }
    out
}

fn value(s: &[Sample], name: &str) -> f64 {
    s.iter()
        .find(|(n, _, _)| n == name)
        .unwrap_or_else(|| panic!("{name} missing"))
        .2
}

/// name -> node -> pod IP, for the exporter pods of a region.
async fn exporters(kc: &Path, ctx: &str) -> Vec<(String, String)> {
    let json = kubectl(
        kc,
        ctx,
        &[
            "get",
            "pods",
            "-n",
            "monitoring",
            "-l",
            "app.kubernetes.io/name=node-exporter",
            "-o",
            "json",
        ],
    )
    .await
    .expect("list exporter pods");
    let v: Value = serde_json::from_str(&json).expect("JSON");
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| {
            (
                p["metadata"]["name"].as_str().unwrap_or("").to_string(),
                p["spec"]["nodeName"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

async fn scrape(kc: &Path, ctx: &str, pod: &str) -> Vec<Sample> {
    let path = format!("/api/v1/namespaces/monitoring/pods/{pod}:9100/proxy/metrics");
    let text = kubectl(kc, ctx, &["get", "--raw", &path])
        .await
        .unwrap_or_else(|e| panic!("{path}: {e:?}"));
    samples(&text)
}

/// Wait (bounded) until `check` holds for the node's scrape.
async fn until(kc: &Path, ctx: &str, pod: &str, what: &str, check: impl Fn(&[Sample]) -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let s = scrape(kc, ctx, pod).await;
        if check(&s) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}: never seen");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Ready endpoint IPs of a Service, by kubectl.
async fn endpoint_ips(kc: &Path, ctx: &str, svc: &str) -> BTreeSet<String> {
    let json = kubectl(
        kc,
        ctx,
        &["get", "endpoints", "-n", "shop", svc, "-o", "json"],
    )
    .await
    .expect("endpoints");
    let v: Value = serde_json::from_str(&json).expect("JSON");
    v["subsets"][0]["addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["ip"].as_str().map(String::from))
        .collect()
}

fn real_servers(s: &[Sample], vip: &str) -> BTreeMap<String, (f64, f64)> {
    let mut out = BTreeMap::new();
    for (n, l, v) in s {
        if l.get("local_address").map(String::as_str) != Some(vip) {
            continue;
        }
        let ip = l["remote_address"].clone();
        let e = out.entry(ip).or_insert((f64::NAN, f64::NAN));
        match n.as_str() {
            "node_ipvs_backend_weight" => e.0 = *v,
            "node_ipvs_backend_connections_active" => e.1 = *v,
            _ => {}
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_exporter_through_the_pod_proxy_and_network_faults() {
    let env = start().await;
    let kc = &env.kubeconfig;

    // One exporter pod per node, found by its label.
    let pods = exporters(kc, "north").await;
    let nodes: BTreeSet<_> = pods.iter().map(|(_, n)| n.clone()).collect();
    assert_eq!(pods.len(), 4, "{pods:?}");
    assert_eq!(nodes.len(), 4, "one per node: {pods:?}");
    assert_eq!(exporters(kc, "south").await.len(), 2);

    // Each answers for its own node with node_exporter's names.
    let (pod1, node1) = pods
        .iter()
        .find(|(_, n)| n == "north-node-01")
        .cloned()
        .expect("exporter on node 01");
    let s = scrape(kc, "north", &pod1).await;
    assert!(s
        .iter()
        .any(|(n, l, _)| n == "node_uname_info" && l["nodename"] == node1));
    assert_eq!(value(&s, "node_nf_conntrack_entries_limit"), 262_144.0);
    let entries = value(&s, "node_nf_conntrack_entries");
    assert!(entries > 0.0 && entries < 262_144.0 * 0.5, "{entries}");
    assert_eq!(value(&s, "node_nf_conntrack_stat_drop"), 0.0);

    // Node 01 is an LVS director: a virtual service per Service (its
    // ClusterIP) whose real servers are the ready endpoints.
    let svc: Value = serde_json::from_str(
        &kubectl(
            kc,
            "north",
            &["get", "svc", "-n", "shop", "web", "-o", "json"],
        )
        .await
        .expect("svc"),
    )
    .expect("JSON");
    // what a port-forward to the Service resolves: its selector and ports
    assert_eq!(svc["spec"]["selector"], serde_json::json!({"app": "web"}));
    let ports = svc["spec"]["ports"].as_array().expect("ports");
    assert!(!ports.is_empty(), "{svc}");
    for p in ports {
        assert!(p["port"].as_u64().is_some_and(|n| n > 0), "{p}");
        assert_eq!(p["targetPort"], p["port"], "{p}");
    }
    let vip = svc["spec"]["clusterIP"]
        .as_str()
        .expect("clusterIP")
        .to_string();
    let deadline = tokio::time::Instant::now() + WAIT;
    let eps = loop {
        let eps = endpoint_ips(kc, "north", "web").await;
        if eps.len() == 4 {
            break eps;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "web never ready: {eps:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let s = scrape(kc, "north", &pod1).await;
    let rs = real_servers(&s, &vip);
    assert_eq!(rs.keys().cloned().collect::<BTreeSet<_>>(), eps);
    assert!(rs.values().all(|(w, _)| *w == 1.0), "{rs:?}");
    // A node that is not a director has no IPVS metrics.
    let (pod4, _) = pods
        .iter()
        .find(|(_, n)| n == "north-node-04")
        .cloned()
        .expect("exporter on node 04");
    assert!(!scrape(kc, "north", &pod4)
        .await
        .iter()
        .any(|(n, _, _)| n.starts_with("node_ipvs")));

    // Counters move with simulated traffic.
    let before = value(&s, "node_ipvs_connections_total");
    until(kc, "north", &pod1, "connections counted", |s| {
        value(s, "node_ipvs_connections_total") > before
    })
    .await;

    // A node's conntrack table fills, with drops and failed inserts.
    let (pod3, _) = pods
        .iter()
        .find(|(_, n)| n == "north-node-03")
        .cloned()
        .expect("exporter on node 03");
    env.fleet
        .set_fault(
            "north",
            Fault::ConntrackFull {
                node: "north-node-03".into(),
            },
        )
        .expect("fault");
    until(kc, "north", &pod3, "a full table", |s| {
        value(s, "node_nf_conntrack_entries") == 262_144.0
            && value(s, "node_nf_conntrack_stat_drop") > 0.0
            && value(s, "node_nf_conntrack_stat_insert_failed") > 0.0
    })
    .await;
    assert_eq!(
        value(
            &scrape(kc, "north", &pod1).await,
            "node_nf_conntrack_stat_drop"
        ),
        0.0,
        "other nodes are unaffected"
    );

    // A real server stays behind on a deleted pod.
    let gone = eps.iter().next().cloned().expect("an endpoint");
    env.fleet
        .set_fault(
            "north",
            Fault::StaleBackend {
                namespace: "shop".into(),
                service: "web".into(),
            },
        )
        .expect("fault");
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let all = kubectl(kc, "north", &["get", "pods", "-A", "-o", "wide"])
            .await
            .expect("pods");
        let now = endpoint_ips(kc, "north", "web").await;
        if !all.contains(&format!(" {gone} ")) && now.len() == 4 && !now.contains(&gone) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the pod never went");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let rs = real_servers(&scrape(kc, "north", &pod1).await, &vip);
    assert!(rs.contains_key(&gone), "stale real server kept: {rs:?}");
    assert_eq!(rs.len(), 5, "{rs:?}");

    // A weight-0 real server keeps active connections.
    env.fleet
        .set_fault(
            "north",
            Fault::WeightZero {
                namespace: "shop".into(),
                service: "api".into(),
            },
        )
        .expect("fault");
    let api: Value = serde_json::from_str(
        &kubectl(
            kc,
            "north",
            &["get", "svc", "-n", "shop", "api", "-o", "json"],
        )
        .await
        .expect("svc"),
    )
    .expect("JSON");
    let api_vip = api["spec"]["clusterIP"].as_str().expect("clusterIP");
    let rs = real_servers(&scrape(kc, "north", &pod1).await, api_vip);
    let zero: Vec<_> = rs.iter().filter(|(_, (w, _))| *w == 0.0).collect();
    assert_eq!(zero.len(), 1, "{rs:?}");
    assert!(zero[0].1 .1 > 0.0, "active connections on weight 0: {rs:?}");

    // The proxy answers as a real API server for what is not an exporter.
    let web_pod = kubectl(
        kc,
        "north",
        &[
            "get",
            "pods",
            "-n",
            "shop",
            "-o",
            "jsonpath={.items[0].metadata.name}",
        ],
    )
    .await
    .expect("a pod");
    let e = kubectl(
        kc,
        "north",
        &[
            "get",
            "--raw",
            &format!("/api/v1/namespaces/shop/pods/{web_pod}:9100/proxy/metrics"),
        ],
    )
    .await
    .expect_err("not an exporter");
    assert!(
        e.1.contains("ServiceUnavailable")
            || e.1.contains("503")
            || e.1.contains("error trying to reach"),
        "{e:?}"
    );
    let e = kubectl(
        kc,
        "north",
        &[
            "get",
            "--raw",
            "/api/v1/namespaces/monitoring/pods/nope:9100/proxy/metrics",
        ],
    )
    .await
    .expect_err("no such pod");
    assert!(e.1.contains("not found"), "{e:?}");
    drop(env.dir);
}

/// GET over plain HTTP/1.0 (no chunking): status and body.
async fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    tcp.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
        .await
        .ok()?;
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut buf))
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let code = head.split(' ').nth(1)?.parse().ok()?;
    Some((code, body.to_string()))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_every_simulated_node() {
    let env = start().await;
    let url = env.fleet.metrics_url();
    let port: u16 = url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    // The plain target serves the same text as the pod proxy.
    let (code, body) = http_get(port, "/metrics/south/south-node-02")
        .await
        .expect("metrics answer");
    assert_eq!(code, 200);
    assert_eq!(
        value(&samples(&body), "node_nf_conntrack_entries_limit"),
        262_144.0
    );
    assert_eq!(
        http_get(port, "/metrics/south/nope").await.map(|r| r.0),
        Some(404)
    );

    let config = env.dir.path().join("prometheus.yml");
    std::fs::write(&config, env.fleet.prometheus_config(1.0)).expect("config");
    let data = env.dir.path().join("prom-data");
    let prom_port = free_port();
    let mut prom = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("prometheus on PATH (scripts/test installs Debian's package)");
    env.fleet
        .set_fault(
            "north",
            Fault::ConntrackFull {
                node: "north-node-02".into(),
            },
        )
        .expect("fault");
    let deadline = tokio::time::Instant::now() + WAIT;
    let want: BTreeSet<String> = ["north", "south"]
        .iter()
        .flat_map(|r| {
            let n = if *r == "north" { 4 } else { 2 };
            (1..=n).map(move |i| format!("{r}/{r}-node-{i:02}"))
        })
        .collect();
    loop {
        let q = "/api/v1/query?query=node_nf_conntrack_entries%2Fnode_nf_conntrack_entries_limit";
        if let Some((200, body)) = http_get(prom_port, q).await {
            let v: Value = serde_json::from_str(&body).expect("JSON");
            let got: BTreeMap<String, f64> = v["data"]["result"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| {
                    (
                        format!(
                            "{}/{}",
                            r["metric"]["region"].as_str().unwrap_or(""),
                            r["metric"]["node"].as_str().unwrap_or("")
                        ),
                        r["value"][1]
                            .as_str()
                            .and_then(|x| x.parse().ok())
                            .unwrap_or(-1.0),
                    )
                })
                .collect();
            let full = got.get("north/north-node-02").copied().unwrap_or(0.0);
            if got.keys().cloned().collect::<BTreeSet<_>>() == want && full == 1.0 {
                assert!(
                    got.iter().filter(|(_, u)| **u >= 1.0).count() == 1,
                    "only the faulted node is full: {got:?}"
                );
                break;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Prometheus never saw every node and the full table"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let _ = prom.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_reads_exporters_through_the_pod_proxy() {
    let env = start().await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/pod_proxy.py");
    let out = tokio::time::timeout(
        WAIT,
        Command::new("python3")
            .arg(&script)
            .arg(&env.kubeconfig)
            .arg("north")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("python finishes")
    .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "python failed:\n{stdout}\n{stderr}");
    assert_eq!(stdout.matches(": ok").count(), 4, "{stdout}");
    assert!(stdout.contains("missing pod: 404"), "{stdout}");
}
