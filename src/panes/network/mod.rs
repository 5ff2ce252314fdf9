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
//! - `view`: the nodes table, the LVS view, the detail chart, triage lines.

pub mod config;
pub mod direct;
pub mod expo;
pub mod join;
pub mod model;
pub mod poller;
pub mod prom;
pub mod prometheus_process;
pub mod store_lookup;
pub mod view;
