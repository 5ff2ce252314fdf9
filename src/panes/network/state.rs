//! The network pane's state: per region the figures its poller fills (shared
//! with the poller behind a mutex taken briefly on both sides), the source
//! it reads, the last poll's failure (the region's metrics badge), and the
//! findings triage reads; the view, the cursor and the settings.

use super::config::NetworkSettings;
use super::join::{findings, Finding, Thresholds};
use super::model::RegionNet;
use super::poller::Pace;
use super::prom::PromConfig;
use super::store_lookup::StoreLookup;
use super::view::View;
use crate::fleet::store::Store;
use crate::model::{RegionId, Timestamp};
use crate::panes::triage::rank::NetworkTrouble;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// One region's network figures.
#[derive(Debug)]
pub struct NetRegion {
    pub net: Arc<Mutex<RegionNet>>,
    pub pace: Arc<Pace>,
    /// What the pane says it reads ("Prometheus URL", "direct scrape").
    pub source: String,
    /// Why the last poll failed: the region's metrics badge.
    pub error: Option<String>,
    /// Its poller has been asked to start.
    pub started: bool,
    /// A poll has answered at least once.
    pub polled: bool,
    /// Worst first, as of the last poll.
    pub findings: Vec<Finding>,
}

#[derive(Debug, Default)]
pub struct NetworkState {
    pub regions: Vec<NetRegion>,
    pub settings: NetworkSettings,
    /// Per region: its Prometheus, else the direct scrape.
    pub prometheus: Vec<Option<PromConfig>>,
    pub view: View,
    pub cursor: usize,
    /// Why regions without a Prometheus read node_exporter directly (the
    /// demo without `prometheus` on the PATH), said beside the source.
    pub why_direct: Option<String>,
    /// Each finding's first sighting (triage's "since") and how many
    /// polls in a row have seen it.
    since: HashMap<(RegionId, String), (Timestamp, u32)>,
}

pub fn lock(net: &Mutex<RegionNet>) -> MutexGuard<'_, RegionNet> {
    net.lock().unwrap_or_else(|p| p.into_inner())
}

/// A real server whose pod just went is "no pod" until the director drops
/// it (seconds): triage lists a stale backend once two polls in a row have
/// seen it (the pane flags it at once).
pub const STALE_POLLS: u32 = 2;

/// The words of the direct source, as the pane shows them.
pub const DIRECT: &str = "direct scrape (node_exporter via the pod proxy)";

impl NetworkState {
    /// Settings from the config; `prometheus` per region (None: direct).
    pub fn configure(&mut self, settings: NetworkSettings, prometheus: Vec<Option<PromConfig>>) {
        self.prometheus = prometheus
            .into_iter()
            .map(|p| p.map(|p| settings.region_prometheus(&p)))
            .collect();
        self.settings = settings;
        let n = self.regions.len().max(self.prometheus.len());
        self.regions.clear();
        self.ensure(n);
    }

    /// Default settings, direct scrape, a slot per region.
    pub fn for_regions(regions: usize) -> NetworkState {
        let mut n = NetworkState::default();
        n.ensure(regions);
        n
    }

    /// Makes sure every region has its slot.
    pub fn ensure(&mut self, regions: usize) {
        while self.regions.len() < regions {
            let i = self.regions.len();
            let prom = self.prometheus.get(i).cloned().flatten();
            let (interval, source) = match &prom {
                Some(p) => (p.poll_interval, format!("Prometheus {}", p.url)),
                None => (
                    self.settings.poll_interval,
                    match &self.why_direct {
                        Some(why) => format!("{DIRECT}: {why}"),
                        None => DIRECT.to_string(),
                    },
                ),
            };
            self.regions.push(NetRegion {
                net: Arc::new(Mutex::new(RegionNet::default())),
                pace: Pace::new(interval, self.settings.idle_poll_interval),
                source,
                error: None,
                started: false,
                polled: false,
                findings: Vec::new(),
            });
        }
    }

    pub fn thresholds(&self) -> Thresholds {
        self.settings.thresholds
    }

    /// The pane came on screen or left it: pollers speed up or slow down.
    pub fn set_shown(&self, shown: bool) {
        for r in &self.regions {
            r.pace.set_shown(shown);
        }
    }

    /// After a poll of `region`: its findings against the store, and the
    /// list triage reads (every region), each with its first sighting.
    pub fn refresh_findings(
        &mut self,
        region: RegionId,
        store: &Store,
        now: Timestamp,
    ) -> Vec<NetworkTrouble> {
        let th = self.thresholds();
        if let Some(r) = self.regions.get_mut(region) {
            let lookup = StoreLookup {
                store,
                region,
                nodes: Vec::new(),
            };
            r.findings = findings(&lock(&r.net), &lookup, &th);
            // this region's sightings: first seen, polls seen in a row
            let mut mine = HashMap::new();
            for f in &r.findings {
                let key = (region, finding_key(f));
                let (since, polls) = self.since.get(&key).copied().unwrap_or((now, 0));
                mine.insert(key, (since, polls.saturating_add(1)));
            }
            self.since.retain(|(reg, _), _| *reg != region);
            self.since.extend(mine);
        }
        let mut out = Vec::new();
        for (i, r) in self.regions.iter().enumerate() {
            for f in &r.findings {
                let (since, polls) = self
                    .since
                    .get(&(i, finding_key(f)))
                    .copied()
                    .unwrap_or((now, 1));
                if matches!(f, Finding::StaleBackend { .. }) && polls < STALE_POLLS {
                    continue;
                }
                out.push(NetworkTrouble {
                    region: i,
                    finding: f.clone(),
                    since,
                });
            }
        }
        out
    }
}

/// What stays the same about a finding while its figures move.
fn finding_key(f: &Finding) -> String {
    match f {
        Finding::Conntrack { node, .. } => format!("conntrack {node}"),
        Finding::Drops { node, .. } => format!("drops {node}"),
        Finding::StaleBackend { virt, real } => format!("stale {virt} {real}"),
        Finding::UnreadyBackend { virt, real, .. } => format!("unready {virt} {real}"),
        Finding::WeightZero { virt, real, .. } => format!("weight0 {virt} {real}"),
    }
}
