//! The fleet benchmark's helpers: the simulator as a child process, kubectl
//! for comparison, and readings from /proc.

use pitwall::fleet::client::{self, ClientSpec, KubeconfigSource};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The `pitwall` binary cargo built for this benchmark (release under
/// `cargo bench`, debug under `cargo test`).
const PITWALL: &str = env!("CARGO_BIN_EXE_pitwall");
/// Generating 50,000 pods takes a while in a debug build on a busy machine.
const SIM_READY: Duration = Duration::from_secs(600);
const KUBECTL_PATIENCE: Duration = Duration::from_secs(600);

/// `pitwall sim` running as its own process; stopped when dropped.
pub struct Sim {
    child: Child,
    pub kubeconfig: PathBuf,
    admin_token: String,
    /// The fleet's admin port, reachable whatever a region's faults.
    admin_url: String,
    contexts: Vec<String>,
    cache_dir: PathBuf,
}

impl Sim {
    /// Starts `regions` with `pods` pods each and `churn` pod updates per
    /// second in each, and waits until it says it is ready.
    pub fn start(
        dir: &Path,
        name: &str,
        regions: &[&str],
        pods: usize,
        churn: f64,
    ) -> Result<Sim, String> {
        let mut scenario = String::from(
            "# written by benches/fleet.rs\nseed = 20261123\n\
             # a storm's watches must be able to resume: keep ~100 s of events\n\
             watch_history = 150000\n\
             # P6 measures an idle screen: pods days old, whose ages do not\n\
             # change while it is measured (no recent rollouts)\n\
             history_pods = 0\n",
        );
        for r in regions {
            scenario.push_str(&format!("\n[[region]]\nname = \"{r}\"\nnodes = 8\n"));
        }
        let scenario_path = dir.join(format!("{name}.toml"));
        std::fs::write(&scenario_path, scenario)
            .map_err(|e| format!("{}: {e}", scenario_path.display()))?;
        let kubeconfig = dir.join(format!("{name}-kubeconfig.yaml"));
        let log_path = dir.join(format!("{name}-sim.log"));
        let log =
            std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        let mut child = Command::new(PITWALL)
            .arg("sim")
            .arg("--scenario")
            .arg(&scenario_path)
            .arg("--kubeconfig-out")
            .arg(&kubeconfig)
            .arg("--pods-per-region")
            .arg(pods.to_string())
            .arg("--churn")
            .arg(churn.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {PITWALL} sim: {e}"))?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            return Err("the simulator's stdout was not captured".into());
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let mut sim = Sim {
            child,
            kubeconfig,
            admin_token: String::new(),
            admin_url: String::new(),
            contexts: Vec::new(),
            cache_dir: dir.join(format!("{name}-kubectl-cache")),
        };
        let deadline = Instant::now() + SIM_READY;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(l) => l,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err(format!("the simulator was not ready within {SIM_READY:?}"))
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                    return Err(format!("the simulator exited: {}", log.trim()));
                }
            };
            if let Some(token) = line.strip_prefix("admin token: ") {
                sim.admin_token = token.trim().to_string();
            } else if let Some(url) = line.strip_prefix("admin https://") {
                sim.admin_url = format!("https://{}", url.trim());
            } else if let Some(rest) = line.strip_prefix("region ") {
                let mut words = rest.split_whitespace();
                if let (Some(_), Some("context"), Some(ctx)) =
                    (words.next(), words.next(), words.next())
                {
                    sim.contexts.push(ctx.to_string());
                }
            } else if line.trim() == "ready" {
                break;
            }
        }
        if sim.admin_token.is_empty()
            || sim.admin_url.is_empty()
            || sim.contexts.len() != regions.len()
        {
            return Err("the simulator did not print its admin token and regions".into());
        }
        Ok(sim)
    }

    /// `kubectl get pods -A -o json` on every context at once; the time
    /// until the last one finishes.
    pub fn kubectl_get_all_pods(&self) -> Result<Duration, String> {
        let t = Instant::now();
        let mut children = Vec::new();
        for ctx in &self.contexts {
            let child = Command::new("kubectl")
                .arg("--kubeconfig")
                .arg(&self.kubeconfig)
                .arg("--context")
                .arg(ctx)
                .arg("--cache-dir")
                .arg(&self.cache_dir)
                .args(["get", "pods", "-A", "-o", "json"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| format!("cannot run kubectl: {e}"))?;
            children.push(child);
        }
        let mut failure = None;
        for mut child in children {
            match wait_bounded(&mut child, t + KUBECTL_PATIENCE) {
                Ok(true) => {}
                Ok(false) => {
                    let mut err = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        let _ = std::io::Read::read_to_string(&mut e, &mut err);
                    }
                    failure = Some(format!("kubectl failed: {}", err.trim()));
                }
                Err(e) => failure = Some(e),
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(t.elapsed()),
        }
    }

    /// A client of the fleet's admin port (same CA) with the admin token.
    pub async fn admin_client(&self, dir: &Path) -> Result<kube::Client, String> {
        let text = std::fs::read_to_string(&self.kubeconfig)
            .map_err(|e| format!("{}: {e}", self.kubeconfig.display()))?;
        let admin: String = text
            .lines()
            .map(|l| {
                if let Some((indent, _)) = l.split_once("token: ") {
                    format!("{indent}token: {}\n", self.admin_token)
                } else if let Some((indent, _)) = l.split_once("server: ") {
                    format!("{indent}server: {}\n", self.admin_url)
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        let path = dir.join("admin-kubeconfig.yaml");
        std::fs::write(&path, admin).map_err(|e| format!("{}: {e}", path.display()))?;
        let context = self.contexts.first().cloned().unwrap_or_default();
        client::build(&ClientSpec {
            kubeconfig: KubeconfigSource::File(Some(path)),
            context,
            namespaces: Vec::new(),
        })
        .await
    }

    /// Puts `region` into a fault (JSON, see `sim::Fault`).
    pub async fn fault(client: &kube::Client, region: &str, fault: &str) -> Result<(), String> {
        let req = http::Request::post(format!("/_sim/regions/{region}/faults"))
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(fault.as_bytes().to_vec())
            .map_err(|e| format!("fault request: {e}"))?;
        client
            .request_text(req)
            .await
            .map(drop)
            .map_err(|e| format!("the simulator refused the fault: {e}"))
    }

    pub async fn clear_faults(client: &kube::Client, region: &str) -> Result<(), String> {
        let req = http::Request::delete(format!("/_sim/regions/{region}/faults"))
            .body(Vec::new())
            .map_err(|e| format!("clear request: {e}"))?;
        client
            .request_text(req)
            .await
            .map(drop)
            .map_err(|e| format!("the simulator did not clear its faults: {e}"))
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        // SIGTERM lets it stop cleanly; kill it if it does not
        if let Ok(pid) = i32::try_from(self.child.id()) {
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let _ = wait_bounded(&mut self.child, Instant::now() + Duration::from_secs(5));
    }
}

/// Waits for `child` until `deadline`: whether it exited successfully, or
/// an error if it is still running (then it is killed).
fn wait_bounded(child: &mut Child, deadline: Instant) -> Result<bool, String> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status.success()),
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("still running at its deadline; killed".into());
            }
            Err(e) => return Err(format!("cannot wait for a child process: {e}")),
        }
    }
}

/// Resident set size of this process, from /proc/self/status.
pub fn rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time (user + system) this process used so far, from /proc/self/stat.
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // the command name may contain spaces; fields resume after its ')'
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (ticks > 0).then(|| (utime + stime) / ticks as f64)
}

/// The `p`th percentile (nearest rank); zero for no samples.
pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort_unstable();
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

pub fn fmt_ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.2} ms")
    }
}
