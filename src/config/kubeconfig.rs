//! Regions from a kubeconfig, for when config.toml lists none.

use super::RegionConfig;
use crate::diagnostic::Diagnostic;
use kube::config::{Kubeconfig, KubeconfigError};
use std::path::Path;

pub fn regions(path: Option<&Path>, only: &[String]) -> Result<Vec<RegionConfig>, Diagnostic> {
    let label = path.map_or_else(|| "kubeconfig".to_string(), |p| p.display().to_string());
    let kubeconfig = match path {
        Some(p) => Kubeconfig::read_from(p),
        None => Kubeconfig::read(),
    }
    .map_err(|e| Diagnostic::new(&label, describe(&e)))?;
    if kubeconfig.contexts.is_empty() {
        return Err(Diagnostic::new(
            &label,
            "the kubeconfig has no contexts; configure [[region]] in config.toml or try `pitwall demo`",
        ));
    }
    let known: Vec<&str> = kubeconfig
        .contexts
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    if let Some(missing) = only.iter().find(|c| !known.contains(&c.as_str())) {
        return Err(Diagnostic::new(
            &label,
            format!(
                "context `{missing}` is not in the kubeconfig (it has: {})",
                known.join(", ")
            ),
        ));
    }
    Ok(kubeconfig
        .contexts
        .iter()
        .filter(|c| only.is_empty() || only.contains(&c.name))
        .map(|c| RegionConfig {
            name: c.name.clone(),
            context: c.name.clone(),
            kubeconfig: path.map(Path::to_path_buf),
            // Without a config nobody said which clusters matter; guessing
            // from the name errs on the side of more confirmation.
            production: c.name.to_ascii_lowercase().contains("prod"),
            ..RegionConfig::default()
        })
        .collect())
}

fn describe(e: &KubeconfigError) -> String {
    match e {
        KubeconfigError::FindPath => "no kubeconfig found (no $KUBECONFIG and no home directory); \
             configure [[region]] in config.toml or try `pitwall demo`"
            .to_string(),
        KubeconfigError::ReadConfig(io, path) if io.kind() == std::io::ErrorKind::NotFound => {
            format!(
                "no kubeconfig at {}; set $KUBECONFIG, pass --kubeconfig, configure [[region]] \
                 in config.toml, or try `pitwall demo`",
                path.display()
            )
        }
        KubeconfigError::ReadConfig(io, path) => {
            format!("cannot read kubeconfig {}: {io}", path.display())
        }
        other => format!("invalid kubeconfig: {other}"),
    }
}
