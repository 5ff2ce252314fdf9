//! The embedded fleet simulator: a multi-region fleet that speaks the real
//! Kubernetes API over HTTPS on 127.0.0.1 (see `docs/ARCHITECTURE.md`).
//!
//! The cockpit never imports this module except in the `demo` / `sim`
//! wiring, tests and benchmarks.
//!
//! INTERFACE (fixed; the implementation behind it is being written):

use crate::cli::SimArgs;
use std::path::Path;
use std::process::ExitCode;

/// A parsed and validated scenario (`assets/scenarios/*.toml`).
#[derive(Debug, Clone, Default)]
pub struct Scenario {
    _private: (),
}

impl Scenario {
    /// The embedded `assets/scenarios/demo.toml`.
    pub fn demo() -> Scenario {
        Scenario::default()
    }

    /// Parse and validate; errors name the file and the field.
    pub fn load(_path: &Path) -> Result<Scenario, String> {
        Ok(Scenario::default())
    }
}

/// Where one simulated region listens.
#[derive(Debug, Clone)]
pub struct RegionEndpoint {
    pub name: String,
    /// The kubeconfig context name (same as the region name).
    pub context: String,
    /// `https://127.0.0.1:PORT`
    pub url: String,
    pub port: u16,
    pub token: String,
}

/// A running fleet: one HTTPS listener per region. Dropping it stops it.
pub struct Fleet {
    _private: (),
}

impl Fleet {
    /// Start every region of `scenario` on 127.0.0.1 (ephemeral ports unless
    /// `base_port` is given).
    pub async fn start(_scenario: Scenario, _base_port: Option<u16>) -> Result<Fleet, String> {
        Err("the simulator is not built yet".into())
    }

    pub fn regions(&self) -> &[RegionEndpoint] {
        &[]
    }

    /// A kubeconfig (YAML) with one context per region, CA data embedded.
    pub fn kubeconfig_yaml(&self) -> String {
        String::new()
    }
}

/// `pitwall sim`: run until Ctrl-C / SIGTERM.
pub async fn run_standalone(_args: SimArgs) -> Result<ExitCode, String> {
    Err("the simulator is not built yet".into())
}
