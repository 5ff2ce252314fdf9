//! exec, attach and port-forward of the simulator against clients nobody
//! here wrote: kubectl (plain and `-it` in a real terminal) and the official
//! Python client's `stream` and `portforward`, over real HTTPS on 127.0.0.1.
//!
//! One binary, split by topic: `exec` (kubectl, `-it`, deleting the pod),
//! `python` (the official client's stream and portforward), `faults`,
//! `portforward` (kubectl and curl), `hpa` (served alongside).

#[path = "../common/mod.rs"]
mod common;
mod exec;
mod faults;
mod hpa;
mod portforward;
mod python;

use pitwall_sim::{Fleet, Scenario};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// Every wait in these tests is bounded by this.
const WAIT: Duration = Duration::from_secs(60);

fn small() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios/test-small.toml");
    Scenario::load(&path).expect("test scenario loads")
}

struct Env {
    fleet: Fleet,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

async fn start() -> Env {
    let fleet = Fleet::start(small(), None).await.expect("fleet starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, fleet.kubeconfig_yaml()).expect("write kubeconfig");
    Env {
        fleet,
        dir,
        kubeconfig,
    }
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn kubectl(kc: &Path, ctx: &str, args: &[&str]) -> Out {
    let mut cmd = Command::new("kubectl");
    cmd.arg("--kubeconfig")
        .arg(kc)
        .arg("--context")
        .arg(ctx)
        .args(args)
        .kill_on_drop(true);
    let out = tokio::time::timeout(WAIT, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("kubectl {args:?} did not finish"))
        .expect("kubectl runs");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A running pod of `app` (`shop`'s web, api, batch; `data`'s cache), once
/// the kubelet has started one.
async fn running_pod(kc: &Path, ctx: &str, app: &str) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let o = kubectl(
            kc,
            ctx,
            &[
                "get",
                "pods",
                "-A",
                "-l",
                &format!("app={app}"),
                "--field-selector=status.phase=Running",
                "-o",
                "jsonpath={.items[*].metadata.name}",
            ],
        )
        .await;
        if let Some(p) = o.stdout.split_whitespace().next() {
            return p.to_string();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no running {app} pod: {}",
            o.stderr
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn python(env: &Env, script: &str, args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let out = tokio::time::timeout(
        WAIT,
        Command::new("python3")
            .arg(&script)
            .arg(&env.kubeconfig)
            .args(args)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("python finishes")
    .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "python failed:\n{stdout}\n{stderr}");
    let _ = env.dir.path();
    stdout
}

async fn next_line(
    l: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
) -> Option<String> {
    tokio::time::timeout(WAIT, l.next_line())
        .await
        .expect("a line")
        .expect("stdout reads")
}
