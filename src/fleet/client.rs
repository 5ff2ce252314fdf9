//! Building a region's kube `Client` from its kubeconfig and context, on the
//! source task (never the UI task).
//!
//! Exec credential plugins are forced non-interactive and, in the binary,
//! run through `pitwall __credential-plugin` (`run_plugin_guard`): kube 5
//! runs them with a blocking `Command::output()` (at client build on the
//! calling thread, on refresh in `spawn_blocking`), with no timeout, the
//! terminal reachable through /dev/tty. The guard gives the plugin its own
//! session (no controlling terminal, so it cannot read the cockpit's keys),
//! a null stdin, a deadline after which its process group is killed, and a
//! parent-death signal so it never outlives pitwall. The old
//! `auth-provider`'s `cmd-path` goes through the same guard.

use kube::config::{ExecInteractiveMode, KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// The hidden first argument that runs `pitwall` as a plugin guard.
pub const PLUGIN_GUARD: &str = "__credential-plugin";
/// The guard's exit status when it killed a plugin that ran too long.
const TIMED_OUT: u8 = 124;
/// Plugin output kept (a credential is a few KiB).
const MAX_PLUGIN_OUTPUT: u64 = 1024 * 1024;

static GUARD_EXE: OnceLock<PathBuf> = OnceLock::new();
static PLUGIN_TIMEOUT: AtomicU64 = AtomicU64::new(crate::config::DEFAULT_PLUGIN_TIMEOUT);

/// Called by the binary: plugins run through this executable's guard.
/// (Library users and tests run them as kube does.)
pub fn enable_plugin_guard() {
    if let Ok(exe) = std::env::current_exe() {
        let _ = GUARD_EXE.set(exe);
    }
}

/// How long a plugin may run (`credential_plugin_timeout` in config.toml).
pub fn set_plugin_timeout(seconds: u64) {
    PLUGIN_TIMEOUT.store(seconds.max(1), Ordering::Relaxed);
}

fn plugin_timeout() -> u64 {
    PLUGIN_TIMEOUT.load(Ordering::Relaxed)
}

/// `pitwall __credential-plugin <seconds> <command> [args...]`: runs the
/// plugin as described at the top of this file; its stdout and stderr are
/// passed on, and its exit status.
pub fn run_plugin_guard(args: &[OsString]) -> ExitCode {
    use std::io::{Read, Write};
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};

    // SAFETY: prctl with these arguments only sets a flag of this process.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
    let seconds = args
        .first()
        .and_then(|s| s.to_str())
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(crate::config::DEFAULT_PLUGIN_TIMEOUT);
    let Some(program) = args.get(1) else {
        eprintln!("{PLUGIN_GUARD}: no plugin command");
        return ExitCode::FAILURE;
    };
    let mut cmd = Command::new(program);
    cmd.args(&args[2..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: between fork and exec only async-signal-safe calls are made.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            #[cfg(target_os = "linux")]
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "cannot start credential plugin {}: {e}",
                program.to_string_lossy()
            );
            return ExitCode::FAILURE;
        }
    };
    // setsid made the plugin the leader of its own process group
    let group = -(child.id() as i32);
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(p) = pipe {
                let _ = p.take(MAX_PLUGIN_OUTPUT).read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = read(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = read(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = match rx.recv_timeout(Duration::from_secs(seconds)) {
        Ok(Ok(status)) => status,
        Ok(Err(e)) => {
            eprintln!("credential plugin: {e}");
            return ExitCode::FAILURE;
        }
        Err(_) => {
            // SAFETY: kill(2) on the plugin's own process group.
            unsafe {
                libc::kill(group, libc::SIGKILL);
            }
            eprintln!("credential plugin timed out after {seconds}s");
            return ExitCode::from(TIMED_OUT);
        }
    };
    // whatever it left behind holding the pipes goes too
    // SAFETY: as above.
    unsafe {
        libc::kill(group, libc::SIGKILL);
    }
    let _ = std::io::stdout().write_all(&stdout.join().unwrap_or_default());
    let _ = std::io::stderr().write_all(&stderr.join().unwrap_or_default());
    match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => {
            eprintln!("credential plugin killed by a signal");
            ExitCode::FAILURE
        }
    }
}

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
    let timeout = plugin_timeout();
    let mut refused = None;
    for user in &mut kubeconfig.auth_infos {
        if let Some(provider) = user
            .auth_info
            .as_mut()
            .and_then(|a| a.auth_provider.as_mut())
        {
            if let Err(e) = guard_provider_command(&user.name, &mut provider.config, timeout) {
                // only the context's own user matters
                let ours = kubeconfig.contexts.iter().any(|c| {
                    c.name == spec.context
                        && c.context.as_ref().and_then(|c| c.user.as_deref()) == Some(&user.name)
                });
                if ours {
                    refused = Some(e);
                }
            }
        }
        if let Some(exec) = user.auth_info.as_mut().and_then(|a| a.exec.as_mut()) {
            exec.interactive_mode = Some(ExecInteractiveMode::Never);
            if let (Some(guard), Some(command)) = (GUARD_EXE.get(), exec.command.as_ref()) {
                let mut args = vec![PLUGIN_GUARD.to_string(), timeout.to_string()];
                args.push(command.clone());
                args.extend(exec.args.take().unwrap_or_default());
                exec.command = Some(guard.display().to_string());
                exec.args = Some(args);
            }
        }
    }
    if let Some(e) = refused {
        return Err(format!("context {}: {e}", spec.context));
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
    // kube runs an exec plugin right here, blocking: off the async workers,
    // and never waited on past the guard's own deadline
    let context = spec.context.clone();
    let build = tokio::task::spawn_blocking(move || {
        Client::try_from(config).map_err(|e| explain(&context, &e.to_string()))
    });
    match tokio::time::timeout(Duration::from_secs(timeout + 5), build).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(format!("context {}: {e}", spec.context)),
        Err(_) => Err(format!("credential plugin timed out after {timeout}s")),
    }
}

/// The old `auth-provider` (`gcp`) runs `cmd-path` with `cmd-args` split
/// on spaces, as blocking as an exec plugin: put the guard in front of it
/// the same way. A `cmd-path` with a space cannot be passed through the
/// split, so it is refused rather than run unguarded.
fn guard_provider_command(
    user: &str,
    config: &mut std::collections::HashMap<String, String>,
    timeout: u64,
) -> Result<(), String> {
    let (Some(guard), Some(cmd)) = (GUARD_EXE.get(), config.get("cmd-path")) else {
        return Ok(());
    };
    if cmd.contains(' ') {
        return Err(format!(
            "user {user}: auth-provider cmd-path {cmd:?} has a space; pitwall runs \
             credential commands through its guard and cannot pass it (use an exec plugin)"
        ));
    }
    let guard = guard.display().to_string();
    if guard.contains(' ') {
        return Err(format!(
            "user {user}: auth-provider cmd-path cannot run: pitwall's own path {guard:?} has a space"
        ));
    }
    let params = config.get("cmd-args").map(|p| p.trim()).unwrap_or("");
    let args = format!("{PLUGIN_GUARD} {timeout} {cmd} {params}");
    config.insert("cmd-args".into(), args.trim_end().to_string());
    config.insert("cmd-path".into(), guard);
    Ok(())
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
    if stderr.starts_with("credential plugin timed out") {
        return stderr;
    }
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
        let raw = r#"auth error: auth exec command 'KUBERNETES_EXEC_INFO="{}" "/bin/pitwall" "__credential-plugin" "2" "sh"' failed with status exit status: 124: Output { status: ExitStatus(unix_wait_status(31744)), stdout: "", stderr: "credential plugin timed out after 2s\n" }"#;
        assert_eq!(
            super::explain("c", raw),
            "credential plugin timed out after 2s"
        );
        assert_eq!(
            super::explain("c", "no such context"),
            "context c: no such context"
        );
    }
}
