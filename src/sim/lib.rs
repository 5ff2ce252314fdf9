//! The fleet simulator: a multi-region fleet that speaks the real
//! Kubernetes API over HTTPS on 127.0.0.1 (see `docs/SIMULATOR.md`).
//!
//! - `world`: what a region holds and how it moves (store, kubelet model,
//!   controllers, endpoints, scenario, clock, faults, start-up history);
//! - `api`: the Kubernetes API over that world (routing, one file per verb
//!   family, watch, logs, discovery, tables, access reviews);
//! - `transport`: TLS, the HTTP server per region, the admin endpoint, the
//!   blackhole gate and the state directory.
//!
//! The cockpit (the `pitwall` package) uses it only for `pitwall sim`,
//! `pitwall demo`, its tests and its benchmarks.

mod api;
mod transport;
mod world;

pub use faults::Fault;
pub use world::region::Requests;
/// What a pod serves behind a port-forward; public so a benchmark can
/// reach the same responder directly, without the API server in between.
pub use world::responder::Responder;
pub use world::{faults, scenario};

use scenario::ScenarioFile;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use transport::{admin, server, state, tls};
use world::clock;
use world::region::Region;

/// The default scenario, embedded in the binary.
pub const DEMO_TOML: &str = include_str!("../../assets/scenarios/demo.toml");

/// A parsed and validated scenario (`assets/scenarios/*.toml`).
#[derive(Debug, Clone)]
pub struct Scenario {
    file: ScenarioFile,
}

impl Default for Scenario {
    fn default() -> Scenario {
        Scenario::demo()
    }
}

impl Scenario {
    /// The embedded `assets/scenarios/demo.toml`.
    pub fn demo() -> Scenario {
        match ScenarioFile::parse(DEMO_TOML, "assets/scenarios/demo.toml") {
            Ok(file) => Scenario { file },
            // The embedded file is checked by a unit test; this cannot be
            // reached from outside input.
            Err(e) => panic!("embedded demo scenario is invalid: {e}"),
        }
    }

    /// Parse and validate; errors name the file and the field.
    pub fn load(path: &Path) -> Result<Scenario, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read the scenario: {e}", path.display()))?;
        Scenario::from_toml(&text, &path.display().to_string())
    }

    /// Parse scenario text; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Scenario, String> {
        Ok(Scenario {
            file: ScenarioFile::parse(text, file)?,
        })
    }

    /// Simulated seconds per real second.
    pub fn with_time_scale(mut self, scale: f64) -> Scenario {
        if scale.is_finite() && scale > 0.0 {
            self.file.time_scale = scale.min(10_000.0);
        }
        self
    }

    /// Fill every region up to `pods` pods (benchmarks).
    pub fn with_pods_per_region(mut self, pods: usize) -> Scenario {
        for r in &mut self.file.regions {
            r.pods = Some(pods.min(200_000));
        }
        self
    }

    /// Pod updates per second in every region (event storms).
    pub fn with_churn(mut self, per_second: f64) -> Scenario {
        for r in &mut self.file.regions {
            r.churn_per_second = per_second.clamp(0.0, 100_000.0);
        }
        self
    }

    /// Watch events kept per region (a watch from further back gets 410).
    pub fn with_watch_history(mut self, events: usize) -> Scenario {
        self.file.watch_history = events.max(10);
        self
    }

    pub fn region_names(&self) -> Vec<String> {
        self.file.regions.iter().map(|r| r.name.clone()).collect()
    }

    pub fn time_scale(&self) -> f64 {
        self.file.time_scale
    }
}

/// How a fleet starts.
#[derive(Debug, Clone, Default)]
pub struct FleetOptions {
    /// First port; region i listens on port+i, the admin endpoint on
    /// port+regions, the plain-HTTP metrics on port+regions+1 (default: the
    /// kept ports, else ephemeral ones).
    pub base_port: Option<u16>,
    /// Keep the CA, tokens and ports here across restarts.
    pub state_dir: Option<std::path::PathBuf>,
}

/// Where one simulated region listens.
#[derive(Debug, Clone)]
pub struct RegionEndpoint {
    pub name: String,
    /// The kubeconfig context name (same as the region name).
    pub context: String,
    /// `https://127.0.0.1:PORT`
    pub url: String,
    pub port: u16,
    pub token: String,
    /// `https://127.0.0.1:PORT` of the region's Elasticsearch endpoint
    /// (same CA; basic auth `elastic:<token>`, or `ApiKey`/`Bearer <token>`).
    pub es_url: String,
    pub es_port: u16,
}

/// A running fleet: one HTTPS listener per region. Dropping it stops it.
pub struct Fleet {
    endpoints: Vec<RegionEndpoint>,
    regions: Vec<Arc<Region>>,
    ca_pem: String,
    admin_token: String,
    admin_port: u16,
    metrics_port: u16,
    stop: CancellationToken,
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn random_token(rng: &mut fastrand::Rng) -> String {
    format!("{:016x}{:016x}", rng.u64(..), rng.u64(..))
}

impl Fleet {
    /// Start every region of `scenario` on 127.0.0.1 (ephemeral ports unless
    /// `base_port` is given).
    pub async fn start(scenario: Scenario, base_port: Option<u16>) -> Result<Fleet, String> {
        Fleet::start_with(
            scenario,
            FleetOptions {
                base_port,
                state_dir: None,
            },
        )
        .await
    }

    /// Start with options: ports, and a state directory whose CA, tokens
    /// and ports a restarted fleet keeps.
    pub async fn start_with(scenario: Scenario, opts: FleetOptions) -> Result<Fleet, String> {
        let kept = match &opts.state_dir {
            Some(d) => state::load(d)?,
            None => None,
        };
        let tls = tls::generate(kept.as_ref().map(|k| tls::KeptCa {
            cert_pem: &k.ca_cert_pem,
            key_pem: &k.ca_key_pem,
        }))?;
        let stop = CancellationToken::new();
        let mut rng = fastrand::Rng::new();
        let admin_token = match &kept {
            Some(k) if !k.admin_token.is_empty() => k.admin_token.clone(),
            _ => random_token(&mut rng),
        };
        let mut endpoints = Vec::new();
        let mut regions = Vec::new();
        let file = scenario.file;
        let mut listeners = Vec::new();
        let kept_region = |name: &str| kept.as_ref().and_then(|k| k.regions.get(name));
        for (i, spec) in file.regions.iter().enumerate() {
            let port = match (opts.base_port, kept_region(&spec.name)) {
                (Some(p), _) => p
                    .checked_add(i as u16)
                    .ok_or_else(|| format!("port {p}+{i} is out of range"))?,
                (None, Some(k)) => k.port,
                (None, None) => 0,
            };
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                .await
                .map_err(|e| {
                    format!(
                        "cannot listen on 127.0.0.1:{port} for region {}: {e}",
                        spec.name
                    )
                })?;
            let port = listener
                .local_addr()
                .map_err(|e| format!("cannot read the listening address: {e}"))?
                .port();
            let token = match kept_region(&spec.name) {
                Some(k) if !k.token.is_empty() => k.token.clone(),
                _ => random_token(&mut rng),
            };
            // The Elasticsearch endpoints follow the admin port.
            let es_port = match (opts.base_port, kept_region(&spec.name)) {
                (Some(p), _) => p
                    .checked_add((file.regions.len() + 1 + i) as u16)
                    .ok_or_else(|| format!("port {p}+{i} is out of range"))?,
                (None, Some(k)) => k.es_port,
                (None, None) => 0,
            };
            let es = tokio::net::TcpListener::bind(("127.0.0.1", es_port))
                .await
                .map_err(|e| {
                    format!(
                        "cannot listen on 127.0.0.1:{es_port} for the Elasticsearch endpoint of region {}: {e}",
                        spec.name
                    )
                })?;
            let es_port = es
                .local_addr()
                .map_err(|e| format!("cannot read the listening address: {e}"))?
                .port();
            listeners.push((i, listener, port, token, es, es_port));
        }
        let admin_port = match (opts.base_port, &kept) {
            (Some(p), _) => p
                .checked_add(file.regions.len() as u16)
                .ok_or_else(|| format!("port {p}+{} is out of range", file.regions.len()))?,
            (None, Some(k)) => k.admin_port,
            (None, None) => 0,
        };
        // Building a big region is CPU work: do it off the async workers,
        // regions in parallel.
        let builds: Vec<_> = listeners
            .iter()
            .map(|(i, _, _, token, _, _)| {
                let (file, i, token) = (file.clone(), *i, token.clone());
                tokio::task::spawn_blocking(move || {
                    let clock = clock::Clock::new(file.time_scale);
                    world::build::build(&file, i, &file.regions[i], clock, token)
                })
            })
            .collect();
        let mut built = Vec::new();
        for b in builds {
            built.push(
                b.await
                    .map_err(|e| format!("building a region failed: {e}"))?,
            );
        }
        for ((i, listener, port, token, es, es_port), mut region) in
            listeners.into_iter().zip(built)
        {
            let spec = &file.regions[i];
            region.admin_token = admin_token.clone();
            let region = Arc::new(region);
            let timeline: Vec<(f64, Fault)> = file
                .faults
                .iter()
                .filter(|f| f.region == spec.name)
                .filter_map(|f| Fault::from_timed(f).map(|x| (f.at, x)))
                .collect();
            server::spawn(
                region.clone(),
                listener,
                tls.config.clone(),
                stop.clone(),
                server::Service::Kube,
            );
            server::spawn(
                region.clone(),
                es,
                tls.config.clone(),
                stop.clone(),
                server::Service::Es,
            );
            server::spawn_ticker(
                region.clone(),
                timeline,
                spec.churn_per_second,
                stop.clone(),
            );
            endpoints.push(RegionEndpoint {
                name: spec.name.clone(),
                context: spec.name.clone(),
                url: format!("https://127.0.0.1:{port}"),
                port,
                token,
                es_url: format!("https://127.0.0.1:{es_port}"),
                es_port,
            });
            regions.push(region);
        }
        let admin = tokio::net::TcpListener::bind(("127.0.0.1", admin_port))
            .await
            .map_err(|e| {
                format!("cannot listen on 127.0.0.1:{admin_port} for the admin endpoint: {e}")
            })?;
        let admin_port = admin
            .local_addr()
            .map_err(|e| format!("cannot read the listening address: {e}"))?
            .port();
        // node_exporter's /metrics per node, plain HTTP for a real Prometheus
        let metrics_port = match (opts.base_port, &kept) {
            // after the regions, the admin port and the Elasticsearch ports
            (Some(p), _) => p
                .checked_add(2 * file.regions.len() as u16 + 1)
                .ok_or_else(|| {
                    format!("port {p}+{} is out of range", 2 * file.regions.len() + 1)
                })?,
            (None, Some(k)) => k.metrics_port,
            (None, None) => 0,
        };
        let metrics = tokio::net::TcpListener::bind(("127.0.0.1", metrics_port))
            .await
            .map_err(|e| {
                format!("cannot listen on 127.0.0.1:{metrics_port} for the metrics endpoint: {e}")
            })?;
        let metrics_port = metrics
            .local_addr()
            .map_err(|e| format!("cannot read the listening address: {e}"))?
            .port();
        transport::metrics::spawn_listener(regions.clone(), metrics, stop.clone());
        if let Some(dir) = &opts.state_dir {
            let kept = state::Kept {
                ca_cert_pem: tls.ca_pem.clone(),
                ca_key_pem: tls.ca_key_pem.clone(),
                admin_token: admin_token.clone(),
                admin_port,
                metrics_port,
                regions: endpoints
                    .iter()
                    .map(|e: &RegionEndpoint| {
                        (
                            e.name.clone(),
                            state::KeptRegion {
                                port: e.port,
                                token: e.token.clone(),
                                es_port: e.es_port,
                            },
                        )
                    })
                    .collect(),
            };
            state::save(dir, &kept)?;
        }
        admin::spawn_listener(
            regions.clone(),
            admin,
            tls.config.clone(),
            admin_token.clone(),
            stop.clone(),
        );
        Ok(Fleet {
            endpoints,
            regions,
            ca_pem: tls.ca_pem,
            admin_token,
            admin_port,
            metrics_port,
            stop,
        })
    }

    pub fn regions(&self) -> &[RegionEndpoint] {
        &self.endpoints
    }

    /// The CA certificate (PEM) that signed every region's server cert.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Bearer token of the `/_sim/...` admin endpoints (all regions).
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// `https://127.0.0.1:PORT` of the fleet's admin endpoint, reachable
    /// under every fault: `/_sim/regions/{region}/faults` and so on.
    pub fn admin_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.admin_port)
    }

    /// `http://127.0.0.1:PORT`: `/metrics/{region}/{node}` is that node's
    /// node_exporter text (plain HTTP, for a real Prometheus).
    pub fn metrics_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.metrics_port)
    }

    /// A Prometheus configuration scraping every simulated node_exporter
    /// every `scrape_interval_s` seconds.
    pub fn prometheus_config(&self, scrape_interval_s: f64) -> String {
        transport::metrics::prometheus_config(&self.regions, self.metrics_port, scrape_interval_s)
    }

    /// A kubeconfig (YAML) with one context per region, CA data embedded.
    pub fn kubeconfig_yaml(&self) -> String {
        use base64::Engine;
        let ca = base64::engine::general_purpose::STANDARD.encode(self.ca_pem.as_bytes());
        let mut y = String::from("apiVersion: v1\nkind: Config\npreferences: {}\nclusters:\n");
        for e in &self.endpoints {
            y.push_str(&format!(
                "- name: {}\n  cluster:\n    server: {}\n    certificate-authority-data: {ca}\n",
                e.name, e.url
            ));
        }
        y.push_str("contexts:\n");
        for e in &self.endpoints {
            y.push_str(&format!(
                "- name: {}\n  context:\n    cluster: {}\n    user: {}\n    namespace: default\n",
                e.context, e.name, e.name
            ));
        }
        if let Some(first) = self.endpoints.first() {
            y.push_str(&format!("current-context: {}\n", first.context));
        }
        y.push_str("users:\n");
        for e in &self.endpoints {
            y.push_str(&format!(
                "- name: {}\n  user:\n    token: {}\n",
                e.name, e.token
            ));
        }
        y
    }

    fn region(&self, name: &str) -> Result<&Arc<Region>, String> {
        self.regions
            .iter()
            .find(|r| r.name == name)
            .ok_or_else(|| format!("no region {name:?}"))
    }

    /// Put a region into a fault (see `Fault`).
    pub fn set_fault(&self, region: &str, fault: Fault) -> Result<(), String> {
        apply_fault(self.region(region)?, &fault)
    }

    /// Clear every API-level fault of a region (workload faults stay).
    pub fn clear_faults(&self, region: &str) -> Result<(), String> {
        clear_faults(self.region(region)?);
        Ok(())
    }

    /// API requests a region has received so far.
    pub fn requests(&self, region: &str) -> Result<Requests, String> {
        Ok(self.region(region)?.requests.get())
    }

    /// Drop a region's watch history: every watch resumed from an older
    /// version gets 410 Expired.
    pub fn compact(&self, region: &str) -> Result<u64, String> {
        let mut st = self.region(region)?.lock();
        st.store.compact_all();
        Ok(st.store.rv())
    }

    /// Watch requests a region has served since start.
    pub fn watch_requests(&self, region: &str) -> Result<u64, String> {
        Ok(self
            .region(region)?
            .watch_requests
            .load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Simulated seconds since the fleet started.
    pub fn elapsed(&self) -> f64 {
        self.regions
            .first()
            .map(|r| r.clock.elapsed())
            .unwrap_or(0.0)
    }
}

pub(crate) fn apply_fault(region: &Region, fault: &Fault) -> Result<(), String> {
    if region.faults().apply(fault) {
        if *fault == Fault::HostileStrings {
            region.lock().hostile = true;
        }
        if *fault == Fault::Blackhole {
            region.gate.set_shut(true);
        }
        region.wake.notify_one();
        return Ok(());
    }
    let clock = region.clock.clone();
    let mut st = region.lock();
    let r = st.apply_workload_fault(&clock, fault);
    drop(st);
    region.wake.notify_one();
    r
}

pub(crate) fn clear_faults(region: &Region) {
    let mut f = region.faults();
    // Closing log streams is an act, not a state: clearing does not repeat it.
    *f = faults::Faults {
        log_epoch: f.log_epoch,
        ..Default::default()
    };
    drop(f);
    region.gate.set_shut(false);
    region.lock().hostile = false;
    region.wake.notify_one();
}

/// Write a file only its owner can read (it holds tokens).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    f.write_all(bytes)
}

/// What `pitwall sim` was asked for (its command line, mapped by the CLI).
#[derive(Debug, Clone, Default)]
pub struct SimOptions {
    /// Scenario file (default: the embedded demo).
    pub scenario: Option<std::path::PathBuf>,
    /// Where to write the kubeconfig (0600).
    pub kubeconfig_out: Option<std::path::PathBuf>,
    /// First port; region i listens on port+i, the admin endpoint after them.
    pub port: Option<u16>,
    /// Overrides the scenario's time_scale.
    pub time_scale: Option<f64>,
    /// Overrides every region's pod count.
    pub pods_per_region: Option<usize>,
    /// Pod updates per second in every region.
    pub churn: Option<f64>,
    /// Keep the CA, tokens and ports here across restarts.
    pub state_dir: Option<std::path::PathBuf>,
    /// Where to write a Prometheus configuration scraping the fleet.
    pub prometheus_config_out: Option<std::path::PathBuf>,
}

/// Scrape interval of the Prometheus configuration `pitwall sim` writes.
pub const SCRAPE_INTERVAL_S: f64 = 5.0;

/// `pitwall sim`: run until Ctrl-C / SIGTERM.
pub async fn run_standalone(args: SimOptions) -> Result<ExitCode, String> {
    let mut scenario = match &args.scenario {
        Some(p) => Scenario::load(p)?,
        None => Scenario::demo(),
    };
    if let Some(s) = args.time_scale {
        if !(s.is_finite() && s > 0.0) {
            return Err(format!("--time-scale must be > 0, got {s}"));
        }
        scenario = scenario.with_time_scale(s);
    }
    if let Some(n) = args.pods_per_region {
        scenario = scenario.with_pods_per_region(n);
    }
    if let Some(c) = args.churn {
        if !(c.is_finite() && c >= 0.0) {
            return Err(format!("--churn must be >= 0, got {c}"));
        }
        scenario = scenario.with_churn(c);
    }
    let fleet = Fleet::start_with(
        scenario,
        FleetOptions {
            base_port: args.port,
            state_dir: args.state_dir.clone(),
        },
    )
    .await?;
    if let Some(path) = &args.kubeconfig_out {
        write_private(path, fleet.kubeconfig_yaml().as_bytes())
            .map_err(|e| format!("{}: cannot write the kubeconfig: {e}", path.display()))?;
        println!("kubeconfig: {}", path.display());
    }
    if let Some(path) = &args.prometheus_config_out {
        write_private(path, fleet.prometheus_config(SCRAPE_INTERVAL_S).as_bytes()).map_err(
            |e| {
                format!(
                    "{}: cannot write the Prometheus configuration: {e}",
                    path.display()
                )
            },
        )?;
        println!("prometheus config: {}", path.display());
    }
    for e in fleet.regions() {
        println!("region {:<14} context {:<14} {}", e.name, e.context, e.url);
    }
    for e in fleet.regions() {
        println!("es     {:<14} {}", e.name, e.es_url);
    }
    println!(
        "es auth: basic {}:<the region's token>, or ApiKey/Bearer <the region's token>",
        api::es::USER
    );
    println!("admin {}", fleet.admin_url());
    println!("admin token: {}", fleet.admin_token());
    println!("metrics {}", fleet.metrics_url());
    println!("ready");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("cannot watch for SIGTERM: {e}"))?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    drop(fleet);
    Ok(ExitCode::SUCCESS)
}
