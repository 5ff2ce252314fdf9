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
pub mod fleet;
pub mod keymap;
pub mod logfile;
pub mod model;
pub mod msg;
pub mod panes;
pub mod sanitize;
pub mod state;
pub mod tasks;
pub mod theme;
pub mod tui;
pub mod ui;
pub mod update;
pub mod widgets;
pub mod write;
