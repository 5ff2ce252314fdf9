//! The kubelet model: pods move from Pulling to Running (readiness after
//! the probe's delay), fail probes into Unhealthy events, restart on
//! liveness failures, crash into CrashLoopBackOff with back-off, end
//! OOMKilled, and terminate gracefully.

use crate::world::clock::Clock;
use crate::world::region::{owner_workload, s, Crash, PodSim, Stage, State};
use crate::world::store::splitmix;
use serde_json::{json, Value};

pub(crate) fn pod_ip_of(v: &Value) -> String {
    s(v, "/status/podIP").to_string()
}

/// Write a pod's status from the kubelet's view of it.
pub(crate) fn fill_pod_status(clock: &Clock, p: &PodSim, v: &mut Value) {
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
                json!({"terminated": {"exitCode": code, "reason": reason, "startedAt": clock.stamp_at(a), "finishedAt": clock.stamp_at(b), "containerID": container_id(p.seed, p.restarts.saturating_sub(1))}})
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
            cs["containerID"] = json!(container_id(p.seed, p.restarts));
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

    pub(crate) fn due_at(&mut self, t: f64) {
        self.next_due = self.next_due.min(t);
    }

    pub(crate) fn step_pod(&mut self, clock: &Clock, ns: &str, name: &str, now: f64) {
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
                self.remove_pod(ns, name, now);
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

    pub(crate) fn start_container(
        &mut self,
        clock: &Clock,
        ns: &str,
        pref: &Value,
        p: &mut PodSim,
        now: f64,
    ) {
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
}

/// CrashLoopBackOff delay after `restarts` restarts: 10s doubling to 5m.
pub fn backoff_secs(restarts: u32) -> f64 {
    (10.0 * 2f64.powi(restarts.saturating_sub(1).min(5) as i32)).min(300.0)
}

/// The runtime's id of a pod's container instance (the previous instance's
/// id in `lastState` is the one it had while it ran).
pub fn container_id(seed: u64, instance: u32) -> String {
    format!(
        "containerd://{:016x}{:016x}{:016x}{:016x}",
        splitmix(seed ^ instance as u64),
        seed,
        splitmix(seed),
        instance
    )
}
