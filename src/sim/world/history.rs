//! The recent past a real cluster shows when one first looks at it: the
//! events of the last hour (kube-apiserver's default `--event-ttl`). At
//! build, each workload within a budget of pods is given a rollout some
//! minutes ago: its Deployment's ScalingReplicaSet event and, per pod,
//! Scheduled, Pulled, Created and Started, with the pods' start times to
//! match. Beyond the budget (benchmark fleets) pods stay old and quiet, so
//! building stays cheap and the event store bounded.

use crate::world::clock::Clock;
use crate::world::objects;
use crate::world::region::State;
use crate::world::scenario::WorkloadSpec;
use crate::world::store::splitmix;
use serde_json::{json, Value};

/// Pods per region given a start-up history (four events each), unless the
/// scenario says otherwise (`history_pods`).
pub const HISTORY_PODS: usize = 1_000;
/// How far back the history goes (wall-clock seconds).
const WINDOW: f64 = 3_600.0;

struct PastEvent {
    at: f64,
    ns: String,
    involved: Value,
    reason: &'static str,
    message: String,
    component: &'static str,
    host: String,
}

/// The events of the initial world, gathered while it is built and
/// recorded oldest first, so the oldest are the first to age out.
pub struct Past {
    /// Simulated seconds per wall-clock second: the history is an hour of
    /// the wall clock, whatever the scenario's time scale.
    scale: f64,
    budget: usize,
    events: Vec<PastEvent>,
}

/// Times of one pod of a recent rollout.
pub struct PodTimes {
    pub created: f64,
    pub started: f64,
    pull_ms: u64,
}

impl PodTimes {
    /// A pod running since long ago (its events have aged out).
    pub fn old(at: f64) -> PodTimes {
        PodTimes {
            created: at,
            started: at,
            pull_ms: 0,
        }
    }
}

impl Past {
    pub fn new(scale: f64, pods: usize) -> Past {
        Past {
            scale,
            budget: pods,
            events: Vec::new(),
        }
    }

    /// When a workload of `replicas` pods was rolled out, if it has a
    /// recent history (seconds after start, negative).
    pub fn rollout_at(&mut self, seed: u64, replicas: u32) -> Option<f64> {
        let n = replicas as usize;
        if n == 0 || n > self.budget {
            return None;
        }
        self.budget -= n;
        // between 2 and 58 minutes ago
        Some(-(120.0 + (splitmix(seed) % 3_360) as f64).min(WINDOW) * self.scale)
    }

    /// The `i`th pod of a rollout: created one after another, each pulling
    /// its image for a second or a few, then created and started a second
    /// apart (so the four events fall on distinct seconds).
    pub fn pod_times(scale: f64, seed: u64, rollout_at: f64, i: u32) -> PodTimes {
        let created = rollout_at + (0.5 + f64::from(i.min(600)) * 0.2) * scale;
        let pull_ms = 600 + splitmix(seed ^ u64::from(i)) % 4_000;
        PodTimes {
            created,
            started: created + (3.0 + pull_ms as f64 / 1000.0) * scale,
            pull_ms,
        }
    }

    /// ScalingReplicaSet on the Deployment, as the deployment controller
    /// says it.
    pub fn scaled_up(&mut self, at: f64, dep: &Value, rs_name: &str, replicas: u32) {
        let m = |p: &str| dep.pointer(p).and_then(Value::as_str).unwrap_or("");
        self.events.push(PastEvent {
            at,
            ns: m("/metadata/namespace").to_string(),
            involved: json!({"kind": "Deployment", "namespace": m("/metadata/namespace"),
                "name": m("/metadata/name"), "uid": m("/metadata/uid"), "apiVersion": "apps/v1"}),
            reason: "ScalingReplicaSet",
            message: format!("Scaled up replica set {rs_name} from 0 to {replicas}"),
            component: "deployment-controller",
            host: String::new(),
        });
    }

    /// The previous revision's ReplicaSet emptied once the new one is up.
    pub fn scaled_down(&mut self, at: f64, dep: &Value, rs_name: &str, replicas: u32) {
        self.scaled_up(at, dep, rs_name, replicas);
        if let Some(e) = self.events.last_mut() {
            e.message = format!("Scaled down replica set {rs_name} from {replicas} to 0");
        }
    }

    /// Scheduled, Pulled, Created, Started of a pod just built.
    pub fn pod_started(&mut self, st: &State, ns: &str, name: &str, t: &PodTimes) {
        let Some(p) = st.pods.get(&(ns.to_string(), name.to_string())) else {
            return;
        };
        let pod =
            json!({"kind": "Pod", "namespace": ns, "name": name, "uid": p.uid, "apiVersion": "v1"});
        let mut container = pod.clone();
        container["fieldPath"] = json!(format!("spec.containers{{{}}}", p.container));
        let ms = t.pull_ms;
        let size = 20_000_000 + splitmix(p.seed) % 80_000_000;
        let scale = self.scale;
        let mut push =
            |at: f64, involved: &Value, reason, message: String, component, host: &str| {
                self.events.push(PastEvent {
                    at,
                    ns: ns.to_string(),
                    involved: involved.clone(),
                    reason,
                    message,
                    component,
                    host: host.to_string(),
                })
            };
        push(
            t.created,
            &pod,
            "Scheduled",
            format!("Successfully assigned {ns}/{name} to {}", p.node),
            "default-scheduler",
            "",
        );
        push(
            t.started - 2.0 * scale,
            &container,
            "Pulled",
            format!(
                "Successfully pulled image \"{}\" in {ms}ms ({ms}ms including waiting). Image size: {size} bytes.",
                p.image
            ),
            "kubelet",
            &p.node,
        );
        push(
            t.started - scale,
            &container,
            "Created",
            format!("Created container: {}", p.container),
            "kubelet",
            &p.node,
        );
        push(
            t.started,
            &container,
            "Started",
            format!("Started container {}", p.container),
            "kubelet",
            &p.node,
        );
    }

    /// Store the gathered events, oldest first.
    pub fn record(mut self, st: &mut State, clock: &Clock) {
        self.events.sort_by(|a, b| a.at.total_cmp(&b.at));
        for e in self.events {
            st.record_past_event(
                clock,
                e.at,
                &e.ns,
                e.involved,
                e.reason,
                &e.message,
                e.component,
                &e.host,
            );
        }
    }
}

/// One revision of a Deployment's past: its image and change-cause.
pub struct Revision {
    pub image: String,
    pub change_cause: Option<String>,
}

impl Revision {
    /// The change-cause, by default the `kubectl set image` command line
    /// that would have made it.
    fn cause(&self, w: &WorkloadSpec) -> String {
        self.change_cause.clone().unwrap_or_else(|| {
            format!(
                "kubectl set image deployment/{} {}={}",
                w.name,
                objects::container_name(w),
                self.image
            )
        })
    }
}

/// Gives a Deployment (or a copy standing for its past self) the revision
/// and change-cause annotations of `rev`.
pub fn annotate(dep: &mut Value, w: &WorkloadSpec, rev: &Revision, number: usize) {
    dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = json!(number.to_string());
    dep["metadata"]["annotations"]["kubernetes.io/change-cause"] = json!(rev.cause(w));
}

/// The scaled-down ReplicaSet of an earlier revision, created at `at`.
pub fn old_replicaset(
    dep: &Value,
    w: &WorkloadSpec,
    rev: &Revision,
    number: usize,
    at: &str,
) -> Value {
    let mut then = dep.clone();
    then["spec"]["template"]["spec"]["containers"][0]["image"] = json!(rev.image);
    annotate(&mut then, w, rev, number);
    let template = then
        .pointer("/spec/template")
        .cloned()
        .unwrap_or(Value::Null);
    let hash = objects::template_hash(&template);
    objects::replicaset(&then, &hash, number as u64, 0, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_history_stops_at_its_budget_of_pods() {
        let mut past = Past::new(1.0, HISTORY_PODS);
        let mut given = 0;
        for i in 0..100 {
            if past.rollout_at(i, 30).is_some() {
                given += 30;
            }
        }
        assert!(
            given <= HISTORY_PODS && given > HISTORY_PODS - 30,
            "{given}"
        );
        assert_eq!(past.rollout_at(7, 0), None);
    }

    #[test]
    fn a_rollout_lies_within_the_last_hour_of_the_wall_clock() {
        for scale in [1.0, 20.0] {
            let mut past = Past::new(scale, HISTORY_PODS);
            let at = past.rollout_at(3, 5).expect("budget");
            assert!(at < 0.0 && -at <= WINDOW * scale, "{at}");
            let t = Past::pod_times(scale, 3, at, 4);
            assert!(t.created > at && t.started >= t.created + 3.0 * scale);
            assert!(t.started < 0.0);
        }
    }
}
