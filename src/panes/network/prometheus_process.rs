//! A real `prometheus` for `pitwall demo`: started when one is on the PATH,
//! scraping the simulator with a generated config in a private temporary
//! directory (0700, removed on drop) on a free 127.0.0.1 port, and killed
//! when dropped (on quit). On Linux it also dies with pitwall (a parent-death
//! signal), so even a killed cockpit leaves none running.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

pub struct LocalPrometheus {
    child: tokio::process::Child,
    _dir: tempfile::TempDir,
    pub url: String,
}

/// `prometheus` on the PATH, if any.
pub fn find() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("prometheus"))
        .find(|p| p.is_file())
}

impl LocalPrometheus {
    /// Start `binary` with `config` (YAML); ready when `/-/ready` answers.
    pub async fn start(
        binary: &std::path::Path,
        config: &str,
        wait: Duration,
    ) -> Result<LocalPrometheus, String> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::Builder::new()
            .prefix("pitwall-prometheus-")
            .tempdir()
            .map_err(|e| format!("temporary directory: {e}"))?;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("temporary directory: {e}"))?;
        let cfg = dir.path().join("prometheus.yml");
        std::fs::write(&cfg, config).map_err(|e| format!("Prometheus config: {e}"))?;
        std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("Prometheus config: {e}"))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("a free port: {e}"))?
            .port();
        let mut cmd = tokio::process::Command::new(binary);
        // SAFETY: between fork and exec only async-signal-safe calls are made.
        #[cfg(target_os = "linux")]
        unsafe {
            cmd.pre_exec(|| {
                // its own session: keys and signals meant for the terminal
                // never reach it; and it dies with us
                if libc::setsid() == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let child = cmd
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg("--storage.tsdb.retention.time=2h")
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", binary.display()))?;
        let mut p = LocalPrometheus {
            child,
            _dir: dir,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Ok(Some(status)) = p.child.try_wait() {
                return Err(format!("prometheus exited at start: {status}"));
            }
            if ready(port).await {
                return Ok(p);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err("prometheus did not become ready".into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Its process id (tests check that it is gone).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Stop it now (also done on drop).
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

async fn ready(port: u16) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(Ok(mut s)) = tokio::time::timeout(
        Duration::from_secs(1),
        tokio::net::TcpStream::connect(("127.0.0.1", port)),
    )
    .await
    else {
        return false;
    };
    if s.write_all(b"GET /-/ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 32];
    matches!(
        tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf)).await,
        Ok(Ok(n)) if buf[..n].starts_with(b"HTTP/1.0 200") || buf[..n].starts_with(b"HTTP/1.1 200")
    )
}
