//! The official Python client's `stream` exec and `portforward`.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_stream_exec_and_portforward() {
    let env = start().await;
    let kc = env.kubeconfig.as_path();
    let pod = running_pod(kc, "beta", "web").await;
    let out = python(&env, "stream_exec.py", &["beta", "shop", &pod]).await;
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines.contains(&format!("hostname: {pod}").as_str()),
        "{out}"
    );
    assert!(lines.contains(&"exit code: 3"), "{out}");
    assert!(
        lines.contains(&format!("interactive: {pod}").as_str()),
        "{out}"
    );
    assert!(lines.contains(&"pong: are-you-there"), "{out}");
    // port 8080 is the web container's: the responder answers with the pod's name
    let out = python(&env, "portforward.py", &["beta", "shop", &pod, "8080"]).await;
    assert!(out.lines().any(|l| l == "status: 200"), "{out}");
    assert!(out.lines().any(|l| l == format!("body: {pod}")), "{out}");
    // a deleted pod closes its forwards
    let other = running_pod(kc, "beta", "cache").await;
    let out = python(
        &env,
        "portforward.py",
        &["beta", "data", &other, "6379", "delete"],
    )
    .await;
    assert!(out.lines().any(|l| l == format!("body: {other}")), "{out}");
    assert!(out.lines().any(|l| l == "closed after delete"), "{out}");
}
