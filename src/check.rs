//! `pitwall check-config`: validate config, keymap and theme files.
//!
//! Loads exactly what the cockpit would load (honouring --config, --keymap
//! and --theme), prints every problem as `file:line:col: message` to stderr
//! and exits 1 if there was any. `config::load_settings` loads the same
//! files the same way for the cockpit.

use crate::cli::CockpitArgs;
use crate::config::{self, Config};
use crate::diagnostic::Diagnostic;
use crate::keymap::Keymap;
use crate::theme::{ColorSupport, Styles};
use std::path::Path;
use std::process::ExitCode;

/// At most this many user theme files are checked, so a stray directory
/// cannot make the check run away.
const MAX_USER_THEMES: usize = 64;

/// What a check found: every problem, and one line per file that was fine.
#[derive(Debug, Default)]
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
    pub summary: Vec<String>,
}

pub fn run(args: &CockpitArgs) -> Result<ExitCode, String> {
    let report = check(args);
    for line in &report.summary {
        println!("{line}");
    }
    if report.diagnostics.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for d in &report.diagnostics {
        eprintln!("{d}");
    }
    let n = report.diagnostics.len();
    eprintln!(
        "check-config: {n} problem{} found",
        if n == 1 { "" } else { "s" }
    );
    Ok(ExitCode::FAILURE)
}

/// The checks behind `run`, without printing.
pub fn check(args: &CockpitArgs) -> Report {
    let mut report = Report::default();
    let config = check_config(args.config.as_deref(), &mut report);

    let (keymap_name, user_keymap) = config::keymap_choice(args, &config);
    let (_, diags) = Keymap::load(&keymap_name, user_keymap.as_deref());
    let user_part = match &user_keymap {
        Some(p) if p.exists() => format!(" + {}", p.display()),
        _ => String::new(),
    };
    if diags.is_empty() {
        report
            .summary
            .push(format!("keymap OK: {keymap_name}{user_part}"));
    }
    report.diagnostics.extend(diags);

    let (theme_name, theme_dir) = config::theme_choice(args, &config);
    let (_, diags) = Styles::load(&theme_name, theme_dir.as_deref(), ColorSupport::TrueColor);
    if diags.is_empty() {
        report.summary.push(format!("theme OK: {theme_name}"));
    }
    report.diagnostics.extend(diags);
    if let Some(dir) = &theme_dir {
        check_user_themes(dir, &theme_name, &mut report);
    }
    report
}

fn check_config(path: Option<&Path>, report: &mut Report) -> Config {
    let shown = path
        .map(Path::to_path_buf)
        .or_else(config::default_config_path);
    let shown = shown.map_or_else(
        || "(no config dir)".to_string(),
        |p| p.display().to_string(),
    );
    match config::load(path) {
        Ok(config) => {
            let exists =
                path.is_some() || config::default_config_path().is_some_and(|p| p.exists());
            let line = if !exists {
                format!("config: none at {shown}; using defaults")
            } else if config.regions.is_empty() {
                format!("config OK: {shown} (no regions: every kubeconfig context becomes one)")
            } else {
                let n = config.regions.len();
                format!(
                    "config OK: {shown} ({n} region{})",
                    if n == 1 { "" } else { "s" }
                )
            };
            report.summary.push(line);
            config
        }
        Err(diags) => {
            report.diagnostics.extend(diags);
            Config::default()
        }
    }
}

/// Themes in the user's theme dir other than the selected one: a broken
/// one would otherwise only show up the day someone switches to it.
fn check_user_themes(dir: &Path, selected: &str, report: &mut Report) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .take(MAX_USER_THEMES)
        .collect();
    paths.sort();
    for path in paths {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if name == selected {
            continue;
        }
        let (_, diags) = Styles::load(name, Some(dir), ColorSupport::TrueColor);
        if diags.is_empty() {
            report.summary.push(format!("theme OK: {}", path.display()));
        }
        report.diagnostics.extend(diags);
    }
}
