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
    assert!(h.cockpit.state.pods.region_len(dead) > 0, "rows are kept");

    h.observe();
    h.fleet
        .clear_faults("us-east")
        .unwrap_or_else(|e| panic!("{e}"));
    h.until("us-east live again", |s| s.regions[dead].health.is_live())
        .await;
    // a change made now arrives through the resumed watches
    let victim = match h.cockpit.state.pods.rows().find(|r| r.region == dead) {
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
        s.pods.find(dead, &uid).is_none()
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
async fn first_minute(h: &mut Harness) -> Vec<pitwall::sim::Requests> {
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
        (0..s.regions.len()).all(|i| s.pods.region_len(i) > 0)
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
