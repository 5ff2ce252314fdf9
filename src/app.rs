//! The loop: select! over terminal input, source messages, signals and a
//! deadline; drain everything pending, update, and draw at most once per
//! frame, only when something changed. Idle means zero draws and zero bytes.
//!
//! `Cockpit` is the headless core (state + styles, `handle` and `draw`), so
//! tests and benchmarks drive exactly what the terminal shows.

use crate::cli::{CockpitArgs, DemoArgs};
use crate::config::{self, RegionConfig, Settings};
use crate::effects;
use crate::fleet::client::{ClientSpec, KubeconfigSource};
use crate::fleet::{self, Clients, SourceOptions};
use crate::keymap::Keymap;
use crate::model::Timestamp;
use crate::msg::Msg;
use crate::state::{RegionState, State};
use crate::tasks::{self, Tasks};
use crate::theme::{ColorSupport, Styles};
use crate::tui;
use crate::ui;
use crate::update::{update, Effect};
use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use ratatui::backend::Backend;
use ratatui::Terminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::mpsc;

/// When `main` began, for the start-up time written to the log.
pub static STARTED: OnceLock<Instant> = OnceLock::new();

/// At most one frame per this long (~60 fps).
pub const FRAME: Duration = Duration::from_millis(16);
/// Messages handled before drawing, so a flood never starves the screen.
pub const MAX_DRAIN: usize = 4096;
/// The source channel's bound.
pub const CHANNEL: usize = 1024;

pub fn wall_now() -> Timestamp {
    jiff::Timestamp::now().as_second()
}

/// The cockpit without a terminal: what the loop, tests and benchmarks drive.
pub struct Cockpit {
    pub state: State,
    pub styles: Styles,
}

impl Cockpit {
    pub fn new(
        regions: &[RegionConfig],
        keymap: Keymap,
        styles: Styles,
        now: Timestamp,
    ) -> Cockpit {
        let mut state = State::new(
            regions.iter().map(RegionState::from_config).collect(),
            keymap,
            now,
        );
        state.logs.es = regions.iter().map(RegionConfig::logs_history).collect();
        Cockpit { state, styles }
    }

    pub fn handle(&mut self, msg: Msg) -> Vec<Effect> {
        let key = matches!(msg, Msg::Key(_));
        let mut effects = update(&mut self.state, msg);
        if key && self.state.ui.modal.is_none() && !self.state.quit {
            // the selection may have moved: ask the write path (once a
            // minute per namespace and kind of row) what may be done to it
            self.state.refresh_view();
            effects.extend(crate::panes::workloads::act::want_offers(&mut self.state));
        }
        effects
    }

    pub fn draw<B: Backend>(&mut self, term: &mut Terminal<B>) -> std::io::Result<()> {
        self.state.refresh_view();
        if std::mem::take(&mut self.state.ui.full_redraw) {
            term.clear()?;
        }
        let (state, styles) = (&self.state, &self.styles);
        term.draw(|f| ui::draw(state, styles, f))?;
        Ok(())
    }
}

/// How each configured region connects.
pub fn client_specs(regions: &[RegionConfig], fallback: Option<&PathBuf>) -> Vec<ClientSpec> {
    regions
        .iter()
        .map(|r| ClientSpec {
            kubeconfig: KubeconfigSource::File(r.kubeconfig.clone().or_else(|| fallback.cloned())),
            context: r.context.clone(),
            namespaces: r.namespaces.clone(),
        })
        .collect()
}

/// The cockpit on the configured regions (or every kubeconfig context).
pub async fn run(args: CockpitArgs) -> Result<ExitCode, String> {
    let settings = load_settings(&args);
    let regions =
        config::resolve_regions(&settings.config, args.kubeconfig.as_deref(), &args.context)
            .map_err(|d| {
                let mut msg = String::from("no regions to watch: ");
                msg.push_str(&d.to_string());
                if !msg.contains("pitwall demo") {
                    msg.push_str("\n(try `pitwall demo` for a simulated fleet)");
                }
                msg
            })?;
    // a config with problems may leave no region: the cockpit still starts
    // and says why, rather than fall back to every kubeconfig context
    if regions.is_empty() && settings.config.problems == 0 {
        return Err("no regions configured and no kubeconfig contexts found; \
             try `pitwall demo` for a simulated fleet"
            .into());
    }
    let specs = client_specs(&regions, args.kubeconfig.as_ref());
    run_cockpit(settings, regions, specs).await
}

/// The cockpit on the embedded simulated fleet.
pub async fn run_demo(args: CockpitArgs, demo: DemoArgs) -> Result<ExitCode, String> {
    let mut settings = load_settings(&args);
    // the demo's release order unless the config names one
    if settings.config.stages.is_empty() {
        settings.config.stages = crate::config::stages::demo_stages();
    }
    let mut scenario = match &demo.scenario {
        Some(path) => pitwall_sim::Scenario::load(path)?,
        None => pitwall_sim::Scenario::demo(),
    };
    if let Some(scale) = demo.time_scale {
        scenario = scenario.with_time_scale(scale);
    }
    let fleet = pitwall_sim::Fleet::start(scenario, None).await?;
    let (mut regions, specs) = fleet_regions(&fleet)?;
    let (prometheus, why) = demo_prometheus(&fleet, &mut regions).await;
    settings.config.network.poll_interval = DEMO_POLL;
    let result = run_cockpit_with(settings, regions, specs, why).await;
    // stopped on every way out; killed on drop and with us anyway
    if let Some(p) = prometheus {
        p.stop().await;
    }
    drop(fleet);
    result
}

/// The simulated regions that stand for production (`assets/scenarios/demo.toml`).
pub const DEMO_PRODUCTION: [&str; 2] = ["us-east", "ap-southeast"];
/// The demo polls (and its Prometheus scrapes) this often.
const DEMO_POLL: Duration = Duration::from_secs(5);

/// A real `prometheus` from the PATH scraping the simulated fleet, which
/// each region then reads through its Prometheus path; without one, the
/// direct scrape, and the reason the pane says so.
pub async fn demo_prometheus(
    fleet: &pitwall_sim::Fleet,
    regions: &mut [RegionConfig],
) -> (
    Option<crate::panes::network::prometheus_process::LocalPrometheus>,
    Option<String>,
) {
    use crate::panes::network::prometheus_process::{find, LocalPrometheus};
    let Some(binary) = find() else {
        return (None, Some("no prometheus on the PATH".into()));
    };
    let config = fleet.prometheus_config(DEMO_POLL.as_secs_f64());
    match LocalPrometheus::start(&binary, &config, Duration::from_secs(30)).await {
        Ok(p) => {
            for r in regions.iter_mut() {
                let mut cfg = crate::panes::network::prom::PromConfig::new(&p.url);
                cfg.selector = format!("region=\"{}\"", r.name);
                cfg.poll_interval = DEMO_POLL;
                r.prometheus = Some(cfg);
            }
            tracing::info!(url = %p.url, "demo prometheus started");
            (Some(p), None)
        }
        Err(why) => {
            tracing::warn!(%why, "demo prometheus did not start");
            (None, Some(why))
        }
    }
}

/// Every region of a simulated fleet, and how to reach it (the kubeconfig
/// stays in memory). Used by `demo`, the integration tests and benchmarks.
pub fn fleet_regions(
    fleet: &pitwall_sim::Fleet,
) -> Result<(Vec<RegionConfig>, Vec<ClientSpec>), String> {
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&fleet.kubeconfig_yaml())
        .map_err(|e| format!("the simulated fleet's kubeconfig: {e}"))?;
    let regions: Vec<RegionConfig> = fleet
        .regions()
        .iter()
        .map(|r| RegionConfig {
            name: r.name.clone(),
            context: r.context.clone(),
            // the demo's production regions: a change there needs its
            // object's name typed
            production: DEMO_PRODUCTION.contains(&r.name.as_str()),
            // the simulated Elasticsearch: same CA, basic auth with the token
            elasticsearch: Some(crate::panes::logs::es::EsConfig {
                url: r.es_url.clone(),
                auth: crate::panes::logs::es::Auth::Basic {
                    user: "elastic".into(),
                    password: r.token.clone(),
                },
                ca_pem: Some(fleet.ca_pem().as_bytes().to_vec()),
                index: "logs-*".into(),
                mapping: crate::panes::logs::es::Mapping::ecs(),
                timeout: Duration::from_secs(10),
            }),
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
    Ok((regions, specs))
}

/// The one write path for these regions: their policies, the read-only
/// switches, the regions' clients once built, and the audit log in the
/// state dir (`audit_dir`). An audit log that cannot be opened makes every change refused
/// (the reason comes back to be shown).
pub fn writer_for(
    regions: &[RegionConfig],
    access: crate::config::Access,
    clients: &Clients,
    audit_dir: Option<std::path::PathBuf>,
) -> (std::sync::Arc<crate::write::Writer>, Option<String>) {
    use crate::write::{Audit, RegionPolicy, Writer};
    let audit = match audit_dir {
        Some(dir) => Audit::open(&dir),
        None => Err("no state directory for the audit log (is HOME set?)".to_string()),
    };
    let (audit, problem) = match audit {
        Ok(a) => (a, None),
        Err(why) => (Audit::unavailable(why.clone()), Some(why)),
    };
    let read_only = access.read_only || access.config_problems > 0 || problem.is_some();
    let lookup = {
        let clients = clients.clone();
        std::sync::Arc::new(move |r| clients.get(r)) as crate::write::ClientLookup
    };
    let policies = regions.iter().map(RegionPolicy::from_config).collect();
    (
        std::sync::Arc::new(Writer::new(policies, read_only, lookup, audit)),
        problem,
    )
}

/// The network pane's settings and each region's source: its
/// `[region.prometheus]`, else its `prometheus_url`, else the direct scrape.
pub fn configure_network(
    state: &mut State,
    network: &crate::panes::network::config::NetworkSettings,
    regions: &[RegionConfig],
    why_direct: Option<String>,
) {
    let prometheus = regions
        .iter()
        .map(|r| {
            r.prometheus.clone().or_else(|| {
                r.prometheus_url.as_deref().map(|u| {
                    let mut p = crate::panes::network::prom::PromConfig::new(u);
                    p.poll_interval = network.poll_interval;
                    p
                })
            })
        })
        .collect();
    state.network.why_direct = why_direct;
    state.network.configure(network.clone(), prometheus);
}

/// Config, keymap and theme, as `check-config` checks them; NO_COLOR and
/// TERM=dumb force monochrome.
fn load_settings(args: &CockpitArgs) -> Settings {
    let colors = if mono_requested() {
        ColorSupport::Mono
    } else {
        ColorSupport::detect()
    };
    config::load_settings(args, colors)
}

/// NO_COLOR (any non-empty value) or TERM=dumb: no colour escapes at all.
pub fn mono_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
        || std::env::var("TERM").is_ok_and(|t| t == "dumb")
}

async fn run_cockpit(
    settings: Settings,
    regions: Vec<RegionConfig>,
    specs: Vec<ClientSpec>,
) -> Result<ExitCode, String> {
    run_cockpit_with(settings, regions, specs, None).await
}

/// `why_direct`: why regions without a Prometheus read node_exporter
/// directly, for the network pane to say.
async fn run_cockpit_with(
    settings: Settings,
    regions: Vec<RegionConfig>,
    specs: Vec<ClientSpec>,
    why_direct: Option<String>,
) -> Result<ExitCode, String> {
    let log = crate::logfile::open();
    if let Ok((log, path)) = &log {
        let _ = tracing::subscriber::set_global_default(crate::logfile::subscriber(log.clone()));
        tracing::info!(regions = regions.len(), log = %path.display(), "pitwall starting");
    }
    let access = settings.access();
    let Settings {
        config,
        keymap,
        styles,
        colors,
        diagnostics: mut diags,
    } = settings;
    if let Err(d) = &log {
        diags.push(d.clone());
    }
    let mono = colors == ColorSupport::Mono;
    crate::fleet::client::set_plugin_timeout(config.credential_plugin_timeout);
    let mut cockpit = Cockpit::new(&regions, keymap, styles, wall_now());
    cockpit.state.ui.layout = config.layout.clone();
    cockpit.state.ui.open_on_trouble = config.layout.open_on_trouble;
    cockpit.state.logs.configure(config.logs.clone());
    cockpit.state.access = access;
    configure_network(&mut cockpit.state, &config.network, &regions, why_direct);
    crate::panes::releases::restore(
        &mut cockpit.state,
        config.stages.clone(),
        crate::panes::releases::persist::default_dir(),
    );
    if !diags.is_empty() {
        cockpit.handle(Msg::Diagnostics(diags));
    }
    if access.config_problems > 0 {
        tracing::warn!(
            problems = access.config_problems,
            "the config did not load: read-only"
        );
        // the list opens at once; the status bar keeps the notice after
        cockpit.state.ui.modal = Some(crate::state::Modal::Help { scroll: 0 });
    }
    let (tx, rx) = mpsc::channel(CHANNEL);
    let clients = Clients::new(regions.len());
    let (writer, audit_problem) = writer_for(
        &regions,
        access,
        &clients,
        crate::write::Audit::default_dir(),
    );
    if let Some(why) = audit_problem {
        tracing::warn!(%why, "no audit log: read-only");
        cockpit.state.access.read_only = true;
        cockpit.handle(Msg::Diagnostics(vec![crate::diagnostic::Diagnostic::new(
            "audit log",
            format!("{why}; every change is refused until it can be written"),
        )]));
    }
    let env = crate::effects::Env {
        clients: clients.clone(),
        writer,
    };

    // before the terminal goes raw, so no signal ever finds it raw and
    // unhandled
    let mut signals = Signals::new().map_err(|e| format!("cannot handle signals: {e}"))?;
    tui::install_panic_hook();
    // stray writes and child processes never reach the screen
    let _stderr = match &log {
        Ok((log, _)) => crate::logfile::redirect_stderr(log).ok(),
        Err(_) => std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/null")
            .and_then(|null| tui::StderrRedirect::to(&null))
            .ok(),
    };
    if let Err(e) = tui::enter() {
        tui::restore();
        return Err(format!("cannot set up the terminal: {e}"));
    }
    let result = match tui::new_terminal(mono) {
        Ok(mut term) => {
            let size = term.size().unwrap_or_default();
            cockpit.handle(Msg::Resize(size.width, size.height));
            // sources start after the terminal is ready; the first frame never waits on them
            let handles =
                fleet::spawn_all(specs, tx.clone(), clients.clone(), SourceOptions::default());
            let mut tasks = Tasks::new(tx.clone(), tasks::MAX_TASKS);
            let r = event_loop(
                &mut cockpit,
                &mut term,
                rx,
                tx,
                &env,
                &mut tasks,
                &mut signals,
            )
            .await;
            // every way out of the loop (quit, signal, error) ends here: no
            // task, and so no listener, outlives the cockpit
            let aborted = tasks.shutdown(tasks::SHUTDOWN_GRACE).await;
            if aborted > 0 {
                tracing::warn!(aborted, "tasks did not stop in time and were aborted");
            }
            for h in handles {
                h.abort();
            }
            r
        }
        Err(e) => Err(e),
    };
    tui::restore();
    drop(_stderr);
    tracing::info!("pitwall stopped");
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => Err(format!("terminal error: {e}")),
    }
}

/// When the loop must wake up by itself: the next frame if one is owed,
/// else the next time-based change on screen.
pub fn next_wake(cockpit: &Cockpit, dirty: bool, last_draw: Option<Instant>) -> Option<Instant> {
    let now = Instant::now();
    if dirty {
        return Some(last_draw.map_or(now, |t| (t + FRAME).max(now)));
    }
    let wall = wall_now();
    // toasts expiring, and ages on visible rows crossing a minute, hour or day
    let wake = [
        cockpit.state.next_deadline(),
        crate::panes::pods::view::next_change(&cockpit.state),
    ]
    .into_iter()
    .flatten()
    .min();
    let wake = wake
        .map(|w| now + Duration::from_secs((w - wall).max(0) as u64) + Duration::from_millis(50));
    // log lines held in the reorder window are due in milliseconds
    match (wake, cockpit.state.logs.view.next_due()) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The signals that end the cockpit with the terminal restored. In raw mode
/// Ctrl-C and Ctrl-\ are keys, so SIGINT and SIGQUIT come from `kill`; their
/// default action would leave the terminal raw.
struct Signals {
    term: Signal,
    hup: Signal,
    int: Signal,
    quit: Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
            int: signal(SignalKind::interrupt())?,
            quit: signal(SignalKind::quit())?,
        })
    }

    async fn any(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {},
            _ = self.hup.recv() => {},
            _ = self.int.recv() => {},
            _ = self.quit.recv() => {},
        }
    }
}

async fn event_loop(
    cockpit: &mut Cockpit,
    term: &mut tui::Term,
    mut rx: mpsc::Receiver<Msg>,
    tx: mpsc::Sender<Msg>,
    env: &crate::effects::Env,
    tasks: &mut Tasks,
    signals: &mut Signals,
) -> std::io::Result<()> {
    let mut events = EventStream::new();
    let mut dirty = true;
    // a key is answered by the next frame at once; only source updates are
    // held to the frame rate
    let mut key_pressed = false;
    let mut last_draw: Option<Instant> = None;
    loop {
        if dirty && (key_pressed || last_draw.is_none_or(|t| t.elapsed() >= FRAME)) {
            cockpit.state.now = wall_now();
            cockpit.draw(term)?;
            dirty = false;
            key_pressed = false;
            if last_draw.is_none() {
                if let Some(started) = STARTED.get() {
                    tracing::info!("first frame drawn {:?} after start", started.elapsed());
                }
            }
            last_draw = Some(Instant::now());
        }
        let wake = next_wake(cockpit, dirty, last_draw);
        let sleep = async {
            match wake {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        let mut effects = Vec::new();
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(key))) => {
                    cockpit.state.now = wall_now();
                    effects = cockpit.handle(Msg::Key(key));
                    dirty = true;
                    key_pressed = true;
                }
                Some(Ok(Event::Resize(w, h))) => {
                    cockpit.handle(Msg::Resize(w, h));
                    term.autoresize()?;
                    dirty = true;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => return Ok(()),
            },
            Some(msg) = rx.recv() => {
                cockpit.state.now = wall_now();
                effects = cockpit.handle(msg);
                let mut n = 1;
                while n < MAX_DRAIN {
                    let Ok(msg) = rx.try_recv() else { break };
                    effects.extend(cockpit.handle(msg));
                    n += 1;
                }
                dirty = true;
            },
            _ = sleep => {
                if !dirty {
                    cockpit.handle(Msg::Tick(wall_now()));
                    dirty = true;
                }
            },
            _ = signals.any() => return Ok(()),
        }
        for effect in effects {
            match effect {
                Effect::Quit => return Ok(()),
                Effect::Suspend => {
                    // dropped before a new one is made: making one waits for
                    // the old reader's thread, which only the drop wakes
                    drop(events);
                    tui::suspend(term)?;
                    // the terminal forgot everything while we were stopped
                    events = EventStream::new();
                    dirty = true;
                    last_draw = None;
                }
                Effect::Task(cmd) => tasks.apply(cmd, env),
                Effect::Terminal(job) => {
                    // the input reader must not read the job's keystrokes;
                    // dropped first (see Suspend), a new one after the job
                    drop(events);
                    let label = job.label.clone();
                    let (result, back) = tasks::take_terminal(term, job).await;
                    events = EventStream::new();
                    back?;
                    cockpit.handle(Msg::TerminalReturned { label, result });
                    dirty = true;
                    last_draw = None;
                }
                other => effects::spawn(other, env, &tx),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::PodUpdate;

    fn cockpit() -> Cockpit {
        let regions = [RegionConfig {
            name: "eu".into(),
            context: "eu".into(),
            ..RegionConfig::default()
        }];
        Cockpit::new(&regions, Keymap::default(), Styles::default(), wall_now())
    }

    #[test]
    fn an_idle_cockpit_sets_no_timer_at_all() {
        let c = cockpit();
        assert_eq!(next_wake(&c, false, Some(Instant::now())), None);
    }

    #[test]
    fn visible_ages_wake_when_they_change_and_toasts_at_expiry() {
        let mut c = cockpit();
        let created = wall_now() - 30;
        let row = crate::model::PodRow {
            uid: "u".into(),
            name: "p".into(),
            created,
            ..Default::default()
        };
        c.handle(Msg::Pods {
            region: 0,
            update: PodUpdate::ListPage(vec![row]),
        });
        let mut term = Terminal::new(ratatui::backend::TestBackend::new(80, 24))
            .unwrap_or_else(|e| panic!("{e}"));
        c.draw(&mut term).unwrap_or_else(|e| panic!("{e}"));
        let now = Instant::now();
        // "<1m" becomes "1m" about 30 s from now: the loop wakes for that, not before
        let wake = next_wake(&c, false, Some(now)).unwrap_or(now);
        assert!(
            wake > now && wake <= now + Duration::from_secs(32),
            "{:?}",
            wake - now
        );
        c.state
            .ui
            .toast(crate::state::ToastLevel::Info, "hi", wall_now());
        let toast_wake = next_wake(&c, false, Some(now)).unwrap_or(now);
        assert!(toast_wake > now && toast_wake <= wake);
        // owed a frame: the next frame slot, never later than one frame away
        let due = next_wake(&c, true, Some(now)).unwrap_or(now + Duration::from_secs(9));
        assert!(due <= now + FRAME);
    }
}
