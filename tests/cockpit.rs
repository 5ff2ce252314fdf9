//! The cockpit core against the in-process simulator: the real kube client
//! over real HTTPS on 127.0.0.1, the real sources, reducers and drawing.
//! Conditions are waited for with generous bounded timeouts; nothing asserts
//! on durations.

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams};
use kube::config::Kubeconfig;
use pitwall::app::Cockpit;
use pitwall::config::RegionConfig;
use pitwall::fleet::client::{ClientSpec, KubeconfigSource};
use pitwall::fleet::{self, Clients, SourceOptions};
use pitwall::keymap::Keymap;
use pitwall::msg::{Health, Msg};
use pitwall::sim::{Fault, Fleet, Scenario};
use pitwall::state::State;
use pitwall::theme::Styles;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::collections::HashSet;
use std::time::Duration;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(60);

struct Harness {
    fleet: Fleet,
    kubeconfig: Kubeconfig,
    cockpit: Cockpit,
    rx: mpsc::Receiver<Msg>,
    tx: mpsc::Sender<Msg>,
    clients: Clients,
    names: Vec<String>,
}

async fn fleet() -> (Fleet, Kubeconfig) {
    fleet_of(Scenario::demo()).await
}

async fn fleet_of(scenario: Scenario) -> (Fleet, Kubeconfig) {
    let fleet = match Fleet::start(scenario, None).await {
        Ok(f) => f,
        Err(e) => panic!("simulator did not start: {e}"),
    };
    let kubeconfig = match Kubeconfig::from_yaml(&fleet.kubeconfig_yaml()) {
        Ok(k) => k,
        Err(e) => panic!("simulator kubeconfig: {e}"),
    };
    (fleet, kubeconfig)
}

/// Starts the cockpit's sources on every region. `before` runs first, so a
/// fault can be in place before the first request.
async fn start(before: impl FnOnce(&Fleet), refused: &[&str]) -> Harness {
    start_on(Scenario::demo(), before, refused).await
}

async fn start_on(scenario: Scenario, before: impl FnOnce(&Fleet), refused: &[&str]) -> Harness {
    let (fleet, kubeconfig) = fleet_of(scenario).await;
    before(&fleet);
    // a refusing region closes its listener within a moment: wait for it
    for r in fleet.regions() {
        let addr = ("127.0.0.1", r.port);
        if !refused.contains(&r.name.as_str()) {
            continue;
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::net::TcpStream::connect(addr).await.is_ok() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} still accepts",
                r.name
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
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
    let clients = Clients::new(regions.len());
    fleet::spawn_all(specs, tx.clone(), clients.clone(), SourceOptions::default());
    Harness {
        fleet,
        kubeconfig,
        cockpit,
        rx,
        tx,
        clients,
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

    /// Feeds source messages into the cockpit until `cond` holds.
    async fn until(&mut self, what: &str, cond: impl Fn(&State) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !cond(&self.cockpit.state) {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(msg)) => {
                    for effect in self.cockpit.handle(msg) {
                        pitwall::effects::spawn(effect, &self.clients, &self.tx);
                    }
                }
                Ok(None) => panic!("sources stopped while waiting for {what}"),
                Err(_) => panic!("timed out waiting for {what}; regions: {:?}", self.health()),
            }
        }
    }

    fn health(&self) -> Vec<(String, Health)> {
        self.cockpit
            .state
            .regions
            .iter()
            .map(|r| (r.name.clone(), r.health.clone()))
            .collect()
    }

    async fn all_live(&mut self) {
        self.until("every region live", |s| {
            s.regions.iter().all(|r| r.health.is_live())
                && (0..s.regions.len()).all(|i| s.store.region_len(i) > 0)
        })
        .await;
    }

    async fn api(&self, region: &str) -> Api<Pod> {
        let spec = ClientSpec {
            kubeconfig: KubeconfigSource::Inline(Box::new(self.kubeconfig.clone())),
            context: region.to_string(),
            namespaces: Vec::new(),
        };
        match fleet::client::build(&spec).await {
            Ok(c) => Api::all(c),
            Err(e) => panic!("client for {region}: {e}"),
        }
    }

    /// The server's pods of a region, as (uid) set.
    async fn server_uids(&self, region: &str) -> HashSet<String> {
        let pods = match self.api(region).await.list(&ListParams::default()).await {
            Ok(l) => l,
            Err(e) => panic!("list {region}: {e}"),
        };
        pods.items
            .into_iter()
            .filter_map(|p| p.metadata.uid)
            .collect()
    }

    fn cockpit_uids(&self, region: usize) -> Vec<String> {
        self.cockpit
            .state
            .store
            .rows()
            .filter(|r| r.region == region)
            .map(|r| r.uid.clone())
            .collect()
    }

    fn screen(&mut self, w: u16, h: u16) -> String {
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap_or_else(|e| panic!("{e}"));
        self.cockpit.handle(Msg::Resize(w, h));
        self.cockpit
            .draw(&mut term)
            .unwrap_or_else(|e| panic!("draw: {e}"));
        term.backend().to_string()
    }

    /// Keeps the cockpit in step with the server: waits until the region's
    /// rows are exactly the server's pods, with no duplicates.
    async fn matches_server(&mut self, region: &str) {
        let idx = self.region(region);
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let server = self.server_uids(region).await;
            let mine = self.cockpit_uids(idx);
            let unique: HashSet<String> = mine.iter().cloned().collect();
            assert_eq!(unique.len(), mine.len(), "duplicate rows in {region}");
            if unique == server {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                let missing: Vec<_> = server.difference(&unique).collect();
                let extra: Vec<_> = unique.difference(&server).collect();
                panic!(
                    "{region} rows differ from the server: missing {missing:?}, extra {extra:?}"
                );
            }
            // take in whatever the watch has sent meanwhile
            while let Ok(msg) = self.rx.try_recv() {
                self.cockpit.handle(msg);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            while let Ok(msg) = self.rx.try_recv() {
                self.cockpit.handle(msg);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_of_all_regions_arrive_and_a_change_appears() {
    let mut h = start(|_| {}, &[]).await;
    h.all_live().await;
    for name in h.names.clone() {
        h.matches_server(&name).await;
    }
    let screen = h.screen(160, 48);
    for name in &h.names {
        assert!(
            screen.contains(&format!("[{name} live")),
            "badge for {name}:\n{screen}"
        );
    }

    // delete one pod in us-east: its row goes, the replacement appears
    let region = "us-east";
    let idx = h.region(region);
    let victim = match h.cockpit.state.store.rows().find(|r| r.region == idx) {
        Some(r) => r.clone(),
        None => panic!("no pods in {region}"),
    };
    let api: Api<Pod> = Api::namespaced(h.api(region).await.into_client(), &victim.namespace);
    if let Err(e) = api.delete(&victim.name, &DeleteParams::default()).await {
        panic!("delete {}: {e}", victim.name);
    }
    let uid = victim.uid.clone();
    h.until("the deleted pod to leave the table", move |s| {
        s.store
            .find(idx, &uid)
            .is_none_or(|r| r.deleting || r.status == "Terminating")
    })
    .await;
    h.matches_server(region).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_watch_goes_stale_while_the_others_stay_live() {
    let mut h = start(|_| {}, &[]).await;
    h.all_live().await;
    let stalled = h.region("cn-north");
    h.fleet
        .set_fault("cn-north", Fault::StallWatches)
        .unwrap_or_else(|e| panic!("{e}"));
    h.until("cn-north to go stale", |s| {
        matches!(s.regions[stalled].health, Health::Stale { .. })
    })
    .await;
    for (i, r) in h.cockpit.state.regions.iter().enumerate() {
        if i != stalled {
            assert!(
                r.health.is_live(),
                "{} should stay live, is {:?}",
                r.name,
                r.health
            );
        }
    }
    // the rows are kept, drawn as stale, and the badge says so
    assert!(h.cockpit.state.store.region_len(stalled) > 0);
    let screen = h.screen(160, 48);
    assert!(screen.contains("[cn-north stale since"), "{screen}");
    assert!(
        screen.contains("1 region not live, rows dimmed"),
        "{screen}"
    );

    h.fleet
        .clear_faults("cn-north")
        .unwrap_or_else(|e| panic!("{e}"));
    h.until("cn-north to be live again", |s| {
        s.regions[stalled].health.is_live()
    })
    .await;
    h.matches_server("cn-north").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_watch_relists_without_duplicate_or_lost_rows() {
    let mut h = start(|_| {}, &[]).await;
    h.all_live().await;
    let region = "ap-southeast";
    let idx = h.region(region);
    // the open watch goes quiet and every new one fails with 410: the
    // cockpit must notice the silence, then relist
    h.fleet
        .set_fault(region, Fault::WatchError { code: 410 })
        .unwrap_or_else(|e| panic!("{e}"));
    h.fleet
        .set_fault(region, Fault::StallWatches)
        .unwrap_or_else(|e| panic!("{e}"));
    // a change the broken watch cannot deliver
    let victim = match h.cockpit.state.store.rows().find(|r| r.region == idx) {
        Some(r) => r.clone(),
        None => panic!("no pods in {region}"),
    };
    let api: Api<Pod> = Api::namespaced(h.api(region).await.into_client(), &victim.namespace);
    if let Err(e) = api
        .delete(&victim.name, &DeleteParams::default().grace_period(0))
        .await
    {
        panic!("delete {}: {e}", victim.name);
    }
    h.until(
        "a relist",
        |s| matches!(&s.regions[idx].health, Health::Stale { reason, .. } if reason == "relisting"),
    )
    .await;
    h.fleet.compact(region).unwrap_or_else(|e| panic!("{e}"));
    h.fleet
        .clear_faults(region)
        .unwrap_or_else(|e| panic!("{e}"));
    h.until("the region live again", |s| s.regions[idx].health.is_live())
        .await;
    h.matches_server(region).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_forbidden_and_refused_regions_show_their_badge() {
    let mut h = start(
        |f| {
            let set = |r: &str, fault| f.set_fault(r, fault).unwrap_or_else(|e| panic!("{e}"));
            set("cn-north", Fault::ExpireToken);
            set(
                "us-east",
                Fault::ForbidResource {
                    resource: "pods".into(),
                },
            );
            set("ap-southeast", Fault::RefuseConnections);
        },
        &["ap-southeast"],
    )
    .await;
    let (a, b, c, ok) = (
        h.region("cn-north"),
        h.region("us-east"),
        h.region("ap-southeast"),
        h.region("pre-release"),
    );
    h.until("every badge", |s| {
        matches!(s.regions[a].health, Health::Unauthorized(_))
            && matches!(s.regions[b].health, Health::Forbidden(_))
            && matches!(s.regions[c].health, Health::Unreachable(_))
            && s.regions[ok].health.is_live()
    })
    .await;
    let screen = h.screen(160, 48);
    assert!(screen.contains("[cn-north unauthorized"), "{screen}");
    assert!(screen.contains("[us-east forbidden"), "{screen}");
    assert!(screen.contains("[ap-southeast unreachable"), "{screen}");
    assert!(screen.contains("[pre-release live"), "{screen}");
    assert_eq!(h.cockpit.state.store.region_len(a), 0);

    // the forbidden region recovers on its own once allowed
    h.fleet
        .clear_faults("us-east")
        .unwrap_or_else(|e| panic!("{e}"));
    h.until("us-east live", |s| {
        s.regions[b].health.is_live() && s.store.region_len(b) > 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_strings_are_drawn_defused() {
    let mut h = start(
        |f| {
            f.set_fault("pre-release", Fault::HostileStrings)
                .unwrap_or_else(|e| panic!("{e}"))
        },
        &[],
    )
    .await;
    h.all_live().await;
    let region = "pre-release";
    let idx = h.region(region);
    // a new pod carries hostile labels and annotations
    let victim = match h
        .cockpit
        .state
        .store
        .rows()
        .find(|r| r.region == idx && !r.owner_name.is_empty())
    {
        Some(r) => r.clone(),
        None => panic!("no owned pods in {region}"),
    };
    let before: HashSet<String> = h.cockpit_uids(idx).into_iter().collect();
    let api: Api<Pod> = Api::namespaced(h.api(region).await.into_client(), &victim.namespace);
    if let Err(e) = api
        .delete(&victim.name, &DeleteParams::default().grace_period(0))
        .await
    {
        panic!("delete {}: {e}", victim.name);
    }
    let owner = victim.owner_name.clone();
    h.until("a replacement pod", move |s| {
        s.store
            .rows()
            .any(|r| r.region == idx && r.owner_name == owner && !before.contains(&r.uid))
    })
    .await;
    let before_uids: Vec<String> = h.cockpit_uids(idx);
    let fresh = h
        .cockpit
        .state
        .store
        .rows()
        .filter(|r| r.region == idx && r.owner_name == victim.owner_name)
        .max_by_key(|r| r.created)
        .map(|r| r.name.clone())
        .unwrap_or_default();
    assert!(!before_uids.is_empty());

    // open its describe view through the palette and fetch the full object
    h.cockpit.state.refresh_view();
    let pos = h
        .cockpit
        .state
        .store
        .view()
        .iter()
        .position(|s| {
            h.cockpit
                .state
                .store
                .get(*s)
                .is_some_and(|r| r.region == idx && r.name == fresh)
        })
        .unwrap_or_else(|| panic!("{fresh} not in view"));
    h.cockpit.state.ui.pods.cursor = pos;
    h.cockpit.state.ui.pods.selected = h.cockpit.state.store.view().get(pos).copied();
    let key = |c| {
        Msg::Key(crossterm::event::KeyEvent::new(
            c,
            crossterm::event::KeyModifiers::NONE,
        ))
    };
    for effect in h.cockpit.handle(key(crossterm::event::KeyCode::Char('d'))) {
        pitwall::effects::spawn(effect, &h.clients, &h.tx);
    }
    h.until(
        "the describe view",
        |s| matches!(&s.ui.modal, Some(pitwall::state::Modal::Describe(v)) if v.lines.is_some()),
    )
    .await;
    let text = match &h.cockpit.state.ui.modal {
        Some(pitwall::state::Modal::Describe(v)) => match &v.lines {
            Some(Ok(lines)) => lines.join("\n"),
            other => panic!("describe failed: {other:?}"),
        },
        _ => panic!("no describe view"),
    };
    assert!(
        text.contains("sim.pitwall.dev/hostile"),
        "the object carries hostile strings"
    );
    // scroll to the labels and draw
    let line = text
        .lines()
        .position(|l| l.contains("sim.pitwall.dev/hostile"))
        .unwrap_or(0);
    if let Some(pitwall::state::Modal::Describe(v)) = &mut h.cockpit.state.ui.modal {
        v.scroll = line.saturating_sub(2);
    }
    let screen = h.screen(160, 48);
    assert!(screen.contains("sim.pitwall.dev/hostile"), "{screen}");
    for bad in ['\u{1b}', '\u{7}', '\u{202e}'] {
        assert!(!screen.contains(bad), "{bad:?} reached the screen");
    }
    assert!(screen.contains(pitwall::sanitize::REPLACEMENT));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_credential_plugin_is_that_regions_error_only() {
    let (fleet, _) = fleet().await;
    // one more context on cn-north's cluster whose user runs a failing plugin
    let mut yaml = fleet.kubeconfig_yaml();
    let first = fleet.regions()[0].name.clone();
    yaml.push_str(
        "- name: broken\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      \
         command: sh\n      args: [\"-c\", \"echo plugin-noise >&2; exit 3\"]\n",
    );
    yaml = yaml.replace(
        "current-context:",
        &format!(
            "- name: broken\n  context:\n    cluster: {first}\n    user: broken\ncurrent-context:"
        ),
    );
    let kubeconfig = Kubeconfig::from_yaml(&yaml).unwrap_or_else(|e| panic!("kubeconfig: {e}"));
    let regions: Vec<RegionConfig> = ["broken", first.as_str()]
        .iter()
        .map(|c| RegionConfig {
            name: c.to_string(),
            context: c.to_string(),
            ..RegionConfig::default()
        })
        .collect();
    let specs = regions
        .iter()
        .map(|r| ClientSpec {
            kubeconfig: KubeconfigSource::Inline(Box::new(kubeconfig.clone())),
            context: r.context.clone(),
            namespaces: Vec::new(),
        })
        .collect();
    let mut cockpit = Cockpit::new(
        &regions,
        Keymap::default(),
        Styles::default(),
        pitwall::app::wall_now(),
    );
    let (tx, mut rx) = mpsc::channel(pitwall::app::CHANNEL);
    fleet::spawn_all(specs, tx, Clients::new(2), SourceOptions::default());
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let s = &cockpit.state;
        let broken = matches!(&s.regions[0].health, Health::Error(m) if m.contains("credentials"));
        if broken && s.regions[1].health.is_live() {
            break;
        }
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(msg)) => {
                cockpit.handle(msg);
            }
            _ => panic!("timed out: {:?}", cockpit.state.regions),
        }
    }
    assert!(cockpit.state.store.region_len(1) > 0);
    assert_eq!(cockpit.state.store.region_len(0), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_fleet_arrives_whole_through_paged_lists() {
    // 1,200 pods per region: three 500-pod pages each
    let mut h = start_on(Scenario::demo().with_pods_per_region(1200), |_| {}, &[]).await;
    h.until("every region synced", |s| {
        s.regions.iter().all(|r| r.health.is_live())
            && (0..s.regions.len()).all(|i| s.store.region_len(i) >= 1200)
    })
    .await;
    for name in h.names.clone() {
        h.matches_server(&name).await;
    }
    h.cockpit.state.refresh_view();
    assert_eq!(
        h.cockpit.state.store.view().len(),
        h.cockpit.state.store.len()
    );
    // the table draws only what fits, whatever the fleet's size
    let screen = h.screen(80, 24);
    assert!(screen.contains(&format!(
        "Pods {}/{}",
        h.cockpit.state.store.len(),
        h.cockpit.state.store.len()
    )));
}
