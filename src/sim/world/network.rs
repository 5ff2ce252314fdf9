//! What node_exporter reports about a region's network: conntrack per node
//! and IPVS (LVS) on a few director nodes, with node_exporter's metric names
//! and label sets, in the text exposition format.
//!
//! Every Service has a virtual service (its ClusterIP and port) on every
//! director; its real servers are the ready pod IPs of its Endpoints.
//! Counters advance with simulated time whenever they are read, so a scrape
//! always sees them move. Faults: a node's conntrack table fills
//! (`conntrack_full`), a real server stays behind on a deleted pod
//! (`stale_backend`), a weight-0 real server keeps active connections
//! (`weight_zero`).

use crate::world::clock::Clock;
use crate::world::faults::Fault;
use crate::world::objects;
use crate::world::region::{s, State};
use crate::world::store::{splitmix, Kind};
use serde_json::{json, Value};
use std::fmt::Write;

/// Namespace of the node_exporter pods.
pub const EXPORTER_NS: &str = "monitoring";
/// The port node_exporter listens on.
pub const EXPORTER_PORT: u16 = 9100;
/// The label the exporter pods carry (the cockpit's default selector).
pub const EXPORTER_LABEL: (&str, &str) = ("app.kubernetes.io/name", "node-exporter");
/// `net.netfilter.nf_conntrack_max` of every simulated node.
pub const CONNTRACK_LIMIT: u64 = 262_144;
/// Simulated seconds a full table takes to climb from its usual level.
const FILL_SECONDS: f64 = 30.0;

/// Network counters of one region.
#[derive(Debug, Default)]
pub struct Network {
    nodes: Vec<NodeNet>,
    directors: Vec<Director>,
    /// Real servers left behind: (namespace, service, ip, port).
    stale: Vec<(String, String, String, u64)>,
    /// Real servers with weight 0 and active connections: (namespace, service, ip).
    weight_zero: Vec<(String, String, String)>,
    last: Option<f64>,
}

#[derive(Debug, Default, Clone)]
struct NodeNet {
    full_since: Option<f64>,
    entries: f64,
    drop: f64,
    insert_failed: f64,
    early_drop: f64,
    found: f64,
    invalid: f64,
    insert: f64,
}

#[derive(Debug, Default, Clone)]
struct Director {
    node: usize,
    connections: f64,
    in_packets: f64,
    out_packets: f64,
    in_bytes: f64,
    out_bytes: f64,
}

/// One real server of a virtual service, as the directors see it.
struct RealServer {
    vip: String,
    vport: u64,
    ip: String,
    port: u64,
    weight: u64,
    active: u64,
    inactive: u64,
}

/// Directors of a region of `nodes` nodes: the first few.
pub fn director_count(nodes: usize) -> usize {
    if nodes == 0 {
        0
    } else {
        (nodes / 4).clamp(1, 3)
    }
}

fn h(a: &str, b: u64) -> u64 {
    let mut x = b;
    for c in a.bytes() {
        x = splitmix(x ^ u64::from(c));
    }
    x
}

/// A node_exporter pod per node (a DaemonSet's pods; there is no DaemonSet
/// object in the simulator's store).
pub fn add_exporters(st: &mut State, clock: &Clock, created: &str) {
    let template = json!({
        "metadata": {"labels": {EXPORTER_LABEL.0: EXPORTER_LABEL.1, "app.kubernetes.io/component": "exporter"}},
        "spec": {"containers": [{
            "name": "node-exporter",
            "image": "quay.io/prometheus/node-exporter:v1.8.2",
            "args": ["--path.procfs=/host/proc", "--path.sysfs=/host/sys", "--collector.ipvs"],
            "ports": [{"name": "metrics", "containerPort": EXPORTER_PORT, "protocol": "TCP"}],
        }]}
    });
    let uid = st.store.new_uid();
    let start = clock.elapsed() - 30.0 * 86_400.0;
    let _ = created;
    for i in 0..st.nodes.len() {
        let name = format!("node-exporter-{}", objects::safe_string(st.rng.u64(..), 5));
        st.pin_node = Some(i);
        st.create_pod(
            clock,
            &template,
            EXPORTER_NS,
            name,
            "DaemonSet",
            "node-exporter",
            &uid,
            &[],
            Some((start, start + 5.0)),
        );
    }
    st.pin_node = None;
}

impl State {
    /// Apply a network fault (`conntrack_full`, `stale_backend`, `weight_zero`).
    pub fn apply_network_fault(&mut self, clock: &Clock, f: &Fault) -> Result<(), String> {
        let now = clock.elapsed();
        self.advance_network(now);
        match f {
            Fault::ConntrackFull { node } => {
                let i = self
                    .nodes
                    .iter()
                    .position(|(n, _)| n == node)
                    .ok_or_else(|| format!("no node {node}"))?;
                self.net.nodes[i].full_since = Some(now);
                Ok(())
            }
            Fault::StaleBackend { namespace, service } => {
                let (ip, port, pod) = self.first_backend(namespace, service).ok_or_else(|| {
                    format!("service {namespace}/{service} has no ready endpoint")
                })?;
                self.net
                    .stale
                    .push((namespace.clone(), service.clone(), ip, port));
                // The pod goes; its controller replaces it with a new IP.
                self.terminate_pod(clock, namespace, &pod);
                Ok(())
            }
            Fault::WeightZero { namespace, service } => {
                let (ip, _, _) = self.first_backend(namespace, service).ok_or_else(|| {
                    format!("service {namespace}/{service} has no ready endpoint")
                })?;
                self.net
                    .weight_zero
                    .push((namespace.clone(), service.clone(), ip));
                Ok(())
            }
            _ => Err("not a workload or network fault".into()),
        }
    }

    /// (ip, port, pod name) of a Service's first ready endpoint by IP.
    fn first_backend(&self, ns: &str, svc: &str) -> Option<(String, u64, String)> {
        let ep = self.store.get_value(Kind::Endpoints, ns, svc)?;
        let subset = ep.pointer("/subsets/0")?;
        let port = subset
            .pointer("/ports/0/port")
            .and_then(Value::as_u64)
            .unwrap_or(80);
        let mut addrs: Vec<(String, String)> = subset
            .get("addresses")?
            .as_array()?
            .iter()
            .map(|a| (s(a, "/ip").to_string(), s(a, "/targetRef/name").to_string()))
            .collect();
        addrs.sort();
        let (ip, pod) = addrs.into_iter().next()?;
        Some((ip, port, pod))
    }

    /// Move every counter forward to simulated time `now`.
    pub fn advance_network(&mut self, now: f64) {
        let n = self.nodes.len();
        let net = &mut self.net;
        if net.nodes.len() != n {
            net.nodes.resize(n, NodeNet::default());
            net.directors = (0..director_count(n))
                .map(|node| Director {
                    node,
                    ..Default::default()
                })
                .collect();
        }
        let dt = match net.last {
            Some(t) => (now - t).clamp(0.0, 3_600.0),
            None => 0.0,
        };
        net.last = Some(now.max(net.last.unwrap_or(now)));
        let limit = CONNTRACK_LIMIT as f64;
        for (i, nn) in net.nodes.iter_mut().enumerate() {
            let load = self.node_load.get(i).copied().unwrap_or(0) as f64;
            let phase = (h(&self.nodes[i].0, 7) % 1000) as f64 / 159.0;
            // The usual level: a few thousand flows plus a share per pod.
            let usual = 3_000.0 + load * 450.0 + 800.0 * (now / 90.0 + phase).sin();
            nn.entries = match nn.full_since {
                Some(t) => (usual + (limit - usual) * ((now - t) / FILL_SECONDS)).min(limit),
                None => usual,
            };
            let flows = 20.0 + load * 6.0;
            nn.found += flows * 3.0 * dt;
            nn.insert += flows * dt;
            nn.invalid += 0.3 * dt;
            if nn.entries >= limit {
                nn.drop += 45.0 * dt;
                nn.insert_failed += 15.0 * dt;
                nn.early_drop += 30.0 * dt;
            }
        }
        let servers = self.store.count(Kind::Endpoints) as f64 * 3.0;
        for d in &mut net.directors {
            let conns = (servers * 4.0 + 10.0) * dt;
            d.connections += conns;
            d.in_packets += conns * 12.0;
            d.out_packets += conns * 10.0;
            d.in_bytes += conns * 12.0 * 90.0;
            d.out_bytes += conns * 10.0 * 1_200.0;
        }
    }

    fn real_servers(&self, now: f64) -> Vec<RealServer> {
        let mut out = Vec::new();
        for svc in self.store.values(Kind::Service) {
            let ns = s(&svc, "/metadata/namespace");
            let name = s(&svc, "/metadata/name");
            let vip = s(&svc, "/spec/clusterIP");
            if vip.is_empty() || vip == "None" {
                continue;
            }
            let vport = svc
                .pointer("/spec/ports/0/port")
                .and_then(Value::as_u64)
                .unwrap_or(80);
            let mut backends: Vec<(String, u64)> = Vec::new();
            if let Some(subset) = self
                .store
                .get_value(Kind::Endpoints, ns, name)
                .and_then(|e| e.pointer("/subsets/0").cloned())
            {
                let port = subset
                    .pointer("/ports/0/port")
                    .and_then(Value::as_u64)
                    .unwrap_or(vport);
                for a in subset
                    .get("addresses")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    backends.push((s(a, "/ip").to_string(), port));
                }
            }
            for (sns, ssvc, ip, port) in &self.net.stale {
                if sns == ns && ssvc == name && !backends.iter().any(|(b, _)| b == ip) {
                    backends.push((ip.clone(), *port));
                }
            }
            backends.sort();
            for (ip, port) in backends {
                let x = h(&ip, 11);
                let wave = (3.0 * (now / 45.0 + (x % 628) as f64 / 100.0).sin()).round() as i64;
                let mut active = (3 + (x % 12) as i64 + wave).max(0) as u64;
                let inactive = 10 + (x >> 8) % 40;
                let zero = self
                    .net
                    .weight_zero
                    .iter()
                    .any(|(zns, zs, zip)| zns == ns && zs == name && *zip == ip);
                if zero {
                    active = active.max(4);
                }
                out.push(RealServer {
                    vip: vip.to_string(),
                    vport,
                    ip,
                    port,
                    weight: if zero { 0 } else { 1 },
                    active,
                    inactive,
                });
            }
        }
        out
    }

    /// node_exporter's `/metrics` for one node (None: no such node).
    pub fn node_metrics(&mut self, node: &str, now: f64) -> Option<String> {
        let i = self.nodes.iter().position(|(n, _)| n == node)?;
        self.advance_network(now);
        let nn = self.net.nodes[i].clone();
        let mut out = String::with_capacity(4096);
        let metric = |out: &mut String, name: &str, ty: &str, help: &str, v: f64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {ty}\n{name} {}",
                v.floor()
            );
        };
        let _ = writeln!(
            out,
            "# HELP node_uname_info Labeled system information as provided by the uname system call.\n# TYPE node_uname_info gauge\nnode_uname_info{{domainname=\"(none)\",machine=\"x86_64\",nodename=\"{node}\",release=\"6.1.0-28-amd64\",sysname=\"Linux\",version=\"#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1\"}} 1"
        );
        metric(
            &mut out,
            "node_nf_conntrack_entries",
            "gauge",
            "Number of currently allocated flow entries for connection tracking.",
            nn.entries,
        );
        metric(
            &mut out,
            "node_nf_conntrack_entries_limit",
            "gauge",
            "Maximum size of connection tracking table.",
            CONNTRACK_LIMIT as f64,
        );
        for (name, help, v) in [
            ("drop", "Number of packets dropped due to conntrack failure.", nn.drop),
            ("early_drop", "Number of dropped conntrack entries to make room for new ones, if maximum table size was reached.", nn.early_drop),
            ("found", "Number of searched entries which were successful.", nn.found),
            ("ignore", "Number of packets seen which are already connected to a conntrack entry.", 0.0),
            ("insert", "Number of entries inserted into the list.", nn.insert),
            ("insert_failed", "Number of entries for which list insertion was attempted but failed.", nn.insert_failed),
            ("invalid", "Number of packets seen which can not be tracked.", nn.invalid),
            ("search_restart", "Number of conntrack table lookups which had to be restarted due to hashtable resizes.", 0.0),
        ] {
            metric(&mut out, &format!("node_nf_conntrack_stat_{name}"), "gauge", help, v);
        }
        let Some(d) = self.net.directors.iter().find(|d| d.node == i).cloned() else {
            return Some(out);
        };
        for (name, help, v) in [
            (
                "connections",
                "The total number of connections made.",
                d.connections,
            ),
            (
                "incoming_packets",
                "The total number of incoming packets.",
                d.in_packets,
            ),
            (
                "outgoing_packets",
                "The total number of outgoing packets.",
                d.out_packets,
            ),
            (
                "incoming_bytes",
                "The total amount of incoming data.",
                d.in_bytes,
            ),
            (
                "outgoing_bytes",
                "The total amount of outgoing data.",
                d.out_bytes,
            ),
        ] {
            metric(
                &mut out,
                &format!("node_ipvs_{name}_total"),
                "counter",
                help,
                v,
            );
        }
        let servers = self.real_servers(now);
        for (name, help, pick) in [
            (
                "connections_active",
                "The current active connections by local and remote address.",
                0,
            ),
            (
                "connections_inactive",
                "The current inactive connections by local and remote address.",
                1,
            ),
            (
                "weight",
                "The current backend weight by local and remote address.",
                2,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP node_ipvs_backend_{name} {help}\n# TYPE node_ipvs_backend_{name} gauge"
            );
            for r in &servers {
                let v = match pick {
                    0 => r.active,
                    1 => r.inactive,
                    _ => r.weight,
                };
                let _ = writeln!(
                    out,
                    "node_ipvs_backend_{name}{{local_address=\"{}\",local_mark=\"\",local_port=\"{}\",proto=\"TCP\",remote_address=\"{}\",remote_port=\"{}\"}} {v}",
                    r.vip, r.vport, r.ip, r.port
                );
            }
        }
        Some(out)
    }

    /// The node an exporter pod runs on, if `ns/pod` is one.
    pub fn exporter_node(&self, ns: &str, pod: &str) -> Option<String> {
        let v = self.store.get_value(Kind::Pod, ns, pod)?;
        let is_exporter = v
            .pointer(&format!(
                "/metadata/labels/{}",
                EXPORTER_LABEL.0.replace('/', "~1")
            ))
            .and_then(Value::as_str)
            == Some(EXPORTER_LABEL.1);
        is_exporter.then(|| s(&v, "/spec/nodeName").to_string())
    }
}
