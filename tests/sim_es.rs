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

/// How many documents the region's log store holds for `pod` (by curl).
async fn es_count(url: &str, ca: &Path, token: &str, pod: &str) -> u64 {
    let query = format!(r#"{{"query":{{"term":{{"kubernetes.pod.name":"{pod}"}}}}}}"#);
    let (ok, out) = run(Command::new("curl")
        .args(["-sS", "--fail-with-body", "--cacert"])
        .arg(ca)
        .args(["-u", &format!("elastic:{token}")])
        .args(["-H", "Content-Type: application/json", "-d", &query])
        .arg(format!("{url}/logs-*/_count")))
    .await;
    assert!(ok, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("count is JSON");
    v["count"].as_u64().expect("a count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_pods_lines_stay_in_the_log_store() {
    let fleet = Fleet::start(small(), None).await.expect("fleet starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let kc = dir.path().join("kubeconfig");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&kc, fleet.kubeconfig_yaml()).expect("write kubeconfig");
    std::fs::write(&ca, fleet.ca_pem()).expect("write ca");
    let alpha = fleet.regions()[0].clone();
    let kubectl = |args: &[&str]| {
        let mut c = Command::new("kubectl");
        c.arg("--kubeconfig")
            .arg(&kc)
            .args(["--context", "alpha", "-n", "shop"])
            .args(args);
        c
    };
    let (ok, out) = run(&mut kubectl(&["get", "pods", "-o", "name"])).await;
    assert!(ok, "{out}");
    let pod = out
        .lines()
        .filter_map(|l| l.strip_prefix("pod/"))
        .find(|p| p.starts_with("api-"))
        .expect("an api pod")
        .to_string();
    let deadline = tokio::time::Instant::now() + WAIT;
    let before = loop {
        let n = es_count(&alpha.es_url, &ca, &alpha.token, &pod).await;
        if n >= 20 {
            break n;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{pod} logs {n} lines"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let (ok, out) = run(&mut kubectl(&["delete", "pod", &pod, "--wait=true"])).await;
    assert!(ok, "{out}");
    let (ok, out) = run(&mut kubectl(&["get", "pod", &pod])).await;
    assert!(!ok && out.contains("NotFound"), "{out}");
    // Its lines are still there, all of them, and no longer grow.
    let after = es_count(&alpha.es_url, &ca, &alpha.token, &pod).await;
    assert!(after >= before, "{after} < {before}");
    let (ok, out) = run(&mut kubectl(&["get", "pods", "-o", "name"])).await;
    assert!(ok && !out.contains(&pod), "{out}");
    assert_eq!(
        es_count(&alpha.es_url, &ca, &alpha.token, &pod).await,
        after
    );
}
