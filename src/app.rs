//! The loop: select! over terminal input, source messages, signals and a
//! deadline; drain everything pending, update, and draw at most once per
//! frame, only when something changed. Idle means zero draws and zero bytes.
//!
//! `Cockpit` is the headless core (state + styles, `handle` and `draw`), so
//! tests and benchmarks drive exactly what the terminal shows.

use crate::cli::{CockpitArgs, DemoArgs};
use crate::config::{self, Config, RegionConfig};
use crate::diagnostic::Diagnostic;
use crate::effects;
use crate::keymap::Keymap;
use crate::model::Timestamp;
use crate::msg::Msg;
use crate::sources::client::{ClientSpec, KubeconfigSource};
use crate::sources::{self, Clients, SourceOptions};
use crate::state::{RegionState, State};
use crate::theme::{ColorSupport, Styles};
use crate::tui;
use crate::ui;
use crate::update::{update, Effect};
use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use ratatui::backend::Backend;
use ratatui::Terminal;
use std::fs::File;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

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
        let regions = regions.iter().map(RegionState::from_config).collect();
        Cockpit {
            state: State::new(regions, keymap, now),
            styles,
        }
    }

    pub fn handle(&mut self, msg: Msg) -> Vec<Effect> {
        update(&mut self.state, msg)
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
    let (config, mut diags) = match config::load(args.config.as_deref()) {
        Ok(c) => (c, Vec::new()),
        Err(d) => (Config::default(), d),
    };
    let mut regions = config.regions.clone();
    if regions.is_empty() {
        regions = match config::regions_from_kubeconfig(args.kubeconfig.as_deref(), &args.context) {
            Ok(r) => r,
            Err(d) => {
                diags.push(d);
                Vec::new()
            }
        };
    } else if !args.context.is_empty() {
        regions.retain(|r| args.context.contains(&r.context));
    }
    if regions.is_empty() {
        let mut msg = String::from(
            "no regions configured and no kubeconfig contexts found; try `pitwall demo` for a simulated fleet",
        );
        for d in &diags {
            msg.push_str(&format!("\n  {d}"));
        }
        return Err(msg);
    }
    let specs = client_specs(&regions, args.kubeconfig.as_ref());
    run_cockpit(&args, &config, regions, specs, diags).await
}

/// The cockpit on the embedded simulated fleet.
pub async fn run_demo(args: CockpitArgs, demo: DemoArgs) -> Result<ExitCode, String> {
    let scenario = match &demo.scenario {
        Some(path) => crate::sim::Scenario::load(path)?,
        None => crate::sim::Scenario::demo(),
    };
    let fleet = crate::sim::Fleet::start(scenario, None).await?;
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&fleet.kubeconfig_yaml())
        .map_err(|e| format!("the demo fleet's kubeconfig: {e}"))?;
    let regions: Vec<RegionConfig> = fleet
        .regions()
        .iter()
        .map(|r| RegionConfig {
            name: r.name.clone(),
            context: r.context.clone(),
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
    let config = config::load(args.config.as_deref()).unwrap_or_default();
    let result = run_cockpit(&args, &config, regions, specs, Vec::new()).await;
    drop(fleet);
    result
}

/// NO_COLOR (any non-empty value) or TERM=dumb: no colour escapes at all.
pub fn mono_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
        || std::env::var("TERM").is_ok_and(|t| t == "dumb")
}

fn state_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "pitwall")
        .map(|d| d.state_dir().unwrap_or(d.data_local_dir()).to_path_buf())
        .unwrap_or_else(std::env::temp_dir)
}

/// Logs go to `<state dir>/pitwall.log`, never to the terminal.
fn open_log() -> Option<(File, PathBuf)> {
    let dir = state_dir();
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join("pitwall.log");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    Some((file, path))
}

fn init_logging(file: &File) {
    let Ok(writer) = file.try_clone() else { return };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PITWALL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(writer))
        .try_init();
}

async fn run_cockpit(
    args: &CockpitArgs,
    config: &Config,
    regions: Vec<RegionConfig>,
    specs: Vec<ClientSpec>,
    mut diags: Vec<Diagnostic>,
) -> Result<ExitCode, String> {
    let log = open_log();
    if let Some((file, _)) = &log {
        init_logging(file);
    }
    let mono = mono_requested();
    let colors = if mono {
        ColorSupport::Mono
    } else {
        ColorSupport::detect()
    };
    let theme = if mono {
        "mono".to_string()
    } else {
        args.theme.clone().unwrap_or(config.theme.clone())
    };
    let (styles, theme_diags) = Styles::load(&theme, None, colors);
    let keymap_name = args.keymap.clone().unwrap_or(config.keymap.clone());
    let (keymap, keymap_diags) = Keymap::load(&keymap_name, None);
    diags.extend(theme_diags);
    diags.extend(keymap_diags);

    let mut cockpit = Cockpit::new(&regions, keymap, styles, wall_now());
    if !diags.is_empty() {
        cockpit.handle(Msg::Diagnostics(diags));
    }
    let (tx, rx) = mpsc::channel(CHANNEL);
    let clients = Clients::new(regions.len());

    tui::install_panic_hook();
    let _stderr = match &log {
        Some((file, _)) => tui::StderrRedirect::to(file).ok(),
        None => None,
    };
    tui::enter().map_err(|e| format!("cannot set up the terminal: {e}"))?;
    let result = match tui::new_terminal(mono || colors == ColorSupport::Mono) {
        Ok(mut term) => {
            let size = term.size().unwrap_or_default();
            cockpit.handle(Msg::Resize(size.width, size.height));
            // sources start after the terminal is ready; the first frame never waits on them
            let handles =
                sources::spawn_all(specs, tx.clone(), clients.clone(), SourceOptions::default());
            let r = event_loop(&mut cockpit, &mut term, rx, tx, &clients).await;
            for h in handles {
                h.abort();
            }
            r
        }
        Err(e) => Err(e),
    };
    tui::restore();
    drop(_stderr);
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
        ui::pods::next_change(&cockpit.state),
    ]
    .into_iter()
    .flatten()
    .min();
    wake.map(|w| now + Duration::from_secs((w - wall).max(0) as u64) + Duration::from_millis(50))
}

async fn event_loop(
    cockpit: &mut Cockpit,
    term: &mut tui::Term,
    mut rx: mpsc::Receiver<Msg>,
    tx: mpsc::Sender<Msg>,
    clients: &Clients,
) -> std::io::Result<()> {
    let mut events = EventStream::new();
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
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
            _ = sigterm.recv() => return Ok(()),
            _ = sighup.recv() => return Ok(()),
        }
        for effect in effects {
            match effect {
                Effect::Quit => return Ok(()),
                Effect::Suspend => {
                    tui::suspend(term)?;
                    // the terminal forgot everything while we were stopped
                    events = EventStream::new();
                    dirty = true;
                    last_draw = None;
                }
                other => effects::spawn(other, clients, &tx),
            }
        }
    }
}
