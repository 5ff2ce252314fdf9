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
use std::collections::HashMap;
use std::path::{Path, PathBuf};
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
    let before = report.diagnostics.len();
    let config = check_config(args.config.as_deref(), &mut report);
    let config_loaded = report.diagnostics.len() == before;
    check_region_contexts(args, &config, &mut report);
    if config_loaded && config.regions.is_empty() && args.context.is_empty() {
        check_kubeconfig(args, &mut report);
    }
    if !args.context.is_empty() {
        // `--context` must name something that exists.
        if let Err(d) = config::resolve_regions(&config, args.kubeconfig.as_deref(), &args.context)
        {
            report.diagnostics.push(d);
        }
    }

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

/// With no `[[region]]`, every context of the kubeconfig becomes one: the
/// kubeconfig must then read, and have contexts. With none to be found the
/// cockpit says so itself (and suggests the demo); nothing to check here.
fn check_kubeconfig(args: &CockpitArgs, report: &mut Report) {
    let default_exists = directories::BaseDirs::new()
        .is_some_and(|d| d.home_dir().join(".kube").join("config").exists());
    if args.kubeconfig.is_none() && std::env::var_os("KUBECONFIG").is_none() && !default_exists {
        return;
    }
    match config::regions_from_kubeconfig(args.kubeconfig.as_deref(), &[]) {
        Ok(regions) => {
            let n = regions.len();
            report.summary.push(format!(
                "kubeconfig OK: {n} context{}, each a region",
                if n == 1 { "" } else { "s" }
            ));
        }
        Err(d) => report.diagnostics.push(d),
    }
}

/// Every configured region's context must exist in its kubeconfig: a typo
/// there would otherwise only show as a red badge at 03:00. Only the files
/// are read; no cluster is contacted and no credential plugin runs.
fn check_region_contexts(args: &CockpitArgs, config: &Config, report: &mut Report) {
    if config.regions.is_empty() {
        return;
    }
    let config_path = args.config.clone().or_else(config::default_config_path);
    let source = config_path
        .as_deref()
        .and_then(|p| config::read_text_file(p).ok())
        .unwrap_or_default();
    let file = config_path.map_or_else(String::new, |p| p.display().to_string());
    let at = |index: usize, field: &str, message: String| {
        let d = Diagnostic::new(&file, message);
        match config::region_field_position(&source, index, field) {
            Some((line, col)) => d.at(line, col),
            None => d,
        }
    };
    // One read per kubeconfig file, however many regions share it.
    let mut contexts: HashMap<Option<PathBuf>, Result<Vec<String>, Diagnostic>> = HashMap::new();
    let mut problems = Vec::new();
    for (i, region) in config.regions.iter().enumerate() {
        let path = region
            .kubeconfig
            .clone()
            .or_else(|| args.kubeconfig.clone());
        let known = contexts
            .entry(path.clone())
            .or_insert_with(|| config::kubeconfig_contexts(path.as_deref()));
        match known {
            Ok(names) if names.contains(&region.context) => {}
            Ok(names) => {
                let shown =
                    path.map_or_else(|| "the kubeconfig".into(), |p| p.display().to_string());
                problems.push(at(
                    i,
                    "context",
                    format!(
                        "region `{}`: context `{}` is not in {shown} (it has: {})",
                        region.name,
                        region.context,
                        names.join(", ")
                    ),
                ));
            }
            Err(e) => {
                let field = if region.kubeconfig.is_some() {
                    "kubeconfig"
                } else {
                    "context"
                };
                problems.push(at(
                    i,
                    field,
                    format!("region `{}`: {}", region.name, e.message),
                ));
            }
        }
    }
    if problems.is_empty() {
        let n = config.regions.len();
        report.summary.push(format!(
            "contexts OK: {n} region{} found in {} kubeconfig{}",
            if n == 1 { "" } else { "s" },
            contexts.len(),
            if contexts.len() == 1 { "" } else { "s" }
        ));
    }
    report.diagnostics.extend(problems);
}
