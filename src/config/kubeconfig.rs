//! Regions from a kubeconfig, for when config.toml lists none.

use super::RegionConfig;
use crate::diagnostic::Diagnostic;
use kube::config::{Kubeconfig, KubeconfigError};
use std::path::Path;

/// The context names of the kubeconfig at `path`, or of the default search
/// (`$KUBECONFIG`, then `~/.kube/config`).
pub fn context_names(path: Option<&Path>) -> Result<Vec<String>, Diagnostic> {
    let label = path.map_or_else(|| "kubeconfig".to_string(), |p| p.display().to_string());
    let kubeconfig = match path {
        Some(p) => Kubeconfig::read_from(p),
        None => Kubeconfig::read(),
    }
    .map_err(|e| Diagnostic::new(&label, describe(&e)))?;
    Ok(kubeconfig.contexts.into_iter().map(|c| c.name).collect())
}

pub fn regions(path: Option<&Path>, only: &[String]) -> Result<Vec<RegionConfig>, Diagnostic> {
    let label = path.map_or_else(|| "kubeconfig".to_string(), |p| p.display().to_string());
    let known = context_names(path).map_err(|mut d| {
        d.message
            .push_str("; configure [[region]] in config.toml or try `pitwall demo`");
        d
    })?;
    if known.is_empty() {
        return Err(Diagnostic::new(
            &label,
            "the kubeconfig has no contexts; configure [[region]] in config.toml or try `pitwall demo`",
        ));
    }
    if let Some(missing) = only.iter().find(|c| !known.contains(c)) {
        return Err(Diagnostic::new(
            &label,
            format!(
                "context `{missing}` is not in the kubeconfig (it has: {})",
                known.join(", ")
            ),
        ));
    }
    Ok(known
        .iter()
        .filter(|name| only.is_empty() || only.contains(name))
        .map(|name| RegionConfig {
            name: name.clone(),
            context: name.clone(),
            kubeconfig: path.map(Path::to_path_buf),
            // Without a config nobody said which clusters matter; guessing
            // from the name errs on the side of more confirmation.
            production: name.to_ascii_lowercase().contains("prod"),
            ..RegionConfig::default()
        })
        .collect())
}

fn describe(e: &KubeconfigError) -> String {
    match e {
        KubeconfigError::FindPath => {
            "no kubeconfig found ($KUBECONFIG is unset and there is no home directory)".to_string()
        }
        KubeconfigError::ReadConfig(io, path) if io.kind() == std::io::ErrorKind::NotFound => {
            format!("no kubeconfig at {}", path.display())
        }
        KubeconfigError::ReadConfig(io, path) => {
            format!("cannot read kubeconfig {}: {io}", path.display())
        }
        other => format!("invalid kubeconfig: {other}"),
    }
}
