//! The controllers: ReplicaSet -> Pods, StatefulSet -> Pods, and the
//! loop that runs them (the Deployment controller is in `deployment.rs`).

use crate::world::clock::Clock;
use crate::world::objects;
use crate::world::region::{s, u, Stage, State};
use crate::world::store::Kind;
use serde_json::{json, Value};

impl State {
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

    pub(crate) fn owned(&self, kind: Kind, ns: &str, uid: &str) -> Vec<Value> {
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
    pub(crate) fn pod_counts(&self, ns: &str, owner: &str) -> (u64, u64, Vec<String>) {
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

    pub(crate) fn put_if_changed(&mut self, clock: &Clock, kind: Kind, old: &Value, new: Value) {
        if *old != new {
            let _ = self.store.put(kind, new, &clock.stamp());
            self.dirty = true;
        }
    }

    pub(crate) fn reconcile_replicaset(&mut self, clock: &Clock, rs: Value) {
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

    pub(crate) fn reconcile_statefulset(&mut self, clock: &Clock, sts: Value) {
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
