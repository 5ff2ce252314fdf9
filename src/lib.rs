//! pitwall: a keyboard-driven terminal cockpit for Kubernetes fleets.
//!
//! The binary (`src/main.rs`) is a thin CLI over this library; tests reach
//! every module through here. See `docs/ARCHITECTURE.md` for the map.

pub mod action;
pub mod app;
pub mod bench_support;
pub mod check;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod effects;
pub mod incident;
pub mod keymap;
pub mod model;
pub mod msg;
pub mod sanitize;
pub mod sources;
pub mod state;
pub mod theme;
pub mod tui;
pub mod ui;
pub mod update;
/// The logs pane's core (joins `panes/mod.rs` once the panes registry lands).
pub mod panes {
    pub mod logs;
}
