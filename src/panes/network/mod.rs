//! The network pane: conntrack per node and LVS virtual and real servers,
//! joined to pods, from Prometheus or straight from node_exporter.
//!
//! - `expo`: the text exposition reader (direct scrape);
//! - `model`: per-region figures with bounded history and rates;
//! - `join`: instance -> node, real server -> pod, and the flags;
//! - `direct`: scrapes node_exporter through the pod proxy;
//! - `prom`: the same figures from Prometheus;
//! - `poller`: the long-lived task per region (backoff, metrics badge);
//! - `config`: `[network]` and `[region.prometheus]` of config.toml;
//! - `prometheus_process`: the demo's own `prometheus`;
//! - `view`: the nodes table, the LVS view, the detail chart, triage lines;
//! - `state`: the pane's state (figures shared with the pollers, findings);
//! - `task`: a region's poller as a long-lived task.
//!
//! Below: the pane's keys, its drawing, and what its messages do. A
//! region's poller starts once the region is live and runs until quit:
//! at the configured interval while the pane is on screen, at the idle
//! interval while not (triage lists hot nodes, drops and stale backends
//! whichever pane has focus).

pub mod config;
pub mod direct;
pub mod expo;
pub mod join;
pub mod model;
pub mod poller;
pub mod prom;
pub mod prometheus_process;
pub mod state;
pub mod store_lookup;
pub mod task;
pub mod view;

use crate::action::Action;
use crate::fleet::health::Feed;
use crate::model::RegionId;
use crate::msg::Health;
use crate::state::{Pane, State};
use crate::tasks::{TaskCommand, TaskState};
use crate::theme::Styles;
use crate::update::Effect;
use crate::widgets::movement;
use ratatui::layout::Rect;
use ratatui::Frame;
use state::lock;
use store_lookup::StoreLookup;
use view::{RegionView, View};

/// The metrics feed of a region: a badge of its own, never the region's.
pub const METRICS: Feed = Feed::own_badge("metrics");

/// Locks every region's figures and hands `f` the regions as the view
/// reads them (sanitised names; the store as the pod lookup).
fn with_views<R>(state: &State, f: impl FnOnce(&[RegionView]) -> R) -> R {
    let net = &state.network;
    let guards: Vec<_> = net.regions.iter().map(|r| lock(&r.net)).collect();
    let names: Vec<String> = (0..net.regions.len())
        .map(|i| crate::sanitize::sanitize(state.region_name(i)).into_owned())
        .collect();
    let lookups: Vec<StoreLookup> = (0..net.regions.len())
        .map(|region| StoreLookup {
            store: &state.store,
            region,
            nodes: Vec::new(),
        })
        .collect();
    let errors: Vec<Option<String>> = net
        .regions
        .iter()
        .enumerate()
        .map(
            |(i, r)| match state.tasks.get(&task::key(state.region_name(i))) {
                Some(TaskState::Failed(why)) => Some(why.clone()),
                _ => r.error.clone(),
            },
        )
        .collect();
    let views: Vec<RegionView> = net
        .regions
        .iter()
        .enumerate()
        .map(|(i, r)| RegionView {
            name: &names[i],
            net: &guards[i],
            lookup: &lookups[i],
            source: &r.source,
            error: errors[i].as_deref(),
            findings: Some(&r.findings),
        })
        .collect();
    f(&views)
}

/// Rows the current view has (the cursor's bound).
fn row_count(state: &State) -> usize {
    state
        .network
        .regions
        .iter()
        .map(|r| {
            let n = lock(&r.net);
            match state.network.view {
                View::Nodes => n.nodes.len(),
                View::Lvs => n.virtuals.values().map(|v| v.len() + 1).sum(),
                View::Detail(..) => 0,
            }
        })
        .sum()
}

pub fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    if let Some(delta) = movement(action, state.ui.list_page()) {
        let n = row_count(state);
        let c = &mut state.network.cursor;
        *c = c.saturating_add_signed(delta).min(n.saturating_sub(1));
        return Some(Vec::new());
    }
    let net = &mut state.network;
    match action {
        Action::NetworkView => {
            net.view = match net.view {
                View::Lvs => View::Nodes,
                _ => View::Lvs,
            };
            net.cursor = 0;
        }
        Action::Select if net.view == View::Nodes => {
            let cursor = net.cursor;
            let picked = with_views(state, |views| {
                view::node_rows(views)
                    .get(cursor)
                    .map(|(r, n, _)| (r.to_string(), n.to_string()))
            });
            if let Some((region, node)) = picked {
                state.network.view = View::Detail(region, node);
            }
        }
        Action::ClearFilter | Action::Back if matches!(net.view, View::Detail(..)) => {
            net.view = View::Nodes;
        }
        _ => return None,
    }
    Some(Vec::new())
}

/// From a pod row (`node_conntrack`): the pane on its node's conntrack.
pub fn open_node(state: &mut State, region: RegionId, node: &str) {
    if node.is_empty() {
        return;
    }
    let name = crate::sanitize::sanitize(state.region_name(region)).into_owned();
    state.network.view = View::Detail(name, node.to_string());
    state.ui.focus = Pane::Network;
}

/// From a triage item: a node's chart, or the LVS view.
pub fn open_item(state: &mut State, region: RegionId, kind: &str, name: &str) {
    if kind == "Node" {
        open_node(state, region, name);
    } else {
        state.network.view = View::Lvs;
        state.network.cursor = 0;
        state.ui.focus = Pane::Network;
    }
}

pub fn draw(state: &State, _styles: &Styles, frame: &mut Frame, area: Rect, _focused: bool) {
    let net = &state.network;
    let th = net.thresholds();
    let (view, cursor) = (&net.view, net.cursor);
    let now = state.now as f64;
    with_views(state, |views| {
        view::render(views, view, cursor, &th, now, area, frame.buffer_mut())
    });
}

/// Whether the pane is on screen: focused, or laid out beside others on a
/// terminal wide enough. Pollers go at full pace only then.
pub fn sync_shown(state: &State) {
    let ui = &state.ui;
    let shown = ui.focus == Pane::Network
        || (ui.size.0 >= ui.layout.narrow_below && ui.panes().contains(&Pane::Network));
    state.network.set_shown(shown);
}

/// A region's health changed: once it is live, its poller starts (once).
pub fn on_region_health(state: &mut State, region: RegionId) -> Vec<Effect> {
    let live = state
        .regions
        .get(region)
        .is_some_and(|r| r.health.is_live());
    state.network.ensure(state.regions.len());
    let name = state.region_name(region).to_string();
    let net = &mut state.network;
    let Some(r) = net.regions.get_mut(region) else {
        return Vec::new();
    };
    if !live || r.started {
        return Vec::new();
    }
    r.started = true;
    let job = task::Job {
        region,
        name: name.clone(),
        prometheus: net.prometheus.get(region).cloned().flatten(),
        direct: net.settings.direct.clone(),
        pace: r.pace.clone(),
        net: r.net.clone(),
    };
    sync_shown(state);
    vec![Effect::Task(TaskCommand::Start(
        task::key(&name),
        job.into_task(),
    ))]
}

/// A poll of `region` ended: the metrics badge, the findings, triage.
pub fn on_poll(state: &mut State, region: RegionId, error: Option<String>) {
    state.network.ensure(state.regions.len());
    let Some(r) = state.network.regions.get_mut(region) else {
        return;
    };
    r.polled |= error.is_none();
    r.error = error.clone();
    let health = match error {
        None => Health::Live,
        Some(e) if e.starts_with("unreachable") || e.contains("timed out") => {
            Health::Unreachable(e)
        }
        Some(e) => Health::Error(e),
    };
    if let Some(rs) = state.regions.get_mut(region) {
        rs.set_feed(METRICS, health);
    }
    state.incident.network = state
        .network
        .refresh_findings(region, &state.store, state.now);
    state.incident.mark_dirty();
}

#[cfg(test)]
mod tests;
