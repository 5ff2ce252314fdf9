//! Everything that can change the cockpit's state arrives as one `Msg`:
//! terminal input from the loop, rows and health from the sources, answers
//! from effects, and the clock.

use crate::diagnostic::Diagnostic;
use crate::fleet::health::Feed;
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
    /// The full object asked for by a describe, as YAML.
    Described {
        region: RegionId,
        namespace: String,
        name: String,
        result: Result<String, String>,
    },
    /// Problems found loading config, keymap or theme; shown as toasts.
    Diagnostics(Vec<Diagnostic>),
    /// The wall clock moved (seconds since the epoch).
    Tick(Timestamp),
    /// A long-lived task changed state (`tasks`).
    Task(crate::tasks::TaskReport),
    /// A job that had the terminal (exec) returned it: what to tell the user.
    TerminalReturned {
        label: String,
        result: Result<String, String>,
    },
}

pub type PodUpdate = Update<PodRow>;
pub type PodChange = Change<PodRow>;

/// What a region's header badge says. The screen never shows stale data as
/// live: anything but `Live` marks the region's rows as stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Building the client, first request in flight.
    Connecting,
    /// The first list is arriving.
    Syncing,
    Live,
    /// Rows are kept but may be out of date: `since` is when the region
    /// stopped being live (kept across repeated stale reports).
    Stale {
        since: Timestamp,
        reason: String,
    },
    /// 401: the credentials were refused.
    Unauthorized(String),
    /// 403: not allowed to list or watch pods.
    Forbidden(String),
    /// Could not connect (refused, DNS, TLS, timeout), with the reason.
    Unreachable(String),
    /// Misconfigured: bad kubeconfig, unknown context, failed credential plugin.
    Error(String),
}

impl Health {
    pub fn is_live(&self) -> bool {
        matches!(self, Health::Live)
    }

    /// Higher is worse: the badge shows the worst of a region's feeds.
    pub fn severity(&self) -> u8 {
        match self {
            Health::Live => 0,
            Health::Syncing => 1,
            Health::Connecting => 2,
            Health::Stale { .. } => 3,
            Health::Unreachable(_) => 4,
            Health::Forbidden(_) => 5,
            Health::Unauthorized(_) => 6,
            Health::Error(_) => 7,
        }
    }
}
