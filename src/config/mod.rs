//! The user's config file: regions, theme, keymap, layout, read-only.
//!
//! Parsing is by hand over a span-keeping TOML tree (`spanned`), so every
//! unknown key, wrong type or bad value is reported with its line and column,
//! and all problems of a file are reported at once.

mod access;
mod file;
mod kubeconfig;
mod layout;
mod settings;
pub mod spanned;
pub mod stages;

pub use access::{Access, ReadOnly};
pub use file::{parse, parse_salvaged, region_field_position};
pub use kubeconfig::context_names as kubeconfig_contexts;
pub use layout::{Layout, NarrowLayout, Pane};
pub use settings::{keymap_choice, load_settings, resolve_regions, theme_choice, Settings};

use crate::diagnostic::Diagnostic;
use std::path::{Path, PathBuf};

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
    /// Refuse every mutating action in this region (`read_only = true`).
    pub read_only: bool,
    pub prometheus_url: Option<String>,
    /// `[region.prometheus]`: the network pane's source for this region.
    pub prometheus: Option<crate::panes::network::prom::PromConfig>,
    pub elasticsearch_url: Option<String>,
    pub elasticsearch_index: Option<String>,
    /// `[region.elasticsearch]`: history for the logs pane.
    pub elasticsearch: Option<crate::panes::logs::es::EsConfig>,
}

impl RegionConfig {
    /// The region's Elasticsearch: `[region.elasticsearch]`, else
    /// `elasticsearch_url` (+ `elasticsearch_index`) without credentials.
    pub fn logs_history(&self) -> Option<crate::panes::logs::es::EsConfig> {
        use crate::panes::logs::es::{Auth, EsConfig, Mapping};
        self.elasticsearch.clone().or_else(|| {
            self.elasticsearch_url.as_ref().map(|url| EsConfig {
                url: url.clone(),
                auth: Auth::None,
                ca_pem: None,
                index: self
                    .elasticsearch_index
                    .clone()
                    .unwrap_or_else(|| "logs-*".into()),
                mapping: Mapping::ecs(),
                timeout: std::time::Duration::from_secs(10),
            })
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Empty = every context of the kubeconfig becomes a region.
    pub regions: Vec<RegionConfig>,
    pub theme: String,
    pub keymap: String,
    /// Refuse every mutating action.
    pub read_only: bool,
    /// Which panes show, and how they collapse on narrow terminals.
    pub layout: Layout,
    /// Seconds an exec credential plugin may run before it is killed.
    pub credential_plugin_timeout: u64,
    /// `[logs]`: the logs pane's bounds and field names.
    pub logs: crate::panes::logs::state::LogsSettings,
    /// `[network]`: the network pane's thresholds and polling.
    pub network: crate::panes::network::config::NetworkSettings,
    /// Release stages in promotion order (`[[stage]]`); empty = none.
    pub stages: Vec<stages::Stage>,
    /// Problems the file had when loaded (`load_salvaged`). Above 0 the
    /// cockpit is read-only and watches only the regions that checked out.
    pub problems: usize,
}

/// Exec credential plugins are killed after this long unless configured.
pub const DEFAULT_PLUGIN_TIMEOUT: u64 = 30;

impl Default for Config {
    fn default() -> Self {
        Config {
            regions: Vec::new(),
            theme: "default".into(),
            keymap: "default".into(),
            read_only: false,
            layout: Layout::default(),
            credential_plugin_timeout: DEFAULT_PLUGIN_TIMEOUT,
            logs: Default::default(),
            network: Default::default(),
            stages: Vec::new(),
            problems: 0,
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
pub fn load(path: Option<&Path>) -> Result<Config, Vec<Diagnostic>> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => match default_config_path() {
            Some(p) if p.exists() => p,
            _ => return Ok(Config::default()),
        },
    };
    let file = path.display().to_string();
    let source = read_text_file(&path)
        .map_err(|e| vec![Diagnostic::new(&file, format!("cannot read config: {e}"))])?;
    parse(&file, &source, path.parent())
}

/// What the cockpit runs with: like `load`, but a file with problems still
/// gives what could be read (see `parse_salvaged`), with `problems` set, and
/// every problem.
pub fn load_salvaged(path: Option<&Path>) -> (Config, Vec<Diagnostic>) {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => match default_config_path() {
            Some(p) if p.exists() => p,
            _ => return (Config::default(), Vec::new()),
        },
    };
    let file = path.display().to_string();
    let (config, problems) = match read_text_file(&path) {
        Ok(source) => parse_salvaged(&file, &source, path.parent()),
        Err(e) => (
            None,
            vec![Diagnostic::new(&file, format!("cannot read config: {e}"))],
        ),
    };
    let mut config = config.unwrap_or_default();
    config.problems = problems.len();
    (config, problems)
}

/// Every context of the kubeconfig (`path` or the default search) as a
/// region named after it; `only` narrows to those contexts (`--context a,b`).
pub fn regions_from_kubeconfig(
    path: Option<&Path>,
    only: &[String],
) -> Result<Vec<RegionConfig>, Diagnostic> {
    kubeconfig::regions(path, only)
}

/// `~/x` with the home directory; `None` when there is no home to use.
pub(crate) fn expand_home(path: &str) -> Option<PathBuf> {
    match path.strip_prefix("~/") {
        Some(rest) => directories::BaseDirs::new().map(|d| d.home_dir().join(rest)),
        None if path == "~" => directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf()),
        None => Some(PathBuf::from(path)),
    }
}

/// Files users edit are small; anything bigger is a mistake (a wrong path,
/// a device) that must not eat memory.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// A config, keymap or theme file as text, refusing anything over
/// `MAX_FILE_BYTES`.
pub fn read_text_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {} KiB",
            MAX_FILE_BYTES / 1024
        )));
    }
    Ok(text)
}

/// A shipped name or a path, as `theme =`, `keymap =` and the flags take.
pub fn looks_like_path(name: &str) -> bool {
    name.contains('/') || name.contains(std::path::MAIN_SEPARATOR) || name.ends_with(".toml")
}

#[cfg(test)]
mod tests;
