//! Everything that can change the cockpit's state arrives as one `Msg`:
//! terminal input from the loop, rows and health from the sources, answers
//! from effects, and the clock.

use crate::diagnostic::Diagnostic;
pub use crate::fleet::health::{Feed, Health};
pub use crate::fleet::stream::{Change, Update};
use crate::model::{PodRow, RegionId, Timestamp};
use crossterm::event::KeyEvent;

#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Resize(u16, u16),
    /// Pod rows of one region. Sources batch many changes into one message
    /// under load so the loop is never flooded.
    Pods {
        region: RegionId,
        update: PodUpdate,
    },
    /// The health of one feed of a region (pods, events, ..., or the
    /// client while connecting); the badge shows the worst of the feeds
    /// that count toward it (`Feed::counts_toward_badge`).
    RegionHealth {
        region: RegionId,
        feed: Feed,
        health: Health,
    },
    /// Events and workloads of one region for the probes and triage panes.
    Incident {
        region: RegionId,
        update: crate::fleet::stream::IncidentUpdate,
    },
    /// A pod's description, asked for by `describe` on the pods table.
    Described {
        region: RegionId,
        namespace: String,
        name: String,
        result: Result<String, String>,
    },
    /// An object's description or YAML (`Effect::Show`).
    Shown {
        object: crate::model::ApiObject,
        show: crate::model::ShowAs,
        result: Result<String, String>,
    },
    /// Discovery and resource tables for the resources pane.
    Resources(crate::model::resource::ResourcesMsg),
    /// Problems found loading config, keymap or theme; shown as toasts.
    Diagnostics(Vec<Diagnostic>),
    /// The wall clock moved (seconds since the epoch).
    Tick(Timestamp),
    /// A long-lived task changed state (`tasks`).
    Task(crate::tasks::TaskReport),
    /// A task could not start (its key runs, the registry is full, quitting).
    TaskRefused {
        key: crate::tasks::TaskKey,
        reason: String,
    },
    /// What a workload action's lookup found (`Effect::Workload`).
    Workloads(Box<crate::panes::workloads::act::Answer>),
    /// The write path's answer to a confirmed change (`Effect::Write`).
    Written {
        /// The change, as the confirm dialog said it.
        sentence: String,
        result: Result<crate::write::Outcome, crate::write::Refusal>,
    },
    /// Exec and port-forward: access checks, a forward's counters.
    Session(crate::panes::exec::SessionMsg),
    /// Lines, ends and history pages from the logs pane's tasks.
    Logs(crate::panes::logs::task::LogsMsg),
    /// A network poll of a region ended: `error` is why it failed (the
    /// region's metrics badge); the figures are in the pane's shared state.
    Network {
        region: RegionId,
        error: Option<String>,
    },
    /// A job that had the terminal (exec) returned it: what to tell the user.
    /// What the releases pane's tasks deliver (revisions, plans, progress).
    Releases(crate::panes::releases::ReleasesMsg),
    TerminalReturned {
        label: String,
        result: Result<String, String>,
    },
}

pub type PodUpdate = Update<PodRow>;
pub type PodChange = Change<PodRow>;
