//! A promotion's plan and progress: waves of regions in stage order, each
//! region's image now and new, and where every wave stands. Plain data,
//! serialised as it is persisted in the state dir.

use crate::config::stages::Gates;
use crate::model::Timestamp;
use serde::{Deserialize, Serialize};

/// The gates of a wave, as persisted (a copy of the stage's at plan time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaveGates {
    pub soak_secs: u64,
    pub max_unready: u32,
    pub max_probe_failures: u32,
    pub no_crash_loop: bool,
    pub rollout_deadline_secs: u64,
}

impl From<&Gates> for WaveGates {
    fn from(g: &Gates) -> WaveGates {
        WaveGates {
            soak_secs: g.soak_secs,
            max_unready: g.max_unready,
            max_probe_failures: g.max_probe_failures,
            no_crash_loop: g.no_crash_loop,
            rollout_deadline_secs: g.rollout_deadline_secs,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WaveState {
    Pending,
    /// Changes sent, the rollout followed.
    Rolling,
    /// Rolled out; the gates are watched until the soak ends.
    Soaking,
    Passed,
    /// A gate failed (or a change was refused): the promotion halted here.
    Failed,
}

impl WaveState {
    pub fn word(self) -> &'static str {
        match self {
            WaveState::Pending => "pending",
            WaveState::Rolling => "rolling",
            WaveState::Soaking => "soaking",
            WaveState::Passed => "passed",
            WaveState::Failed => "failed",
        }
    }
}

/// One region of a wave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaveRegion {
    pub region: String,
    pub container: String,
    /// The image running when the plan was made.
    pub from: String,
    pub to: String,
    pub replicas: u32,
    /// A paused Deployment (a canary): promoted by resuming it.
    pub paused: bool,
    /// What was last seen: rollout state, gate readings, why it failed.
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wave {
    pub stage: String,
    pub gates: WaveGates,
    pub regions: Vec<WaveRegion>,
    pub state: WaveState,
    pub started: Option<Timestamp>,
    pub ended: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PlanState {
    /// Made, not confirmed yet.
    Proposed,
    Running,
    /// Found running in the state dir at start: no task drives it. Resume
    /// or abort.
    Interrupted,
    /// A gate failed or a change was refused; the reason.
    Halted(String),
    Aborted,
    Done,
}

impl PlanState {
    pub fn word(&self) -> String {
        match self {
            PlanState::Proposed => "proposed".into(),
            PlanState::Running => "running".into(),
            PlanState::Interrupted => "interrupted (resume with >, abort with A)".into(),
            PlanState::Halted(why) => format!("halted: {why}"),
            PlanState::Aborted => "aborted".into(),
            PlanState::Done => "done".into(),
        }
    }

    /// Neither running nor waiting to be resumed.
    pub fn finished(&self) -> bool {
        matches!(self, PlanState::Aborted | PlanState::Done)
    }
}

/// A promotion of one Deployment's image from the first stage to the next
/// ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub namespace: String,
    pub name: String,
    /// The image proven in the first stage.
    pub image: String,
    /// The stage it comes from and its region.
    pub source: String,
    pub waves: Vec<Wave>,
    pub state: PlanState,
    pub created: Timestamp,
    pub updated: Timestamp,
}

impl Plan {
    /// `shop/checkout`.
    pub fn workload(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The wave being worked on (or the one that failed): the first not
    /// passed.
    pub fn current(&self) -> Option<usize> {
        self.waves.iter().position(|w| w.state != WaveState::Passed)
    }

    /// The lines a person reads before confirming: one per wave and region.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!(
            "promote {} to {} (proven in {})",
            self.workload(),
            tag(&self.image),
            self.source
        )];
        for (i, w) in self.waves.iter().enumerate() {
            let state = match w.state {
                WaveState::Pending => String::new(),
                s => format!(" [{}]", s.word()),
            };
            out.push(format!(
                "wave {} {}{state}: soak {} s, unready <= {}, probe failures <= {}{}, deadline {} s",
                i + 1,
                w.stage,
                w.gates.soak_secs,
                w.gates.max_unready,
                w.gates.max_probe_failures,
                if w.gates.no_crash_loop { ", no crash loop" } else { "" },
                w.gates.rollout_deadline_secs
            ));
            for r in &w.regions {
                out.push(format!(
                    "  {}: {} -> {}, {} replicas{}",
                    r.region,
                    tag(&r.from),
                    tag(&r.to),
                    r.replicas,
                    if r.paused {
                        " (paused canary: resume)"
                    } else {
                        ""
                    }
                ));
            }
        }
        out
    }

    /// The change-cause each new revision carries.
    pub fn change_cause(&self, wave: usize) -> String {
        format!(
            "pitwall promote {} from {} (wave {} {})",
            tag(&self.image),
            self.source,
            wave + 1,
            self.waves.get(wave).map(|w| w.stage.as_str()).unwrap_or("")
        )
    }
}

/// The part of an image after its repository: `4.3.0` of
/// `registry.local/shop/checkout:4.3.0` (a digest stays whole).
pub fn tag(image: &str) -> &str {
    if image.contains('@') {
        return image;
    }
    match image.rsplit_once(':') {
        Some((repo, t)) if !t.contains('/') && !repo.is_empty() => t,
        _ => image,
    }
}
