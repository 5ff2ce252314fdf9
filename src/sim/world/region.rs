//! One simulated region: its store, its kubelet model and its controllers,
//! all behind one mutex that the API handlers and the tick loop share.

use crate::world::clock::Clock;
use crate::world::faults::Faults;
use crate::world::history;
use crate::world::objects::{self, PodPlacement};
use crate::world::scenario::{RbacRule, RegionSpec, ScenarioFile, WorkloadSpec};
use crate::world::store::{splitmix, Kind, Store};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
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
    state: Mutex<State>,
    /// Wakes the tick loop after an API write so controllers react quickly.
    pub wake: tokio::sync::Notify,
    /// Shut while the region is blackholed (see `gate.rs`).
    pub gate: std::sync::Arc<crate::transport::gate::Gate>,
    /// Watch requests served since start (admin `state`).
    pub watch_requests: std::sync::atomic::AtomicU64,
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

pub struct State {
    pub store: Store,
    pub pods: HashMap<(String, String), PodSim>,
    pub nodes: Vec<(String, String)>,
    node_load: Vec<usize>,
    next_ip: u32,
    pub rng: fastrand::Rng,
    events: HashMap<(String, String, String), String>,
    event_order: VecDeque<(String, String)>,
    pub dirty: bool,
    /// Earliest simulated time any pod needs the kubelet.
    next_due: f64,
    /// Pods changed readiness or came and went: endpoints need a rebuild.
    pub endpoints_dirty: bool,
    pub hostile: bool,
    region_index: u32,
    /// Workload specs by namespace/name (log rates, probes for new pods).
    pub workloads: BTreeMap<(String, String), WorkloadSpec>,
    /// Images whose containers crash shortly after start (bad rollouts).
    pub bad_images: Vec<String>,
}

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn u(v: &Value, ptr: &str) -> u64 {
    v.pointer(ptr).and_then(Value::as_u64).unwrap_or(0)
}

/// Resolve an IntOrString like `25%` against `total` (rounding as the
/// deployment controller does: surge up, unavailable down).
fn int_or_percent(v: Option<&Value>, total: u64, round_up: bool, default: u64) -> u64 {
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
    fn pick_node(&mut self) -> usize {
        let mut best = 0;
        for (i, load) in self.node_load.iter().enumerate() {
            if *load < self.node_load[best] {
                best = i;
            }
        }
        best
    }

    fn next_pod_ip(&mut self) -> String {
        self.next_ip += 1;
        let n = self.next_ip;
        format!(
            "10.{}.{}.{}",
            64 + self.region_index,
            (n >> 8) & 255,
            (n & 255).max(2)
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
    fn store_new_event(
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

    fn pod_ref(&self, ns: &str, name: &str, uid: &str, container: Option<&str>) -> Value {
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
        let node_i = self.pick_node();
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

    fn remove_pod(&mut self, ns: &str, name: &str) {
        if let Some(p) = self.pods.remove(&(ns.to_string(), name.to_string())) {
            if let Some(i) = self.nodes.iter().position(|(n, _)| *n == p.node) {
                self.node_load[i] = self.node_load[i].saturating_sub(1);
            }
        }
        let _ = self.store.delete(Kind::Pod, ns, name);
        self.dirty = true;
        self.endpoints_dirty = true;
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

fn pod_ip_of(v: &Value) -> String {
    s(v, "/status/podIP").to_string()
}

/// Write a pod's status from the kubelet's view of it.
fn fill_pod_status(clock: &Clock, p: &PodSim, v: &mut Value) {
    let name = s(v, "/metadata/name").to_string();
    let ns = s(v, "/metadata/namespace").to_string();
    {
        let created = s(v, "/metadata/creationTimestamp").to_string();
        let started = clock.stamp_at(p.started);
        let running = p.stage == Stage::Running;
        let ready = running && p.ready;
        let state = match p.stage {
            Stage::Pulling => json!({"waiting": {"reason": "ContainerCreating"}}),
            Stage::Running => json!({"running": {"startedAt": started}}),
            Stage::BackOff => {
                json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off {}s restarting failed container={} pod={}_{}({})", backoff_secs(p.restarts) as u64, p.container, name, ns, p.uid)}})
            }
            Stage::Terminating => {
                json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started, "finishedAt": clock.stamp()}})
            }
        };
        let last_state = match p.previous {
            Some((a, b, reason, code)) => {
                json!({"terminated": {"exitCode": code, "reason": reason, "startedAt": clock.stamp_at(a), "finishedAt": clock.stamp_at(b), "containerID": format!("containerd://{:064x}", p.seed as u128 * 3 + p.restarts as u128)}})
            }
            None => json!({}),
        };
        let cond = |t: &str, ok: bool| {
            let mut c = json!({"type": t, "status": if ok {"True"} else {"False"}, "lastProbeTime": null, "lastTransitionTime": if ok { started.clone() } else { created.clone() }});
            if !ok && (t == "Ready" || t == "ContainersReady") {
                c["reason"] = json!("ContainersNotReady");
                c["message"] = json!(format!("containers with unready status: [{}]", p.container));
            }
            c
        };
        let phase = if p.stage == Stage::Pulling {
            "Pending"
        } else {
            "Running"
        };
        let mut cs = json!({
            "name": p.container,
            "image": p.image,
            "imageID": format!("{}@sha256:{:016x}{:016x}", p.image.split(':').next().unwrap_or(""), splitmix(p.seed), splitmix(p.seed ^ 1)),
            "ready": ready,
            "started": running,
            "restartCount": p.restarts,
            "state": state,
            "lastState": last_state,
        });
        if p.stage != Stage::Pulling {
            cs["containerID"] = json!(format!(
                "containerd://{:016x}{:016x}{:016x}{:016x}",
                splitmix(p.seed ^ p.restarts as u64),
                p.seed,
                splitmix(p.seed),
                p.restarts
            ));
        }
        v["status"]["phase"] = json!(phase);
        v["status"]["startTime"] = json!(clock.stamp_at(p.created));
        v["status"]["conditions"] = json!([
            cond("PodReadyToStartContainers", p.stage != Stage::Pulling),
            cond("Initialized", true),
            cond("Ready", ready),
            cond("ContainersReady", ready),
            cond("PodScheduled", true),
        ]);
        v["status"]["containerStatuses"] = json!([cs]);
    }
}

impl State {
    /// The kubelet: move pods along their life cycle.
    pub fn kubelet_tick(&mut self, clock: &Clock) {
        let now = clock.elapsed();
        // Nothing is due: skip the scan (big regions are mostly steady).
        if now < self.next_due {
            return;
        }
        let due: Vec<(String, String)> = self
            .pods
            .iter()
            .filter(|(_, p)| p.next <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for (ns, name) in due {
            self.step_pod(clock, &ns, &name, now);
        }
        self.next_due = self
            .pods
            .values()
            .map(|p| p.next)
            .fold(f64::INFINITY, f64::min);
    }

    fn due_at(&mut self, t: f64) {
        self.next_due = self.next_due.min(t);
    }

    fn step_pod(&mut self, clock: &Clock, ns: &str, name: &str, now: f64) {
        let key = (ns.to_string(), name.to_string());
        let Some(mut p) = self.pods.get(&key).cloned() else {
            return;
        };
        let pref = self.pod_ref(ns, name, &p.uid, Some(&p.container));
        let node = p.node.clone();
        let c = p.container.clone();
        let mut changed = false;
        match p.stage {
            Stage::Terminating => {
                p.stopped = true;
                self.pods.insert(key, p);
                self.remove_pod(ns, name);
                return;
            }
            Stage::Pulling => {
                if now - p.created < 1.0 {
                    p.next = p.created + 1.0;
                    self.record_event(
                        clock,
                        ns,
                        pref.clone(),
                        "Pulling",
                        &format!("Pulling image \"{}\"", p.image),
                        "Normal",
                        "kubelet",
                        &node,
                    );
                } else {
                    self.record_event(clock, ns, pref.clone(), "Pulled", &format!("Successfully pulled image \"{}\" in 812ms (812ms including waiting). Image size: 48213520 bytes.", p.image), "Normal", "kubelet", &node);
                    self.start_container(clock, ns, &pref, &mut p, now);
                    changed = true;
                }
            }
            Stage::BackOff => {
                self.record_event(
                    clock,
                    ns,
                    pref.clone(),
                    "Pulled",
                    &format!("Container image \"{}\" already present on machine", p.image),
                    "Normal",
                    "kubelet",
                    &node,
                );
                self.start_container(clock, ns, &pref, &mut p, now);
                changed = true;
            }
            Stage::Running => {
                let up = now - p.started;
                if let Some(crash) = p.crash {
                    if up >= 2.0 {
                        let (reason, code) = match crash {
                            Crash::Error => ("Error", 1),
                            Crash::OomKilled => ("OOMKilled", 137),
                        };
                        p.previous = Some((p.started, now, reason, code));
                        p.restarts += 1;
                        p.ready = false;
                        p.stage = Stage::BackOff;
                        p.next = now + backoff_secs(p.restarts);
                        self.record_event(
                            clock,
                            ns,
                            pref.clone(),
                            "BackOff",
                            &format!(
                                "Back-off restarting failed container {c} in pod {name}_{ns}({})",
                                p.uid
                            ),
                            "Warning",
                            "kubelet",
                            &node,
                        );
                        changed = true;
                    } else {
                        p.next = p.started + 2.0;
                    }
                } else {
                    let mut next = f64::INFINITY;
                    if let Some((delay, period)) = p.readiness {
                        if up >= delay as f64 {
                            let want = !p.readiness_failing;
                            if p.ready != want {
                                p.ready = want;
                                changed = true;
                            }
                            if p.readiness_failing {
                                self.record_event(clock, ns, pref.clone(), "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", "Warning", "kubelet", &node);
                                next = next.min(now + period as f64);
                            }
                        } else {
                            next = next.min(p.started + delay as f64);
                        }
                    } else if !p.ready {
                        p.ready = true;
                        changed = true;
                    }
                    if let Some((delay, period, threshold)) = p.liveness {
                        if p.liveness_failing && up >= delay as f64 {
                            self.record_event(
                                clock,
                                ns,
                                pref.clone(),
                                "Unhealthy",
                                "Liveness probe failed: HTTP probe failed with statuscode: 500",
                                "Warning",
                                "kubelet",
                                &node,
                            );
                            let fails = ((up - delay as f64) / period as f64).floor() as u32 + 1;
                            if fails >= threshold {
                                self.record_event(
                                    clock,
                                    ns,
                                    pref.clone(),
                                    "Killing",
                                    &format!(
                                        "Container {c} failed liveness probe, will be restarted"
                                    ),
                                    "Normal",
                                    "kubelet",
                                    &node,
                                );
                                p.previous = Some((p.started, now, "Error", 137));
                                p.restarts += 1;
                                p.ready = false;
                                p.stage = Stage::BackOff;
                                p.next = now + 1.0;
                                changed = true;
                                next = p.next;
                            } else {
                                next = next.min(now + period as f64);
                            }
                        } else if p.liveness_failing {
                            next = next.min(p.started + delay as f64);
                        }
                    }
                    if p.stage == Stage::Running {
                        p.next = next;
                    }
                }
            }
        }
        self.pods.insert(key, p);
        if changed {
            self.write_pod_status(clock, ns, name);
            self.dirty = true;
        }
    }

    fn start_container(&mut self, clock: &Clock, ns: &str, pref: &Value, p: &mut PodSim, now: f64) {
        let node = p.node.clone();
        self.record_event(
            clock,
            ns,
            pref.clone(),
            "Created",
            &format!("Created container: {}", p.container),
            "Normal",
            "kubelet",
            &node,
        );
        self.record_event(
            clock,
            ns,
            pref.clone(),
            "Started",
            &format!("Started container {}", p.container),
            "Normal",
            "kubelet",
            &node,
        );
        p.stage = Stage::Running;
        p.started = now;
        p.ready = false;
        p.next = now;
    }

    /// Mark a pod's container as failing readiness/liveness or crashing.
    pub fn set_pod_fault(&mut self, ns: &str, name: &str, f: impl FnOnce(&mut PodSim)) -> bool {
        match self.pods.get_mut(&(ns.to_string(), name.to_string())) {
            Some(p) => {
                f(p);
                p.next = 0.0;
                self.next_due = 0.0;
                true
            }
            None => false,
        }
    }

    /// Pods owned (through a ReplicaSet or directly) by a workload.
    pub fn pods_of(&self, ns: &str, owner_prefix: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .pods
            .iter()
            .filter(|((pns, _), p)| pns == ns && owner_workload("", &p.owner) == owner_prefix)
            .map(|((_, n), _)| n.clone())
            .collect();
        v.sort();
        v
    }

    /// Run every controller once.
    pub fn reconcile(&mut self, clock: &Clock) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        for dep in self.store.values(Kind::Deployment) {
            self.reconcile_deployment(clock, dep);
        }
        for rs in self.store.values(Kind::ReplicaSet) {
            self.reconcile_replicaset(clock, rs);
        }
        for sts in self.store.values(Kind::StatefulSet) {
            self.reconcile_statefulset(clock, sts);
        }
        // Status writes made by controllers feed back into each other once.
        if self.dirty {
            self.dirty = false;
            for dep in self.store.values(Kind::Deployment) {
                self.reconcile_deployment(clock, dep);
            }
        }
    }

    fn owned(&self, kind: Kind, ns: &str, uid: &str) -> Vec<Value> {
        self.store
            .iter(kind)
            .filter(|((ons, _), _)| ons == ns)
            .filter_map(|(_, o)| serde_json::from_slice::<Value>(&o.json).ok())
            .filter(|v| {
                v.pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .is_some_and(|refs| refs.iter().any(|r| s(r, "/uid") == uid))
            })
            .collect()
    }

    /// (total, ready, terminating) pods owned by a ReplicaSet/StatefulSet.
    fn pod_counts(&self, ns: &str, owner: &str) -> (u64, u64, Vec<String>) {
        let mut total = 0;
        let mut ready = 0;
        let mut names = Vec::new();
        for ((pns, pname), p) in &self.pods {
            if pns != ns || p.owner != owner || p.stage == Stage::Terminating {
                continue;
            }
            total += 1;
            if p.ready && p.stage == Stage::Running {
                ready += 1;
            }
            names.push(pname.clone());
        }
        names.sort();
        (total, ready, names)
    }

    fn put_if_changed(&mut self, clock: &Clock, kind: Kind, old: &Value, new: Value) {
        if *old != new {
            let _ = self.store.put(kind, new, &clock.stamp());
            self.dirty = true;
        }
    }

    fn reconcile_replicaset(&mut self, clock: &Clock, rs: Value) {
        let ns = s(&rs, "/metadata/namespace").to_string();
        let name = s(&rs, "/metadata/name").to_string();
        let uid = s(&rs, "/metadata/uid").to_string();
        let want = u(&rs, "/spec/replicas");
        let (total, ready, names) = self.pod_counts(&ns, &name);
        if total < want {
            let template = rs.pointer("/spec/template").cloned().unwrap_or(Value::Null);
            for _ in total..want {
                let suffix = objects::safe_string(self.rng.u64(..), 5);
                let pod = format!("{name}-{suffix}");
                self.create_pod(
                    clock,
                    &template,
                    &ns,
                    pod.clone(),
                    "ReplicaSet",
                    &name,
                    &uid,
                    &[],
                    None,
                );
                let rs_ref = json!({"kind": "ReplicaSet", "namespace": ns, "name": name, "uid": uid, "apiVersion": "apps/v1"});
                self.record_event(
                    clock,
                    &ns,
                    rs_ref,
                    "SuccessfulCreate",
                    &format!("Created pod: {pod}"),
                    "Normal",
                    "replicaset-controller",
                    "",
                );
            }
        } else if total > want {
            // Delete not-ready pods first, then the newest.
            let mut victims: Vec<(bool, f64, String)> = names
                .iter()
                .filter_map(|n| {
                    self.pods
                        .get(&(ns.clone(), n.clone()))
                        .map(|p| (p.ready, -p.created, n.clone()))
                })
                .collect();
            victims.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            for (_, _, n) in victims.into_iter().take((total - want) as usize) {
                self.terminate_pod(clock, &ns, &n);
                let rs_ref = json!({"kind": "ReplicaSet", "namespace": ns, "name": name, "uid": uid, "apiVersion": "apps/v1"});
                self.record_event(
                    clock,
                    &ns,
                    rs_ref,
                    "SuccessfulDelete",
                    &format!("Deleted pod: {n}"),
                    "Normal",
                    "replicaset-controller",
                    "",
                );
            }
        }
        let (total, ready2, _) = self.pod_counts(&ns, &name);
        let _ = ready;
        let mut new = rs.clone();
        new["status"] = json!({
            "replicas": total,
            "fullyLabeledReplicas": total,
            "readyReplicas": ready2,
            "availableReplicas": ready2,
            "observedGeneration": u(&rs, "/metadata/generation").max(1),
        });
        if ready2 == 0 {
            new["status"].as_object_mut().map(|o| {
                o.remove("readyReplicas");
                o.remove("availableReplicas")
            });
        }
        if total == 0 {
            new["status"]
                .as_object_mut()
                .map(|o| o.remove("fullyLabeledReplicas"));
        }
        self.put_if_changed(clock, Kind::ReplicaSet, &rs, new);
    }

    fn reconcile_deployment(&mut self, clock: &Clock, dep: Value) {
        let ns = s(&dep, "/metadata/namespace").to_string();
        let uid = s(&dep, "/metadata/uid").to_string();
        let desired = dep
            .pointer("/spec/replicas")
            .and_then(Value::as_u64)
            .unwrap_or(1);
        let paused = dep
            .pointer("/spec/paused")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let template = dep
            .pointer("/spec/template")
            .cloned()
            .unwrap_or(Value::Null);
        let hash = objects::template_hash(&template);
        let mut rss = self.owned(Kind::ReplicaSet, &ns, &uid);
        let rev = |v: &Value| -> u64 {
            s(
                v,
                "/metadata/annotations/deployment.kubernetes.io~1revision",
            )
            .parse()
            .unwrap_or(0)
        };
        let max_rev = rss.iter().map(rev).max().unwrap_or(0);
        let now = clock.stamp();
        let mut new_rs = rss
            .iter()
            .position(|r| s(r, "/metadata/labels/pod-template-hash") == hash);
        if new_rs.is_none() && !paused {
            let others_have_pods = rss.iter().any(|r| u(r, "/spec/replicas") > 0);
            let start = if others_have_pods { 0 } else { desired };
            let rs = objects::replicaset(&dep, &hash, max_rev + 1, start, &now);
            if let Ok(v) = self.store.put(Kind::ReplicaSet, rs, &now) {
                rss.push(v);
                new_rs = Some(rss.len() - 1);
                self.dirty = true;
            }
        }
        // Rolled back to an older template: it becomes the newest revision.
        if let Some(i) = new_rs {
            if rev(&rss[i]) < max_rev && !paused {
                let old = rss[i].clone();
                let mut r = old.clone();
                r["metadata"]["annotations"]["deployment.kubernetes.io/revision"] =
                    json!((max_rev + 1).to_string());
                match dep.pointer("/metadata/annotations/kubernetes.io~1change-cause") {
                    Some(c) => {
                        r["metadata"]["annotations"]["kubernetes.io/change-cause"] = c.clone()
                    }
                    None => {
                        r["metadata"]["annotations"]
                            .as_object_mut()
                            .map(|a| a.remove("kubernetes.io/change-cause"));
                    }
                }
                if let Ok(v) = self.store.put(Kind::ReplicaSet, r, &now) {
                    rss[i] = v;
                }
            }
        }
        let strategy = s(&dep, "/spec/strategy/type").to_string();
        let surge = int_or_percent(
            dep.pointer("/spec/strategy/rollingUpdate/maxSurge"),
            desired,
            true,
            1,
        );
        let mut unavailable = int_or_percent(
            dep.pointer("/spec/strategy/rollingUpdate/maxUnavailable"),
            desired,
            false,
            0,
        );
        if surge == 0 && unavailable == 0 {
            unavailable = 1;
        }
        if !paused {
            if let Some(ni) = new_rs {
                let total_spec: u64 = rss.iter().map(|r| u(r, "/spec/replicas")).sum();
                let old_total: u64 = rss
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != ni)
                    .map(|(_, r)| u(r, "/spec/replicas"))
                    .sum();
                let mut targets: Vec<u64> = rss.iter().map(|r| u(r, "/spec/replicas")).collect();
                let new_now = targets[ni];
                if strategy == "Recreate" {
                    for (i, t) in targets.iter_mut().enumerate() {
                        if i != ni {
                            *t = 0;
                        }
                    }
                    let old_pods: u64 = rss
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != ni)
                        .map(|(_, r)| u(r, "/status/replicas"))
                        .sum();
                    targets[ni] = if old_pods == 0 { desired } else { 0 };
                } else if new_now > desired || old_total == 0 {
                    targets[ni] = desired;
                } else {
                    let room = (desired + surge).saturating_sub(total_spec);
                    targets[ni] = desired.min(new_now + room);
                    // Scale old replica sets down while availability allows.
                    let available: u64 =
                        rss.iter().map(|r| u(r, "/status/availableReplicas")).sum();
                    let min_available = desired.saturating_sub(unavailable);
                    let mut budget = available.saturating_sub(min_available);
                    for (i, r) in rss.iter().enumerate() {
                        if i == ni {
                            continue;
                        }
                        let cur = targets[i];
                        let unhealthy = cur.saturating_sub(u(r, "/status/availableReplicas"));
                        let take_healthy = (cur - unhealthy.min(cur)).min(budget);
                        budget -= take_healthy;
                        targets[i] = cur - unhealthy.min(cur) - take_healthy;
                    }
                }
                let mut events = Vec::new();
                for (i, r) in rss.iter_mut().enumerate() {
                    if u(r, "/spec/replicas") != targets[i] {
                        let from = u(r, "/spec/replicas");
                        let verb = if targets[i] > from { "up" } else { "down" };
                        let msg = format!(
                            "Scaled {verb} replica set {} from {from} to {}",
                            s(r, "/metadata/name"),
                            targets[i]
                        );
                        let dep_ref = json!({"kind": "Deployment", "namespace": ns, "name": s(&dep, "/metadata/name"), "uid": uid, "apiVersion": "apps/v1"});
                        events.push((dep_ref, msg));
                        let mut n = r.clone();
                        n["spec"]["replicas"] = json!(targets[i]);
                        n["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] =
                            json!(desired.to_string());
                        n["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] =
                            json!((desired + surge).to_string());
                        if let Ok(v) = self.store.put(Kind::ReplicaSet, n, &now) {
                            *r = v;
                        }
                        self.dirty = true;
                    }
                }
                for (r, msg) in events {
                    self.record_event(
                        clock,
                        &ns,
                        r,
                        "ScalingReplicaSet",
                        &msg,
                        "Normal",
                        "deployment-controller",
                        "",
                    );
                }
            }
        }
        // Old, empty replica sets beyond the history limit go away.
        let limit = dep
            .pointer("/spec/revisionHistoryLimit")
            .and_then(Value::as_u64)
            .unwrap_or(10) as usize;
        let mut empty_old: Vec<(u64, String)> = rss
            .iter()
            .enumerate()
            .filter(|(i, r)| {
                Some(*i) != new_rs && u(r, "/spec/replicas") == 0 && u(r, "/status/replicas") == 0
            })
            .map(|(_, r)| (rev(r), s(r, "/metadata/name").to_string()))
            .collect();
        empty_old.sort();
        if empty_old.len() > limit {
            for (_, n) in empty_old.iter().take(empty_old.len() - limit) {
                let _ = self.store.delete(Kind::ReplicaSet, &ns, n);
                rss.retain(|r| s(r, "/metadata/name") != n);
            }
            new_rs = rss
                .iter()
                .position(|r| s(r, "/metadata/labels/pod-template-hash") == hash);
        }
        // Status, as `kubectl rollout status` reads it.
        let replicas: u64 = rss.iter().map(|r| u(r, "/status/replicas")).sum();
        let ready: u64 = rss.iter().map(|r| u(r, "/status/readyReplicas")).sum();
        let available: u64 = rss.iter().map(|r| u(r, "/status/availableReplicas")).sum();
        let updated = new_rs.map(|i| u(&rss[i], "/status/replicas")).unwrap_or(0);
        let new_name = new_rs
            .map(|i| s(&rss[i], "/metadata/name").to_string())
            .unwrap_or_default();
        let new_available = new_rs
            .map(|i| u(&rss[i], "/status/availableReplicas"))
            .unwrap_or(0);
        let complete = updated == desired && replicas == desired && new_available == desired;
        let old_conds: Vec<Value> = dep
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let keep = |t: &str, status: &str, reason: &str, msg: &str| -> Value {
            let prev = old_conds.iter().find(|c| s(c, "/type") == t);
            let same_status = prev.is_some_and(|c| s(c, "/status") == status);
            let same = prev.is_some_and(|c| {
                s(c, "/status") == status && s(c, "/reason") == reason && s(c, "/message") == msg
            });
            let transition = if same_status {
                prev.map(|c| s(c, "/lastTransitionTime").to_string())
                    .unwrap_or(now.clone())
            } else {
                now.clone()
            };
            let update = if same {
                prev.map(|c| s(c, "/lastUpdateTime").to_string())
                    .unwrap_or(now.clone())
            } else {
                now.clone()
            };
            json!({"type": t, "status": status, "lastUpdateTime": update, "lastTransitionTime": transition, "reason": reason, "message": msg})
        };
        let avail_cond = if available >= desired.saturating_sub(unavailable) {
            keep(
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
            )
        } else {
            keep(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            )
        };
        let prog_cond = if paused {
            keep(
                "Progressing",
                "Unknown",
                "DeploymentPaused",
                "Deployment is paused",
            )
        } else if complete {
            keep(
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                &format!("ReplicaSet \"{new_name}\" has successfully progressed."),
            )
        } else {
            let c = keep(
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                &format!("ReplicaSet \"{new_name}\" is progressing."),
            );
            let deadline = dep
                .pointer("/spec/progressDeadlineSeconds")
                .and_then(Value::as_f64)
                .unwrap_or(600.0);
            let since = crate::world::clock::parse(s(&c, "/lastUpdateTime"))
                .map(|t| clock.sim_secs(clock.now()) - clock.sim_secs(t))
                .unwrap_or(0.0);
            if since > deadline {
                keep(
                    "Progressing",
                    "False",
                    "ProgressDeadlineExceeded",
                    &format!("ReplicaSet \"{new_name}\" has timed out progressing."),
                )
            } else {
                c
            }
        };
        let mut new = dep.clone();
        let mut status = json!({
            "observedGeneration": u(&dep, "/metadata/generation").max(1),
            "replicas": replicas,
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": available,
            "conditions": [avail_cond, prog_cond],
        });
        let unavail = desired.saturating_sub(available);
        if unavail > 0 {
            status["unavailableReplicas"] = json!(unavail);
        }
        for k in [
            "replicas",
            "updatedReplicas",
            "readyReplicas",
            "availableReplicas",
        ] {
            if status[k] == json!(0) {
                status.as_object_mut().map(|o| o.remove(k));
            }
        }
        new["status"] = status;
        if let Some(i) = new_rs {
            let r = rev(&rss[i]).to_string();
            new["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = json!(r);
        }
        self.put_if_changed(clock, Kind::Deployment, &dep, new);
    }

    fn reconcile_statefulset(&mut self, clock: &Clock, sts: Value) {
        let ns = s(&sts, "/metadata/namespace").to_string();
        let name = s(&sts, "/metadata/name").to_string();
        let uid = s(&sts, "/metadata/uid").to_string();
        let want = u(&sts, "/spec/replicas");
        let template = sts
            .pointer("/spec/template")
            .cloned()
            .unwrap_or(Value::Null);
        let revision = format!("{name}-{}", objects::template_hash(&template));
        let (total, _, names) = self.pod_counts(&ns, &name);
        let ordinal = |n: &str| {
            n.rsplit('-')
                .next()
                .and_then(|x| x.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let all_ready = names.iter().all(|n| {
            self.pods
                .get(&(ns.clone(), n.clone()))
                .is_some_and(|p| p.ready)
        });
        let terminating = self
            .pods
            .iter()
            .any(|((pns, _), p)| *pns == ns && p.owner == name && p.stage == Stage::Terminating);
        if total < want && all_ready && !terminating {
            // OrderedReady: the lowest missing ordinal, once the others are ready.
            let missing = (0..want).find(|i| !names.iter().any(|n| ordinal(n) == *i));
            if let Some(i) = missing {
                self.create_pod(
                    clock,
                    &template,
                    &ns,
                    format!("{name}-{i}"),
                    "StatefulSet",
                    &name,
                    &uid,
                    &[
                        ("controller-revision-hash", revision.clone()),
                        ("statefulset.kubernetes.io/pod-name", format!("{name}-{i}")),
                        ("apps.kubernetes.io/pod-index", i.to_string()),
                    ],
                    None,
                );
            }
        } else if total > want && !terminating {
            if let Some(n) = names.iter().max_by_key(|n| ordinal(n)) {
                let n = n.clone();
                self.terminate_pod(clock, &ns, &n);
            }
        } else if total == want && all_ready && !terminating {
            // Rolling update, highest ordinal first.
            let outdated = names
                .iter()
                .filter(|n| {
                    self.store.get(Kind::Pod, &ns, n).is_some_and(|o| {
                        o.index.labels.get("controller-revision-hash") != Some(&revision)
                    })
                })
                .max_by_key(|n| ordinal(n))
                .cloned();
            if let Some(n) = outdated {
                self.terminate_pod(clock, &ns, &n);
            }
        }
        let (total, ready, names) = self.pod_counts(&ns, &name);
        let updated = names
            .iter()
            .filter(|n| {
                self.store.get(Kind::Pod, &ns, n).is_some_and(|o| {
                    o.index.labels.get("controller-revision-hash") == Some(&revision)
                })
            })
            .count() as u64;
        let mut new = sts.clone();
        new["status"] = json!({
            "observedGeneration": u(&sts, "/metadata/generation").max(1),
            "replicas": total,
            "readyReplicas": ready,
            "currentReplicas": updated,
            "updatedReplicas": updated,
            "availableReplicas": ready,
            "currentRevision": revision,
            "updateRevision": revision,
            "collisionCount": 0,
        });
        self.put_if_changed(clock, Kind::StatefulSet, &sts, new);
    }

    /// Mutate `n` random running pods (the churn knob).
    pub fn churn(&mut self, clock: &Clock, n: usize) {
        if n == 0 || self.pods.is_empty() {
            return;
        }
        // One pass over the keys per tick, then random picks from it.
        let all: Vec<&(String, String)> = self.pods.keys().collect();
        let keys: Vec<(String, String)> = (0..n.min(all.len() * 4))
            .map(|_| all[self.rng.usize(..all.len())].clone())
            .collect();
        let now = clock.stamp();
        for (ns, name) in keys {
            if let Some(mut v) = self.store.get_value(Kind::Pod, &ns, &name) {
                let beat = self.rng.u32(..);
                v["metadata"]["annotations"]["sim.pitwall.dev/heartbeat"] = json!(beat.to_string());
                let _ = self.store.put(Kind::Pod, v, &now);
            }
        }
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

/// CrashLoopBackOff delay after `restarts` restarts: 10s doubling to 5m.
pub fn backoff_secs(restarts: u32) -> f64 {
    (10.0 * 2f64.powi(restarts.saturating_sub(1).min(5) as i32)).min(300.0)
}

/// Build a region's initial world from the scenario.
pub fn build(
    file: &ScenarioFile,
    index: usize,
    spec: &RegionSpec,
    clock: Clock,
    token: String,
) -> Region {
    let seed = splitmix(file.seed ^ ((index as u64 + 1) * 0x1000_0000_01b3));
    let mut st = State {
        store: Store::new(file.watch_history, seed),
        pods: HashMap::new(),
        nodes: Vec::new(),
        node_load: Vec::new(),
        next_ip: 0,
        rng: fastrand::Rng::with_seed(seed),
        events: HashMap::new(),
        event_order: VecDeque::new(),
        dirty: true,
        next_due: 0.0,
        endpoints_dirty: true,
        hostile: false,
        region_index: index as u32,
        workloads: BTreeMap::new(),
        bad_images: Vec::new(),
    };
    let mut workloads: Vec<(WorkloadSpec, u32)> = file
        .workloads
        .iter()
        .filter(|w| w.regions.is_empty() || w.regions.contains(&spec.name))
        .map(|w| {
            (
                w.clone(),
                *w.replicas_in.get(&spec.name).unwrap_or(&w.replicas),
            )
        })
        .collect();
    let base: u64 = workloads.iter().map(|(_, r)| *r as u64).sum();
    let mut namespaces = spec.namespaces.clone();
    for ns in ["default", "kube-system"] {
        if !namespaces.iter().any(|n| n == ns) {
            namespaces.push(ns.into());
        }
    }
    for (w, _) in &workloads {
        if !namespaces.contains(&w.namespace) {
            namespaces.push(w.namespace.clone());
        }
    }
    if let Some(target) = spec.pods {
        let mut extra = (target as u64).saturating_sub(base);
        if extra > 0 && !namespaces.iter().any(|n| n == "bulk") {
            namespaces.push("bulk".into());
        }
        let mut i = 0;
        while extra > 0 {
            let n = extra.min(500) as u32;
            workloads.push((
                WorkloadSpec {
                    name: format!("bulk-{i:03}"),
                    namespace: "bulk".into(),
                    kind: "Deployment".into(),
                    replicas: n,
                    replicas_in: BTreeMap::new(),
                    regions: Vec::new(),
                    image: "registry.local/bulk/worker:1.0.0".into(),
                    ports: vec![8080],
                    readiness: None,
                    liveness: None,
                    log_rate: 0.2,
                    labels: BTreeMap::new(),
                    memory: None,
                },
                n,
            ));
            extra -= n as u64;
            i += 1;
        }
    }
    let node_count = spec.nodes.max(spec.pods.unwrap_or(0).div_ceil(110));
    let day = 86_400.0;
    let created_world = clock.stamp_at(-30.0 * day);
    let now = clock.stamp();
    for ns in &namespaces {
        let _ = st.store.put(
            Kind::Namespace,
            objects::namespace(ns, &created_world),
            &created_world,
        );
    }
    for i in 0..node_count {
        let name = format!("{}-node-{:02}", spec.name, i + 1);
        let ip = format!("10.{}.{}.{}", index, i / 200, 10 + i % 200);
        let _ = st.store.put(
            Kind::Node,
            objects::node(&spec.name, &name, &ip, &created_world, &now),
            &created_world,
        );
        st.nodes.push((name, ip));
        st.node_load.push(0);
    }
    let mut svc_ip = 10u32;
    let scale = clock.scaled(1.0);
    let mut past = history::Past::new(scale);
    for (w, replicas) in &workloads {
        st.workloads
            .insert((w.namespace.clone(), w.name.clone()), w.clone());
        let age = -(1.0 + (splitmix(seed ^ svc_ip as u64) % 20) as f64) * day;
        let created = clock.stamp_at(age);
        let obj = if w.kind == "StatefulSet" {
            objects::statefulset(w, *replicas, &created)
        } else {
            objects::deployment(w, *replicas, &created)
        };
        let kind = if w.kind == "StatefulSet" {
            Kind::StatefulSet
        } else {
            Kind::Deployment
        };
        let stored = match st.store.put(kind, obj, &created) {
            Ok(v) => v,
            Err(_) => continue,
        };
        if !w.ports.is_empty() {
            svc_ip += 1;
            let ip = format!("10.96.{}.{}", svc_ip / 250, svc_ip % 250);
            let _ = st
                .store
                .put(Kind::Service, objects::service(w, &ip, &created), &created);
        }
        // The initial pods: a recent rollout with its events, or running
        // for a while with none left (events live an hour).
        let uid = s(&stored, "/metadata/uid").to_string();
        let recent = past.rollout_at(seed ^ u64::from(svc_ip) ^ 0x7e57, *replicas);
        let times = |i: u32| match recent {
            Some(at) => history::Past::pod_times(scale, seed ^ u64::from(svc_ip), at, i),
            None => history::PodTimes::old(age / 2.0),
        };
        let template = stored
            .pointer("/spec/template")
            .cloned()
            .unwrap_or(Value::Null);
        if kind == Kind::Deployment {
            let hash = objects::template_hash(&template);
            let rs_created = recent.map(|t| clock.stamp_at(t)).unwrap_or(created.clone());
            let rs = objects::replicaset(&stored, &hash, 1, *replicas as u64, &rs_created);
            let rs = match st.store.put(Kind::ReplicaSet, rs, &rs_created) {
                Ok(v) => v,
                Err(_) => continue,
            };
            let rs_name = s(&rs, "/metadata/name").to_string();
            let rs_uid = s(&rs, "/metadata/uid").to_string();
            let rs_template = rs.pointer("/spec/template").cloned().unwrap_or(Value::Null);
            if let Some(at) = recent {
                past.scaled_up(at, &stored, &rs_name, *replicas);
            }
            for i in 0..*replicas {
                let suffix = objects::safe_string(st.rng.u64(..), 5);
                let name = format!("{rs_name}-{suffix}");
                let t = times(i);
                st.create_pod(
                    &clock,
                    &rs_template,
                    &w.namespace,
                    name.clone(),
                    "ReplicaSet",
                    &rs_name,
                    &rs_uid,
                    &[],
                    Some((t.created, t.started)),
                );
                if recent.is_some() {
                    past.pod_started(&st, &w.namespace, &name, &t);
                }
            }
        } else {
            let revision = format!("{}-{}", w.name, objects::template_hash(&template));
            for i in 0..*replicas {
                let pn = format!("{}-{i}", w.name);
                let t = times(i);
                st.create_pod(
                    &clock,
                    &template,
                    &w.namespace,
                    pn.clone(),
                    "StatefulSet",
                    &w.name,
                    &uid,
                    &[
                        ("controller-revision-hash", revision.clone()),
                        ("statefulset.kubernetes.io/pod-name", pn.clone()),
                        ("apps.kubernetes.io/pod-index", i.to_string()),
                    ],
                    Some((t.created, t.started)),
                );
                if recent.is_some() {
                    past.pod_started(&st, &w.namespace, &pn, &t);
                }
            }
        }
    }
    past.record(&mut st, &clock);
    st.reconcile(&clock);
    st.update_endpoints(&clock);
    Region {
        name: spec.name.clone(),
        token,
        admin_token: String::new(),
        bookmark_interval: Duration::from_secs_f64(file.bookmark_interval_seconds),
        rbac: spec.rbac.clone(),
        faults: Mutex::new(Faults::default()),
        state: Mutex::new(st),
        clock,
        wake: tokio::sync::Notify::new(),
        watch_requests: Default::default(),
        gate: Default::default(),
    }
}

impl State {
    /// Endpoints follow ready pods selected by each service.
    pub fn update_endpoints(&mut self, clock: &Clock) {
        if !self.endpoints_dirty {
            return;
        }
        self.endpoints_dirty = false;
        let now = clock.stamp();
        for svc in self.store.values(Kind::Service) {
            let ns = s(&svc, "/metadata/namespace").to_string();
            let name = s(&svc, "/metadata/name").to_string();
            let Some(sel) = svc.pointer("/spec/selector").and_then(Value::as_object) else {
                continue;
            };
            let mut ready = Vec::new();
            let mut not_ready = Vec::new();
            for ((pns, pname), o) in self.store.iter(Kind::Pod) {
                if *pns != ns
                    || !sel
                        .iter()
                        .all(|(k, v)| o.index.labels.get(k).map(String::as_str) == v.as_str())
                {
                    continue;
                }
                let Some(p) = self.pods.get(&(pns.clone(), pname.clone())) else {
                    continue;
                };
                let addr = json!({"ip": p.ip, "nodeName": p.node, "targetRef": {"kind": "Pod", "namespace": ns, "name": pname, "uid": p.uid}});
                if p.ready && p.stage == Stage::Running {
                    ready.push(addr);
                } else {
                    not_ready.push(addr);
                }
            }
            let ports: Vec<Value> = svc
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .map(|ps| ps.iter().map(|p| json!({"name": p["name"], "port": p["targetPort"], "protocol": "TCP"})).collect())
                .unwrap_or_default();
            let mut subset = json!({"ports": ports});
            if !ready.is_empty() {
                subset["addresses"] = json!(ready);
            }
            if !not_ready.is_empty() {
                subset["notReadyAddresses"] = json!(not_ready);
            }
            let ep = json!({
                "metadata": {"name": name, "namespace": ns, "labels": svc["metadata"]["labels"].clone(),
                             "creationTimestamp": s(&svc, "/metadata/creationTimestamp")},
                "subsets": [subset],
            });
            let changed = match self.store.get_value(Kind::Endpoints, &ns, &name) {
                Some(old) => old["subsets"] != ep["subsets"],
                None => true,
            };
            if changed {
                let _ = self.store.put(Kind::Endpoints, ep, &now);
            }
        }
    }
}

impl State {
    /// Apply a fault that changes what a workload's pods do.
    pub fn apply_workload_fault(
        &mut self,
        clock: &Clock,
        f: &crate::world::faults::Fault,
    ) -> Result<(), String> {
        use crate::world::faults::Fault as F;
        let (ns, wl, pods) = match f {
            F::ReadinessFailure {
                namespace,
                workload,
                pods,
            }
            | F::LivenessFailure {
                namespace,
                workload,
                pods,
            }
            | F::OomKill {
                namespace,
                workload,
                pods,
            } => (namespace, workload, *pods),
            F::BadRollout {
                namespace,
                workload,
                image,
            } => {
                let Some(mut dep) = self.store.get_value(Kind::Deployment, namespace, workload)
                else {
                    return Err(format!("no deployment {namespace}/{workload}"));
                };
                if !self.bad_images.contains(image) {
                    self.bad_images.push(image.clone());
                }
                let Some(containers) = dep.pointer_mut("/spec/template/spec/containers/0") else {
                    return Err(format!(
                        "deployment {namespace}/{workload} has no container"
                    ));
                };
                containers["image"] = json!(image);
                dep["metadata"]["annotations"]["kubernetes.io/change-cause"] = json!(format!(
                    "kubectl set image deployment/{workload} {workload}={image}"
                ));
                let g = u(&dep, "/metadata/generation");
                dep["metadata"]["generation"] = json!(g + 1);
                self.store
                    .put(Kind::Deployment, dep, &clock.stamp())
                    .map_err(|e| format!("{e:?}"))?;
                self.dirty = true;
                return Ok(());
            }
            _ => return Err("not a workload fault".into()),
        };
        let names = self.pods_of(ns, wl);
        if names.is_empty() {
            return Err(format!("no pods of {ns}/{wl}"));
        }
        for name in names.iter().take(pods as usize) {
            self.set_pod_fault(ns, name, |p| match f {
                F::ReadinessFailure { .. } => {
                    p.readiness_failing = true;
                    if p.readiness.is_none() {
                        p.readiness = Some((0, 10));
                    }
                }
                F::LivenessFailure { .. } => {
                    p.liveness_failing = true;
                    if p.liveness.is_none() {
                        p.liveness = Some((0, 10, 3));
                    }
                }
                _ => p.crash = Some(Crash::OomKilled),
            });
        }
        self.dirty = true;
        Ok(())
    }
}

impl State {
    /// Delete everything in a namespace (pods gracefully).
    pub fn empty_namespace(&mut self, clock: &Clock, ns: &str) {
        for kind in [
            Kind::Deployment,
            Kind::ReplicaSet,
            Kind::StatefulSet,
            Kind::Service,
            Kind::Endpoints,
            Kind::Event,
        ] {
            let names: Vec<String> = self
                .store
                .iter(kind)
                .filter(|((n, _), _)| n == ns)
                .map(|((_, name), _)| name.clone())
                .collect();
            for name in names {
                let _ = self.store.delete(kind, ns, &name);
            }
        }
        let pods: Vec<String> = self
            .pods
            .keys()
            .filter(|(n, _)| n == ns)
            .map(|(_, name)| name.clone())
            .collect();
        for p in pods {
            self.terminate_pod(clock, ns, &p);
        }
        let bare: Vec<String> = self
            .store
            .iter(Kind::Pod)
            .filter(|((n, _), _)| n == ns)
            .map(|((_, name), _)| name.clone())
            .collect();
        for p in bare {
            if !self.pods.contains_key(&(ns.to_string(), p.clone())) {
                let _ = self.store.delete(Kind::Pod, ns, &p);
            }
        }
        self.dirty = true;
    }

    /// Remove terminating namespaces whose pods are all gone.
    pub fn finish_namespaces(&mut self) {
        let done: Vec<String> = self
            .store
            .iter(Kind::Namespace)
            .filter(|(_, o)| o.index.field("status.phase") == Some("Terminating"))
            .map(|((_, name), _)| name.clone())
            .filter(|ns| !self.pods.keys().any(|(n, _)| n == ns))
            .collect();
        for ns in done {
            let _ = self.store.delete(Kind::Namespace, "", &ns);
        }
    }
}
