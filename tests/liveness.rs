//! Quiet is live, dead is stale, and no failure makes the cockpit hammer a
//! server: the real sources against the simulator with kube-apiserver's
//! defaults (a BOOKMARK a minute), the requests counted on the server side.
//! Windows of fixed length are only spans to count requests in; nothing
//! asserts how long anything took.

mod harness;

use harness::*;

/// A fleet where nothing changes: four regions, no probes, no faults.
fn quiet(extra: &str) -> Scenario {
    let text = format!(
        r#"
seed = 11
{extra}
[[region]]
name = "r1"
[[region]]
name = "r2"
[[region]]
name = "r3"
[[region]]
name = "r4"
[[workload]]
name = "web"
namespace = "web"
replicas = 4
image = "registry.local/web:1.0.0"
[[workload]]
name = "db"
namespace = "data"
kind = "StatefulSet"
replicas = 2
image = "registry.local/db:1.0.0"
"#
    );
    Scenario::from_toml(&text, "quiet.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// The most requests one region may send in its first minute of each
/// failure mode (4 feeds, each backing off 0.5 s doubling to 30 s, plus the
/// path's probes). docs/ARCHITECTURE.md, "Never hammer a server".
const MAX_PER_MINUTE_410: u64 = 100;
const MAX_PER_MINUTE_CLOSED_AT_ONCE: u64 = 60;
const MAX_PER_MINUTE_429: u64 = 50;
const MAX_PER_MINUTE_500: u64 = 60;
/// The path's probes at idle: one per `probe_after` (5 s) at most.
const MAX_IDLE_PROBES_PER_MINUTE: u64 = 13;

const MINUTE: Duration = Duration::from_secs(60);

/// Waits until every feed of every region (four, all namespaces) has
/// opened its watch.
async fn watching(h: &mut Harness) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while h.names.iter().any(|n| h.requests(n).watches < 4) {
        assert!(tokio::time::Instant::now() < deadline, "watches not open");
        h.run_for(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_regions_stay_live_through_several_bookmark_gaps() {
    // bookmarks every 20 s: longer than the old 15 s silence rule, so a
    // minute holds three gaps (the real 60 s would take three minutes)
    let mut h = start_with(
        quiet("bookmark_interval_seconds = 20.0"),
        SourceOptions::default(),
        |_| {},
        &[],
    )
    .await;
    h.all_live().await;
    watching(&mut h).await;
    h.observe();
    let before: Vec<_> = h.names.iter().map(|n| h.requests(n)).collect();
    h.run_for(MINUTE).await;
    for (i, name) in h.names.iter().enumerate() {
        let seen = &h.seen[i];
        assert!(seen.not_live.is_empty(), "{name} was {:?}", seen.not_live);
        assert_eq!(seen.list_starts, 0, "{name} relisted");
        let after = h.requests(name);
        assert_eq!(
            after.watches, before[i].watches,
            "{name} reopened a quiet watch"
        );
        let probes = after.all - before[i].all;
        eprintln!("{name}: {probes} requests in a quiet minute");
        assert!(
            probes <= MAX_IDLE_PROBES_PER_MINUTE,
            "{name}: {probes} requests in a quiet minute"
        );
        assert!(h.cockpit.state.regions[i].health.is_live());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blackholed_region_goes_stale_alone_and_resumes_without_a_relist() {
    let mut h = start(|_| {}, &[]).await;
    h.all_live().await;
    h.observe();
    let dead = h.region("us-east");
    h.fleet
        .set_fault("us-east", Fault::Blackhole)
        .unwrap_or_else(|e| panic!("{e}"));
    h.until("us-east to go stale", |s| {
        matches!(&s.regions[dead].health, Health::Stale { reason, .. }
            if reason.starts_with("no answer from the API server for"))
    })
    .await;
    for (i, r) in h.cockpit.state.regions.iter().enumerate() {
        if i != dead {
            assert!(h.seen[i].not_live.is_empty(), "{}: {:?}", r.name, h.seen[i]);
            assert!(r.health.is_live(), "{} is {:?}", r.name, r.health);
        }
    }
    let screen = h.screen(160, 48);
    assert!(screen.contains("[us-east stale since"), "{screen}");
    assert!(screen.contains("no answer from the API server"), "{screen}");
    assert!(h.cockpit.state.store.region_len(dead) > 0, "rows are kept");

    h.observe();
    h.fleet
        .clear_faults("us-east")
        .unwrap_or_else(|e| panic!("{e}"));
    h.until("us-east live again", |s| s.regions[dead].health.is_live())
        .await;
    // a change made now arrives through the resumed watches
    let victim = match h.cockpit.state.store.rows().find(|r| r.region == dead) {
        Some(r) => r.clone(),
        None => panic!("no pods in us-east"),
    };
    let api: Api<Pod> = Api::namespaced(h.api("us-east").await.into_client(), &victim.namespace);
    if let Err(e) = api
        .delete(&victim.name, &DeleteParams::default().grace_period(0))
        .await
    {
        panic!("delete {}: {e}", victim.name);
    }
    let uid = victim.uid.clone();
    h.until("the deleted pod to leave", move |s| {
        s.store.find(dead, &uid).is_none()
    })
    .await;
    h.matches_server("us-east").await;
    assert_eq!(
        h.seen[dead].list_starts, 0,
        "us-east relisted after the clear"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_watch_is_reopened_without_a_stale_badge() {
    // on a real server a watch is called stalled after 150 s at least
    let opts = SourceOptions {
        stall_after: Duration::from_secs(5),
        ..SourceOptions::default()
    };
    let mut h = start_with(quiet(""), opts, |_| {}, &[]).await;
    h.all_live().await;
    watching(&mut h).await;
    h.observe();
    let region = "r2";
    let idx = h.region(region);
    let before = h.requests(region).watches;
    h.fleet
        .set_fault(region, Fault::StallWatches)
        .unwrap_or_else(|e| panic!("{e}"));
    // every feed (pods, events, deployments, statefulsets) reopens
    let deadline = tokio::time::Instant::now() + WAIT;
    while h.requests(region).watches < before + 4 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stalled watches were not reopened: {:?}",
            h.requests(region)
        );
        h.run_for(Duration::from_millis(500)).await;
    }
    assert!(h.seen[idx].not_live.is_empty(), "{:?}", h.seen[idx]);
    assert_eq!(h.seen[idx].list_starts, 0, "a stalled watch relisted");
    assert!(h.cockpit.state.regions[idx].health.is_live());

    h.fleet
        .clear_faults(region)
        .unwrap_or_else(|e| panic!("{e}"));
    h.matches_server(region).await;
}

/// Requests a region sent in its first minute under `fault`.
async fn first_minute(h: &mut Harness) -> Vec<pitwall_sim::Requests> {
    h.run_for(MINUTE).await;
    h.names.iter().map(|n| h.requests(n)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_servers_get_few_requests() {
    let mut h = start_with(
        quiet(""),
        SourceOptions::default(),
        |f| {
            let set = |r: &str, fault| f.set_fault(r, fault).unwrap_or_else(|e| panic!("{e}"));
            set("r1", Fault::WatchError { code: 410 });
            set("r2", Fault::ListError { code: 429 });
            set("r3", Fault::ListError { code: 500 });
        },
        &[],
    )
    .await;
    let counts = first_minute(&mut h).await;
    eprintln!("first minute: {counts:?}");
    let bounds = [
        ("r1", MAX_PER_MINUTE_410, "410 on every watch"),
        ("r2", MAX_PER_MINUTE_429, "429 with Retry-After on lists"),
        ("r3", MAX_PER_MINUTE_500, "500 on lists"),
    ];
    for (name, bound, mode) in bounds {
        let i = h.region(name);
        let n = counts[i].all;
        assert!(n <= bound, "{name} ({mode}): {n} requests in a minute");
        assert!(
            !h.cockpit.state.regions[i].health.is_live(),
            "{name} ({mode}) shows live"
        );
    }
    // the 410 region did relist, each time after a wait
    assert!(counts[h.region("r1")].lists >= 8, "{:?}", counts[0]);
    // the healthy region is unaffected
    assert!(h.cockpit.state.regions[h.region("r4")].health.is_live());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_that_end_at_once_are_not_live_and_get_few_requests() {
    // the server ends every watch after 1 s (it keeps timeoutSeconds
    // exactly), before any bookmark: nothing carried, ever
    let opts = SourceOptions {
        watch_timeout_secs: 1,
        ..SourceOptions::default()
    };
    let mut h = start_with(quiet(""), opts, |_| {}, &[]).await;
    h.until("every region synced", |s| {
        (0..s.regions.len()).all(|i| s.store.region_len(i) > 0)
    })
    .await;
    let counts = first_minute(&mut h).await;
    eprintln!("first minute: {counts:?}");
    for (i, name) in h.names.iter().enumerate() {
        let n = counts[i].all;
        assert!(
            n <= MAX_PER_MINUTE_CLOSED_AT_ONCE,
            "{name}: {n} requests in a minute"
        );
        assert!(
            matches!(&h.cockpit.state.regions[i].health, Health::Stale { reason, .. }
                if reason.contains("ends every watch at once")),
            "{name}: {:?}",
            h.cockpit.state.regions[i].health
        );
    }
}

/// `pitwall sim` with a state directory, until it prints `ready`.
async fn sim_binary(state: &std::path::Path, kc: &std::path::Path) -> tokio::process::Child {
    use tokio::io::AsyncBufReadExt;
    let scenario =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios/test-small.toml");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pitwall"))
        .arg("sim")
        .arg("--scenario")
        .arg(&scenario)
        .arg("--state-dir")
        .arg(state)
        .arg("--kubeconfig-out")
        .arg(kc)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("pitwall sim: {e}"));
    let Some(out) = child.stdout.take() else {
        panic!("no stdout")
    };
    let mut lines = tokio::io::BufReader::new(out).lines();
    let ready = tokio::time::timeout(WAIT, async {
        while let Ok(Some(l)) = lines.next_line().await {
            if l == "ready" {
                return true;
            }
        }
        false
    })
    .await;
    assert!(matches!(ready, Ok(true)), "the simulator did not start");
    child
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_cockpit_rejoins_a_simulator_restarted_with_its_state_dir() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (state, kc) = (dir.path().join("state"), dir.path().join("kubeconfig"));
    let mut first = sim_binary(&state, &kc).await;
    let kubeconfig = Kubeconfig::read_from(&kc).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<String> = kubeconfig.contexts.iter().map(|c| c.name.clone()).collect();
    let regions: Vec<pitwall::config::RegionConfig> = names
        .iter()
        .map(|c| pitwall::config::RegionConfig {
            name: c.clone(),
            context: c.clone(),
            ..Default::default()
        })
        .collect();
    let spec = |context: &str| ClientSpec {
        kubeconfig: KubeconfigSource::File(Some(kc.clone())),
        context: context.to_string(),
        namespaces: Vec::new(),
    };
    let mut cockpit = Cockpit::new(
        &regions,
        Keymap::default(),
        Styles::default(),
        pitwall::app::wall_now(),
    );
    let (tx, mut rx) = mpsc::channel(pitwall::app::CHANNEL);
    let specs = names.iter().map(|n| spec(n)).collect();
    fleet::spawn_all(
        specs,
        tx,
        Clients::new(names.len()),
        SourceOptions::default(),
    );
    let mut until = async |what: &str, cond: &dyn Fn(&State) -> bool| {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !cond(&cockpit.state) {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(msg)) => {
                    cockpit.handle(msg);
                }
                _ => panic!("timed out waiting for {what}: {:?}", cockpit.state.regions),
            }
        }
    };
    let all_live = |s: &State| {
        s.regions.iter().all(|r| r.health.is_live())
            && (0..s.regions.len()).all(|i| s.store.region_len(i) > 0)
    };
    until("every region live", &all_live).await;

    let _ = first.kill().await;
    let _ = first.wait().await;
    until("a region that notices", &|s: &State| {
        s.regions.iter().any(|r| !r.health.is_live())
    })
    .await;

    let _second = sim_binary(&state, &dir.path().join("kubeconfig-2")).await;
    until("every region live again", &all_live).await;
    // and its rows are the restarted server's pods
    for (i, name) in names.iter().enumerate() {
        let client = fleet::client::build(&spec(name))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let server: HashSet<String> = Api::<Pod>::all(client.clone())
                .list(&ListParams::default())
                .await
                .unwrap_or_else(|e| panic!("list {name}: {e}"))
                .items
                .into_iter()
                .filter_map(|p| p.metadata.uid)
                .collect();
            let mine: HashSet<String> = cockpit
                .state
                .store
                .rows()
                .filter(|r| r.region == i)
                .map(|r| r.uid.clone())
                .collect();
            if mine == server {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name}: the cockpit's rows are not the restarted server's"
            );
            let _ = tokio::time::timeout(Duration::from_millis(200), async {
                while let Some(msg) = rx.recv().await {
                    cockpit.handle(msg);
                }
            })
            .await;
        }
    }
}
