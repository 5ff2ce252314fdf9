//! The network pane's two sources against the simulator: the direct scrape
//! through the pod proxy and a real Prometheus (1 s scrapes, its own temp
//! dir, killed at the end). After each network fault both show the flags a
//! user must see, and they agree; Prometheus answering an error, timing out
//! or being down is a typed failure.

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ListParams};
use pitwall::panes::network::direct::{self, DirectConfig};
use pitwall::panes::network::join::{findings, Finding, Level, Lookup, PodInfo, Thresholds};
use pitwall::panes::network::model::RegionNet;
use pitwall::panes::network::prom::{PromConfig, PromError, PromSource};
use pitwall::panes::network::prometheus_process;
use pitwall_sim::{Fault, Fleet, Scenario};
use std::collections::HashMap;
use std::time::Duration;
use tokio::process::Command;

const WAIT: Duration = Duration::from_secs(90);

const SCENARIO: &str = r#"
seed = 5
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

async fn client(fleet: &Fleet, ctx: &str) -> kube::Client {
    let kc = kube::config::Kubeconfig::from_yaml(&fleet.kubeconfig_yaml()).expect("kubeconfig");
    let opts = kube::config::KubeConfigOptions {
        context: Some(ctx.into()),
        ..Default::default()
    };
    let cfg = kube::Config::from_custom_kubeconfig(kc, &opts)
        .await
        .expect("config");
    kube::Client::try_from(cfg).expect("client")
}

/// The cluster as the fleet store would index it: nodes, pods by IP.
struct Cluster {
    nodes: Vec<(String, String)>,
    pods: HashMap<String, PodInfo>,
}

impl Lookup for Cluster {
    fn nodes(&self) -> Vec<(String, String)> {
        self.nodes.clone()
    }
    fn pod_by_ip(&self, ip: &str) -> Option<PodInfo> {
        self.pods.get(ip).cloned()
    }
}

async fn cluster(c: &kube::Client) -> Cluster {
    let nodes = Api::<Node>::all(c.clone())
        .list(&ListParams::default())
        .await
        .expect("nodes")
        .items
        .into_iter()
        .map(|n| {
            let ip = n
                .status
                .and_then(|s| s.addresses)
                .into_iter()
                .flatten()
                .find(|a| a.type_ == "InternalIP")
                .map(|a| a.address)
                .unwrap_or_default();
            (n.metadata.name.unwrap_or_default(), ip)
        })
        .collect();
    let pods = Api::<Pod>::all(c.clone())
        .list(&ListParams::default())
        .await
        .expect("pods")
        .items
        .into_iter()
        .filter_map(|p| {
            let st = p.status?;
            let ip = st.pod_ip?;
            let ready = st
                .conditions
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True");
            Some((
                ip,
                PodInfo {
                    namespace: p.metadata.namespace.unwrap_or_default(),
                    name: p.metadata.name.unwrap_or_default(),
                    workload: String::new(),
                    ready,
                },
            ))
        })
        .collect();
    Cluster { nodes, pods }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn now_unix() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

struct Shown {
    texts: Vec<String>,
    findings: Vec<Finding>,
}

fn shown(net: &RegionNet, c: &Cluster) -> Shown {
    let f = findings(net, c, &Thresholds::default());
    Shown {
        texts: f.iter().map(Finding::text).collect(),
        findings: f,
    }
}

/// What a user must see after the three faults, whatever the source.
fn all_flagged(s: &Shown, stale: &str, zero_vip: &str) -> bool {
    let hot = s.findings.iter().any(|f| {
        matches!(f, Finding::Conntrack { node, level: Level::Critical, utilisation }
            if node == "north-node-02" && *utilisation >= 0.999)
    });
    let drops = s.findings.iter().any(|f| {
        matches!(f, Finding::Drops { node, drop, insert_failed }
            if node == "north-node-02" && *drop > 0.0 && *insert_failed > 0.0)
    });
    let stale_named = s
        .texts
        .iter()
        .any(|t| t.contains(&format!("{stale}:8080")) && t.ends_with("no pod"));
    let zero = s.findings.iter().any(|f| {
        matches!(f, Finding::WeightZero { virt, active, .. } if virt.contains(zero_vip) && *active > 0.0)
    });
    hot && drops && stale_named && zero
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_scrape_and_prometheus_flag_every_network_fault_and_agree() {
    let scenario = Scenario::from_toml(SCENARIO, "net sources").expect("scenario");
    let fleet = Fleet::start(scenario, None).await.expect("fleet");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, fleet.prometheus_config(1.0)).expect("config");
    let prom_port = free_port();
    let mut prom = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("prometheus on PATH (scripts/test installs Debian's package)");
    let c = client(&fleet, "north").await;

    // Wait for the web Service's four endpoints, then break things.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let cl = cluster(&c).await;
        let ready = cl
            .pods
            .values()
            .filter(|p| p.name.starts_with("web-") && p.ready)
            .count();
        if ready == 4 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "web never ready");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let before = cluster(&c).await;
    let mut web_ips: Vec<&String> = before
        .pods
        .iter()
        .filter(|(_, p)| p.name.starts_with("web-"))
        .map(|(ip, _)| ip)
        .collect();
    web_ips.sort();
    let stale = web_ips[0].clone();
    for f in [
        Fault::ConntrackFull {
            node: "north-node-02".into(),
        },
        Fault::StaleBackend {
            namespace: "shop".into(),
            service: "web".into(),
        },
        Fault::WeightZero {
            namespace: "shop".into(),
            service: "api".into(),
        },
    ] {
        fleet.set_fault("north", f).expect("fault");
    }
    let api_vip = {
        let svc = Api::<k8s_openapi::api::core::v1::Service>::namespaced(c.clone(), "shop")
            .get("api")
            .await
            .expect("api service");
        svc.spec.and_then(|s| s.cluster_ip).expect("clusterIP")
    };

    let mut cfg = PromConfig::new(&format!("http://127.0.0.1:{prom_port}"));
    cfg.selector = "region=\"north\"".into();
    cfg.timeout = Duration::from_secs(5);
    let source = PromSource::new(cfg).expect("prometheus source");
    let direct_cfg = DirectConfig::default();
    let reader = pitwall::write::ReadClient::new(c.clone());
    let mut via_direct = RegionNet::default();
    let mut via_prom = RegionNet::default();
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut last = (Vec::new(), Vec::new());
    loop {
        let cl = cluster(&c).await;
        let report = direct::poll(&reader, &direct_cfg, &mut via_direct, now_unix())
            .await
            .expect("direct poll");
        assert_eq!((report.exporters, report.scraped), (4, 4), "{report:?}");
        let prom_ok = source.poll(&mut via_prom, &cl.nodes).await.is_ok();
        let (d, p) = (shown(&via_direct, &cl), shown(&via_prom, &cl));
        if prom_ok
            && all_flagged(&d, &stale, &api_vip)
            && all_flagged(&p, &stale, &api_vip)
            && !cl.pods.contains_key(&stale)
        {
            // Same nodes, limits, and real servers; utilisation within
            // what one scrape interval moves it.
            assert_eq!(
                via_direct.nodes.keys().collect::<Vec<_>>(),
                via_prom.nodes.keys().collect::<Vec<_>>()
            );
            for (node, dn) in &via_direct.nodes {
                let pn = &via_prom.nodes[node];
                assert_eq!(dn.limit, pn.limit, "{node}");
                let (du, pu) = (dn.utilisation().expect("d"), pn.utilisation().expect("p"));
                assert!(
                    (du - pu).abs() < 0.02,
                    "{node}: direct {du} vs prometheus {pu}"
                );
            }
            let reals = |n: &RegionNet| {
                let mut v: Vec<(String, String, f64)> = n
                    .virtuals
                    .iter()
                    .flat_map(|(k, rs)| {
                        rs.iter().map(move |r| {
                            (
                                format!("{}/{}:{}", k.director, k.address, k.port),
                                r.ip.clone(),
                                r.weight,
                            )
                        })
                    })
                    .collect();
                v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
                v
            };
            assert_eq!(reals(&via_direct), reals(&via_prom));
            let kinds = |s: &Shown| {
                let mut v: Vec<String> = s
                    .findings
                    .iter()
                    .filter_map(|f| match f {
                        // Live counters move between the two sources' scrapes;
                        // what must agree is which backend each names.
                        Finding::StaleBackend { virt, real } => {
                            Some(format!("stale {virt} {real}"))
                        }
                        Finding::UnreadyBackend { virt, real, pod } => {
                            Some(format!("unready {virt} {real} {pod}"))
                        }
                        Finding::WeightZero { virt, real, active } => {
                            Some(format!("weight0 {virt} {real} active>0:{}", *active > 0.0))
                        }
                        Finding::Conntrack { .. } | Finding::Drops { .. } => None,
                    })
                    .collect();
                v.sort();
                v
            };
            assert_eq!(kinds(&d), kinds(&p));
            break;
        }
        last = (d.texts, p.texts);
        assert!(
            tokio::time::Instant::now() < deadline,
            "not every fault flagged by both sources:\ndirect {:#?}\nprometheus {:#?}",
            last.0,
            last.1
        );
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    let _ = last;

    // The history: one range query fills at most 1,000 points per node.
    let cl = cluster(&c).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    let fresh = loop {
        let mut fresh = RegionNet::default();
        source
            .backfill(&mut fresh, &cl.nodes, now_unix())
            .await
            .expect("range query");
        let pts: Vec<usize> = fresh.nodes.values().map(|n| n.util.points.len()).collect();
        assert!(pts.iter().all(|p| *p <= 1_000), "{pts:?}");
        if fresh.nodes.len() == 4 && pts.iter().all(|p| *p >= 3) {
            break fresh;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "history never filled: {pts:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(fresh.nodes["north-node-02"].utilisation(), Some(1.0));

    // A PromQL error is an error of the query, named.
    let mut bad = PromConfig::new(&format!("http://127.0.0.1:{prom_port}"));
    bad.queries.entries = "node_nf_conntrack_entries{".into();
    let err = PromSource::new(bad)
        .expect("source")
        .poll(&mut RegionNet::default(), &cl.nodes)
        .await
        .expect_err("bad PromQL");
    assert!(
        matches!(&err, PromError::Query(m) if m.contains("parse error")),
        "{err:?}"
    );

    // Prometheus down: unreachable.
    let _ = prom.kill().await;
    let _ = prom.wait().await;
    let mut down = PromConfig::new(&format!("http://127.0.0.1:{prom_port}"));
    down.timeout = Duration::from_secs(3);
    let err = PromSource::new(down)
        .expect("source")
        .poll(&mut RegionNet::default(), &cl.nodes)
        .await
        .expect_err("down");
    assert!(
        matches!(&err, PromError::Unreachable(m) if m.contains("refused")),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_starts_prometheus_from_the_path_and_stops_it() {
    let scenario = Scenario::from_toml(SCENARIO, "net sources").expect("scenario");
    let fleet = Fleet::start(scenario, None).await.expect("fleet");
    let binary = prometheus_process::find().expect("prometheus on PATH");
    let p =
        prometheus_process::LocalPrometheus::start(&binary, &fleet.prometheus_config(1.0), WAIT)
            .await
            .expect("prometheus starts");
    let url = p.url.clone();
    let c = client(&fleet, "south").await;
    let cl = cluster(&c).await;
    let mut cfg = PromConfig::new(&url);
    cfg.selector = "region=\"south\"".into();
    let source = PromSource::new(cfg).expect("source");
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let mut net = RegionNet::default();
        if source.poll(&mut net, &cl.nodes).await.is_ok() && net.nodes.len() == 2 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never scraped");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    p.stop().await;
    let err = source
        .poll(&mut RegionNet::default(), &cl.nodes)
        .await
        .expect_err("stopped");
    assert!(matches!(err, PromError::Unreachable(_)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prometheus_that_never_answers_times_out() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let held = tokio::spawn(async move {
        let mut conns = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            conns.push(s);
            if conns.len() > 32 {
                break;
            }
        }
    });
    let mut cfg = PromConfig::new(&format!("http://127.0.0.1:{port}"));
    cfg.timeout = Duration::from_millis(500);
    let err = PromSource::new(cfg)
        .expect("source")
        .poll(&mut RegionNet::default(), &[])
        .await
        .expect_err("no answer");
    assert_eq!(err, PromError::Timeout);
    held.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_poller_feeds_the_figures_reports_failures_and_stops() {
    use pitwall::panes::network::poller::{self, Source};
    use std::sync::{Arc, Mutex};
    let scenario = Scenario::from_toml(SCENARIO, "net sources").expect("scenario");
    let fleet = Fleet::start(scenario, None).await.expect("fleet");
    let c = client(&fleet, "north").await;
    let net = Arc::new(Mutex::new(RegionNet::default()));
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let stop = tokio_util::sync::CancellationToken::new();
    let source = Source::Direct {
        client: pitwall::write::ReadClient::new(c.clone()),
        cfg: DirectConfig::default(),
    };
    assert!(source.describe().starts_with("direct scrape"));
    let task = tokio::spawn(poller::run(
        "north".into(),
        source,
        Duration::from_millis(200),
        Arc::new(Vec::new),
        net.clone(),
        tx,
        stop.clone(),
    ));
    for _ in 0..2 {
        let u = tokio::time::timeout(WAIT, rx.recv())
            .await
            .expect("an update")
            .expect("open");
        assert_eq!(u.error, None);
    }
    assert_eq!(net.lock().expect("lock").nodes.len(), 4);
    stop.cancel();
    tokio::time::timeout(WAIT, task)
        .await
        .expect("the poller ends when cancelled")
        .expect("no panic");

    // Prometheus down: the update carries the reason (the metrics badge).
    let mut cfg = PromConfig::new(&format!("http://127.0.0.1:{}", free_port()));
    cfg.timeout = Duration::from_secs(2);
    let source = Source::Prometheus(Box::new(PromSource::new(cfg).expect("source")));
    assert!(source
        .describe()
        .starts_with("Prometheus http://127.0.0.1:"));
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let stop = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(poller::run(
        "north".into(),
        source,
        Duration::from_millis(100),
        Arc::new(Vec::new),
        Arc::new(Mutex::new(RegionNet::default())),
        tx,
        stop.clone(),
    ));
    let u = tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("an update")
        .expect("open");
    assert!(
        u.error
            .as_deref()
            .is_some_and(|e| e.starts_with("unreachable")),
        "{u:?}"
    );
    stop.cancel();
    tokio::time::timeout(WAIT, task)
        .await
        .expect("ends")
        .expect("no panic");
}

#[allow(unused_imports)] // the harness re-exports more than this binary uses
mod harness;
use harness::{start_on, WAIT as COCKPIT_WAIT};

/// The cockpit itself (sources, reducers, pollers as tasks, drawing) on the
/// simulator, reading node_exporter through the pod proxy: after the three
/// network faults the pane's rows show the hot node with its drops, the
/// stale backend named "no pod" and the weight-0 server, triage lists each
/// cause once, and the region's metrics badge stays out of its health.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pane_and_triage_show_every_network_fault_through_the_cockpit() {
    pane_and_triage(false).await;
}

/// The same through a real Prometheus (1 s scrapes) as each region's
/// source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pane_and_triage_show_every_network_fault_read_through_prometheus() {
    pane_and_triage(true).await;
}

async fn pane_and_triage(through_prometheus: bool) {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use pitwall::msg::Msg;
    use pitwall::panes::network::config::NetworkSettings;
    use pitwall::panes::triage::rank::Problem;
    let scenario = Scenario::from_toml(SCENARIO, "net cockpit").expect("scenario");
    let mut h = start_on(scenario, |_| {}, &[]).await;
    let fast = NetworkSettings {
        poll_interval: Duration::from_millis(500),
        idle_poll_interval: Duration::from_millis(500),
        ..NetworkSettings::default()
    };
    let prometheus = if through_prometheus {
        let binary = prometheus_process::find().expect("prometheus on PATH");
        let p = prometheus_process::LocalPrometheus::start(
            &binary,
            &h.fleet.prometheus_config(1.0),
            WAIT,
        )
        .await
        .expect("prometheus starts");
        Some(p)
    } else {
        None
    };
    let sources = h
        .names
        .iter()
        .map(|name| {
            prometheus.as_ref().map(|p| {
                let mut cfg = PromConfig::new(&p.url);
                cfg.selector = format!("region=\"{name}\"");
                cfg.poll_interval = Duration::from_millis(500);
                cfg
            })
        })
        .collect();
    h.cockpit.state.network.configure(fast, sources);
    h.all_live().await;
    let north = h.region("north");
    // the pollers started as tasks once the regions were live
    h.until("a first poll of north", |s| {
        s.network.regions.get(north).is_some_and(|r| r.polled)
    })
    .await;
    let c = client(&h.fleet, "north").await;
    let before = cluster(&c).await;
    let mut web_ips: Vec<&String> = before
        .pods
        .iter()
        .filter(|(_, p)| p.name.starts_with("web-") && p.ready)
        .map(|(ip, _)| ip)
        .collect();
    web_ips.sort();
    let stale = format!("{}:8080", web_ips.first().expect("a ready web pod"));
    for f in [
        Fault::ConntrackFull {
            node: "north-node-02".into(),
        },
        Fault::StaleBackend {
            namespace: "shop".into(),
            service: "web".into(),
        },
        Fault::WeightZero {
            namespace: "shop".into(),
            service: "api".into(),
        },
    ] {
        h.fleet.set_fault("north", f).expect("fault");
    }
    // M opens the pane
    h.cockpit.handle(Msg::Key(KeyEvent::new(
        KeyCode::Char('M'),
        KeyModifiers::SHIFT,
    )));
    assert_eq!(h.cockpit.state.ui.focus, pitwall::state::Pane::Network);
    let deadline = tokio::time::Instant::now() + COCKPIT_WAIT;
    let problems = |s: &pitwall::state::State| -> Vec<(Problem, String, String)> {
        s.incident
            .triage
            .items
            .iter()
            .filter(|i| i.id.region == north)
            .map(|i| (i.id.problem, i.id.name.clone(), i.how_bad.clone()))
            .collect()
    };
    let (nodes_screen, items) = loop {
        h.run_for(Duration::from_millis(500)).await;
        h.cockpit.handle(Msg::Tick(pitwall::app::wall_now()));
        let screen = h.screen(160, 50);
        let items = problems(&h.cockpit.state);
        let hot = items.iter().any(|(p, n, how)| {
            *p == Problem::Conntrack
                && n == "north-node-02"
                && how.contains("100% full")
                && how.contains("dropping")
        });
        let stale_listed = items
            .iter()
            .any(|(p, _, how)| *p == Problem::StaleBackend && how.contains(&stale));
        let zero = items.iter().any(|(p, _, _)| *p == Problem::WeightZero);
        if hot && stale_listed && zero {
            break (screen, items);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not every fault in triage: {items:#?}\n{screen}"
        );
    };
    // one cause, one item: the full table and its drops are one item
    assert_eq!(
        items
            .iter()
            .filter(|(p, n, _)| *p == Problem::Conntrack && n == "north-node-02")
            .count(),
        1,
        "{items:#?}"
    );
    // the nodes table: the hot node first, marked critical, with its drops
    let rows: Vec<&str> = nodes_screen
        .lines()
        .skip_while(|l| !l.contains("REGION"))
        .skip(1)
        .collect();
    let first = rows.first().expect("a node row");
    assert!(
        first.contains("!!north") && first.contains("north-node-02") && first.contains("100%"),
        "{nodes_screen}"
    );
    assert!(
        nodes_screen.contains("conntrack drops on north-node-02"),
        "{nodes_screen}"
    );
    let source = if through_prometheus {
        "source: Prometheus http://127.0.0.1:"
    } else {
        "source: direct scrape"
    };
    assert!(nodes_screen.contains(source), "{nodes_screen}");
    // the LVS view: the stale real server says "no pod", weight 0 flagged
    h.cockpit.handle(Msg::Key(KeyEvent::new(
        KeyCode::Char('v'),
        KeyModifiers::NONE,
    )));
    let lvs = h.screen(160, 400);
    let stale_row = lvs
        .lines()
        .find(|l| l.contains(&format!("-> {stale}")))
        .unwrap_or_else(|| panic!("no row for {stale}:\n{lvs}"));
    assert!(stale_row.contains("no pod"), "{stale_row}");
    assert!(
        lvs.lines().any(|l| l.contains("w=0") && l.contains("api-")),
        "{lvs}"
    );
    // the metrics feed has a badge of its own: the region is live
    assert!(h.cockpit.state.regions[north].health.is_live());
    // quitting stops the pollers
    let aborted = h.tasks.shutdown(pitwall::tasks::SHUTDOWN_GRACE).await;
    assert_eq!(aborted, 0);
    assert!(h.tasks.list().is_empty());
    if let Some(p) = prometheus {
        p.stop().await;
    }
}
