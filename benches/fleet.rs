//! Fleet-scale benchmarks: targets P1-P8 of `PERFORMANCE.md`, results in
//! `docs/BENCHMARKS.md`.
//!
//! `cargo bench --bench fleet` runs the full version (4 regions x 12,500
//! pods); `cargo test --bench fleet -- --quick` a reduced one that only
//! proves every row still completes. The simulator runs as its own process
//! (`pitwall sim`); the cockpit runs headless in this process through its
//! real sources, reducers and drawing into a `CountingBackend`, with the
//! main loop's frame pacing (`app::FRAME`, `app::MAX_DRAIN`, `app::next_wake`).
//! One Markdown table row is printed per scenario. Nothing is asserted on
//! timings: the numbers are read by people.

mod fleet_support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fleet_support::{cpu_seconds, fmt_ms, percentile, rss_kb, Sim};
use pitwall::app::{self, Cockpit};
use pitwall::bench_support::CountingBackend;
use pitwall::config::RegionConfig;
use pitwall::fleet::client::{ClientSpec, KubeconfigSource};
use pitwall::fleet::{self, Clients, SourceOptions};
use pitwall::keymap::Keymap;
use pitwall::model::{ContainerRow, ContainerState, PodRow};
use pitwall::msg::{Health, Msg, PodChange, PodUpdate};
use pitwall::theme::{ColorSupport, Styles};
use ratatui::Terminal;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How big each scenario is.
struct Plan {
    quick: bool,
    /// `--only P2,P5`: just these scenarios (P3 and P6-P8 also sync P2).
    only: Option<Vec<String>>,
    pods_per_region: usize,
    p1_runs: usize,
    p2_runs: usize,
    kubectl_runs: usize,
    /// Pod updates per second across all regions.
    storm_rate: f64,
    storm: Duration,
    idle: Duration,
    p5_rows: usize,
    p5_frames: usize,
}

impl Plan {
    fn full() -> Plan {
        Plan {
            quick: false,
            only: None,
            pods_per_region: 12_500,
            p1_runs: 20,
            p2_runs: 3,
            // kubectl needs minutes for 50,000 pods on this machine
            kubectl_runs: 1,
            storm_rate: 5_000.0,
            storm: Duration::from_secs(60),
            idle: Duration::from_secs(30),
            p5_rows: 100_000,
            p5_frames: 1_000,
        }
    }

    fn quick() -> Plan {
        Plan {
            quick: true,
            only: None,
            pods_per_region: 1_000,
            p1_runs: 5,
            p2_runs: 2,
            kubectl_runs: 1,
            storm_rate: 1_000.0,
            storm: Duration::from_secs(8),
            idle: Duration::from_secs(5),
            p5_rows: 20_000,
            p5_frames: 100,
        }
    }

    fn wants(&self, id: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|o| o.eq_ignore_ascii_case(id)))
    }

    fn pods(&self) -> usize {
        self.pods_per_region * REGIONS.len()
    }
}

const REGIONS: [&str; 4] = ["eu-west", "us-east", "ap-south", "sa-east"];
/// The screen of P5 and P7 (and every other scenario).
const SIZE: (u16, u16) = (200, 50);
/// Bound on any wait that only ends when something is broken.
const PATIENCE: Duration = Duration::from_secs(600);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    // `cargo bench` passes --bench; a plain `cargo test` of this target must
    // not start a 10-minute run.
    if !quick && !args.iter().any(|a| a == "--bench") {
        println!("fleet: run `cargo bench --bench fleet` or `cargo test --bench fleet -- --quick`");
        return ExitCode::SUCCESS;
    }
    let mut plan = if quick { Plan::quick() } else { Plan::full() };
    plan.only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(|list| list.split(',').map(|s| s.trim().to_string()).collect());
    // the runtime `main.rs` gives the cockpit
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fleet: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(&plan)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fleet: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One table row, printed at once so a later failure keeps earlier rows.
fn row(id: &str, scenario: &str, measured: &str, target: &str, met: Option<bool>) {
    let met = match met {
        Some(true) => "yes",
        Some(false) => "**no**",
        None => "n/a",
    };
    println!("| {id} | {scenario} | {measured} | {target} | {met} |");
    let _ = std::io::stdout().flush();
}

async fn run(plan: &Plan) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let baseline_kb = rss_kb().unwrap_or(0);
    println!(
        "\nfleet benchmark ({}): {} regions x {} pods, terminal {}x{}\n",
        if plan.quick { "quick" } else { "full" },
        REGIONS.len(),
        plan.pods_per_region,
        SIZE.0,
        SIZE.1
    );
    println!("| id | scenario | measured | target | met |");
    println!("|---|---|---|---|---|");

    let regions = region_configs();
    if ["P1", "P2", "P3", "P6", "P7", "P8"]
        .iter()
        .any(|id| plan.wants(id))
    {
        let sim = Sim::start(dir.path(), "steady", &REGIONS, plan.pods_per_region, 0.0)?;
        let specs = client_specs(&sim.kubeconfig);
        if plan.wants("P1") {
            p1_first_frame(plan, &regions, &specs).await;
        }
        // P3 and P6-P8 run on P2's first synced cockpit
        if let Some(mut d) = p2_synced(plan, &regions, &specs, &sim).await {
            if plan.wants("P3") {
                p3_steady_rss(&mut d, baseline_kb).await;
            }
            if plan.wants("P6") {
                p6_idle(plan, &mut d).await;
            }
            if plan.wants("P7") {
                p7_bytes(&mut d).await;
            }
            if plan.wants("P8") {
                p8_stale(&mut d, &sim, dir.path()).await;
            }
        } else {
            for id in ["P3", "P6", "P7", "P8"] {
                row(id, "needs a synced fleet", "P2 did not sync", "", None);
            }
        }
    }

    if plan.wants("P4") {
        let storm_sim = Sim::start(
            dir.path(),
            "storm",
            &REGIONS,
            plan.pods_per_region,
            plan.storm_rate / REGIONS.len() as f64,
        )?;
        p4_storm(plan, &regions, &client_specs(&storm_sim.kubeconfig)).await;
    }

    if plan.wants("P5") {
        p5_large_table(plan);
    }
    println!();
    Ok(())
}

fn region_configs() -> Vec<RegionConfig> {
    REGIONS
        .iter()
        .map(|r| RegionConfig {
            name: r.to_string(),
            context: r.to_string(),
            ..RegionConfig::default()
        })
        .collect()
}

fn client_specs(kubeconfig: &Path) -> Vec<ClientSpec> {
    REGIONS
        .iter()
        .map(|r| ClientSpec {
            kubeconfig: KubeconfigSource::File(Some(kubeconfig.to_path_buf())),
            context: r.to_string(),
            namespaces: Vec::new(),
        })
        .collect()
}

/// What the loop counted while it ran.
#[derive(Default)]
struct Stats {
    /// Time to refresh the view and draw, per frame.
    frames: Vec<Duration>,
    /// Injected key -> the end of the frame that shows it.
    key_latency: Vec<Duration>,
    pending_keys: Vec<Instant>,
    /// `ListStart` messages per region: the first list plus every relist.
    list_starts: Vec<u64>,
    upserts: u64,
}

/// The cockpit, headless, with its sources running: the main loop of
/// `app::event_loop` with a counting terminal and injected keys.
struct Driver {
    cockpit: Cockpit,
    term: Terminal<CountingBackend>,
    rx: mpsc::Receiver<Msg>,
    keys: mpsc::Receiver<(Instant, KeyEvent)>,
    key_tx: mpsc::Sender<(Instant, KeyEvent)>,
    sources: Vec<JoinHandle<()>>,
    dirty: bool,
    last_draw: Option<Instant>,
    stats: Stats,
}

impl Drop for Driver {
    fn drop(&mut self) {
        for h in &self.sources {
            h.abort();
        }
    }
}

enum Wake {
    Msg(Msg),
    Key(Instant, KeyEvent),
    Timer,
    Closed,
}

impl Driver {
    /// What `app::run` does before its loop: keymap, theme, state, the
    /// terminal, then the sources.
    fn start(regions: &[RegionConfig], specs: &[ClientSpec], opts: SourceOptions) -> Driver {
        let (keymap, _) = Keymap::load("default", None);
        let (styles, _) = Styles::load("default", None, ColorSupport::Ansi256);
        let mut cockpit = Cockpit::new(regions, keymap, styles, app::wall_now());
        let backend = CountingBackend::new(SIZE.0, SIZE.1, false);
        // a fixed-size backend cannot fail to report its size
        let term = match Terminal::new(backend) {
            Ok(t) => t,
            Err(e) => panic!("counting terminal: {e}"),
        };
        cockpit.handle(Msg::Resize(SIZE.0, SIZE.1));
        let (tx, rx) = mpsc::channel(app::CHANNEL);
        let sources = fleet::spawn_all(specs.to_vec(), tx, Clients::new(regions.len()), opts);
        let (key_tx, keys) = mpsc::channel(64);
        Driver {
            cockpit,
            term,
            rx,
            keys,
            key_tx,
            sources,
            dirty: true,
            last_draw: None,
            stats: Stats {
                list_starts: vec![0; regions.len()],
                ..Stats::default()
            },
        }
    }

    fn draw(&mut self) -> Result<(), String> {
        let t = Instant::now();
        self.cockpit.state.now = app::wall_now();
        self.cockpit
            .draw(&mut self.term)
            .map_err(|e| format!("draw: {e}"))?;
        let end = Instant::now();
        self.stats.frames.push(end - t);
        for k in self.stats.pending_keys.drain(..) {
            self.stats.key_latency.push(end - k);
        }
        self.dirty = false;
        self.last_draw = Some(end);
        Ok(())
    }

    fn on_msg(&mut self, msg: Msg) {
        if let Msg::Pods { region, update } = &msg {
            match update {
                PodUpdate::ListStart { .. } => {
                    if let Some(n) = self.stats.list_starts.get_mut(*region) {
                        *n += 1;
                    }
                }
                PodUpdate::Changes(c) => self.stats.upserts += c.len() as u64,
                _ => {}
            }
        }
        // effects (describe fetches) are never asked for by these keys
        let _ = self.cockpit.handle(msg);
    }

    /// Runs the loop until `done` holds right after a frame (true) or
    /// `deadline` passes (false).
    async fn run_until(
        &mut self,
        deadline: Instant,
        mut done: impl FnMut(&Driver) -> bool,
    ) -> Result<bool, String> {
        loop {
            let key_pressed = !self.stats.pending_keys.is_empty();
            if self.dirty
                && (key_pressed || self.last_draw.is_none_or(|t| t.elapsed() >= app::FRAME))
            {
                self.draw()?;
                if done(self) {
                    return Ok(true);
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            let wake = app::next_wake(&self.cockpit, self.dirty, self.last_draw);
            let until = wake.map_or(deadline, |w| w.min(deadline));
            let ev = tokio::select! {
                m = self.rx.recv() => m.map_or(Wake::Closed, Wake::Msg),
                k = self.keys.recv() => k.map_or(Wake::Closed, |(at, key)| Wake::Key(at, key)),
                _ = tokio::time::sleep_until(until.into()) => Wake::Timer,
            };
            match ev {
                Wake::Msg(msg) => {
                    self.on_msg(msg);
                    let mut n = 1;
                    while n < app::MAX_DRAIN {
                        let Ok(msg) = self.rx.try_recv() else { break };
                        self.on_msg(msg);
                        n += 1;
                    }
                    self.dirty = true;
                }
                Wake::Key(at, key) => {
                    self.cockpit.state.now = app::wall_now();
                    let _ = self.cockpit.handle(Msg::Key(key));
                    self.stats.pending_keys.push(at);
                    self.dirty = true;
                }
                Wake::Timer => {
                    if !self.dirty && wake.is_some_and(|w| w <= Instant::now()) {
                        self.cockpit.handle(Msg::Tick(app::wall_now()));
                        self.dirty = true;
                    }
                }
                Wake::Closed => return Err("every source stopped".into()),
            }
        }
    }

    fn synced(&self, pods: usize) -> bool {
        let s = &self.cockpit.state;
        s.regions.iter().all(|r| r.health.is_live()) && s.store.len() >= pods
    }

    /// Presses a key and draws at once (P7: bytes, not pacing).
    fn key_and_draw(&mut self, code: KeyCode) -> Result<(), String> {
        let _ = self.cockpit.handle(Msg::Key(key(code)));
        self.draw()
    }
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// P1: configuration, state, terminal and sources set up, first frame drawn.
async fn p1_first_frame(plan: &Plan, regions: &[RegionConfig], specs: &[ClientSpec]) {
    let mut times = Vec::new();
    for _ in 0..plan.p1_runs {
        let t = Instant::now();
        let mut d = Driver::start(regions, specs, SourceOptions::default());
        match d.run_until(t + PATIENCE, |_| true).await {
            Ok(true) => times.push(t.elapsed()),
            _ => break,
        }
        drop(d);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if times.len() < plan.p1_runs {
        row(
            "P1",
            "start -> first frame",
            "did not draw",
            "<= 100 ms",
            None,
        );
        return;
    }
    let p99 = percentile(&mut times, 99.0);
    row(
        "P1",
        "start -> first frame (in-process: keymap, theme, state, sources spawned)",
        &format!(
            "n={} median {} p99 {}",
            times.len(),
            fmt_ms(percentile(&mut times, 50.0)),
            fmt_ms(p99)
        ),
        "<= 100 ms",
        Some(p99 <= Duration::from_millis(100)),
    );
}

/// P2: start -> every region live with every pod, drawn; against kubectl.
/// Returns the first run's cockpit, synced, for P3 and P6-P8.
async fn p2_synced(
    plan: &Plan,
    regions: &[RegionConfig],
    specs: &[ClientSpec],
    sim: &Sim,
) -> Option<Driver> {
    let pods = plan.pods();
    let mut times = Vec::new();
    let mut first = None;
    // the cockpit's own CPU per run: what is not waiting on the simulator
    let mut cpu = Vec::new();
    for i in 0..plan.p2_runs {
        let t = Instant::now();
        let cpu_start = cpu_seconds();
        let mut d = Driver::start(regions, specs, SourceOptions::default());
        match d.run_until(t + PATIENCE, |d| d.synced(pods)).await {
            Ok(true) => {
                eprintln!("fleet: P2 run {}: {}", i + 1, fmt_ms(t.elapsed()));
                times.push(t.elapsed());
                if let (Some(a), Some(b)) = (cpu_start, cpu_seconds()) {
                    cpu.push(Duration::from_secs_f64(b - a));
                }
            }
            Ok(false) => break,
            Err(e) => {
                eprintln!("fleet: P2: {e}");
                break;
            }
        }
        if i == 0 {
            first = Some(d);
        }
    }
    if times.len() < plan.p2_runs {
        row(
            "P2",
            "start -> all regions synced and drawn",
            "did not sync",
            "<= 3 s",
            None,
        );
        return first;
    }
    let mut kubectl = Vec::new();
    let mut kubectl_err = None;
    for _ in 0..plan.kubectl_runs {
        match sim.kubectl_get_all_pods() {
            Ok(t) => kubectl.push(t),
            Err(e) => {
                kubectl_err = Some(e);
                break;
            }
        }
    }
    let median = percentile(&mut times, 50.0);
    let p99 = percentile(&mut times, 99.0);
    let (vs, ratio_ok) = match kubectl_err {
        Some(e) => (format!("; kubectl: {e}"), None),
        None => {
            let k = percentile(&mut kubectl, 50.0);
            let ratio = median.as_secs_f64() / k.as_secs_f64().max(1e-9);
            (
                format!(
                    "; kubectl get pods -A -o json, 4 contexts in parallel: median {} (n={}); ratio {ratio:.2}",
                    fmt_ms(k),
                    kubectl.len()
                ),
                Some(ratio <= 0.5),
            )
        }
    };
    row(
        "P2",
        &format!("start -> {pods} pods in 4 regions synced and drawn"),
        &format!(
            "n={} median {} p99 {} (cockpit CPU median {}){vs}",
            times.len(),
            fmt_ms(median),
            fmt_ms(p99),
            fmt_ms(percentile(&mut cpu, 50.0)),
        ),
        "<= 3 s and ratio <= 0.5",
        ratio_ok.map(|r| r && p99 <= Duration::from_secs(3)),
    );
    first
}

/// P3: RSS with every pod held, after the lists settle.
async fn p3_steady_rss(d: &mut Driver, baseline_kb: u64) {
    let _ = d
        .run_until(Instant::now() + Duration::from_secs(3), |_| false)
        .await;
    let Some(kb) = rss_kb() else {
        row("P3", "steady RSS", "/proc/self/status unreadable", "", None);
        return;
    };
    let pods = d.cockpit.state.store.len();
    let target_kb = 60 * 1024 + 3 * pods as u64;
    row(
        "P3",
        &format!("steady RSS with {pods} pods"),
        &format!(
            "{:.1} MB ({:.2} KB/pod over the {:.1} MB before the cockpit started)",
            kb as f64 / 1024.0,
            kb.saturating_sub(baseline_kb) as f64 / pods.max(1) as f64,
            baseline_kb as f64 / 1024.0
        ),
        &format!("<= {:.0} MB", target_kb as f64 / 1024.0),
        Some(kb <= target_kb),
    );
}

/// P6: four live regions, nothing changing: draws, bytes, CPU.
async fn p6_idle(plan: &Plan, d: &mut Driver) {
    let (draws, bytes) = (d.term.backend().draws(), d.term.backend().bytes());
    let cpu = cpu_seconds();
    let t = Instant::now();
    let upserts = d.stats.upserts;
    let r = d.run_until(t + plan.idle, |_| false).await;
    let secs = t.elapsed().as_secs_f64();
    let draws = d.term.backend().draws() - draws;
    let bytes = d.term.backend().bytes() - bytes;
    let measured = match (r, cpu, cpu_seconds()) {
        (Ok(_), Some(a), Some(b)) => {
            let pct = (b - a) / secs * 100.0;
            let changes = d.stats.upserts - upserts;
            row(
                "P6",
                &format!("idle {secs:.0} s, 4 regions live"),
                &format!(
                    "{draws} draws, {bytes} bytes, {pct:.2} % of a core ({changes} pod changes arrived)"
                ),
                "0 draws, 0 bytes, <= 0.5 %",
                Some(draws == 0 && bytes == 0 && pct <= 0.5),
            );
            return;
        }
        (Err(e), _, _) => e,
        _ => "/proc/self/stat unreadable".into(),
    };
    row("P6", "idle, 4 regions live", &measured, "", None);
}

/// P7: bytes for one changed cell, a one-row scroll and a full repaint.
async fn p7_bytes(d: &mut Driver) {
    let r = p7_measure(d);
    match r {
        Ok((cell, scroll, full)) => row(
            "P7",
            &format!("bytes written at {}x{}", SIZE.0, SIZE.1),
            &format!("one changed cell {cell} B; one-row scroll {scroll} B; full repaint {full} B"),
            "<= 64 B; <= 8 KB; <= 20 KB",
            Some(cell <= 64 && scroll <= 8 * 1024 && full <= 20 * 1024),
        ),
        Err(e) => row("P7", "bytes written", &e, "", None),
    }
}

fn p7_measure(d: &mut Driver) -> Result<(u64, u64, u64), String> {
    d.draw()?;
    let bytes = |d: &Driver| d.term.backend().bytes();
    // one cell: a visible pod's restart count 0 -> 1 (no restart time shown)
    let view = d.cockpit.state.store.view();
    let cursor = d.cockpit.state.ui.pods.cursor;
    let slot = *view
        .get(cursor + 2)
        .ok_or("fewer than three pods on screen")?;
    let mut pod = d
        .cockpit
        .state
        .store
        .get(slot)
        .cloned()
        .ok_or("no pod in the view's slot")?;
    pod.restarts += 1;
    pod.last_restart = None;
    let region = pod.region;
    let b = bytes(d);
    d.cockpit.handle(Msg::Pods {
        region,
        update: PodUpdate::Changes(vec![PodChange::Upsert(pod)]),
    });
    d.draw()?;
    let cell = bytes(d) - b;

    // scroll: cursor to the last row on screen, then one more
    let page = d.cockpit.state.ui.pods.page.get();
    let offset = d.cockpit.state.ui.pods.offset.get();
    while d.cockpit.state.ui.pods.cursor + 1 < offset + page {
        d.key_and_draw(KeyCode::Down)?;
    }
    let b = bytes(d);
    d.key_and_draw(KeyCode::Down)?;
    if d.cockpit.state.ui.pods.offset.get() != offset + 1 {
        return Err("the table did not scroll by one row".into());
    }
    let scroll = bytes(d) - b;

    let b = bytes(d);
    d.cockpit.state.ui.full_redraw = true;
    d.draw()?;
    let full = bytes(d) - b;
    Ok((cell, scroll, full))
}

/// P8: the network path to one region dies silently (`blackhole`: no
/// bytes, no FIN, no RST); time until its badge says stale, and whether the
/// other regions stayed live meanwhile.
async fn p8_stale(d: &mut Driver, sim: &Sim, dir: &Path) {
    const WHAT: &str = "blackholed region -> stale badge";
    let client = match sim.admin_client(dir).await {
        Ok(c) => c,
        Err(e) => {
            row("P8", WHAT, &e, "<= 15 s", None);
            return;
        }
    };
    let region = 0;
    if let Err(e) = Sim::fault(&client, REGIONS[region], r#"{"kind":"blackhole"}"#).await {
        row("P8", WHAT, &e, "<= 15 s", None);
        return;
    }
    let t = Instant::now();
    let mut others_live = true;
    let stale = d
        .run_until(t + Duration::from_secs(120), |d| {
            let regions = &d.cockpit.state.regions;
            others_live &= regions.iter().skip(1).all(|r| r.health.is_live());
            matches!(regions[region].health, Health::Stale { .. })
        })
        .await;
    let took = t.elapsed();
    let _ = Sim::clear_faults(&client, REGIONS[region]).await;
    // back to live on its own before the next scenario
    let _ = d
        .run_until(Instant::now() + Duration::from_secs(60), |d| {
            d.cockpit.state.regions[region].health.is_live()
        })
        .await;
    match stale {
        Ok(true) => row(
            "P8",
            &format!("{}'s path blackholed -> stale badge drawn", REGIONS[region]),
            &format!(
                "{:.1} s (dead_after {} s); other regions {}",
                took.as_secs_f64(),
                SourceOptions::default().dead_after.as_secs(),
                if others_live {
                    "stayed live"
                } else {
                    "**left live**"
                }
            ),
            "<= 15 s, others unaffected",
            Some(took <= Duration::from_secs(15) && others_live),
        ),
        Ok(false) => row(
            "P8",
            WHAT,
            "no stale badge within 120 s",
            "<= 15 s",
            Some(false),
        ),
        Err(e) => row("P8", WHAT, &e, "<= 15 s", None),
    }
}

/// P4: a storm of pod updates across every region: frame time, key ->
/// frame latency, relists, RSS growth.
async fn p4_storm(plan: &Plan, regions: &[RegionConfig], specs: &[ClientSpec]) {
    let name = format!(
        "storm {:.0} updates/s for {} s",
        plan.storm_rate,
        plan.storm.as_secs()
    );
    let target = "frame p99 <= 16 ms, key p99 <= 50 ms, 0 relists, RSS +10 %";
    let mut d = Driver::start(regions, specs, SourceOptions::default());
    match d
        .run_until(Instant::now() + PATIENCE, |d| d.synced(plan.pods()))
        .await
    {
        Ok(true) => {}
        _ => {
            row("P4", &name, "did not sync under the storm", target, None);
            return;
        }
    }
    // settle, then count only the storm window
    let _ = d
        .run_until(Instant::now() + Duration::from_secs(2), |_| false)
        .await;
    d.stats.frames.clear();
    d.stats.key_latency.clear();
    d.stats.pending_keys.clear();
    let relists_before: u64 = d.stats.list_starts.iter().sum();
    let upserts_before = d.stats.upserts;
    let rss_before = rss_kb().unwrap_or(0);
    let cpu_before = cpu_seconds();
    let t = Instant::now();
    let end = t + plan.storm;
    let injector = spawn_keys(d.key_tx.clone(), end);
    let mut rss_max = rss_before;
    let mut last_sample = t;
    let r = d
        .run_until(end, |_| {
            if last_sample.elapsed() >= Duration::from_secs(1) {
                rss_max = rss_max.max(rss_kb().unwrap_or(0));
                last_sample = Instant::now();
            }
            false
        })
        .await;
    injector.abort();
    let secs = t.elapsed().as_secs_f64();
    if let Err(e) = r {
        row("P4", &name, &e, target, None);
        return;
    }
    let cpu = match (cpu_before, cpu_seconds()) {
        (Some(a), Some(b)) => format!("{:.0} % of a core", (b - a) / secs * 100.0),
        _ => "CPU unreadable".into(),
    };
    let rss_after = rss_kb().unwrap_or(0);
    rss_max = rss_max.max(rss_after);
    let relists = d.stats.list_starts.iter().sum::<u64>() - relists_before;
    let rate = (d.stats.upserts - upserts_before) as f64 / secs;
    let frames = d.stats.frames.len();
    let frame_p50 = percentile(&mut d.stats.frames, 50.0);
    let frame_p99 = percentile(&mut d.stats.frames, 99.0);
    let keys = d.stats.key_latency.len();
    let key_p50 = percentile(&mut d.stats.key_latency, 50.0);
    let key_p99 = percentile(&mut d.stats.key_latency, 99.0);
    let growth = (rss_max as f64 - rss_before as f64) / (rss_before.max(1) as f64) * 100.0;
    row(
        "P4",
        &name,
        &format!(
            "{rate:.0} updates/s arrived, cockpit {cpu}; frame median {} p99 {} ({frames} frames); key -> frame median {} p99 {} ({keys} keys); {relists} relists; RSS {:.1} -> max {:.1} MB ({growth:+.1} %)",
            fmt_ms(frame_p50),
            fmt_ms(frame_p99),
            fmt_ms(key_p50),
            fmt_ms(key_p99),
            rss_before as f64 / 1024.0,
            rss_max as f64 / 1024.0,
        ),
        target,
        // a storm the simulator could not produce proves nothing
        (rate >= 0.9 * plan.storm_rate).then_some(
            frame_p99 <= Duration::from_millis(16)
                && key_p99 <= Duration::from_millis(50)
                && relists == 0
                && growth <= 10.0
                && keys > 0,
        ),
    );
}

/// Up/down every ~100 ms (jittered) until `end`, like a person browsing.
fn spawn_keys(tx: mpsc::Sender<(Instant, KeyEvent)>, end: Instant) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut rng = fastrand::Rng::with_seed(7);
        let mut down = true;
        while Instant::now() < end {
            tokio::time::sleep(Duration::from_millis(50 + rng.u64(..100))).await;
            let code = if down { KeyCode::Down } else { KeyCode::Up };
            down = !down;
            if tx.send((Instant::now(), key(code))).await.is_err() {
                return;
            }
        }
    })
}

/// P5: one frame at 200x50 with a large table (no network: rows go
/// through the reducers as list pages).
fn p5_large_table(plan: &Plan) {
    let regions = region_configs();
    let (keymap, _) = Keymap::load("default", None);
    let (styles, _) = Styles::load("default", None, ColorSupport::Ansi256);
    let mut cockpit = Cockpit::new(&regions, keymap, styles, app::wall_now());
    cockpit.handle(Msg::Resize(SIZE.0, SIZE.1));
    let mut term = match Terminal::new(CountingBackend::new(SIZE.0, SIZE.1, false)) {
        Ok(t) => t,
        Err(e) => panic!("counting terminal: {e}"),
    };
    let per_region = plan.p5_rows / regions.len();
    for region in 0..regions.len() {
        cockpit.handle(Msg::RegionHealth {
            region,
            feed: pitwall::fleet::health::Feed::PODS,
            health: Health::Live,
        });
        cockpit.handle(Msg::Pods {
            region,
            update: PodUpdate::ListStart { namespace: None },
        });
        for chunk in (0..per_region).collect::<Vec<_>>().chunks(500) {
            let rows = chunk.iter().map(|i| synthetic_pod(region, *i)).collect();
            cockpit.handle(Msg::Pods {
                region,
                update: PodUpdate::ListPage(rows),
            });
        }
        cockpit.handle(Msg::Pods {
            region,
            update: PodUpdate::ListDone { namespace: None },
        });
    }
    let rows = cockpit.state.store.len();
    // wall time per frame, and this thread's CPU time for the same frames:
    // on a shared machine the difference is time spent descheduled
    let mut cpu = Vec::with_capacity(plan.p5_frames);
    let mut draw = |cockpit: &mut Cockpit| -> Result<Duration, String> {
        let (t, c) = (Instant::now(), thread_cpu());
        cockpit.draw(&mut term).map_err(|e| format!("draw: {e}"))?;
        if let (Some(a), Some(b)) = (c, thread_cpu()) {
            cpu.push(b.saturating_sub(a));
        }
        Ok(t.elapsed())
    };
    let result = (|| -> Result<(Vec<Duration>, Vec<Duration>), String> {
        draw(&mut cockpit)?;
        // moving the cursor: rows already sorted, only the screen changes
        let mut moves = Vec::with_capacity(plan.p5_frames);
        for i in 0..plan.p5_frames {
            let code = if (i / 200) % 2 == 0 {
                KeyCode::Down
            } else {
                KeyCode::Up
            };
            let _ = cockpit.handle(Msg::Key(key(code)));
            moves.push(draw(&mut cockpit)?);
        }
        // a pod added per frame: the view is rebuilt and re-sorted first
        let mut changed = Vec::new();
        for i in 0..(plan.p5_frames / 10).max(10) {
            let pod = synthetic_pod(i % regions.len(), per_region + i);
            cockpit.handle(Msg::Pods {
                region: pod.region,
                update: PodUpdate::Changes(vec![PodChange::Upsert(pod)]),
            });
            changed.push(draw(&mut cockpit)?);
        }
        Ok((moves, changed))
    })();
    match result {
        Ok((mut moves, mut changed)) => {
            let p99 = percentile(&mut moves, 99.0);
            let cpu_p99 = percentile(&mut cpu, 99.0);
            row(
                "P5",
                &format!("one frame at {}x{} with {rows} rows", SIZE.0, SIZE.1),
                &format!(
                    "cursor moves: n={} median {} p99 {}; a pod added per frame (view rebuilt): n={} median {} p99 {}; CPU time of all these frames: median {} p99 {}",
                    moves.len(),
                    fmt_ms(percentile(&mut moves, 50.0)),
                    fmt_ms(p99),
                    changed.len(),
                    fmt_ms(percentile(&mut changed, 50.0)),
                    fmt_ms(percentile(&mut changed, 99.0)),
                    fmt_ms(percentile(&mut cpu, 50.0)),
                    fmt_ms(cpu_p99),
                ),
                "p99 <= 2 ms",
                Some(p99 <= Duration::from_millis(2)),
            )
        }
        Err(e) => row(
            "P5",
            "one frame with a large table",
            &e,
            "p99 <= 2 ms",
            None,
        ),
    }
}

/// CPU time of the calling thread.
fn thread_cpu() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill in
    let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (r == 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

/// A pod shaped like the simulator's bulk pods.
fn synthetic_pod(region: usize, i: usize) -> PodRow {
    let deploy = i / 500;
    PodRow {
        region,
        uid: format!("{region}-{i:08x}-7f3c-4a1e-9d2b-5e8f0c1a2b3c"),
        namespace: format!("team-{:02}", deploy % 40),
        name: format!(
            "worker-{deploy:03}-7d9f8c6b5-{:05x}",
            i * 2_654_435_761 % 0xfffff
        ),
        phase: "Running".into(),
        status: "Running".into(),
        ready: 1,
        total: 1,
        restarts: 0,
        last_restart: None,
        created: app::wall_now() - 86_400 - i as i64,
        deleting: false,
        node: format!("node-{:03}", i % 120),
        ip: format!("10.{}.{}.{}", region, (i >> 8) & 255, i & 255),
        owner_kind: "Deployment".into(),
        owner_name: format!("worker-{deploy:03}"),
        containers: vec![ContainerRow {
            name: "worker".into(),
            ready: true,
            restart_count: 0,
            state: ContainerState::Running { started: None },
            ..ContainerRow::default()
        }],
    }
}
