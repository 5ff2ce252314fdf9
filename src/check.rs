//! `pitwall check-config`: validate config, keymap and theme files.

use crate::cli::CockpitArgs;
use std::process::ExitCode;

pub fn run(_args: &CockpitArgs) -> Result<ExitCode, String> {
    Ok(ExitCode::SUCCESS)
}
