//! Probes and triage against the in-process simulator: the real kube client
//! over real HTTPS on 127.0.0.1, the real sources (pods, events,
//! deployments, statefulsets), reducers and drawing, driven by the fault
//! timeline of `assets/scenarios/incident-test.toml`. Conditions are waited
//! for with generous bounded timeouts; nothing asserts on durations.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::config::Kubeconfig;
use kube::Client;
use pitwall::app::Cockpit;
use pitwall::fleet::client::{ClientSpec, KubeconfigSource};
use pitwall::fleet::workloads::ProbeKind;
use pitwall::fleet::{self, Clients, SourceOptions};
use pitwall::keymap::Keymap;
use pitwall::msg::Msg;
use pitwall::panes::probes::book::{ProbeRow, Severity};
use pitwall::panes::triage::rank::Problem;
use pitwall::state::{Pane, State};
use pitwall::theme::Styles;
use pitwall_sim::{Fleet, Scenario};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::time::Duration;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(90);
const SCENARIO: &str = include_str!("../assets/scenarios/incident-test.toml");
const CHECKOUT_MESSAGE: &str = "HTTP probe failed with statuscode: 503";

struct Harness {
    _fleet: Fleet,
    kubeconfig: Kubeconfig,
    cockpit: Cockpit,
    rx: mpsc::Receiver<Msg>,
    names: Vec<String>,
}

async fn start() -> Harness {
    let scenario = Scenario::from_toml(SCENARIO, "assets/scenarios/incident-test.toml")
        .unwrap_or_else(|e| panic!("test scenario: {e}"));
    let fleet = Fleet::start(scenario, None)
        .await
        .unwrap_or_else(|e| panic!("simulator did not start: {e}"));
    let kubeconfig = Kubeconfig::from_yaml(&fleet.kubeconfig_yaml())
        .unwrap_or_else(|e| panic!("simulator kubeconfig: {e}"));
    let names: Vec<String> = fleet.regions().iter().map(|r| r.name.clone()).collect();
    let (regions, specs) =
        pitwall::app::fleet_regions(&fleet).unwrap_or_else(|e| panic!("fleet regions: {e}"));
    let cockpit = Cockpit::new(
        &regions,
        Keymap::default(),
        Styles::default(),
        pitwall::app::wall_now(),
    );
    let (tx, rx) = mpsc::channel(pitwall::app::CHANNEL);
    fleet::spawn_all(
        specs,
        tx,
        Clients::new(regions.len()),
        SourceOptions::default(),
    );
    Harness {
        _fleet: fleet,
        kubeconfig,
        cockpit,
        rx,
        names,
    }
}

impl Harness {
    fn region(&self, name: &str) -> usize {
        self.names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("no region {name}"))
    }

    fn handle(&mut self, msg: Msg) {
        // as the loop does: the clock is read before each message
        self.cockpit.state.now = pitwall::app::wall_now();
        self.cockpit.handle(msg);
    }

    /// Feeds source messages (and the clock) into the cockpit until `cond`
    /// holds on the refreshed state.
    async fn until(&mut self, what: &str, cond: impl Fn(&State) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            self.cockpit.state.now = pitwall::app::wall_now();
            self.cockpit.state.refresh_view();
            if cond(&self.cockpit.state) {
                return;
            }
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(msg)) => {
                    self.handle(msg);
                    while let Ok(msg) = self.rx.try_recv() {
                        self.handle(msg);
                    }
                }
                Ok(None) => panic!("sources stopped while waiting for {what}"),
                Err(_) => panic!(
                    "timed out waiting for {what}\ntriage: {:#?}\nprobes: {:#?}",
                    self.cockpit.state.incident.triage.items,
                    self.cockpit.state.incident.probes.rows
                ),
            }
        }
    }

    async fn client(&self, region: &str) -> Client {
        let spec = ClientSpec {
            kubeconfig: KubeconfigSource::Inline(Box::new(self.kubeconfig.clone())),
            context: region.to_string(),
            namespaces: Vec::new(),
        };
        fleet::client::build(&spec)
            .await
            .unwrap_or_else(|e| panic!("client for {region}: {e}"))
    }

    fn screen(&mut self, w: u16, h: u16) -> String {
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap_or_else(|e| panic!("{e}"));
        self.cockpit.handle(Msg::Resize(w, h));
        self.cockpit
            .draw(&mut term)
            .unwrap_or_else(|e| panic!("draw: {e}"));
        term.backend().to_string()
    }

    fn key(&mut self, code: crossterm::event::KeyCode) {
        use crossterm::event::{KeyEvent, KeyModifiers};
        self.handle(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }
}

fn probe_row<'a>(s: &'a State, region: usize, workload: &str) -> Option<&'a ProbeRow> {
    s.incident.probes.rows.iter().find(|r| {
        r.key.workload.region == region
            && r.key.workload.name == workload
            && r.key.kind == ProbeKind::Readiness
    })
}

fn has_item(s: &State, region: usize, name: &str, problem: Problem) -> bool {
    s.incident
        .triage
        .items
        .iter()
        .any(|i| i.id.region == region && i.id.name == name && i.id.problem == problem)
}

/// The server's own tally: the summed `count` of the Unhealthy events on
/// the workload's pods.
async fn server_failures(client: Client, namespace: &str, workload: &str) -> u64 {
    let api: Api<Event> = Api::namespaced(client, namespace);
    let list = api
        .list(&ListParams::default())
        .await
        .unwrap_or_else(|e| panic!("list events: {e}"));
    list.items
        .iter()
        .filter(|e| e.reason.as_deref() == Some("Unhealthy"))
        .filter(|e| {
            e.involved_object
                .name
                .as_deref()
                .is_some_and(|n| n.starts_with(&format!("{workload}-")))
        })
        .map(|e| e.count.unwrap_or(1).max(1) as u64)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_failures_and_triage_follow_the_fault_timeline() {
    let mut h = start().await;
    let cn = h.region("cn-north");
    let us = h.region("us-east");

    // readiness failures on 2 of the 6 checkout pods in cn-north
    h.until("2/6 checkout pods failing readiness", |s| {
        probe_row(s, cn, "checkout").is_some_and(|r| r.pods_affected == 2 && r.pods_total == 6)
    })
    .await;
    let row = probe_row(&h.cockpit.state, cn, "checkout").cloned();
    let row = row.unwrap_or_else(|| panic!("checkout row vanished"));
    assert_eq!(row.message, CHECKOUT_MESSAGE);
    assert_eq!(row.key.workload.namespace, "shop");
    assert!(
        row.spec.is_some(),
        "probe config from the deployment template"
    );

    // the counts are the server's: never more, and they catch up
    let before = server_failures(h.client("cn-north").await, "shop", "checkout").await;
    h.until("the checkout count to reach the server's", move |s| {
        probe_row(s, cn, "checkout").is_some_and(|r| r.failures_total >= before)
    })
    .await;
    let seen = probe_row(&h.cockpit.state, cn, "checkout").map_or(0, |r| r.failures_total);
    let after = server_failures(h.client("cn-north").await, "shop", "checkout").await;
    assert!(
        before <= seen && seen <= after,
        "cockpit {seen}, server {before}..{after}"
    );

    // the crash-looping rollout in us-east tops the triage list
    h.until("search crash loop at the top of triage", |s| {
        s.incident.triage.items.first().is_some_and(|i| {
            i.id.region == us && i.id.name == "search" && i.id.problem == Problem::CrashLoop
        })
    })
    .await;
    // unready pods count once they stay unready past the grace period
    h.until("checkout unready in triage", |s| {
        has_item(s, cn, "checkout", Problem::Unready)
    })
    .await;
    let unready =
        h.cockpit.state.incident.triage.items.iter().find(|i| {
            i.id.region == cn && i.id.name == "checkout" && i.id.problem == Problem::Unready
        });
    assert_eq!(
        unready.map(|i| i.how_bad.as_str()),
        Some("2/6 pods unready")
    );
    // one cause, one item: the readiness failures are in the unready item
    assert!(
        unready.is_some_and(|i| i.detail.contains(CHECKOUT_MESSAGE)),
        "{unready:?}"
    );
    let items_of = |s: &State, region: usize, name: &str| {
        s.incident
            .triage
            .items
            .iter()
            .filter(|i| i.id.region == region && i.id.name == name)
            .count()
    };
    assert_eq!(items_of(&h.cockpit.state, cn, "checkout"), 1);
    // search's crash loop and its rollout are one item, worded by both
    h.until("search's stuck rollout as one item", move |s| {
        s.incident.triage.items.first().is_some_and(|i| {
            i.id.name == "search"
                && i.how_bad.starts_with("rollout of search stuck: ")
                && i.how_bad.ends_with(" pods CrashLoopBackOff")
        })
    })
    .await;
    assert_eq!(items_of(&h.cockpit.state, us, "search"), 1);

    // 160x48: triage, pods and probes at once
    let wide = h.screen(160, 48);
    assert!(wide.contains("Triage") && wide.contains("Pods") && wide.contains("Probe failures"));
    assert!(
        wide.contains("crash loop") && wide.contains(CHECKOUT_MESSAGE),
        "{wide}"
    );

    // Enter on the top item lands on the pods of search in us-east
    h.key(crossterm::event::KeyCode::Char('t'));
    assert_eq!(h.cockpit.state.ui.focus, Pane::Triage);
    h.key(crossterm::event::KeyCode::Home);
    h.key(crossterm::event::KeyCode::Enter);
    let st = &h.cockpit.state;
    assert_eq!(st.ui.focus, Pane::Pods);
    let spec = st.store.view_spec();
    assert_eq!(spec.region, Some(us));
    assert_eq!(spec.owner, Some(("Deployment".into(), "search".into())));
    let shown: Vec<_> = st
        .store
        .view()
        .iter()
        .filter_map(|slot| st.store.get(*slot))
        .collect();
    assert!(!shown.is_empty());
    assert!(shown
        .iter()
        .all(|p| p.region == us && p.owner_name == "search"));

    // a hostile event message is drawn defused
    h.until("cart's hostile readiness message", |s| {
        probe_row(s, cn, "cart").is_some_and(|r| r.message.contains('\u{1b}'))
    })
    .await;
    h.key(crossterm::event::KeyCode::Char('b'));
    let rows = h.cockpit.state.incident.probes.rows.clone();
    let at = rows
        .iter()
        .position(|r| r.key.workload.name == "cart")
        .unwrap_or_else(|| panic!("no cart row"));
    for _ in 0..at {
        h.key(crossterm::event::KeyCode::Down);
    }
    let screen = h.screen(160, 48);
    assert!(screen.contains("desrever"), "{screen}");
    for bad in ['\u{1b}', '\u{7}', '\u{202e}', '\u{202c}'] {
        assert!(!screen.contains(bad), "{bad:?} reached the screen");
    }

    // recovery: the failing checkout pods are replaced, search rolls back
    let failing: Vec<String> = h
        .cockpit
        .state
        .incident
        .probes
        .book
        .detail(
            &row.key,
            h.cockpit.state.store.owners(),
            h.cockpit.state.now,
        )
        .map(|d| {
            d.pods
                .into_iter()
                .filter(|(_, on)| *on)
                .map(|(p, _)| p.name)
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(failing.len(), 2, "{failing:?}");
    let pods: Api<Pod> = Api::namespaced(h.client("cn-north").await, "shop");
    for name in &failing {
        pods.delete(name, &DeleteParams::default())
            .await
            .unwrap_or_else(|e| panic!("delete {name}: {e}"));
    }
    let deploys: Api<Deployment> = Api::namespaced(h.client("us-east").await, "search");
    let d = deploys
        .get("search")
        .await
        .unwrap_or_else(|e| panic!("get search: {e}"));
    let container = d
        .spec
        .and_then(|s| s.template.spec)
        .and_then(|s| s.containers.first().map(|c| c.name.clone()))
        .unwrap_or_else(|| panic!("search has no container"));
    let patch = serde_json::json!({"spec": {"template": {"spec": {"containers": [
        {"name": container, "image": "registry.local/search/search-api:5.3.1"}
    ]}}}});
    deploys
        .patch("search", &PatchParams::default(), &Patch::Strategic(patch))
        .await
        .unwrap_or_else(|e| panic!("roll back search: {e}"));

    h.until("checkout and search to drop off triage", |s| {
        !s.incident.triage.items.iter().any(|i| {
            (i.id.region == cn && i.id.name == "checkout")
                || (i.id.region == us && i.id.name == "search")
        })
    })
    .await;
    let row = probe_row(&h.cockpit.state, cn, "checkout").cloned();
    let row = row.unwrap_or_else(|| panic!("checkout row lost its history"));
    assert_eq!(row.pods_affected, 0);
    assert!(row.failures_total >= seen);
    // and probes agree with triage: the row is no longer active
    assert_eq!(row.severity, Severity::Quiet);
    // every row still active is a workload triage still lists (cart's
    // hostile readiness failures go on), and the title counts only those
    let st = &h.cockpit.state;
    let active: Vec<&ProbeRow> = st
        .incident
        .probes
        .rows
        .iter()
        .filter(|r| r.severity != Severity::Quiet)
        .collect();
    assert!(active.iter().all(|r| r.key.workload.name != "checkout"));
    for r in &active {
        assert!(
            st.incident.triage.items.iter().any(|i| {
                i.id.region == r.key.workload.region && i.id.name == r.key.workload.name
            }),
            "{} active in probes, absent from triage",
            r.key.workload.name
        );
    }
    let title = format!("Probe failures {} active", active.len());
    let screen = h.screen(160, 48);
    assert!(screen.contains(&title), "{title}:\n{screen}");
    // its detail says it recovered, not that it is failing
    let at = h
        .cockpit
        .state
        .incident
        .probes
        .rows
        .iter()
        .position(|r| r.key.workload.region == cn && r.key.workload.name == "checkout")
        .unwrap_or_else(|| panic!("no checkout row"));
    h.key(crossterm::event::KeyCode::Home);
    for _ in 0..at {
        h.key(crossterm::event::KeyCode::Down);
    }
    let screen = h.screen(160, 48);
    assert!(
        screen.contains("readiness probe of shop/checkout: recovered"),
        "{screen}"
    );
}
