//! Log streams against the simulator over real HTTPS: merged in time order
//! across regions, resumed without gap or duplicate after the server closes
//! them, ended when the container restarts (the new container is a new
//! stream), hostile lines defused, all through the region's read-only
//! client. kubectl is the oracle of the lines.

use pitwall::panes::logs::budget::Budget;
use pitwall::panes::logs::follow::{follow, Batch, Counters, Spec};
use pitwall::panes::logs::line::{FieldNames, Line, Origin, DEFAULT_MAX_LINE};
use pitwall::panes::logs::merge::Merger;
use pitwall_sim::{Fault, Fleet, Scenario};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::process::Command;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(60);

type Kube = pitwall::write::ReadClient;

struct Env {
    fleet: Fleet,
    _dir: tempfile::TempDir,
    kc: PathBuf,
}

async fn start() -> Env {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios/test-small.toml");
    let fleet = Fleet::start(Scenario::load(&path).expect("scenario"), None)
        .await
        .expect("fleet");
    let dir = tempfile::tempdir().expect("dir");
    let kc = dir.path().join("kubeconfig");
    std::fs::write(&kc, fleet.kubeconfig_yaml()).expect("kubeconfig");
    Env {
        fleet,
        _dir: dir,
        kc,
    }
}

async fn client(env: &Env, ctx: &str) -> Kube {
    let kc = kube::config::Kubeconfig::from_yaml(&env.fleet.kubeconfig_yaml()).expect("yaml");
    let opts = kube::config::KubeConfigOptions {
        context: Some(ctx.into()),
        ..Default::default()
    };
    let cfg = kube::Config::from_custom_kubeconfig(kc, &opts)
        .await
        .expect("config");
    pitwall::write::ReadClient::new(kube::Client::try_from(cfg).expect("client"))
}

async fn kubectl(env: &Env, ctx: &str, args: &[&str]) -> String {
    let out = tokio::time::timeout(
        WAIT,
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&env.kc)
            .args(["--context", ctx, "-n", "shop"])
            .args(args)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("kubectl finishes")
    .expect("kubectl runs");
    assert!(out.status.success(), "kubectl {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A running pod of a workload and its container's id.
async fn pod_of(env: &Env, ctx: &str, prefix: &str) -> (String, String) {
    let deadline = Instant::now() + WAIT;
    loop {
        let out = kubectl(env, ctx, &["get", "pods", "-o", "json"]).await;
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        for p in v["items"].as_array().into_iter().flatten() {
            let name = p["metadata"]["name"].as_str().unwrap_or("");
            let cs = &p["status"]["containerStatuses"][0];
            if name.starts_with(prefix) && cs["state"].get("running").is_some() {
                if let Some(id) = cs["containerID"].as_str() {
                    return (name.to_string(), id.to_string());
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "no running {prefix} pod in {ctx}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

struct Running {
    counters: Arc<Counters>,
    cancel: CancellationToken,
    done: tokio::task::JoinHandle<String>,
}

fn spawn(c: Kube, region: &str, pod: &str, id: &str, tx: mpsc::Sender<Batch>) -> Running {
    let spec = Spec {
        origin: Arc::new(Origin {
            region: region.into(),
            namespace: "shop".into(),
            pod: pod.into(),
            container: pod.split('-').next().unwrap_or("").into(),
        }),
        container_id: id.into(),
        tail: 20,
        names: Arc::new(FieldNames::default()),
        max_line: DEFAULT_MAX_LINE,
        budget: Arc::new(Budget::new(usize::MAX)),
    };
    let counters = Arc::new(Counters::default());
    let cancel = CancellationToken::new();
    let done = tokio::spawn(follow(c, spec, tx, counters.clone(), cancel.clone()));
    Running {
        counters,
        cancel,
        done,
    }
}

/// Physical lines of entries as `kubectl logs --timestamps` prints them,
/// sanitised as the pane shows them.
fn physical(lines: &[Line]) -> Vec<String> {
    let mut out = Vec::new();
    for l in lines {
        out.push(format!("{} {}", l.stamp, l.text));
        for c in &l.continuation {
            out.push(format!("{} {}", l.stamp, c));
        }
    }
    out
}

fn sanitised(kubectl_out: &str) -> Vec<String> {
    kubectl_out
        .lines()
        .map(|l| pitwall::sanitize::sanitize(l).into_owned())
        .collect()
}

/// `got` is a contiguous run of `all`: no gap, no duplicate.
fn assert_contiguous(got: &[String], all: &[String]) {
    assert!(!got.is_empty(), "no lines");
    let pos = all
        .iter()
        .position(|l| *l == got[0])
        .unwrap_or_else(|| panic!("first line {:?} not in kubectl's", got[0]));
    let want = &all[pos..(pos + got.len()).min(all.len())];
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert_eq!(a, b, "line {i} differs (gap or duplicate)");
    }
    assert_eq!(
        got.len(),
        want.len(),
        "more lines than kubectl has; last got {:?}, last kubectl {:?}",
        &got[got.len().saturating_sub(3)..],
        &all[all.len().saturating_sub(3)..]
    );
}

async fn collect_until(
    rx: &mut mpsc::Receiver<Batch>,
    into: &mut Vec<Line>,
    until: impl Fn(&[Line]) -> bool,
) {
    let deadline = Instant::now() + WAIT;
    while !until(into) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(b)) => into.extend(b.lines),
            _ => panic!("timed out with {} lines", into.len()),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_merge_in_time_order_across_regions_and_resume_without_gap_or_duplicate() {
    let env = start().await;
    let (alpha, beta) = (client(&env, "alpha").await, client(&env, "beta").await);
    let (pa, ida) = pod_of(&env, "alpha", "web-").await;
    let (pb, idb) = pod_of(&env, "beta", "web-").await;
    let (tx, mut rx) = mpsc::channel(1024);
    let a = spawn(alpha, "alpha", &pa, &ida, tx.clone());
    let b = spawn(beta, "beta", &pb, &idb, tx.clone());

    // Merge: everything released comes out in time order.
    let mut merger = Merger::new(Duration::from_millis(300), 100_000);
    let mut merged = Vec::new();
    let mut raw: Vec<Line> = Vec::new();
    collect_until(&mut rx, &mut raw, |l| {
        l.iter().filter(|x| x.origin.region == "alpha").count() > 100
            && l.iter().filter(|x| x.origin.region == "beta").count() > 100
    })
    .await;
    let t0 = Instant::now();
    for l in raw.iter().cloned() {
        merger.push(l, t0, &mut merged);
    }
    merger.flush(&mut merged);
    assert!(merged.windows(2).all(|w| w[0].ts <= w[1].ts), "time order");
    assert_eq!(merger.late, 0);
    let regions: std::collections::BTreeSet<&str> =
        merged.iter().map(|l| l.origin.region.as_str()).collect();
    assert_eq!(regions.len(), 2);

    // The server closes every follow of alpha; the stream resumes.
    env.fleet
        .set_fault("alpha", Fault::CloseLogStreams)
        .expect("close");
    let before = raw.iter().filter(|x| x.origin.region == "alpha").count();
    collect_until(&mut rx, &mut raw, |l| {
        a.counters.reconnects.load(Ordering::Relaxed) >= 1
            && l.iter().filter(|x| x.origin.region == "alpha").count() > before + 100
    })
    .await;
    a.cancel.cancel();
    b.cancel.cancel();
    assert_eq!(a.done.await.expect("joins"), "stopped");
    let _ = b.done.await;
    while let Ok(batch) = rx.try_recv() {
        raw.extend(batch.lines);
    }
    assert_eq!(a.counters.dropped.load(Ordering::Relaxed), 0);
    for (region, pod) in [("alpha", &pa), ("beta", &pb)] {
        let mine: Vec<Line> = raw
            .iter()
            .filter(|l| l.origin.region == region)
            .cloned()
            .collect();
        let all = sanitised(&kubectl(&env, region, &["logs", pod, "--timestamps"]).await);
        assert_contiguous(&physical(&mine), &all);
    }
    assert!(
        a.counters.skipped.load(Ordering::Relaxed) > 0,
        "the resumed second was replayed and skipped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_container_ends_its_stream_and_hostile_lines_are_defused() {
    let env = start().await;
    let beta = client(&env, "beta").await;
    let (pod, id) = pod_of(&env, "beta", "web-").await;
    env.fleet
        .set_fault("beta", Fault::HostileStrings)
        .expect("hostile");
    let (tx, mut rx) = mpsc::channel(1024);
    let s = spawn(beta.clone(), "beta", &pod, &id, tx.clone());
    let mut got = Vec::new();
    collect_until(&mut rx, &mut got, |l| l.len() > 50).await;
    env.fleet
        .set_fault(
            "beta",
            Fault::LivenessFailure {
                namespace: "shop".into(),
                workload: "web".into(),
                pods: 10,
            },
        )
        .expect("liveness");
    let why = tokio::time::timeout(WAIT, s.done)
        .await
        .expect("the stream ends")
        .expect("joins");
    assert_eq!(why, "container restarted");
    while let Ok(b) = rx.try_recv() {
        got.extend(b.lines);
    }
    // Every line of the old container up to its end, none twice.
    let prev =
        sanitised(&kubectl(&env, "beta", &["logs", &pod, "--timestamps", "--previous"]).await);
    let lines = physical(&got);
    assert_contiguous(&lines, &prev);
    assert_eq!(lines.last(), prev.last(), "the stream followed to the end");
    // Hostile bytes never reach the screen as they are.
    let hostile = got.iter().filter(|l| l.text.contains('\u{FFFD}')).count();
    assert!(hostile > 0, "some hostile lines");
    for l in &got {
        for t in l.all_text() {
            assert!(
                !t.chars().any(|c| c.is_control() || c == '\u{202e}'),
                "{t:?}"
            );
        }
    }
    // The new container is a new stream, from its first line.
    let (_, new_id) = pod_of(&env, "beta", &pod).await;
    assert_ne!(new_id, id);
    let s2 = spawn(beta, "beta", &pod, &new_id, tx);
    let mut fresh = Vec::new();
    collect_until(&mut rx, &mut fresh, |l| !l.is_empty()).await;
    assert!(fresh[0].ts > got.last().map_or(0, |l| l.ts));
    s2.cancel.cancel();
}

// ---- the pane, headless: the real sources, reducers, tasks and drawing ----

#[allow(unused_imports)]
mod harness;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pitwall::panes::logs::state::LogsSettings;

fn small() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios/test-small.toml");
    Scenario::load(&path).expect("scenario")
}

fn press(h: &mut harness::Harness, code: KeyCode) {
    let effects = h
        .cockpit
        .handle(harness::Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    h.run(effects);
}

fn typed(h: &mut harness::Harness, text: &str) {
    for c in text.chars() {
        press(h, KeyCode::Char(c));
    }
    press(h, KeyCode::Enter);
}

/// Containers with logs in `namespace` of `region`, as the server has them.
async fn server_containers(h: &harness::Harness, region: &str, namespace: &str) -> usize {
    let pods = h
        .api(region)
        .await
        .list(&harness::ListParams::default())
        .await
        .expect("list");
    pods.items
        .iter()
        .filter(|p| p.metadata.namespace.as_deref() == Some(namespace))
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .flat_map(|p| {
            p.status
                .iter()
                .flat_map(|s| s.container_statuses.iter().flatten())
        })
        .filter(|c| {
            c.state
                .as_ref()
                .is_some_and(|s| s.running.is_some() || s.terminated.is_some())
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cap_shows_its_count_of_pods_not_streamed_and_closing_stops_every_stream() {
    let mut h = harness::start_on(small(), |_| {}, &[]).await;
    h.cockpit.state.logs.configure(LogsSettings {
        max_streams: 3,
        ..LogsSettings::default()
    });
    h.all_live().await;
    // typed in the pane: the namespace, in every region
    press(&mut h, KeyCode::Char('L'));
    press(&mut h, KeyCode::Char('l'));
    typed(&mut h, "shop");
    let deadline = Instant::now() + WAIT;
    loop {
        h.run_for(Duration::from_millis(300)).await;
        let want = server_containers(&h, "alpha", "shop").await
            + server_containers(&h, "beta", "shop").await
            - 3;
        let screen = h.screen(160, 30);
        if screen.contains(&format!("not streamed {want} ")) && screen.contains("3 streams") {
            assert!(
                screen.contains("Logs · namespace shop in every region"),
                "{screen}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "want {want} not streamed:\n{screen}"
        );
    }
    h.until("lines from the streams", |s| {
        s.logs.view.counts().entries > 0
    })
    .await;
    assert_eq!(
        h.tasks
            .list()
            .iter()
            .filter(|(k, _, _)| k.0.starts_with("logs"))
            .count(),
        3,
        "three streams run"
    );
    // X closes the pane: every stream stops
    press(&mut h, KeyCode::Char('X'));
    assert_ne!(h.cockpit.state.ui.focus, pitwall::state::Pane::Logs);
    let deadline = Instant::now() + WAIT;
    while h
        .tasks
        .list()
        .iter()
        .any(|(k, _, _)| k.0.starts_with("logs"))
    {
        assert!(Instant::now() < deadline, "streams still run");
        h.run_for(Duration::from_millis(100)).await;
    }
    assert_eq!(h.cockpit.state.logs.view.counts().not_streamed, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elasticsearch_500_timeout_and_bad_credentials_show_in_the_logs_badge_of_that_region_only()
{
    let mut h = harness::start_on(small(), |_| {}, &[]).await;
    h.all_live().await;
    let alpha = h.region("alpha");
    press(&mut h, KeyCode::Char('L'));
    press(&mut h, KeyCode::Char('l'));
    typed(&mut h, "shop");
    h.fleet
        .set_fault("alpha", Fault::EsError { code: 500 })
        .expect("fault");
    press(&mut h, KeyCode::Char('H'));
    // the input starts with "15 ": 15 minutes back, any query
    press(&mut h, KeyCode::Enter);
    h.until("alpha's logs badge", |s| {
        pitwall::panes::logs::view::badges(s)
            .iter()
            .any(|b| b.starts_with("alpha error"))
    })
    .await;
    h.until("beta's history", |s| {
        s.logs.history.as_ref().is_some_and(|h| h.done)
    })
    .await;
    let screen = h.screen(200, 30);
    assert!(
        screen.contains("logs badge: alpha error: Elasticsearch error 500"),
        "{screen}"
    );
    assert!(
        screen.contains("beta ") && screen.contains(" pages"),
        "{screen}"
    );
    assert!(!screen.contains("logs badge: beta"), "{screen}");
    assert!(
        h.cockpit.state.regions[alpha].health.is_live(),
        "pods badge untouched"
    );
    let history = h.cockpit.state.logs.history.clone().expect("history");
    assert!(history.entries > 0, "beta's lines: {history:?}");
    h.fleet.clear_faults("alpha").expect("clear");

    // bad credentials
    if let Some(Some(cfg)) = h.cockpit.state.logs.es.get_mut(alpha) {
        cfg.auth = pitwall::panes::logs::es::Auth::Basic {
            user: "elastic".into(),
            password: "wrong".into(),
        };
    }
    press(&mut h, KeyCode::Char('H'));
    press(&mut h, KeyCode::Enter);
    h.until("unauthorized", |s| {
        pitwall::panes::logs::view::badges(s)
            .iter()
            .any(|b| b.starts_with("alpha unauthorized"))
    })
    .await;
    assert!(h
        .screen(200, 30)
        .contains("alpha unauthorized: Elasticsearch 401"));

    // slow: the region's timeout passes
    let token = h.fleet.regions()[alpha].token.clone();
    if let Some(Some(cfg)) = h.cockpit.state.logs.es.get_mut(alpha) {
        cfg.auth = pitwall::panes::logs::es::Auth::Basic {
            user: "elastic".into(),
            password: token,
        };
        cfg.timeout = Duration::from_millis(500);
    }
    h.fleet
        .set_fault("alpha", Fault::EsLatency { millis: 3000 })
        .expect("fault");
    press(&mut h, KeyCode::Char('H'));
    press(&mut h, KeyCode::Enter);
    h.until("slow", |s| {
        pitwall::panes::logs::view::badges(s)
            .iter()
            .any(|b| b.starts_with("alpha slow"))
    })
    .await;
    let screen = h.screen(200, 30);
    assert!(
        screen.contains("alpha slow: Elasticsearch timed out after 0.5s"),
        "{screen}"
    );
    h.fleet.clear_faults("alpha").expect("clear");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previous_reads_each_restarted_container_as_kubectl_logs_previous_does() {
    let mut h = harness::start_on(small(), |_| {}, &[]).await;
    h.all_live().await;
    let beta = h.region("beta");
    h.fleet
        .set_fault(
            "beta",
            Fault::LivenessFailure {
                namespace: "shop".into(),
                workload: "web".into(),
                pods: 1,
            },
        )
        .expect("liveness");
    h.until("a restarted web pod in beta", |s| {
        s.store.rows().any(|p| {
            p.region == beta
                && p.name.starts_with("web-")
                && p.containers.iter().any(|c| {
                    c.restart_count > 0
                        && matches!(c.state, pitwall::model::ContainerState::Running { .. })
                })
        })
    })
    .await;
    h.fleet.clear_faults("beta").expect("clear");
    let pod = h
        .cockpit
        .state
        .store
        .rows()
        .find(|p| p.region == beta && p.name.starts_with("web-") && p.restarts > 0)
        .map(|p| p.name.clone())
        .expect("pod");
    press(&mut h, KeyCode::Char('L'));
    press(&mut h, KeyCode::Char('l'));
    typed(&mut h, &format!("shop/pod/{pod}@beta"));
    let sel = h.cockpit.state.logs.selection.clone().expect("selection");
    assert_eq!((sel.region, sel.all_regions), (beta, false));
    press(&mut h, KeyCode::Char('P'));
    h.until("the previous container read to its end", |s| {
        s.logs.view.streams.values().any(|i| {
            i.ended
                .as_deref()
                .is_some_and(|e| e.starts_with("previous container"))
        })
    })
    .await;
    h.cockpit
        .state
        .logs
        .view
        .tick(Instant::now() + Duration::from_secs(5));
    let lines: Vec<Line> = h
        .cockpit
        .state
        .logs
        .view
        .ring
        .iter()
        .map(|(_, l)| l.clone())
        .collect();
    let dir = tempfile::tempdir().expect("dir");
    let kc = dir.path().join("kubeconfig");
    std::fs::write(&kc, h.fleet.kubeconfig_yaml()).expect("kubeconfig");
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kc)
        .args(["--context", "beta", "-n", "shop", "logs", &pod])
        .args(["--previous", "--timestamps", "--tail=200"])
        .output()
        .await
        .expect("kubectl");
    assert!(out.status.success(), "{out:?}");
    let want = sanitised(&String::from_utf8_lossy(&out.stdout));
    let got = physical(&lines);
    assert!(!got.is_empty());
    // the entries the pane read are kubectl's lines (a stack trace cut by
    // the tail may start the read: its lines are still there, in order)
    assert_contiguous(&got, &want);
    let screen = h.screen(200, 30);
    assert!(screen.contains("previous containers"), "{screen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_label_selector_follows_the_pods_each_server_matches() {
    let mut h = harness::start_on(small(), |_| {}, &[]).await;
    h.all_live().await;
    press(&mut h, KeyCode::Char('L'));
    press(&mut h, KeyCode::Char('l'));
    typed(&mut h, "shop app=web");
    let mut want = Vec::new();
    for region in ["alpha", "beta"] {
        let lp = harness::ListParams::default().labels("app=web");
        let pods = h.api(region).await.list(&lp).await.expect("list");
        want.extend(
            pods.items
                .iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none())
                .filter_map(|p| p.metadata.name.clone()),
        );
    }
    assert!(!want.is_empty());
    h.until("a stream per web pod", |s| {
        let tags: Vec<&str> = s
            .logs
            .view
            .streams
            .values()
            .map(|i| i.tag.as_str())
            .collect();
        want.iter()
            .all(|p| tags.iter().any(|t| t.contains(&format!("/{p}/"))))
            && tags.iter().all(|t| t.contains("/web-"))
    })
    .await;
    h.until("web's lines", |s| s.logs.view.counts().entries > 0)
        .await;
    assert!(h
        .screen(200, 30)
        .contains("Logs · pods app=web in shop in every region"));
}
