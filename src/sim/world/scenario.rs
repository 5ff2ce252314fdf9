//! Scenario files: what a simulated fleet holds and what happens to it.
//! Parsed with serde from TOML, then validated so that every error names the
//! file and the field a person has to fix.

use serde::Deserialize;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Seed for every pseudo-random choice (pod names, IPs, log lines).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Simulated seconds per real second.
    #[serde(default = "default_time_scale")]
    pub time_scale: f64,
    /// Watch events kept per region; a watch from an older version gets 410.
    #[serde(default = "default_history")]
    pub watch_history: usize,
    /// Seconds between BOOKMARK events on watches that asked for them.
    #[serde(default = "default_bookmark")]
    pub bookmark_interval_seconds: f64,
    /// Pods per region that start with the last hour's events (a recent
    /// rollout); the rest have run for days (see `history.rs`).
    #[serde(default = "default_history_pods")]
    pub history_pods: usize,
    /// A node_exporter pod per node in the `monitoring` namespace (its
    /// `/metrics` is served through the pod proxy; see `network.rs`).
    #[serde(default)]
    pub node_exporter: bool,
    #[serde(default, rename = "region")]
    pub regions: Vec<RegionSpec>,
    #[serde(default, rename = "workload")]
    pub workloads: Vec<WorkloadSpec>,
    #[serde(default, rename = "fault")]
    pub faults: Vec<TimedFault>,
    /// Custom resource definitions (`world/custom.rs`).
    #[serde(default, rename = "crd")]
    pub crds: Vec<super::custom::CrdSpec>,
    /// Objects of those custom resources.
    #[serde(default, rename = "custom")]
    pub customs: Vec<super::custom::CustomSpec>,
}

fn default_seed() -> u64 {
    1
}
fn default_time_scale() -> f64 {
    1.0
}
fn default_history() -> usize {
    10_000
}
fn default_history_pods() -> usize {
    super::history::HISTORY_PODS
}
/// kube-apiserver's watch cache sends a BOOKMARK about once a minute.
fn default_bookmark() -> f64 {
    60.0
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionSpec {
    pub name: String,
    #[serde(default = "default_nodes")]
    pub nodes: usize,
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Fill the region up to this many pods with `bulk` deployments.
    #[serde(default)]
    pub pods: Option<usize>,
    /// Pod status updates per second (event-storm benchmarks).
    #[serde(default)]
    pub churn_per_second: f64,
    /// Access rules; when empty, everything is allowed.
    #[serde(default)]
    pub rbac: Vec<RbacRule>,
    /// Images whose containers crash shortly after start in this region
    /// (image-dependent behaviour: a release that breaks only here).
    #[serde(default)]
    pub crash_images: Vec<String>,
}

fn default_nodes() -> usize {
    6
}

/// One RBAC rule. Rules are checked in order; the first that matches decides.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RbacRule {
    /// `allow` or `deny`.
    pub effect: String,
    pub verbs: Vec<String>,
    /// Resources, with subresource as `pods/exec`; `*` matches all.
    pub resources: Vec<String>,
    #[serde(default = "star")]
    pub namespaces: Vec<String>,
}

fn star() -> Vec<String> {
    vec!["*".into()]
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    pub name: String,
    pub namespace: String,
    /// `Deployment` or `StatefulSet`.
    #[serde(default = "default_kind")]
    pub kind: String,
    pub replicas: u32,
    /// Per-region overrides of `replicas`.
    #[serde(default)]
    pub replicas_in: std::collections::BTreeMap<String, u32>,
    /// Only in these regions (all when empty).
    #[serde(default)]
    pub regions: Vec<String>,
    pub image: String,
    #[serde(default)]
    pub ports: Vec<u16>,
    #[serde(default)]
    pub readiness: Option<ProbeSpec>,
    #[serde(default)]
    pub liveness: Option<ProbeSpec>,
    /// Log lines per second per container.
    #[serde(default = "default_log_rate")]
    pub log_rate: f64,
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    /// Memory limit, e.g. `256Mi`.
    #[serde(default)]
    pub memory: Option<String>,
    /// A HorizontalPodAutoscaler targeting this workload.
    #[serde(default)]
    pub autoscale: Option<AutoscaleSpec>,
    /// Per-region overrides of `image` (a stage already running a newer
    /// release).
    #[serde(default)]
    pub image_in: std::collections::BTreeMap<String, String>,
    /// Earlier revisions of a Deployment, oldest first: each an old,
    /// scaled-down ReplicaSet (see `history.rs`).
    #[serde(default)]
    pub history: Vec<PastRevision>,
}

/// One earlier revision of a Deployment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PastRevision {
    pub image: String,
    /// When it was rolled out, wall-clock hours ago.
    pub hours_ago: f64,
    /// `kubernetes.io/change-cause`; by default the `kubectl set image`
    /// command line that would have made it.
    #[serde(default)]
    pub change_cause: Option<String>,
    /// Only in these regions (all when empty).
    #[serde(default)]
    pub regions: Vec<String>,
}

impl WorkloadSpec {
    /// The image the workload runs in `region`.
    pub fn image_for(&self, region: &str) -> &str {
        self.image_in.get(region).unwrap_or(&self.image)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoscaleSpec {
    #[serde(default = "one")]
    pub min: u32,
    pub max: u32,
    /// Target average CPU utilisation, percent of requests.
    #[serde(default = "default_cpu")]
    pub cpu_percent: u32,
    /// The workload's CPU use over time, for the autoscaler to act on;
    /// before the first step (and without any) the load is steady.
    #[serde(default)]
    pub load: Vec<LoadStep>,
}

/// From simulated second `at`, the workload uses `cpu` percent of one
/// pod's CPU request in total (700: seven pods' worth at 100%), shared by
/// its replicas.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadStep {
    pub at: f64,
    pub cpu: u32,
}

fn one() -> u32 {
    1
}
fn default_cpu() -> u32 {
    80
}

fn default_kind() -> String {
    "Deployment".into()
}
fn default_log_rate() -> f64 {
    1.0
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeSpec {
    #[serde(default = "default_probe_path")]
    pub path: String,
    pub port: u16,
    #[serde(default)]
    pub initial_delay_seconds: u32,
    #[serde(default = "default_period")]
    pub period_seconds: u32,
    #[serde(default = "default_failure_threshold")]
    pub failure_threshold: u32,
}

fn default_probe_path() -> String {
    "/healthz".into()
}
fn default_period() -> u32 {
    10
}
fn default_failure_threshold() -> u32 {
    3
}

/// A fault that starts at a simulated time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimedFault {
    /// Simulated seconds after start.
    pub at: f64,
    pub region: String,
    /// See `docs/SIMULATOR.md` for the list.
    pub kind: String,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub workload: Option<String>,
    /// How many pods are affected (readiness_failure, liveness_failure).
    #[serde(default)]
    pub pods: Option<u32>,
    /// New image (bad_rollout).
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(default)]
    pub code: Option<u16>,
    #[serde(default)]
    pub millis: Option<u64>,
    /// Node name (conntrack_full).
    #[serde(default)]
    pub node: Option<String>,
    /// Service name (stale_backend, weight_zero).
    #[serde(default)]
    pub service: Option<String>,
}

pub const FAULT_KINDS: &[&str] = &[
    "readiness_failure",
    "liveness_failure",
    "oom_kill",
    "bad_rollout",
    "refuse_connections",
    "blackhole",
    "list_error",
    "watch_error",
    "latency",
    "stall_watches",
    "forbid_resource",
    "forbid_namespace",
    "expire_token",
    "malformed_watch",
    "hostile_strings",
    "conntrack_full",
    "stale_backend",
    "weight_zero",
];

fn err(file: &str, field: &str, msg: impl std::fmt::Display) -> String {
    format!("{file}: {field}: {msg}")
}

impl ScenarioFile {
    pub fn parse(text: &str, file: &str) -> Result<ScenarioFile, String> {
        let parsed: ScenarioFile = toml::from_str(text).map_err(|e| {
            let span = e.span();
            let (line, col) = span.map(|s| line_col(text, s.start)).unwrap_or((1, 1));
            format!("{file}:{line}:{col}: {}", e.message())
        })?;
        parsed.validate(file)?;
        Ok(parsed)
    }

    fn validate(&self, file: &str) -> Result<(), String> {
        if !(self.time_scale.is_finite() && self.time_scale > 0.0 && self.time_scale <= 10_000.0) {
            return Err(err(file, "time_scale", "must be > 0 and <= 10000"));
        }
        if self.watch_history < 10 {
            return Err(err(file, "watch_history", "must be at least 10"));
        }
        if self.bookmark_interval_seconds.is_nan() || self.bookmark_interval_seconds <= 0.0 {
            return Err(err(file, "bookmark_interval_seconds", "must be > 0"));
        }
        if self.history_pods > 5_000 {
            return Err(err(file, "history_pods", "must be at most 5000"));
        }
        if self.regions.is_empty() {
            return Err(err(file, "region", "at least one [[region]] is required"));
        }
        if let Err((field, why)) = super::custom::validate(&self.crds, &self.customs) {
            return Err(err(file, &field, &why));
        }
        let mut names = BTreeSet::new();
        for (i, r) in self.regions.iter().enumerate() {
            let f = format!("region[{i}]");
            if !is_dns_label(&r.name) {
                return Err(err(
                    file,
                    &format!("{f}.name"),
                    format!("{:?} is not a DNS label", r.name),
                ));
            }
            if !names.insert(r.name.as_str()) {
                return Err(err(
                    file,
                    &format!("{f}.name"),
                    format!("duplicate region {:?}", r.name),
                ));
            }
            if r.nodes == 0 || r.nodes > 5_000 {
                return Err(err(
                    file,
                    &format!("{f}.nodes"),
                    "must be between 1 and 5000",
                ));
            }
            for ns in &r.namespaces {
                if !is_dns_label(ns) {
                    return Err(err(
                        file,
                        &format!("{f}.namespaces"),
                        format!("{ns:?} is not a DNS label"),
                    ));
                }
            }
            if let Some(p) = r.pods {
                if p > 200_000 {
                    return Err(err(file, &format!("{f}.pods"), "must be at most 200000"));
                }
            }
            if !(r.churn_per_second >= 0.0 && r.churn_per_second <= 100_000.0) {
                return Err(err(
                    file,
                    &format!("{f}.churn_per_second"),
                    "must be between 0 and 100000",
                ));
            }
            for (j, rule) in r.rbac.iter().enumerate() {
                if rule.effect != "allow" && rule.effect != "deny" {
                    return Err(err(
                        file,
                        &format!("{f}.rbac[{j}].effect"),
                        format!("{:?}: expected \"allow\" or \"deny\"", rule.effect),
                    ));
                }
                if rule.verbs.is_empty() || rule.resources.is_empty() {
                    return Err(err(
                        file,
                        &format!("{f}.rbac[{j}]"),
                        "verbs and resources must not be empty",
                    ));
                }
            }
        }
        let mut seen = BTreeSet::new();
        for (i, w) in self.workloads.iter().enumerate() {
            let f = format!("workload[{i}]");
            if !is_dns_label(&w.name) {
                return Err(err(
                    file,
                    &format!("{f}.name"),
                    format!("{:?} is not a DNS label", w.name),
                ));
            }
            if !is_dns_label(&w.namespace) {
                return Err(err(
                    file,
                    &format!("{f}.namespace"),
                    format!("{:?} is not a DNS label", w.namespace),
                ));
            }
            if w.kind != "Deployment" && w.kind != "StatefulSet" {
                return Err(err(
                    file,
                    &format!("{f}.kind"),
                    format!("{:?}: expected \"Deployment\" or \"StatefulSet\"", w.kind),
                ));
            }
            if !seen.insert((w.namespace.clone(), w.name.clone(), w.regions.clone())) {
                return Err(err(
                    file,
                    &format!("{f}.name"),
                    format!("duplicate workload {}/{}", w.namespace, w.name),
                ));
            }
            if w.replicas > 10_000 {
                return Err(err(file, &format!("{f}.replicas"), "must be at most 10000"));
            }
            if let Some(a) = &w.autoscale {
                if a.min < 1 || a.max < a.min || a.max > 10_000 {
                    return Err(err(
                        file,
                        &format!("{f}.autoscale"),
                        "needs 1 <= min <= max <= 10000",
                    ));
                }
                if a.cpu_percent == 0 || a.cpu_percent > 1000 {
                    return Err(err(
                        file,
                        &format!("{f}.autoscale.cpu_percent"),
                        "must be between 1 and 1000",
                    ));
                }
            }
            if w.image.trim().is_empty() {
                return Err(err(file, &format!("{f}.image"), "must not be empty"));
            }
            let mut last = f64::INFINITY;
            for (j, h) in w.history.iter().enumerate() {
                let hf = format!("{f}.history[{j}]");
                if !(h.hours_ago.is_finite() && h.hours_ago > 0.0 && h.hours_ago <= 24.0 * 90.0) {
                    return Err(err(
                        file,
                        &format!("{hf}.hours_ago"),
                        "must be > 0 and at most 2160 (90 days)",
                    ));
                }
                if h.hours_ago >= last {
                    return Err(err(
                        file,
                        &format!("{hf}.hours_ago"),
                        "revisions go oldest first",
                    ));
                }
                last = h.hours_ago;
                if h.image.trim().is_empty() {
                    return Err(err(file, &format!("{hf}.image"), "must not be empty"));
                }
                if let Some(r) = h.regions.iter().find(|r| !names.contains(r.as_str())) {
                    return Err(err(
                        file,
                        &format!("{hf}.regions"),
                        format!("unknown region {r:?}"),
                    ));
                }
            }
            if w.history.len() > 10 {
                return Err(err(
                    file,
                    &format!("{f}.history"),
                    "at most 10 revisions (the revision history limit)",
                ));
            }
            if !w.history.is_empty() && w.kind != "Deployment" {
                return Err(err(
                    file,
                    &format!("{f}.history"),
                    "only Deployments keep revisions",
                ));
            }
            for r in w
                .regions
                .iter()
                .chain(w.replicas_in.keys())
                .chain(w.image_in.keys())
            {
                if !names.contains(r.as_str()) {
                    return Err(err(
                        file,
                        &format!("{f}.regions"),
                        format!("unknown region {r:?}"),
                    ));
                }
            }
            if !(w.log_rate >= 0.0 && w.log_rate <= 10_000.0) {
                return Err(err(
                    file,
                    &format!("{f}.log_rate"),
                    "must be between 0 and 10000",
                ));
            }
            for (p, name) in [(&w.readiness, "readiness"), (&w.liveness, "liveness")] {
                if let Some(p) = p {
                    if p.period_seconds == 0 || p.failure_threshold == 0 {
                        return Err(err(
                            file,
                            &format!("{f}.{name}"),
                            "period_seconds and failure_threshold must be > 0",
                        ));
                    }
                }
            }
        }
        for (i, t) in self.faults.iter().enumerate() {
            let f = format!("fault[{i}]");
            if !(t.at.is_finite() && t.at >= 0.0) {
                return Err(err(file, &format!("{f}.at"), "must be >= 0 seconds"));
            }
            if !names.contains(t.region.as_str()) {
                return Err(err(
                    file,
                    &format!("{f}.region"),
                    format!("unknown region {:?}", t.region),
                ));
            }
            if !FAULT_KINDS.contains(&t.kind.as_str()) {
                return Err(err(
                    file,
                    &format!("{f}.kind"),
                    format!(
                        "unknown fault {:?}; known: {}",
                        t.kind,
                        FAULT_KINDS.join(", ")
                    ),
                ));
            }
            let needs_workload = matches!(
                t.kind.as_str(),
                "readiness_failure" | "liveness_failure" | "oom_kill" | "bad_rollout"
            );
            if needs_workload {
                let (Some(ns), Some(wl)) = (&t.namespace, &t.workload) else {
                    return Err(err(
                        file,
                        &format!("{f}.workload"),
                        "this fault needs namespace and workload",
                    ));
                };
                if !self
                    .workloads
                    .iter()
                    .any(|w| &w.namespace == ns && &w.name == wl)
                {
                    return Err(err(
                        file,
                        &format!("{f}.workload"),
                        format!("no workload {ns}/{wl}"),
                    ));
                }
            }
            if t.kind == "conntrack_full" && t.node.is_none() {
                return Err(err(
                    file,
                    &format!("{f}.node"),
                    "conntrack_full needs a node",
                ));
            }
            if matches!(t.kind.as_str(), "stale_backend" | "weight_zero")
                && (t.namespace.is_none() || (t.service.is_none() && t.workload.is_none()))
            {
                return Err(err(
                    file,
                    &format!("{f}.service"),
                    "this fault needs namespace and service",
                ));
            }
            if t.kind == "bad_rollout" && t.image.is_none() {
                return Err(err(
                    file,
                    &format!("{f}.image"),
                    "bad_rollout needs an image",
                ));
            }
        }
        Ok(())
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|s| s.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_parses() {
        let s = ScenarioFile::parse(crate::DEMO_TOML, "demo.toml");
        assert!(s.is_ok(), "{s:?}");
    }

    #[test]
    fn errors_name_file_and_field() {
        let text = "[[region]]\nname = \"a\"\n[[workload]]\nname=\"w\"\nnamespace=\"n\"\nkind=\"Job\"\nreplicas=1\nimage=\"x\"\n";
        let e = ScenarioFile::parse(text, "x.toml").unwrap_err();
        assert!(e.starts_with("x.toml: workload[0].kind"), "{e}");
        let e = ScenarioFile::parse("seed = \"no\"\n", "y.toml").unwrap_err();
        assert!(e.starts_with("y.toml:1:"), "{e}");
        let e = ScenarioFile::parse(
            "[[region]]\nname=\"a\"\n[[fault]]\nat=1\nregion=\"b\"\nkind=\"latency\"\n",
            "z.toml",
        )
        .unwrap_err();
        assert!(e.contains("fault[0].region"), "{e}");
    }
}
