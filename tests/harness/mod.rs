//! The cockpit core against the in-process simulator, for the tests that
//! drive it: the real kube client over real HTTPS on 127.0.0.1, the real
//! sources, reducers and drawing. Conditions are waited for with generous
//! bounded timeouts; nothing asserts on durations.
#![allow(dead_code)] // each test binary uses its own part

pub use k8s_openapi::api::core::v1::Pod;
pub use kube::api::{Api, DeleteParams, ListParams};
pub use kube::config::Kubeconfig;
pub use pitwall::app::Cockpit;
pub use pitwall::fleet::client::{ClientSpec, KubeconfigSource};
pub use pitwall::fleet::{self, Clients, SourceOptions};
pub use pitwall::keymap::Keymap;
pub use pitwall::msg::{Health, Msg, Update};
pub use pitwall::state::State;
pub use pitwall::theme::Styles;
pub use pitwall_sim::{Fault, Fleet, Scenario};
pub use ratatui::backend::TestBackend;
pub use ratatui::Terminal;
pub use std::collections::HashSet;
pub use std::time::Duration;
pub use tokio::sync::mpsc;

pub const WAIT: Duration = Duration::from_secs(60);

pub struct Harness {
    pub fleet: Fleet,
    pub kubeconfig: Kubeconfig,
    pub cockpit: Cockpit,
    pub rx: mpsc::Receiver<Msg>,
    pub tx: mpsc::Sender<Msg>,
    pub clients: Clients,
    /// What effects and tasks get: the clients and the write path, whose
    /// audit log lives in `audit_dir`.
    pub env: pitwall::effects::Env,
    pub audit_dir: tempfile::TempDir,
    /// The long-lived tasks effects start, as the loop keeps them.
    pub tasks: pitwall::tasks::Tasks,
    pub names: Vec<String>,
    /// What each region went through since `observe` was last called.
    pub seen: Vec<Seen>,
}

/// What one region went through, as the cockpit received it.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    /// Every badge the region showed that was not live.
    pub not_live: Vec<Health>,
    /// Lists begun, any feed (a relist shows here).
    pub list_starts: usize,
}

pub async fn fleet() -> (Fleet, Kubeconfig) {
    fleet_of(Scenario::demo()).await
}

pub async fn fleet_of(scenario: Scenario) -> (Fleet, Kubeconfig) {
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
pub async fn start(before: impl FnOnce(&Fleet), refused: &[&str]) -> Harness {
    start_on(Scenario::demo(), before, refused).await
}

pub async fn start_on(
    scenario: Scenario,
    before: impl FnOnce(&Fleet),
    refused: &[&str],
) -> Harness {
    start_with(scenario, SourceOptions::default(), before, refused).await
}

pub async fn start_with(
    scenario: Scenario,
    opts: SourceOptions,
    before: impl FnOnce(&Fleet),
    refused: &[&str],
) -> Harness {
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
    fleet::spawn_all(specs, tx.clone(), clients.clone(), opts);
    let seen = vec![Seen::default(); names.len()];
    let audit_dir = tempfile::tempdir().unwrap_or_else(|e| panic!("audit dir: {e}"));
    let (writer, problem) = pitwall::app::writer_for(
        &regions,
        pitwall::config::Access::default(),
        &clients,
        Some(audit_dir.path().join("audit")),
    );
    assert_eq!(problem, None, "audit log");
    let env = pitwall::effects::Env {
        clients: clients.clone(),
        writer,
    };
    let tasks = pitwall::tasks::Tasks::new(tx.clone(), pitwall::tasks::MAX_TASKS);
    Harness {
        fleet,
        kubeconfig,
        cockpit,
        rx,
        tx,
        clients,
        env,
        audit_dir,
        tasks,
        names,
        seen,
    }
}

impl Harness {
    /// Runs effects as the loop does: tasks into the registry, the rest as
    /// one-shot IO (terminal jobs are the tmux tests' business).
    pub fn run(&mut self, effects: Vec<pitwall::update::Effect>) {
        for effect in effects {
            match effect {
                pitwall::update::Effect::Task(cmd) => self.tasks.apply(cmd, &self.env),
                other => pitwall::effects::spawn(other, &self.env, &self.tx),
            }
        }
    }

    pub fn region(&self, name: &str) -> usize {
        self.names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("no region {name}"))
    }

    /// Forgets what the regions went through so far.
    pub fn observe(&mut self) {
        self.seen = vec![Seen::default(); self.names.len()];
    }

    /// Hands one source message to the cockpit, noting what it says.
    fn take(&mut self, msg: Msg) {
        let (region, list_start) = match &msg {
            Msg::RegionHealth { region, .. } => (Some(*region), false),
            Msg::Pods { region, update } => {
                (Some(*region), matches!(update, Update::ListStart { .. }))
            }
            Msg::Incident { region, update } => {
                use pitwall::fleet::stream::IncidentUpdate as I;
                let start = match update {
                    I::Events(u) => matches!(u, Update::ListStart { .. }),
                    I::Workloads(_, u) => matches!(u, Update::ListStart { .. }),
                };
                (Some(*region), start)
            }
            _ => (None, false),
        };
        let effects = self.cockpit.handle(msg);
        self.run(effects);
        let Some(region) = region else { return };
        let health = self
            .cockpit
            .state
            .regions
            .get(region)
            .map(|r| r.health.clone());
        if let Some(seen) = self.seen.get_mut(region) {
            seen.list_starts += usize::from(list_start);
            if let Some(h) = health.filter(|h| !h.is_live()) {
                if seen.not_live.last() != Some(&h) {
                    seen.not_live.push(h);
                }
            }
        }
    }

    /// Feeds source messages into the cockpit until `cond` holds.
    pub async fn until(&mut self, what: &str, cond: impl Fn(&State) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !cond(&self.cockpit.state) {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(msg)) => self.take(msg),
                Ok(None) => panic!("sources stopped while waiting for {what}"),
                Err(_) => panic!("timed out waiting for {what}; regions: {:?}", self.health()),
            }
        }
    }

    /// Feeds source messages into the cockpit for `span` (a window to count
    /// in; nothing is asserted about how long anything took).
    pub async fn run_for(&mut self, span: Duration) {
        let end = tokio::time::Instant::now() + span;
        loop {
            match tokio::time::timeout_at(end, self.rx.recv()).await {
                Ok(Some(msg)) => self.take(msg),
                Ok(None) => panic!("sources stopped"),
                Err(_) => return,
            }
        }
    }

    pub fn health(&self) -> Vec<(String, Health)> {
        self.cockpit
            .state
            .regions
            .iter()
            .map(|r| (r.name.clone(), r.health.clone()))
            .collect()
    }

    pub async fn all_live(&mut self) {
        self.until("every region live", |s| {
            s.regions.iter().all(|r| r.health.is_live())
                && (0..s.regions.len()).all(|i| s.store.region_len(i) > 0)
        })
        .await;
    }

    pub fn requests(&self, region: &str) -> pitwall_sim::Requests {
        self.fleet
            .requests(region)
            .unwrap_or_else(|e| panic!("requests of {region}: {e}"))
    }

    pub async fn api(&self, region: &str) -> Api<Pod> {
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
    pub async fn server_uids(&self, region: &str) -> HashSet<String> {
        let pods = match self.api(region).await.list(&ListParams::default()).await {
            Ok(l) => l,
            Err(e) => panic!("list {region}: {e}"),
        };
        pods.items
            .into_iter()
            .filter_map(|p| p.metadata.uid)
            .collect()
    }

    pub fn cockpit_uids(&self, region: usize) -> Vec<String> {
        self.cockpit
            .state
            .store
            .rows()
            .filter(|r| r.region == region)
            .map(|r| r.uid.clone())
            .collect()
    }

    pub fn screen(&mut self, w: u16, h: u16) -> String {
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap_or_else(|e| panic!("{e}"));
        self.cockpit.handle(Msg::Resize(w, h));
        self.cockpit
            .draw(&mut term)
            .unwrap_or_else(|e| panic!("draw: {e}"));
        term.backend().to_string()
    }

    /// Keeps the cockpit in step with the server: waits until the region's
    /// rows are exactly the server's pods, with no duplicates.
    pub async fn matches_server(&mut self, region: &str) {
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
                self.take(msg);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            while let Ok(msg) = self.rx.try_recv() {
                self.take(msg);
            }
        }
    }
}
