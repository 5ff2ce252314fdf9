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
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tokio::signal::unix::{signal, SignalKind};
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
    if regions.is_empty() {
        return Err("no regions configured and no kubeconfig contexts found; \
             try `pitwall demo` for a simulated fleet"
            .into());
    }
    let specs = client_specs(&regions, args.kubeconfig.as_ref());
    run_cockpit(settings, regions, specs).await
}

/// The cockpit on the embedded simulated fleet.
pub async fn run_demo(args: CockpitArgs, demo: DemoArgs) -> Result<ExitCode, String> {
    let settings = load_settings(&args);
    let mut scenario = match &demo.scenario {
        Some(path) => crate::sim::Scenario::load(path)?,
        None => crate::sim::Scenario::demo(),
    };
    if let Some(scale) = demo.time_scale {
        scenario = scenario.with_time_scale(scale);
    }
    let fleet = crate::sim::Fleet::start(scenario, None).await?;
    let (regions, specs) = fleet_regions(&fleet)?;
    let result = run_cockpit(settings, regions, specs).await;
    drop(fleet);
    result
}

/// Every region of a simulated fleet, and how to reach it (the kubeconfig
/// stays in memory). Used by `demo`, the integration tests and benchmarks.
pub fn fleet_regions(
    fleet: &crate::sim::Fleet,
) -> Result<(Vec<RegionConfig>, Vec<ClientSpec>), String> {
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&fleet.kubeconfig_yaml())
        .map_err(|e| format!("the simulated fleet's kubeconfig: {e}"))?;
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
    Ok((regions, specs))
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
    settings: Settings,
    regions: Vec<RegionConfig>,
    specs: Vec<ClientSpec>,
) -> Result<ExitCode, String> {
    let log = open_log();
    if let Some((file, path)) = &log {
        init_logging(file);
        tracing::info!(regions = regions.len(), log = %path.display(), "pitwall starting");
    }
    let Settings {
        config,
        keymap,
        styles,
        colors,
        diagnostics: diags,
    } = settings;
    let mono = colors == ColorSupport::Mono;
    let mut cockpit = Cockpit::new(&regions, keymap, styles, wall_now());
    cockpit.state.ui.layout = config.layout.clone();
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
