//! One pod as the cockpit keeps it.

use super::{RegionId, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PodRow {
    pub region: RegionId,
    pub uid: String,
    pub namespace: String,
    pub name: String,
    /// `Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`.
    pub phase: String,
    /// The STATUS column as `kubectl get pods` computes it (CrashLoopBackOff,
    /// Init:0/1, Terminating, Completed, OOMKilled, ...).
    pub status: String,
    pub ready: u16,
    pub total: u16,
    /// Sum of the containers' restart counts.
    pub restarts: u32,
    /// When the most recent restart's previous container finished.
    pub last_restart: Option<Timestamp>,
    pub created: Timestamp,
    pub deleting: bool,
    pub node: String,
    pub ip: String,
    /// Owning workload, resolved through its ReplicaSet when possible
    /// (`Deployment`, `checkout`); empty for bare pods.
    pub owner_kind: String,
    pub owner_name: String,
    pub containers: Vec<ContainerRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerRow {
    pub name: String,
    pub ready: bool,
    pub restart_count: u32,
    pub state: ContainerState,
    /// `lastState.terminated`: why the previous instance ended.
    pub last_terminated: Option<Terminated>,
    pub has_readiness_probe: bool,
    pub has_liveness_probe: bool,
    pub has_startup_probe: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ContainerState {
    #[default]
    Unknown,
    Running {
        started: Option<Timestamp>,
    },
    /// e.g. CrashLoopBackOff, ImagePullBackOff, CreateContainerConfigError.
    Waiting {
        reason: String,
        message: String,
    },
    Terminated(Terminated),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Terminated {
    /// e.g. OOMKilled, Error, Completed.
    pub reason: String,
    pub exit_code: i32,
    pub finished: Option<Timestamp>,
}

impl PodRow {
    /// Healthy = running with every container ready, or completed.
    pub fn is_healthy(&self) -> bool {
        !self.deleting
            && ((self.phase == "Running" && self.ready == self.total && self.status == "Running")
                || self.phase == "Succeeded")
    }
}
