//! Everything the cockpit loads at start-up, in one call, the same way
//! `pitwall check-config` checks it: config, keymap, theme and regions.

use super::{kubeconfig, Access, Config, ReadOnly, RegionConfig};
use crate::cli::CockpitArgs;
use crate::diagnostic::Diagnostic;
use crate::keymap::{self, Keymap};
use crate::theme::{self, ColorSupport, Styles};
use std::path::{Path, PathBuf};

/// What the cockpit runs with. Problems never stop it: each part falls back
/// to its default and `diagnostics` says why (kept on screen). A config
/// file with problems makes the cockpit read-only (`access`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// `read_only` already includes `--read-only`.
    pub config: Config,
    pub keymap: Keymap,
    pub styles: Styles,
    pub colors: ColorSupport,
    pub diagnostics: Vec<Diagnostic>,
}

/// The keymap to load: `--keymap`, else the config's; plus the user's file.
pub fn keymap_choice(args: &CockpitArgs, config: &Config) -> (String, Option<PathBuf>) {
    let name = args.keymap.clone().unwrap_or_else(|| config.keymap.clone());
    (name, keymap::default_user_keymap_path())
}

/// The theme to load: `--theme`, else the config's; plus the user theme dir.
pub fn theme_choice(args: &CockpitArgs, config: &Config) -> (String, Option<PathBuf>) {
    let name = args.theme.clone().unwrap_or_else(|| config.theme.clone());
    (name, theme::default_user_theme_dir())
}

/// Loads config, keymap and theme for a terminal with `colors`.
pub fn load_settings(args: &CockpitArgs, colors: ColorSupport) -> Settings {
    let mut diagnostics = Vec::new();
    let (mut config, mut d) = super::load_salvaged(args.config.as_deref());
    diagnostics.append(&mut d);
    config.read_only |= args.read_only;
    let (name, user_file) = keymap_choice(args, &config);
    let (keymap, mut d) = Keymap::load(&name, user_file.as_deref());
    diagnostics.append(&mut d);
    let (name, dir) = theme_choice(args, &config);
    let (styles, mut d) = Styles::load(&name, dir.as_deref(), colors);
    diagnostics.append(&mut d);
    Settings {
        config,
        keymap,
        styles,
        colors,
        diagnostics,
    }
}

impl Settings {
    /// Global read-only state: flags and whether the config loaded.
    pub fn access(&self) -> Access {
        Access {
            read_only: self.config.read_only,
            config_problems: self.config.problems,
        }
    }

    /// May `region` be changed? `None` = yes; see `Access::read_only`.
    pub fn read_only(&self, region: &RegionConfig) -> Option<ReadOnly> {
        self.access().region(region)
    }
}

/// The regions to stream: the configured ones (narrowed by `--context`,
/// which matches a region's name or context; `--kubeconfig` fills in for
/// regions without their own), or else every kubeconfig context.
///
/// A config with problems never widens the set: it streams the regions
/// that checked out, or those `--context` names, or none at all.
pub fn resolve_regions(
    config: &Config,
    kubeconfig_path: Option<&Path>,
    only: &[String],
) -> Result<Vec<RegionConfig>, Diagnostic> {
    if config.regions.is_empty() && config.problems > 0 && only.is_empty() {
        return Ok(Vec::new());
    }
    if config.regions.is_empty() {
        return kubeconfig::regions(kubeconfig_path, only);
    }
    if let Some(missing) = only.iter().find(|o| {
        !config
            .regions
            .iter()
            .any(|r| &r.name == *o || &r.context == *o)
    }) {
        let names: Vec<&str> = config.regions.iter().map(|r| r.name.as_str()).collect();
        return Err(Diagnostic::new(
            "--context",
            format!(
                "`{missing}` is no configured region or context (regions: {})",
                names.join(", ")
            ),
        ));
    }
    Ok(config
        .regions
        .iter()
        .filter(|r| only.is_empty() || only.iter().any(|o| *o == r.name || *o == r.context))
        .map(|r| RegionConfig {
            kubeconfig: r
                .kubeconfig
                .clone()
                .or_else(|| kubeconfig_path.map(Path::to_path_buf)),
            ..r.clone()
        })
        .collect())
}
