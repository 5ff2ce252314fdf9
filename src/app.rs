//! The loop: select! over input, source messages and a deadline; update
//! state; draw only when something changed.

use crate::cli::{CockpitArgs, DemoArgs};
use std::process::ExitCode;

/// The cockpit on the configured regions (or every kubeconfig context).
pub async fn run(_args: CockpitArgs) -> Result<ExitCode, String> {
    Err("no regions configured and no kubeconfig found; try `pitwall demo`".into())
}

/// The cockpit on the embedded simulated fleet.
pub async fn run_demo(_args: CockpitArgs, _demo: DemoArgs) -> Result<ExitCode, String> {
    Err("the demo fleet is not built yet".into())
}
