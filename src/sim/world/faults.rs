//! Faults a region can be put into, from the scenario timeline, the admin
//! endpoint (`/_sim/...`) or `Fleet::set_fault` in tests.

use serde::Deserialize;

/// One fault. API-level faults change how the region answers; workload
/// faults change what its pods do.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Close the listener: connections are refused until cleared.
    RefuseConnections,
    /// The network path dies silently: open connections carry no bytes
    /// either way (no FIN, no RST), new ones are accepted and never
    /// answered; clearing it lets the held connections carry bytes again.
    Blackhole,
    /// Answer list requests with this status (500, 429 with Retry-After, 410).
    ListError { code: u16 },
    /// Answer watch requests with this status (500, 429, 410 as a watch ERROR event).
    WatchError { code: u16 },
    /// Delay every response by this many milliseconds.
    Latency { millis: u64 },
    /// Watches stay open but send nothing, not even bookmarks.
    StallWatches,
    /// 403 Forbidden for this resource (plural, e.g. `pods`).
    ForbidResource { resource: String },
    /// 403 Forbidden for everything in this namespace.
    ForbidNamespace { namespace: String },
    /// The token stops working: 401 from now on.
    ExpireToken,
    /// The next chunk of every watch is not valid JSON.
    MalformedWatch,
    /// New events, pods, labels, annotations and log lines carry terminal
    /// escape sequences, OSC 52 and bidi overrides.
    HostileStrings,
    /// Every open `pods/log` follow ends now, as when an API server or a
    /// proxy closes long requests (the containers keep running).
    CloseLogStreams,
    /// The region's Elasticsearch endpoint answers every request with
    /// this status (500, 429, 503) as an ES error object.
    EsError { code: u16 },
    /// The Elasticsearch endpoint delays every response (timeouts).
    EsLatency { millis: u64 },
    /// The Elasticsearch endpoint refuses connections.
    EsRefuseConnections,
    /// Readiness probes of `pods` pods of a workload fail (503).
    ReadinessFailure {
        namespace: String,
        workload: String,
        pods: u32,
    },
    /// Liveness probes fail: the containers restart.
    LivenessFailure {
        namespace: String,
        workload: String,
        pods: u32,
    },
    /// Containers are OOMKilled shortly after start.
    OomKill {
        namespace: String,
        workload: String,
        pods: u32,
    },
    /// A new image is rolled out and its containers crash-loop.
    BadRollout {
        namespace: String,
        workload: String,
        image: String,
    },
    /// A node's conntrack table fills to its limit: new flows are dropped
    /// and inserts fail.
    ConntrackFull { node: String },
    /// A Service's first real server stays in the LVS tables after its pod
    /// is deleted (a stale backend).
    StaleBackend { namespace: String, service: String },
    /// A Service's first real server gets weight 0 but keeps active
    /// connections.
    WeightZero { namespace: String, service: String },
}

/// API-level fault state of one region.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub refuse: bool,
    pub blackhole: bool,
    pub list_error: Option<u16>,
    pub watch_error: Option<u16>,
    pub latency_ms: u64,
    pub stall_watches: bool,
    pub forbid_resources: Vec<String>,
    pub forbid_namespaces: Vec<String>,
    pub token_expired: bool,
    pub malformed_watch: bool,
    pub hostile: bool,
    pub es_error: Option<u16>,
    pub es_latency_ms: u64,
    pub es_refuse: bool,
    /// Bumped by `CloseLogStreams`: follows opened before end.
    pub log_epoch: u64,
}

impl Faults {
    /// Apply an API-level fault; returns false for workload faults.
    pub fn apply(&mut self, f: &Fault) -> bool {
        match f {
            Fault::RefuseConnections => self.refuse = true,
            Fault::Blackhole => self.blackhole = true,
            Fault::ListError { code } => self.list_error = Some(*code),
            Fault::WatchError { code } => self.watch_error = Some(*code),
            Fault::Latency { millis } => self.latency_ms = (*millis).min(60_000),
            Fault::StallWatches => self.stall_watches = true,
            Fault::ForbidResource { resource } => self.forbid_resources.push(resource.clone()),
            Fault::ForbidNamespace { namespace } => self.forbid_namespaces.push(namespace.clone()),
            Fault::ExpireToken => self.token_expired = true,
            Fault::MalformedWatch => self.malformed_watch = true,
            Fault::HostileStrings => self.hostile = true,
            Fault::EsError { code } => self.es_error = Some(*code),
            Fault::EsLatency { millis } => self.es_latency_ms = (*millis).min(120_000),
            Fault::EsRefuseConnections => self.es_refuse = true,
            Fault::CloseLogStreams => self.log_epoch += 1,
            _ => return false,
        }
        true
    }
}

impl Fault {
    /// A scenario timeline entry as a fault.
    pub fn from_timed(t: &crate::world::scenario::TimedFault) -> Option<Fault> {
        let ns = t.namespace.clone().unwrap_or_default();
        let wl = t.workload.clone().unwrap_or_default();
        let pods = t.pods.unwrap_or(1);
        Some(match t.kind.as_str() {
            "readiness_failure" => Fault::ReadinessFailure {
                namespace: ns,
                workload: wl,
                pods,
            },
            "liveness_failure" => Fault::LivenessFailure {
                namespace: ns,
                workload: wl,
                pods,
            },
            "oom_kill" => Fault::OomKill {
                namespace: ns,
                workload: wl,
                pods,
            },
            "bad_rollout" => Fault::BadRollout {
                namespace: ns,
                workload: wl,
                image: t.image.clone()?,
            },
            "refuse_connections" => Fault::RefuseConnections,
            "blackhole" => Fault::Blackhole,
            "list_error" => Fault::ListError {
                code: t.code.unwrap_or(500),
            },
            "watch_error" => Fault::WatchError {
                code: t.code.unwrap_or(500),
            },
            "latency" => Fault::Latency {
                millis: t.millis.unwrap_or(500),
            },
            "stall_watches" => Fault::StallWatches,
            "forbid_resource" => Fault::ForbidResource {
                resource: t.resource.clone()?,
            },
            "forbid_namespace" => Fault::ForbidNamespace {
                namespace: t.namespace.clone()?,
            },
            "expire_token" => Fault::ExpireToken,
            "malformed_watch" => Fault::MalformedWatch,
            "hostile_strings" => Fault::HostileStrings,
            "conntrack_full" => Fault::ConntrackFull {
                node: t.node.clone()?,
            },
            "stale_backend" => Fault::StaleBackend {
                namespace: ns,
                service: t.service.clone().unwrap_or(wl),
            },
            "weight_zero" => Fault::WeightZero {
                namespace: ns,
                service: t.service.clone().unwrap_or(wl),
            },
            "es_error" => Fault::EsError {
                code: t.code.unwrap_or(500),
            },
            "es_latency" => Fault::EsLatency {
                millis: t.millis.unwrap_or(500),
            },
            "es_refuse_connections" => Fault::EsRefuseConnections,
            "close_log_streams" => Fault::CloseLogStreams,
            _ => return None,
        })
    }
}

mod workload {
    use crate::world::clock::Clock;

    use crate::world::region::{u, Crash, State};
    use crate::world::store::Kind;
    use serde_json::json;

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
                    let Some(containers) = dep.pointer_mut("/spec/template/spec/containers/0")
                    else {
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
                other => return self.apply_network_fault(clock, other),
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
}
