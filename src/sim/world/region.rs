//! One simulated region: its store, the kubelet's view of its pods and its
//! events, all behind one mutex that the API handlers and the tick loop
//! share. The kubelet model is in `kubelet.rs`, the controllers in
//! `controllers.rs` and `deployment.rs`, the initial world in `build.rs`.

use crate::world::clock::Clock;
use crate::world::faults::Faults;
use crate::world::kubelet::{fill_pod_status, pod_ip_of};
use crate::world::objects::{self, PodPlacement};
use crate::world::scenario::{RbacRule, WorkloadSpec};
use crate::world::store::{splitmix, Kind, Store};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Events kept per region; the oldest are deleted beyond this.
const MAX_EVENTS: usize = 5_000;

pub struct Region {
    pub name: String,
    pub token: String,
    pub admin_token: String,
    pub clock: Clock,
    pub rbac: Vec<RbacRule>,
    pub bookmark_interval: Duration,
    pub faults: Mutex<Faults>,
    pub(crate) state: Mutex<State>,
    /// Wakes the tick loop after an API write so controllers react quickly.
    pub wake: tokio::sync::Notify,
    /// Shut while the region is blackholed (see `gate.rs`).
    pub gate: std::sync::Arc<crate::transport::gate::Gate>,
    /// Watch requests served since start (admin `state`).
    pub watch_requests: std::sync::atomic::AtomicU64,
    /// Open points in time of the Elasticsearch endpoint.
    pub es: crate::api::es::Pits,
    /// API requests received (admin excluded), for tests that bound a
    /// client's request rate.
    pub requests: RequestCounts,
    /// Custom resources the scenario defines, with this region's objects.
    pub custom: Vec<crate::world::custom::Served>,
}

#[derive(Debug, Default)]
pub struct RequestCounts {
    pub all: AtomicU64,
    /// GET of a collection.
    pub lists: AtomicU64,
    pub watches: AtomicU64,
}

/// A snapshot of `RequestCounts`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requests {
    pub all: u64,
    pub lists: u64,
    pub watches: u64,
}

impl RequestCounts {
    pub fn get(&self) -> Requests {
        Requests {
            all: self.all.load(Ordering::Relaxed),
            lists: self.lists.load(Ordering::Relaxed),
            watches: self.watches.load(Ordering::Relaxed),
        }
    }
}

impl Region {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves a usable store; carry on.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Created and scheduled; image being pulled.
    Pulling,
    Running,
    /// Crashed; waiting for the back-off to pass.
    BackOff,
    Terminating,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crash {
    /// The process exits with code 1 shortly after starting.
    Error,
    OomKilled,
}

/// The kubelet's private view of one pod.
#[derive(Debug, Clone)]
pub struct PodSim {
    pub node: String,
    pub ip: String,
    pub container: String,
    pub image: String,
    pub stage: Stage,
    pub next: f64,
    pub created: f64,
    /// Start of the running container instance (simulated seconds).
    pub started: f64,
    /// Start and end of the previous instance, if any.
    pub previous: Option<(f64, f64, &'static str, i32)>,
    pub restarts: u32,
    pub ready: bool,
    pub readiness: Option<(u32, u32)>,
    pub liveness: Option<(u32, u32, u32)>,
    pub readiness_failing: bool,
    pub liveness_failing: bool,
    pub crash: Option<Crash>,
    pub log_rate: f64,
    pub seed: u64,
    pub uid: String,
    pub owner: String,
    /// Terminated by the container stopping (follow streams end).
    pub stopped: bool,
}

/// A deleted pod whose log lines the log store still holds.
pub struct GoneLog {
    pub namespace: String,
    pub name: String,
    pub labels: Value,
    pub pod: PodSim,
    /// When its last container stopped (simulated seconds).
    pub ended: f64,
}

/// How long the log store keeps a deleted pod's lines (simulated seconds),
/// and how many deleted pods it keeps per region at most, oldest dropped
/// first: a log pipeline's retention, bounded for churning fleets.
pub const GONE_LOGS_RETENTION: f64 = 24.0 * 3600.0;
pub const GONE_LOGS_MAX: usize = 1000;

pub struct State {
    pub store: Store,
    pub pods: HashMap<(String, String), PodSim>,
    /// The autoscaler's recent recommendations, per HPA (namespace, name).
    pub(crate) hpa_recommendations: HashMap<(String, String), crate::world::hpa::Recommendations>,
    /// Deleted pods' logs, oldest first (`GONE_LOGS_*` bound it).
    pub gone_logs: VecDeque<GoneLog>,
    pub nodes: Vec<(String, String)>,
    pub(crate) node_load: Vec<usize>,
    pub(crate) next_ip: u32,
    pub rng: fastrand::Rng,
    pub(crate) events: HashMap<(String, String, String), String>,
    pub(crate) event_order: VecDeque<(String, String)>,
    pub dirty: bool,
    /// Earliest simulated time any pod needs the kubelet.
    pub(crate) next_due: f64,
    /// Pods changed readiness or came and went: endpoints need a rebuild.
    pub endpoints_dirty: bool,
    pub hostile: bool,
    pub(crate) region_index: u32,
    /// Workload specs by namespace/name (log rates, probes for new pods).
    pub workloads: BTreeMap<(String, String), WorkloadSpec>,
    /// Images whose containers crash shortly after start (bad rollouts).
    pub bad_images: Vec<String>,
    /// Conntrack and LVS counters (`network.rs`).
    pub net: crate::world::network::Network,
    /// The node the next created pod goes to (a DaemonSet's pods).
    pub(crate) pin_node: Option<usize>,
}

pub(crate) fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

pub(crate) fn u(v: &Value, ptr: &str) -> u64 {
    v.pointer(ptr).and_then(Value::as_u64).unwrap_or(0)
}

/// Resolve an IntOrString like `25%` against `total` (rounding as the
/// deployment controller does: surge up, unavailable down).
pub(crate) fn int_or_percent(v: Option<&Value>, total: u64, round_up: bool, default: u64) -> u64 {
    match v {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(default),
        Some(Value::String(p)) => {
            let pct: f64 = p.trim_end_matches('%').parse().unwrap_or(25.0);
            let x = total as f64 * pct / 100.0;
            if round_up {
                x.ceil() as u64
            } else {
                x.floor() as u64
            }
        }
        _ => default,
    }
}

impl State {
    pub(crate) fn pick_node(&mut self) -> usize {
        let mut best = 0;
        for (i, load) in self.node_load.iter().enumerate() {
            if *load < self.node_load[best] {
                best = i;
            }
        }
        best
    }

    pub(crate) fn next_pod_ip(&mut self) -> String {
        // Hosts .2 to .254 of each /24: no two pods share an address.
        let k = self.next_ip;
        self.next_ip += 1;
        format!(
            "10.{}.{}.{}",
            64 + self.region_index,
            (k / 253) & 255,
            2 + k % 253
        )
    }

    /// Record an event, aggregating repeats (same object, reason, message)
    /// into one object with a growing count, as the kubelet's recorder does.
    #[allow(clippy::too_many_arguments)]
    pub fn record_event(
        &mut self,
        clock: &Clock,
        ns: &str,
        involved: Value,
        reason: &str,
        message: &str,
        ty: &str,
        component: &str,
        host: &str,
    ) {
        let now = clock.stamp();
        let obj_name = s(&involved, "/name").to_string();
        let key = (
            ns.to_string(),
            format!("{}/{}", s(&involved, "/uid"), obj_name),
            format!("{reason}\0{message}"),
        );
        if let Some(name) = self.events.get(&key).cloned() {
            if let Some(mut ev) = self.store.get_value(Kind::Event, ns, &name) {
                ev["count"] = json!(u(&ev, "/count") + 1);
                ev["lastTimestamp"] = json!(now);
                let _ = self.store.put(Kind::Event, ev, &now);
                return;
            }
        }
        let suffix = self.rng.u64(..);
        let name = format!("{obj_name}.{:016x}", suffix);
        let message = if self.hostile {
            format!("{message} \u{1b}]52;c;cHduZWQ=\u{7}\u{1b}[2J\u{202e}desrever\u{202c}")
        } else {
            message.to_string()
        };
        let ev = objects::event(
            ns, &name, involved, reason, &message, ty, component, host, &now, &now, 1,
        );
        self.store_new_event(ns, key, name, ev, &now);
    }

    /// Record a Normal event that happened `at` (simulated seconds, before
    /// start), as part of the initial world's history.
    #[allow(clippy::too_many_arguments)]
    pub fn record_past_event(
        &mut self,
        clock: &Clock,
        at: f64,
        ns: &str,
        involved: Value,
        reason: &str,
        message: &str,
        component: &str,
        host: &str,
    ) {
        let when = clock.stamp_at(at);
        let obj_name = s(&involved, "/name").to_string();
        let key = (
            ns.to_string(),
            format!("{}/{}", s(&involved, "/uid"), obj_name),
            format!("{reason}\0{message}"),
        );
        let name = format!("{obj_name}.{:016x}", self.rng.u64(..));
        let ev = objects::event(
            ns, &name, involved, reason, message, "Normal", component, host, &when, &when, 1,
        );
        self.store_new_event(ns, key, name, ev, &when);
    }

    /// Store a new event; beyond `MAX_EVENTS` the oldest are deleted.
    pub(crate) fn store_new_event(
        &mut self,
        ns: &str,
        key: (String, String, String),
        name: String,
        ev: Value,
        now: &str,
    ) {
        if self.store.put(Kind::Event, ev, now).is_ok() {
            self.events.insert(key, name.clone());
            self.event_order.push_back((ns.to_string(), name));
            while self.event_order.len() > MAX_EVENTS {
                if let Some((ns, name)) = self.event_order.pop_front() {
                    let _ = self.store.delete(Kind::Event, &ns, &name);
                    self.events.retain(|_, v| *v != name);
                }
            }
        }
    }

    pub(crate) fn pod_ref(
        &self,
        ns: &str,
        name: &str,
        uid: &str,
        container: Option<&str>,
    ) -> Value {
        let mut r =
            json!({"kind": "Pod", "namespace": ns, "name": name, "uid": uid, "apiVersion": "v1"});
        if let Some(c) = container {
            r["fieldPath"] = json!(format!("spec.containers{{{c}}}"));
        }
        r
    }

    /// Create a pod from a template on the least-loaded node.
    #[allow(clippy::too_many_arguments)]
    pub fn create_pod(
        &mut self,
        clock: &Clock,
        template: &Value,
        ns: &str,
        name: String,
        owner_kind: &str,
        owner_name: &str,
        owner_uid: &str,
        extra_labels: &[(&str, String)],
        running_since: Option<(f64, f64)>,
    ) {
        let node_i = match self.pin_node.take() {
            Some(i) if i < self.nodes.len() => i,
            _ => self.pick_node(),
        };
        self.node_load[node_i] += 1;
        let (node, host_ip) = self.nodes[node_i].clone();
        let pod_ip = self.next_pod_ip();
        let created = match running_since {
            Some((t, _)) => clock.stamp_at(t),
            None => clock.stamp(),
        };
        let mut v = objects::pod(
            template,
            ns,
            &PodPlacement {
                name: name.clone(),
                owner_kind,
                owner_name,
                owner_uid,
                node: &node,
                host_ip: &host_ip,
                pod_ip,
            },
            &created,
        );
        for (k, val) in extra_labels {
            v["metadata"]["labels"][*k] = json!(val);
        }
        if self.hostile {
            v["metadata"]["labels"]["sim.pitwall.dev/hostile"] = json!("x\u{1b}[31my");
            v["metadata"]["annotations"]["sim.pitwall.dev/hostile"] =
                json!("\u{1b}]52;c;cHduZWQ=\u{7}\u{202e}gnp.exe");
        }
        let container = v
            .pointer("/spec/containers/0/name")
            .and_then(Value::as_str)
            .unwrap_or("app")
            .to_string();
        let image = s(&v, "/spec/containers/0/image").to_string();
        let wl = self
            .workloads
            .get(&(ns.to_string(), owner_workload(owner_kind, owner_name)))
            .cloned();
        let readiness = v.pointer("/spec/containers/0/readinessProbe").map(|p| {
            (
                u(p, "/initialDelaySeconds") as u32,
                u(p, "/periodSeconds").max(1) as u32,
            )
        });
        let liveness = v.pointer("/spec/containers/0/livenessProbe").map(|p| {
            (
                u(p, "/initialDelaySeconds") as u32,
                u(p, "/periodSeconds").max(1) as u32,
                u(p, "/failureThreshold").max(1) as u32,
            )
        });
        let seed = splitmix(self.rng.u64(..));
        let crash = if self.bad_images.contains(&image) {
            Some(Crash::Error)
        } else {
            None
        };
        let now = clock.elapsed();
        let mut sim = PodSim {
            node: node.clone(),
            ip: pod_ip_of(&v),
            container,
            image,
            stage: Stage::Pulling,
            next: now,
            created: now,
            started: now,
            previous: None,
            restarts: 0,
            ready: false,
            readiness,
            liveness,
            readiness_failing: false,
            liveness_failing: false,
            crash,
            log_rate: wl.as_ref().map(|w| w.log_rate).unwrap_or(1.0),
            seed,
            uid: String::new(),
            owner: owner_name.to_string(),
            stopped: false,
        };
        if let Some((created, started)) = running_since {
            // Part of the initial world: its start-up events, if any, are
            // written by `history`.
            sim.created = created;
            sim.started = started;
            sim.stage = Stage::Running;
            sim.ready = true;
            sim.next = f64::INFINITY;
            fill_pod_status(clock, &sim, &mut v);
        }
        let stored = match self.store.put(Kind::Pod, v, &created) {
            Ok(v) => v,
            Err(_) => return,
        };
        sim.uid = s(&stored, "/metadata/uid").to_string();
        let uid = sim.uid.clone();
        let fresh = running_since.is_none();
        if fresh {
            self.due_at(now);
        }
        self.pods.insert((ns.to_string(), name.clone()), sim);
        if fresh {
            self.record_event(
                clock,
                ns,
                self.pod_ref(ns, &name, &uid, None),
                "Scheduled",
                &format!("Successfully assigned {ns}/{name} to {node}"),
                "Normal",
                "default-scheduler",
                "",
            );
        }
        self.dirty = true;
        self.endpoints_dirty = true;
    }

    /// Graceful deletion: mark Terminating; the kubelet removes it shortly.
    pub fn terminate_pod(&mut self, clock: &Clock, ns: &str, name: &str) -> Option<Value> {
        let mut v = self.store.get_value(Kind::Pod, ns, name)?;
        if v.pointer("/metadata/deletionTimestamp").is_some() {
            return Some(v);
        }
        let now = clock.elapsed();
        let grace = 2.0;
        v["metadata"]["deletionTimestamp"] = json!(clock.stamp_at(now + 30.0));
        v["metadata"]["deletionGracePeriodSeconds"] = json!(30);
        let stored = self.store.put(Kind::Pod, v, &clock.stamp()).ok()?;
        if let Some(p) = self.pods.get_mut(&(ns.to_string(), name.to_string())) {
            p.stage = Stage::Terminating;
            p.next = now + grace;
            self.next_due = self.next_due.min(now + grace);
            let (c, uid, node) = (p.container.clone(), p.uid.clone(), p.node.clone());
            self.record_event(
                clock,
                ns,
                self.pod_ref(ns, name, &uid, Some(&c)),
                "Killing",
                &format!("Stopping container {c}"),
                "Normal",
                "kubelet",
                &node,
            );
        } else {
            let _ = self.store.delete(Kind::Pod, ns, name);
        }
        self.dirty = true;
        Some(stored)
    }

    /// The pod is gone at simulated second `now`; its logs stay searchable.
    pub(crate) fn remove_pod(&mut self, ns: &str, name: &str, now: f64) {
        if let Some(p) = self.pods.remove(&(ns.to_string(), name.to_string())) {
            if let Some(i) = self.nodes.iter().position(|(n, _)| *n == p.node) {
                self.node_load[i] = self.node_load[i].saturating_sub(1);
            }
            let labels = self
                .store
                .get_value(Kind::Pod, ns, name)
                .and_then(|v| v.pointer("/metadata/labels").cloned())
                .unwrap_or_else(|| json!({}));
            self.keep_gone_log(GoneLog {
                namespace: ns.to_string(),
                name: name.to_string(),
                labels,
                pod: p,
                ended: now,
            });
        }
        let _ = self.store.delete(Kind::Pod, ns, name);
        self.dirty = true;
        self.endpoints_dirty = true;
    }

    pub(crate) fn keep_gone_log(&mut self, gone: GoneLog) {
        let oldest = gone.ended - GONE_LOGS_RETENTION;
        while self
            .gone_logs
            .front()
            .is_some_and(|g| g.ended < oldest || self.gone_logs.len() >= GONE_LOGS_MAX)
        {
            self.gone_logs.pop_front();
        }
        self.gone_logs.push_back(gone);
    }

    /// Rewrite a pod's status from the kubelet's view.
    pub fn write_pod_status(&mut self, clock: &Clock, ns: &str, name: &str) {
        let Some(p) = self.pods.get(&(ns.to_string(), name.to_string())) else {
            return;
        };
        let Some(mut v) = self.store.get_value(Kind::Pod, ns, name) else {
            return;
        };
        fill_pod_status(clock, p, &mut v);
        let now = clock.stamp();
        let _ = self.store.put(Kind::Pod, v, &now);
        self.endpoints_dirty = true;
    }
}

/// Workload name from an owner: ReplicaSet `web-7d9f8c6b5` -> `web`.
pub fn owner_workload(kind: &str, owner: &str) -> String {
    if kind == "StatefulSet" {
        return owner.to_string();
    }
    match owner.rsplit_once('-') {
        Some((base, hash))
            if hash.len() >= 8
                && hash
                    .bytes()
                    .all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b)) =>
        {
            base.to_string()
        }
        _ => owner.to_string(),
    }
}
