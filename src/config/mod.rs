//! The user's config file: regions, theme, keymap, layout, read-only.
//!
//! INTERFACE (fixed; the implementation behind it is being written):

use crate::diagnostic::Diagnostic;
use std::path::{Path, PathBuf};

pub mod spanned;

/// One region = one kube context, streamed on its own.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegionConfig {
    pub name: String,
    pub context: String,
    /// Kubeconfig file for this region; `None` = the default search
    /// (`$KUBECONFIG`, then `~/.kube/config`).
    pub kubeconfig: Option<PathBuf>,
    /// Namespaces to watch; empty = all.
    pub namespaces: Vec<String>,
    pub production: bool,
    pub prometheus_url: Option<String>,
    pub elasticsearch_url: Option<String>,
    pub elasticsearch_index: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Empty = every context of the kubeconfig becomes a region.
    pub regions: Vec<RegionConfig>,
    pub theme: String,
    pub keymap: String,
    /// Refuse every mutating action.
    pub read_only: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            regions: Vec::new(),
            theme: "default".into(),
            keymap: "default".into(),
            read_only: false,
        }
    }
}

/// `<platform config dir>/pitwall`: config.toml, keymap.toml, themes/.
pub fn config_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "pitwall").map(|d| d.config_dir().to_path_buf())
}

/// `<platform config dir>/pitwall/config.toml`.
pub fn default_config_path() -> Option<PathBuf> {
    config_dir().map(|d| d.join("config.toml"))
}

/// Reads `path`, or the default path when `None`. A missing default file is
/// not an error (`Ok(Config::default())`); a missing named file is.
pub fn load(_path: Option<&Path>) -> Result<Config, Vec<Diagnostic>> {
    Ok(Config::default())
}

/// Every context of the kubeconfig (`path` or the default search) as a
/// region named after it; `only` narrows to those contexts (`--context a,b`).
pub fn regions_from_kubeconfig(
    _path: Option<&Path>,
    _only: &[String],
) -> Result<Vec<RegionConfig>, Diagnostic> {
    Ok(Vec::new())
}
