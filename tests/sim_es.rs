//! The simulator's Elasticsearch endpoint against the official Python
//! `elasticsearch` client, with kubectl as the oracle of the lines.

use pitwall_sim::{Fleet, Scenario};
use std::path::Path;
use std::time::Duration;
use tokio::process::Command;

const WAIT: Duration = Duration::from_secs(90);

fn small() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios/test-small.toml");
    Scenario::load(&path).expect("test scenario loads")
}

async fn run(cmd: &mut Command) -> (bool, String) {
    let out = tokio::time::timeout(WAIT, cmd.kill_on_drop(true).output())
        .await
        .expect("command finishes")
        .expect("command runs");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_elasticsearch_client_pages_the_same_lines_as_kubectl_logs() {
    let fleet = Fleet::start(small(), None).await.expect("fleet starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let kc = dir.path().join("kubeconfig");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&kc, fleet.kubeconfig_yaml()).expect("write kubeconfig");
    std::fs::write(&ca, fleet.ca_pem()).expect("write ca");
    let alpha = fleet.regions()[0].clone();
    assert!(alpha.es_url.starts_with("https://127.0.0.1:"));
    // A web pod with enough lines for several pages.
    let mut pod = String::new();
    for _ in 0..100 {
        let (ok, out) = run(Command::new("kubectl").arg("--kubeconfig").arg(&kc).args([
            "--context",
            "alpha",
            "-n",
            "shop",
            "get",
            "pods",
            "-o",
            "name",
        ]))
        .await;
        assert!(ok, "{out}");
        if let Some(p) = out
            .lines()
            .filter_map(|l| l.strip_prefix("pod/"))
            .find(|p| p.starts_with("web-"))
        {
            let (ok, logs) = run(Command::new("kubectl").arg("--kubeconfig").arg(&kc).args([
                "--context",
                "alpha",
                "-n",
                "shop",
                "logs",
                p,
            ]))
            .await;
            if ok && logs.lines().count() >= 80 {
                pod = p.to_string();
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(!pod.is_empty(), "no web pod with lines");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/es_logs.py");
    let (ok, out) = run(Command::new("python3")
        .arg(&script)
        .arg(&alpha.es_url)
        .arg(&ca)
        .arg(&alpha.token)
        .arg(&kc)
        .args(["alpha", "shop", &pod])
        .arg(fleet.admin_url())
        .arg(fleet.admin_token()))
    .await;
    eprintln!("{out}");
    assert!(ok, "python failed:\n{out}");
    for step in [
        "same lines as kubectl logs",
        "an old PIT id is refused",
        "PIT closed",
        "bad credentials: 401",
        "fault: 500",
        "fault: timeout",
        "all es steps passed",
    ] {
        assert!(out.contains(step), "missing {step:?} in\n{out}");
    }
}
