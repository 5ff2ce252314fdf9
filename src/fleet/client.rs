//! Building a region's kube `Client` from its kubeconfig and context, on the
//! source task (never the UI task). Exec-credential plugins are forced
//! non-interactive: they must not read the terminal or write on the screen.

use kube::config::{ExecInteractiveMode, KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use std::path::PathBuf;
use std::time::Duration;

/// Where a region's kubeconfig comes from.
#[derive(Debug, Clone)]
pub enum KubeconfigSource {
    /// A file, or the default search (`$KUBECONFIG`, `~/.kube/config`).
    File(Option<PathBuf>),
    /// Already parsed (the demo fleet's in-memory kubeconfig).
    Inline(Box<Kubeconfig>),
}

/// What a region's supervisor needs to connect.
#[derive(Debug, Clone)]
pub struct ClientSpec {
    pub kubeconfig: KubeconfigSource,
    pub context: String,
    /// Namespaces to watch; empty = all.
    pub namespaces: Vec<String>,
}

pub async fn build(spec: &ClientSpec) -> Result<Client, String> {
    let mut kubeconfig = match &spec.kubeconfig {
        KubeconfigSource::Inline(k) => (**k).clone(),
        KubeconfigSource::File(Some(path)) => Kubeconfig::read_from(path)
            .map_err(|e| format!("kubeconfig {}: {e}", path.display()))?,
        KubeconfigSource::File(None) => {
            Kubeconfig::read().map_err(|e| format!("kubeconfig: {e}"))?
        }
    };
    for user in &mut kubeconfig.auth_infos {
        if let Some(exec) = user.auth_info.as_mut().and_then(|a| a.exec.as_mut()) {
            exec.interactive_mode = Some(ExecInteractiveMode::Never);
        }
    }
    let options = KubeConfigOptions {
        context: Some(spec.context.clone()),
        ..KubeConfigOptions::default()
    };
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| format!("context {}: {e}", spec.context))?;
    config.connect_timeout = Some(Duration::from_secs(10));
    // watches are bounded by timeoutSeconds and our own silence detector
    config.read_timeout = Some(Duration::from_secs(330));
    // Retries belong to the list/watch loop, which backs off with jitter and
    // shows them on the region's badge; kube's own layer would retry 429/503
    // up to 15 times out of sight.
    config.default_retry = false;
    Client::try_from(config).map_err(|e| explain(&spec.context, &e.to_string()))
}

/// kube's exec-plugin errors carry the whole environment and output; the
/// badge wants the command, the status and what the plugin said.
fn explain(context: &str, err: &str) -> String {
    let Some(rest) = err.split("auth exec command").nth(1) else {
        return format!("context {context}: {err}");
    };
    let status = regex::Regex::new(r"failed with status ([^:]+: ?-?\d+)")
        .ok()
        .and_then(|re| re.captures(rest).map(|c| c[1].to_string()))
        .unwrap_or_else(|| "failed".into());
    let stderr = regex::Regex::new(r#"stderr: "((?:[^"\\]|\\.)*)""#)
        .ok()
        .and_then(|re| {
            re.captures(rest)
                .map(|c| c[1].replace("\\n", " ").trim().to_string())
        })
        .unwrap_or_default();
    let mut out = format!("credentials: exec plugin {status}");
    if !stderr.is_empty() {
        out.push_str(": ");
        out.push_str(&stderr.chars().take(200).collect::<String>());
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn exec_plugin_failures_read_short() {
        let raw = r#"auth error: auth exec command 'KUBERNETES_EXEC_INFO="{}" "sh" "-c" "x"' failed with status exit status: 3: Output { status: ExitStatus(unix_wait_status(768)), stdout: "", stderr: "plugin-noise\n" }"#;
        assert_eq!(
            super::explain("c", raw),
            "credentials: exec plugin exit status: 3: plugin-noise"
        );
        assert_eq!(
            super::explain("c", "no such context"),
            "context c: no such context"
        );
    }
}
