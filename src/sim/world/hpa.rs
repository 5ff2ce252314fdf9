//! HorizontalPodAutoscalers (autoscaling/v2) from the scenario's
//! `autoscale` key of a workload. They are served and their status follows
//! the target's replicas and a steady, per-object CPU reading; they do not
//! scale anything themselves (scaling stays in the user's hands).

use crate::world::clock::Clock;
use crate::world::region::{s, u, State};
use crate::world::scenario::{AutoscaleSpec, WorkloadSpec};
use crate::world::store::{splitmix, Kind};
use serde_json::{json, Value};

pub fn object(w: &WorkloadSpec, a: &AutoscaleSpec, created: &str) -> Value {
    let kind = if w.kind == "StatefulSet" {
        "StatefulSet"
    } else {
        "Deployment"
    };
    json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {
            "name": w.name,
            "namespace": w.namespace,
            "labels": {"app": w.name},
            "creationTimestamp": created,
        },
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": w.name},
            "minReplicas": a.min,
            "maxReplicas": a.max,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": a.cpu_percent}}}],
        },
        "status": {"currentReplicas": 0, "desiredReplicas": 0},
    })
}

/// The TARGETS column as kubectl prints it: `cpu: 63%/70%`.
pub fn targets(v: &Value) -> String {
    let target = v
        .pointer("/spec/metrics/0/resource/target/averageUtilization")
        .and_then(Value::as_u64);
    let current = v
        .pointer("/status/currentMetrics/0/resource/current/averageUtilization")
        .and_then(Value::as_u64);
    match (current, target) {
        (Some(c), Some(t)) => format!("cpu: {c}%/{t}%"),
        (None, Some(t)) => format!("cpu: <unknown>/{t}%"),
        _ => "<none>".into(),
    }
}

/// The status an HPA controller would write: replicas of the target, the
/// desired count within bounds, a CPU reading below the target.
pub fn status(hpa: &Value, target: Option<&Value>, now: &str) -> Value {
    let min = u(hpa, "/spec/minReplicas").max(1);
    let max = u(hpa, "/spec/maxReplicas").max(min);
    let Some(t) = target else {
        let reason = format!(
            "the HPA controller was unable to get the target's current scale: {} \"{}\" not found",
            s(hpa, "/spec/scaleTargetRef/kind").to_lowercase(),
            s(hpa, "/spec/scaleTargetRef/name")
        );
        return json!({
            "currentReplicas": 0, "desiredReplicas": 0,
            "conditions": [{"type": "AbleToScale", "status": "False", "reason": "FailedGetScale",
                "message": reason, "lastTransitionTime": now}],
        });
    };
    let current = u(t, "/status/replicas");
    let desired = u(t, "/spec/replicas").clamp(min, max);
    let target_cpu = hpa
        .pointer("/spec/metrics/0/resource/target/averageUtilization")
        .and_then(Value::as_u64)
        .unwrap_or(80);
    let seed = s(hpa, "/metadata/uid")
        .bytes()
        .fold(0u64, |h, b| splitmix(h ^ u64::from(b)));
    let cpu = target_cpu * (50 + seed % 45) / 100;
    json!({
        "currentReplicas": current,
        "desiredReplicas": desired,
        "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu",
            "current": {"averageUtilization": cpu, "averageValue": format!("{}m", cpu * 2)}}}],
        "conditions": [
            {"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale",
                "message": "recommended size matches current size", "lastTransitionTime": now},
            {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound",
                "message": "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)",
                "lastTransitionTime": now},
        ],
    })
}

impl State {
    /// Bring one HPA's status up to date with its target.
    pub fn refresh_hpa(&mut self, clock: &Clock, hpa: &Value) {
        let ns = s(hpa, "/metadata/namespace");
        let kind = match s(hpa, "/spec/scaleTargetRef/kind") {
            "StatefulSet" => Kind::StatefulSet,
            _ => Kind::Deployment,
        };
        let target = self
            .store
            .get_value(kind, ns, s(hpa, "/spec/scaleTargetRef/name"));
        let now = clock.stamp();
        let mut new = hpa.clone();
        let mut st = status(hpa, target.as_ref(), &now);
        // keep transition times while nothing changes
        if let (Some(old), Some(c)) = (
            hpa.pointer("/status/conditions").and_then(Value::as_array),
            st.get_mut("conditions").and_then(Value::as_array_mut),
        ) {
            for c in c.iter_mut() {
                if let Some(o) = old
                    .iter()
                    .find(|o| o.get("type") == c.get("type") && o.get("status") == c.get("status"))
                {
                    c["lastTransitionTime"] = o["lastTransitionTime"].clone();
                }
            }
        }
        new["status"] = st;
        if new != *hpa {
            let _ = self.store.put(Kind::HorizontalPodAutoscaler, new, &now);
        }
    }

    /// All HPAs of the region (after scales and rollouts).
    pub fn update_hpas(&mut self, clock: &Clock) {
        for hpa in self.store.values(Kind::HorizontalPodAutoscaler) {
            self.refresh_hpa(clock, &hpa);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_the_target_within_bounds() {
        let spec = AutoscaleSpec {
            min: 2,
            max: 5,
            cpu_percent: 70,
        };
        let w: WorkloadSpec = toml::from_str(
            "name = \"checkout\"\nnamespace = \"shop\"\nreplicas = 8\nimage = \"x\"",
        )
        .expect("workload");
        let mut hpa = object(&w, &spec, "2026-01-01T00:00:00Z");
        assert_eq!(targets(&hpa), "cpu: <unknown>/70%");
        let dep = json!({"spec": {"replicas": 8}, "status": {"replicas": 8}});
        hpa["status"] = status(&hpa, Some(&dep), "now");
        assert_eq!(hpa["status"]["currentReplicas"], 8);
        assert_eq!(hpa["status"]["desiredReplicas"], 5, "clamped to max");
        let t = targets(&hpa);
        assert!(t.starts_with("cpu: ") && t.ends_with("%/70%"), "{t}");
        let missing = status(&hpa, None, "now");
        assert_eq!(missing["conditions"][0]["reason"], "FailedGetScale");
    }
}
