//! What the forwards pane keeps: every forward started here (its spec and
//! last counters), the cursor, and the dialog that starts one.

use crate::model::RegionId;
use crate::tasks::TaskKey;
use std::collections::BTreeMap;
use tui_textarea::TextArea;

/// Ended forwards kept on screen for the user to read (their last error).
pub const KEPT_ENDED: usize = 16;

/// What a forward reaches.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ForwardTarget {
    Pod(String),
    /// Follows the workload: a ready pod of it, re-resolved when replaced.
    Deployment(String),
    StatefulSet(String),
    /// Follows the Service as kubectl does: a ready pod matching its
    /// selector, the service port mapped to the pod's target port.
    Service(String),
}

impl ForwardTarget {
    /// `pod/web-1`, `deployment/web`.
    pub fn label(&self) -> String {
        match self {
            ForwardTarget::Pod(n) => format!("pod/{n}"),
            ForwardTarget::Deployment(n) => format!("deployment/{n}"),
            ForwardTarget::StatefulSet(n) => format!("statefulset/{n}"),
            ForwardTarget::Service(n) => format!("service/{n}"),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            ForwardTarget::Pod(n)
            | ForwardTarget::Deployment(n)
            | ForwardTarget::StatefulSet(n)
            | ForwardTarget::Service(n) => n,
        }
    }
}

/// One forward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardSpec {
    pub region: RegionId,
    pub region_name: String,
    pub namespace: String,
    pub target: ForwardTarget,
    pub remote: u16,
    pub local: u16,
}

impl ForwardSpec {
    /// `port-forward eu-west/shop/deployment/web 8080`.
    pub fn key(&self) -> TaskKey {
        TaskKey(format!(
            "port-forward {}/{}/{} {}",
            self.region_name,
            self.namespace,
            self.target.label(),
            self.local
        ))
    }
}

/// A forward's counters, as its task last sent them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// The pod connections go to now.
    pub pod: String,
    pub active: u32,
    pub total: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub spec: ForwardSpec,
    pub stats: Stats,
    /// Ended (stopped or failed): kept to be read, then dropped.
    pub ended: bool,
}

#[derive(Debug, Default)]
pub struct ForwardsState {
    pub rows: BTreeMap<TaskKey, Row>,
    pub cursor: usize,
    /// Ids for the session dialogs' answers.
    pub next_id: u64,
}

impl ForwardsState {
    pub fn add(&mut self, spec: ForwardSpec) {
        self.rows.insert(
            spec.key(),
            Row {
                spec,
                stats: Stats::default(),
                ended: false,
            },
        );
    }

    pub fn selected(&self) -> Option<&TaskKey> {
        self.rows.keys().nth(self.cursor)
    }

    /// Marks a forward ended, dropping the oldest ended ones past the cap.
    pub fn end(&mut self, key: &TaskKey) {
        if let Some(r) = self.rows.get_mut(key) {
            r.ended = true;
            r.stats.active = 0;
        }
        let ended: Vec<TaskKey> = self
            .rows
            .iter()
            .filter(|(_, r)| r.ended)
            .map(|(k, _)| k.clone())
            .collect();
        for k in ended.iter().take(ended.len().saturating_sub(KEPT_ENDED)) {
            self.rows.remove(k);
        }
        self.cursor = self.cursor.min(self.rows.len().saturating_sub(1));
    }

    pub fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

/// The dialog that starts a forward: the target (the pod, or its
/// workload), the ports, and in production the typed name.
#[derive(Debug)]
pub struct ForwardDialog {
    pub id: u64,
    pub region: RegionId,
    pub region_name: String,
    pub namespace: String,
    pub pod: String,
    /// The pod's Deployment or StatefulSet, when it has one; the Service
    /// itself (and no pod) when opened on a Service.
    pub workload: Option<ForwardTarget>,
    pub to_workload: bool,
    /// `PORT` or `LOCAL:REMOTE`.
    pub ports: TextArea<'static>,
    /// The ports the pod's containers (or the Service) declare, once
    /// fetched.
    pub declared: Option<Result<Vec<u16>, String>>,
    /// `None` while checking; `Err` greys the dialog with the reason.
    pub access: Option<Result<(), String>>,
    /// Production regions: the target's name typed.
    pub typed: Option<TextArea<'static>>,
    /// Which input has the keys: false the ports, true the typed name.
    pub typing_name: bool,
    /// Started, waiting for the task to listen or fail.
    pub waiting: Option<TaskKey>,
    pub error: Option<String>,
}

impl ForwardDialog {
    /// Opened on a Service: the only target there is.
    pub fn is_service(&self) -> bool {
        matches!(self.workload, Some(ForwardTarget::Service(_)))
    }

    pub fn target(&self) -> ForwardTarget {
        match (&self.workload, self.to_workload) {
            (Some(w), true) => w.clone(),
            _ => ForwardTarget::Pod(self.pod.clone()),
        }
    }
}

/// `8080` (local = remote) or `18080:8080`.
pub fn parse_ports(text: &str) -> Result<(u16, u16), String> {
    let t = text.trim();
    let port = |s: &str| -> Result<u16, String> {
        match s.trim().parse::<u16>() {
            Ok(p) if p > 0 => Ok(p),
            _ => Err(format!("`{}` is not a port (1-65535)", s.trim())),
        }
    };
    if t.is_empty() {
        return Err("type the pod's port (or LOCAL:REMOTE)".into());
    }
    match t.split_once(':') {
        Some((l, r)) => Ok((port(l)?, port(r)?)),
        None => {
            let p = port(t)?;
            Ok((p, p))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_default_local_to_remote_and_reject_nonsense() {
        assert_eq!(parse_ports("8080"), Ok((8080, 8080)));
        assert_eq!(parse_ports(" 18080:8080 "), Ok((18080, 8080)));
        assert!(parse_ports("").is_err());
        assert!(parse_ports("0").is_err());
        assert!(parse_ports("70000").is_err());
        assert!(parse_ports("a:80").is_err());
    }

    #[test]
    fn ended_forwards_are_bounded() {
        let mut s = ForwardsState::default();
        for i in 0..(KEPT_ENDED as u16 + 5) {
            let spec = ForwardSpec {
                region: 0,
                region_name: "eu".into(),
                namespace: "shop".into(),
                target: ForwardTarget::Pod("web".into()),
                remote: 80,
                local: 10000 + i,
            };
            let key = spec.key();
            s.add(spec);
            s.end(&key);
        }
        assert_eq!(s.rows.len(), KEPT_ENDED);
    }
}
