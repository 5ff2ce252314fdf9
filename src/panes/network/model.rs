//! What the network pane knows about one region, from either source
//! (direct scrape or Prometheus): conntrack per node with a bounded
//! history, LVS virtual services per director, and the rates of the
//! counters. Pure data: the poller feeds it, the view and triage read it.

use super::expo::Sample;
use std::collections::{BTreeMap, VecDeque};

/// Points kept per series (the range query asks for at most as many).
pub const MAX_POINTS: usize = 1_000;
/// History shown (the sparkline's width in time).
pub const HISTORY_SECS: f64 = 30.0 * 60.0;
/// Window of the rates, as `rate(x[5m])`.
pub const RATE_WINDOW_SECS: f64 = 5.0 * 60.0;

/// A bounded time series of (seconds, value).
#[derive(Debug, Clone, Default)]
pub struct Series {
    pub points: VecDeque<(f64, f64)>,
}

impl Series {
    pub fn push(&mut self, t: f64, v: f64) {
        if !v.is_finite() {
            return;
        }
        if self.points.back().is_some_and(|(lt, _)| *lt >= t) {
            return;
        }
        self.points.push_back((t, v));
        while self.points.len() > MAX_POINTS
            || self
                .points
                .front()
                .is_some_and(|(ft, _)| t - ft > HISTORY_SECS)
        {
            self.points.pop_front();
        }
    }

    pub fn last(&self) -> Option<f64> {
        self.points.back().map(|(_, v)| *v)
    }

    /// Per-second increase over the last `RATE_WINDOW_SECS` of a counter,
    /// counting a decrease as a reset (as PromQL's `rate` does). None with
    /// fewer than two points in the window.
    pub fn rate(&self) -> Option<f64> {
        let (t1, _) = *self.points.back()?;
        let window: Vec<&(f64, f64)> = self
            .points
            .iter()
            .filter(|(t, _)| t1 - t <= RATE_WINDOW_SECS)
            .collect();
        let (first, last) = (window.first()?, window.last()?);
        let dt = last.0 - first.0;
        if window.len() < 2 || dt <= 0.0 {
            return None;
        }
        let mut inc = 0.0;
        for w in window.windows(2) {
            let (a, b) = (w[0].1, w[1].1);
            inc += if b >= a { b - a } else { b };
        }
        Some(inc / dt)
    }
}

/// Conntrack of one node.
#[derive(Debug, Clone, Default)]
pub struct NodeNet {
    pub entries: Series,
    pub limit: f64,
    pub drop: Series,
    pub insert_failed: Series,
    pub early_drop: Series,
    /// Utilisation history (entries / limit), for the sparkline and chart.
    pub util: Series,
    /// The rates when a source computes them itself (Prometheus).
    pub rates: Option<Rates>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Rates {
    pub drop: f64,
    pub insert_failed: f64,
    pub early_drop: f64,
}

impl NodeNet {
    pub fn utilisation(&self) -> Option<f64> {
        self.util.last()
    }

    pub fn rates(&self) -> Rates {
        self.rates.unwrap_or(Rates {
            drop: self.drop.rate().unwrap_or(0.0),
            insert_failed: self.insert_failed.rate().unwrap_or(0.0),
            early_drop: self.early_drop.rate().unwrap_or(0.0),
        })
    }
}

/// One real server as a director reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct RealServer {
    pub ip: String,
    pub port: String,
    pub weight: f64,
    pub active: f64,
    pub inactive: f64,
}

/// A virtual service: `proto local_address:local_port` (or its mark).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VirtualKey {
    pub director: String,
    pub address: String,
    pub port: String,
    pub proto: String,
    pub mark: String,
}

/// The network of one region.
#[derive(Debug, Clone, Default)]
pub struct RegionNet {
    /// By node name.
    pub nodes: BTreeMap<String, NodeNet>,
    pub virtuals: BTreeMap<VirtualKey, Vec<RealServer>>,
    /// Directors' connection counters, by node.
    pub connections: BTreeMap<String, Series>,
}

impl RegionNet {
    /// Take one scrape of `node` at `t` (seconds).
    pub fn ingest(&mut self, node: &str, t: f64, samples: &[Sample]) {
        let n = self.nodes.entry(node.to_string()).or_default();
        let mut entries = None;
        for s in samples {
            match s.name.as_str() {
                "node_nf_conntrack_entries" => entries = Some(s.value),
                "node_nf_conntrack_entries_limit" => n.limit = s.value,
                "node_nf_conntrack_stat_drop" => n.drop.push(t, s.value),
                "node_nf_conntrack_stat_insert_failed" => n.insert_failed.push(t, s.value),
                "node_nf_conntrack_stat_early_drop" => n.early_drop.push(t, s.value),
                "node_ipvs_connections_total" => self
                    .connections
                    .entry(node.to_string())
                    .or_default()
                    .push(t, s.value),
                _ => {}
            }
        }
        if let Some(e) = entries {
            n.entries.push(t, e);
            if n.limit > 0.0 {
                n.util.push(t, e / n.limit);
            }
        }
        let mut reals: BTreeMap<(VirtualKey, String, String), RealServer> = BTreeMap::new();
        for s in samples
            .iter()
            .filter(|s| s.name.starts_with("node_ipvs_backend_"))
        {
            let key = VirtualKey {
                director: node.to_string(),
                address: s.label("local_address").unwrap_or("").to_string(),
                port: s.label("local_port").unwrap_or("").to_string(),
                proto: s.label("proto").unwrap_or("").to_string(),
                mark: s.label("local_mark").unwrap_or("").to_string(),
            };
            let ip = s.label("remote_address").unwrap_or("").to_string();
            let port = s.label("remote_port").unwrap_or("").to_string();
            let r = reals
                .entry((key, ip.clone(), port.clone()))
                .or_insert(RealServer {
                    ip,
                    port,
                    weight: 0.0,
                    active: 0.0,
                    inactive: 0.0,
                });
            match s.name.as_str() {
                "node_ipvs_backend_weight" => r.weight = s.value,
                "node_ipvs_backend_connections_active" => r.active = s.value,
                "node_ipvs_backend_connections_inactive" => r.inactive = s.value,
                _ => {}
            }
        }
        self.replace_director(
            node,
            reals.into_iter().map(|((k, _, _), r)| (k, r)).collect(),
        );
    }

    /// Take what one poll saw (`fresh`, filled from empty): series grow,
    /// limits, rates and directors' tables are replaced.
    pub fn merge(&mut self, fresh: RegionNet) {
        for (node, f) in fresh.nodes {
            let n = self.nodes.entry(node).or_default();
            for (dst, src) in [
                (&mut n.entries, f.entries),
                (&mut n.drop, f.drop),
                (&mut n.insert_failed, f.insert_failed),
                (&mut n.early_drop, f.early_drop),
                (&mut n.util, f.util),
            ] {
                for (t, v) in src.points {
                    dst.push(t, v);
                }
            }
            if f.limit > 0.0 {
                n.limit = f.limit;
            }
            if f.rates.is_some() {
                n.rates = f.rates;
            }
        }
        for (node, s) in fresh.connections {
            let dst = self.connections.entry(node).or_default();
            for (t, v) in s.points {
                dst.push(t, v);
            }
        }
        let directors: std::collections::BTreeSet<String> =
            fresh.virtuals.keys().map(|k| k.director.clone()).collect();
        self.virtuals
            .retain(|k, _| !directors.contains(&k.director));
        self.virtuals.extend(fresh.virtuals);
    }

    /// A director's table replaces what it said before.
    pub fn replace_director(&mut self, node: &str, reals: Vec<(VirtualKey, RealServer)>) {
        self.virtuals.retain(|k, _| k.director != node);
        for (k, r) in reals {
            self.virtuals.entry(k).or_default().push(r);
        }
    }

    /// The conntrack of `node` at `t`, from a source that gives the values
    /// and rates directly (Prometheus).
    pub fn set_conntrack(&mut self, node: &str, t: f64, entries: f64, limit: f64, rates: Rates) {
        let n = self.nodes.entry(node.to_string()).or_default();
        n.limit = limit;
        n.entries.push(t, entries);
        if limit > 0.0 {
            n.util.push(t, entries / limit);
        }
        n.rates = Some(rates);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panes::network::expo::parse;

    #[test]
    fn rates_count_resets_and_use_the_window() {
        let mut s = Series::default();
        assert_eq!(s.rate(), None);
        s.push(0.0, 100.0);
        assert_eq!(s.rate(), None);
        s.push(10.0, 150.0);
        assert_eq!(s.rate(), Some(5.0));
        // a reset: the counter restarts from 0 and reaches 20
        s.push(20.0, 20.0);
        assert_eq!(s.rate(), Some((50.0 + 20.0) / 20.0));
        // an old point leaves the window
        s.push(400.0, 20.0);
        assert_eq!(s.rate(), None, "only one point in the last five minutes");
        s.push(410.0, 30.0);
        assert_eq!(s.rate(), Some(1.0));
    }

    #[test]
    fn history_is_bounded_in_points_and_time() {
        let mut s = Series::default();
        for i in 0..(MAX_POINTS + 50) {
            s.push(i as f64, 1.0);
        }
        assert_eq!(s.points.len(), MAX_POINTS);
        s.push(1e6, 1.0);
        assert_eq!(s.points.len(), 1, "older than 30 minutes goes");
        s.push(10.0, 2.0);
        assert_eq!(s.points.len(), 1, "time never goes back");
        s.push(2e6, f64::NAN);
        assert_eq!(s.points.len(), 1);
    }

    #[test]
    fn ingest_conntrack_and_lvs() {
        let text = "node_nf_conntrack_entries 200\nnode_nf_conntrack_entries_limit 1000\n\
node_nf_conntrack_stat_drop 5\n\
node_ipvs_backend_weight{local_address=\"10.96.0.1\",local_mark=\"\",local_port=\"80\",proto=\"TCP\",remote_address=\"10.64.0.2\",remote_port=\"8080\"} 0\n\
node_ipvs_backend_connections_active{local_address=\"10.96.0.1\",local_mark=\"\",local_port=\"80\",proto=\"TCP\",remote_address=\"10.64.0.2\",remote_port=\"8080\"} 7\n\
node_ipvs_backend_weight{local_address=\"10.96.0.1\",local_mark=\"\",local_port=\"80\",proto=\"TCP\",remote_address=\"10.64.0.3\",remote_port=\"8080\"} 1\n";
        let mut r = RegionNet::default();
        r.ingest("n1", 0.0, &parse(text).samples);
        let n = &r.nodes["n1"];
        assert_eq!(n.utilisation(), Some(0.2));
        assert_eq!(r.virtuals.len(), 1);
        let reals = r.virtuals.values().next().expect("one virtual service");
        assert_eq!(reals.len(), 2);
        assert_eq!((reals[0].weight, reals[0].active), (0.0, 7.0));
        r.ingest(
            "n1",
            10.0,
            &parse("node_nf_conntrack_stat_drop 25\n").samples,
        );
        assert_eq!(r.nodes["n1"].rates().drop, 2.0);
        assert!(
            r.virtuals.is_empty(),
            "a director's table is replaced, not merged"
        );
    }

    #[test]
    fn merge_grows_series_and_replaces_tables() {
        let lvs = "node_ipvs_backend_weight{local_address=\"v\",local_port=\"80\",proto=\"TCP\",local_mark=\"\",remote_address=\"r1\",remote_port=\"1\"} 1\n";
        let mut shared = RegionNet::default();
        let mut a = RegionNet::default();
        let first = format!("node_nf_conntrack_entries 100\nnode_nf_conntrack_entries_limit 1000\nnode_nf_conntrack_stat_drop 0\n{lvs}");
        a.ingest("n1", 0.0, &parse(&first).samples);
        shared.merge(a);
        let mut b = RegionNet::default();
        b.ingest("n1", 10.0, &parse("node_nf_conntrack_entries 200\nnode_nf_conntrack_entries_limit 1000\nnode_nf_conntrack_stat_drop 30\n").samples);
        shared.merge(b);
        let n = &shared.nodes["n1"];
        assert_eq!(n.util.points.len(), 2);
        assert_eq!(n.utilisation(), Some(0.2));
        assert_eq!(n.rates().drop, 3.0, "rates span polls");
        assert_eq!(
            shared.virtuals.len(),
            1,
            "a poll without a table keeps the last one"
        );
    }
}
