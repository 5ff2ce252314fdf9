//! kubectl port-forward, answered through curl.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_port_forward_and_curl() {
    let env = start().await;
    let kc = env.kubeconfig.as_path();
    let pod = running_pod(kc, "beta", "web").await;
    let mut pf = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kc)
        .args(["--context", "beta", "-n", "shop", "port-forward"])
        .arg(format!("pod/{pod}"))
        .args([":8080", "--address", "127.0.0.1"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("kubectl runs");
    let mut lines = BufReader::new(pf.stdout.take().expect("stdout")).lines();
    // "Forwarding from 127.0.0.1:PORT -> 8080"
    let line = next_line(&mut lines).await.expect("kubectl says where");
    let local = line
        .strip_prefix("Forwarding from ")
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected: {line}"))
        .to_string();
    let curl = |url: String| async move {
        let out = tokio::time::timeout(
            WAIT,
            Command::new("curl")
                .args(["-sS", "--max-time", "30", &url])
                .kill_on_drop(true)
                .output(),
        )
        .await
        .expect("curl ends")
        .expect("curl runs");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for _ in 0..2 {
        // each curl is a new connection: a new pair of streams
        let (body, err) = curl(format!("http://{local}/")).await;
        assert_eq!(body, format!("{pod}\n"), "{err}");
    }
    // the pod goes: kubectl loses its forward and ends
    let o = kubectl(
        kc,
        "beta",
        &["-n", "shop", "delete", "pod", &pod, "--wait=false"],
    )
    .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let status = tokio::time::timeout(WAIT, pf.wait())
        .await
        .expect("kubectl port-forward ends when its pod goes")
        .expect("status");
    assert!(!status.success());
}
