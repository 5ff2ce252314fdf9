//! HorizontalPodAutoscalers (autoscaling/v2) from the scenario's
//! `autoscale` key of a workload, and a controller that acts on them as
//! kube-controller-manager's does for a CPU utilisation metric:
//! desired = ceil(current * utilisation / target), nothing done within the
//! 0.1 tolerance, scale-downs held by a 300 s stabilisation window
//! (simulated seconds: the scenario clock), scale-ups limited to
//! max(2 * current, 4), the result within min..max. The utilisation comes
//! from the scenario: steady (within the tolerance) unless the workload's
//! `autoscale.load` says how much CPU it uses from a given time.

use crate::world::clock::Clock;
use crate::world::region::{s, u, State};
use crate::world::scenario::{AutoscaleSpec, WorkloadSpec};
use crate::world::store::{splitmix, Kind};
use serde_json::{json, Value};
use std::collections::VecDeque;

/// The controller's tolerance on the utilisation ratio.
const TOLERANCE: f64 = 0.1;
/// Scale-down stabilisation window (simulated seconds).
pub const DOWN_WINDOW: f64 = 300.0;
/// Recommendations kept per HPA (the window's, coalesced).
const MAX_RECOMMENDATIONS: usize = 128;

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

/// Recent recommendations of one HPA: (simulated second, replicas).
#[derive(Debug, Default, Clone)]
pub struct Recommendations(VecDeque<(f64, u64)>);

impl Recommendations {
    /// Record `rec` at `now` and return the stabilised recommendation: a
    /// scale-down only to the highest recommendation of the window.
    pub fn stabilise(&mut self, now: f64, rec: u64, current: u64) -> u64 {
        while self
            .0
            .front()
            .is_some_and(|(t, _)| *t < now - DOWN_WINDOW || self.0.len() >= MAX_RECOMMENDATIONS)
        {
            self.0.pop_front();
        }
        match self.0.back_mut() {
            Some(last) if last.1 == rec => last.0 = now,
            _ => self.0.push_back((now, rec)),
        }
        let down = self.0.iter().map(|(_, r)| *r).max().unwrap_or(rec);
        // the up window is 0: a scale-up follows the latest recommendation
        if rec > current {
            rec
        } else {
            current.min(down)
        }
    }
}

/// The workload's average CPU utilisation (percent of requests) at
/// `replicas` replicas, simulated second `at`.
fn utilisation(hpa: &Value, spec: Option<&AutoscaleSpec>, replicas: u64, at: f64) -> f64 {
    let target = target_cpu(hpa) as f64;
    let step = spec.and_then(|a| a.load.iter().rev().find(|l| l.at <= at));
    match step {
        Some(l) => l.cpu as f64 / replicas.max(1) as f64,
        None => {
            // steady: a reading within the tolerance, fixed per object
            let seed = s(hpa, "/metadata/uid")
                .bytes()
                .fold(0u64, |h, b| splitmix(h ^ u64::from(b)));
            target * (91 + seed % 9) as f64 / 100.0
        }
    }
}

fn target_cpu(hpa: &Value) -> u64 {
    hpa.pointer("/spec/metrics/0/resource/target/averageUtilization")
        .and_then(Value::as_u64)
        .unwrap_or(80)
        .max(1)
}

/// The replica count the controller's formula gives, before stabilisation.
pub fn recommend(current: u64, utilisation: f64, target: u64) -> u64 {
    let ratio = utilisation / target as f64;
    if current == 0 || (ratio - 1.0).abs() <= TOLERANCE {
        return current;
    }
    (current as f64 * ratio - 1e-9).ceil().max(1.0) as u64
}

fn condition(ty: &str, status: bool, reason: &str, message: &str, now: &str) -> Value {
    json!({"type": ty, "status": if status { "True" } else { "False" }, "reason": reason,
        "message": message, "lastTransitionTime": now})
}

/// What the controller decided in one pass.
pub struct Decision {
    pub desired: u64,
    pub status: Value,
}

/// One controller pass over an HPA whose target has `current` replicas
/// (status) and `spec` wanted, with `util` percent CPU utilisation.
pub fn decide(
    hpa: &Value,
    current: u64,
    util: f64,
    recs: &mut Recommendations,
    at: f64,
    now: &str,
) -> Decision {
    let min = u(hpa, "/spec/minReplicas").max(1);
    let max = u(hpa, "/spec/maxReplicas").max(min);
    let target = target_cpu(hpa);
    let rec = recommend(current, util, target);
    let stable = recs.stabilise(at, rec, current);
    let up_limit = (2 * current).max(4);
    let desired = stable.clamp(min, max).min(up_limit.max(min));
    let mut conditions = vec![if stable != rec {
        condition("AbleToScale", true, "ScaleDownStabilized",
            "recent recommendations were higher than current one, applying the highest recent recommendation", now)
    } else {
        condition(
            "AbleToScale",
            true,
            "ReadyForNewScale",
            "recommended size matches current size",
            now,
        )
    }];
    conditions.push(condition("ScalingActive", true, "ValidMetricFound",
        "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)", now));
    conditions.push(if stable > max {
        condition(
            "ScalingLimited",
            true,
            "TooManyReplicas",
            "the desired replica count is more than the maximum replica count",
            now,
        )
    } else if stable < min {
        condition(
            "ScalingLimited",
            true,
            "TooFewReplicas",
            "the desired replica count is less than the minimum replica count",
            now,
        )
    } else if desired < stable {
        condition(
            "ScalingLimited",
            true,
            "ScaleUpLimit",
            "the desired replica count is increasing faster than the maximum scale rate",
            now,
        )
    } else {
        condition(
            "ScalingLimited",
            false,
            "DesiredWithinRange",
            "the desired count is within the acceptable range",
            now,
        )
    });
    let cpu = util.round() as u64;
    Decision {
        desired,
        status: json!({
            "currentReplicas": current,
            "desiredReplicas": desired,
            "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu",
                "current": {"averageUtilization": cpu, "averageValue": format!("{}m", cpu * 2)}}}],
            "conditions": conditions,
        }),
    }
}

/// The status when the target cannot be found.
fn missing_target(hpa: &Value, now: &str) -> Value {
    let kind = match s(hpa, "/spec/scaleTargetRef/kind") {
        "StatefulSet" => Kind::StatefulSet,
        _ => Kind::Deployment,
    };
    let reason = format!(
        "the HPA controller was unable to get the target's current scale: {} \"{}\" not found",
        kind.qualified(),
        s(hpa, "/spec/scaleTargetRef/name")
    );
    json!({
        "currentReplicas": 0, "desiredReplicas": 0,
        "conditions": [condition("AbleToScale", false, "FailedGetScale", &reason, now)],
    })
}

/// The status a steady controller pass would write (no history, no load).
#[cfg(test)]
pub fn status(hpa: &Value, target: Option<&Value>, now: &str) -> Value {
    let Some(t) = target else {
        return missing_target(hpa, now);
    };
    let current = u(t, "/status/replicas").max(u(t, "/spec/replicas"));
    let util = utilisation(hpa, None, current, 0.0);
    decide(
        hpa,
        current,
        util,
        &mut Recommendations::default(),
        0.0,
        now,
    )
    .status
}

impl State {
    /// One controller pass over one HPA: scale its target if the
    /// utilisation asks for it, and write its status.
    pub fn refresh_hpa(&mut self, clock: &Clock, hpa: &Value) {
        let ns = s(hpa, "/metadata/namespace").to_string();
        let kind = match s(hpa, "/spec/scaleTargetRef/kind") {
            "StatefulSet" => Kind::StatefulSet,
            _ => Kind::Deployment,
        };
        let target_name = s(hpa, "/spec/scaleTargetRef/name").to_string();
        let target = self.store.get_value(kind, &ns, &target_name);
        let now = clock.stamp();
        let at = clock.elapsed();
        let mut new = hpa.clone();
        let mut scaled_at = hpa.pointer("/status/lastScaleTime").cloned();
        let mut st = match &target {
            None => missing_target(hpa, &now),
            Some(t) => {
                let spec_replicas = u(t, "/spec/replicas");
                // a target scaled to 0 is left alone, as the real one does
                let current = u(t, "/status/replicas").max(spec_replicas);
                let load = self
                    .workloads
                    .get(&(ns.clone(), target_name.clone()))
                    .and_then(|w| w.autoscale.as_ref());
                let util = utilisation(hpa, load, current, at);
                let key = (ns.clone(), s(hpa, "/metadata/name").to_string());
                let recs = self.hpa_recommendations.entry(key).or_default();
                let d = decide(hpa, current, util, recs, at, &now);
                if spec_replicas > 0 && d.desired != spec_replicas {
                    self.rescale(clock, hpa, t, kind, d.desired);
                    scaled_at = Some(json!(now));
                }
                d.status
            }
        };
        if let Some(t) = scaled_at {
            st["lastScaleTime"] = t;
        }
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

    /// Set the target's replicas, with the event the real controller records.
    fn rescale(&mut self, clock: &Clock, hpa: &Value, t: &Value, kind: Kind, to: u64) {
        let from = u(t, "/spec/replicas");
        let mut scaled = t.clone();
        scaled["spec"]["replicas"] = json!(to);
        if self.store.put(kind, scaled, &clock.stamp()).is_err() {
            return;
        }
        self.dirty = true;
        let ns = s(hpa, "/metadata/namespace").to_string();
        let why = if to > from { "above" } else { "below" };
        let involved = json!({"kind": "HorizontalPodAutoscaler", "namespace": ns,
            "name": s(hpa, "/metadata/name"), "uid": s(hpa, "/metadata/uid"),
            "apiVersion": "autoscaling/v2"});
        let message = format!(
            "New size: {to}; reason: cpu resource utilization (percentage of request) {why} target"
        );
        self.record_event(
            clock,
            &ns,
            involved,
            "SuccessfulRescale",
            &message,
            "Normal",
            "horizontal-pod-autoscaler",
            "",
        );
    }

    /// All HPAs of the region (after scales and rollouts, and every sync
    /// period).
    pub fn update_hpas(&mut self, clock: &Clock) {
        let hpas = self.store.values(Kind::HorizontalPodAutoscaler);
        self.hpa_recommendations.retain(|(ns, name), _| {
            hpas.iter()
                .any(|h| s(h, "/metadata/namespace") == ns && s(h, "/metadata/name") == name)
        });
        for hpa in hpas {
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
            load: Vec::new(),
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

    #[test]
    fn the_formula_and_its_tolerance() {
        // desired = ceil(current * utilisation / target)
        assert_eq!(recommend(4, 140.0, 70), 8);
        assert_eq!(recommend(4, 35.0, 70), 2);
        assert_eq!(recommend(3, 100.0, 70), 5);
        // within 10% of the target nothing moves
        assert_eq!(recommend(4, 76.0, 70), 4);
        assert_eq!(recommend(4, 64.0, 70), 4);
        assert_eq!(recommend(4, 78.0, 70), 5);
    }

    #[test]
    fn scale_downs_wait_for_the_window_and_scale_ups_do_not() {
        let mut r = Recommendations::default();
        assert_eq!(r.stabilise(0.0, 8, 4), 8, "up at once");
        assert_eq!(r.stabilise(10.0, 3, 8), 8, "down held");
        assert_eq!(r.stabilise(299.0, 3, 8), 8, "still within the window");
        assert_eq!(r.stabilise(301.0, 3, 8), 3, "the 8 left the window");
        for t in 0..1000u32 {
            r.stabilise(400.0 + f64::from(t), 3 + u64::from(t % 2), 3);
        }
        assert!(r.0.len() <= MAX_RECOMMENDATIONS);
    }

    const SCENARIO: &str = r#"
[[region]]
name = "a"
nodes = 3

[[workload]]
name = "web"
namespace = "shop"
replicas = 4
image = "registry.local/web:1"
autoscale = { min = 2, max = 10, cpu_percent = 50, load = [{ at = 30, cpu = 400 }, { at = 100, cpu = 100 }] }
"#;

    /// Step the region to simulated second `until` as its ticker does,
    /// with a controller pass every tick.
    fn run_to(r: &crate::world::region::Region, until: f64) {
        while r.clock.elapsed() < until {
            r.clock.advance(0.5);
            let mut st = r.lock();
            st.kubelet_tick(&r.clock);
            for _ in 0..4 {
                st.reconcile(&r.clock);
                st.kubelet_tick(&r.clock);
            }
            st.update_hpas(&r.clock);
        }
    }

    fn get(r: &crate::world::region::Region, kind: Kind) -> Value {
        r.lock()
            .store
            .get_value(kind, "shop", "web")
            .expect("object exists")
    }

    #[test]
    fn the_controller_scales_the_target_with_the_scenarios_load() {
        let file = crate::world::scenario::ScenarioFile::parse(SCENARIO, "test").expect("scenario");
        let clock = Clock::new(1.0);
        let r = crate::world::build::build(&file, 0, &file.regions[0], clock, "t".into());
        // steady: the HPA leaves the deployment as it is
        run_to(&r, 20.0);
        assert_eq!(get(&r, Kind::Deployment)["spec"]["replicas"], 4);
        let hpa = get(&r, Kind::HorizontalPodAutoscaler);
        assert_eq!(hpa["status"]["desiredReplicas"], 4);
        assert!(hpa["status"].get("lastScaleTime").is_none());

        // 400% of one pod's request against a 50% target: 8 replicas
        run_to(&r, 40.0);
        assert_eq!(get(&r, Kind::Deployment)["spec"]["replicas"], 8);
        run_to(&r, 60.0);
        let hpa = get(&r, Kind::HorizontalPodAutoscaler);
        assert_eq!(hpa["status"]["currentReplicas"], 8, "{hpa}");
        assert_eq!(hpa["status"]["desiredReplicas"], 8);
        assert_eq!(
            hpa["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"],
            50
        );
        assert!(hpa["status"]["lastScaleTime"].is_string());
        assert_eq!(targets(&hpa), "cpu: 50%/50%");
        let events = r.lock().store.values(Kind::Event);
        assert!(
            events.iter().any(|e| e["reason"] == "SuccessfulRescale"
                && e["involvedObject"]["kind"] == "HorizontalPodAutoscaler"
                && e["message"].as_str().is_some_and(|m| m.starts_with("New size: 8; reason: cpu resource utilization (percentage of request) above target"))),
            "no rescale event"
        );

        // the load drops to 100%: 2 replicas, but only after the window
        run_to(&r, 300.0);
        assert_eq!(get(&r, Kind::Deployment)["spec"]["replicas"], 8);
        let hpa = get(&r, Kind::HorizontalPodAutoscaler);
        let able = &hpa["status"]["conditions"][0];
        assert_eq!(able["reason"], "ScaleDownStabilized", "{hpa}");
        assert_eq!(
            hpa["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"],
            13
        );
        run_to(&r, 410.0);
        assert_eq!(get(&r, Kind::Deployment)["spec"]["replicas"], 2);
        run_to(&r, 430.0);
        let hpa = get(&r, Kind::HorizontalPodAutoscaler);
        assert_eq!(hpa["status"]["currentReplicas"], 2, "{hpa}");
        assert_eq!(
            hpa["status"]["conditions"][2]["reason"],
            "DesiredWithinRange"
        );
    }

    #[test]
    fn the_bounds_and_the_scale_up_limit_hold() {
        let hpa = json!({"spec": {"minReplicas": 2, "maxReplicas": 20,
            "metrics": [{"resource": {"target": {"averageUtilization": 50}}}]}});
        let mut r = Recommendations::default();
        // 10x the target from 2 replicas: at most max(2 * 2, 4)
        let d = decide(&hpa, 2, 500.0, &mut r, 0.0, "now");
        assert_eq!(d.desired, 4);
        assert_eq!(d.status["conditions"][2]["reason"], "ScaleUpLimit");
        let d = decide(&hpa, 16, 500.0, &mut r, 1.0, "now");
        assert_eq!(d.desired, 20);
        assert_eq!(d.status["conditions"][2]["reason"], "TooManyReplicas");
    }
}
