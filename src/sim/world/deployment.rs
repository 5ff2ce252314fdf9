//! The Deployment controller: ReplicaSets per template, rolling updates
//! under maxSurge/maxUnavailable, Recreate, pause and resume, rollback,
//! revision history and the status `kubectl rollout status` reads.

use crate::world::clock::Clock;
use crate::world::objects;
use crate::world::region::{int_or_percent, s, u, State};
use crate::world::store::Kind;
use serde_json::{json, Value};

impl State {
    pub(crate) fn reconcile_deployment(&mut self, clock: &Clock, dep: Value) {
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
                    // As the deployment controller: the most that may go is
                    // what the old specs plus the new set's available pods
                    // hold above the minimum (old statuses may lag their
                    // specs); unhealthy old pods go first, then healthy ones
                    // while the available count allows.
                    let available: u64 =
                        rss.iter().map(|r| u(r, "/status/availableReplicas")).sum();
                    let min_available = desired.saturating_sub(unavailable);
                    let new_available = u(&rss[ni], "/status/availableReplicas");
                    let mut allowed = (old_total + new_available).saturating_sub(min_available);
                    let mut budget = available.saturating_sub(min_available);
                    for (i, r) in rss.iter().enumerate() {
                        if i == ni {
                            continue;
                        }
                        let cur = targets[i];
                        let unhealthy = cur
                            .saturating_sub(u(r, "/status/availableReplicas"))
                            .min(allowed);
                        allowed -= unhealthy;
                        let take_healthy = (cur - unhealthy).min(budget).min(allowed);
                        budget -= take_healthy;
                        allowed -= take_healthy;
                        targets[i] = cur - unhealthy - take_healthy;
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
}
