//! Faults (forbidden, expired token, refused, blackhole) reach exec.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_apply_to_exec() {
    use pitwall_sim::Fault;
    use tokio::io::AsyncWriteExt;
    let env = start().await;
    let kc = env.kubeconfig.as_path();
    let pod = running_pod(kc, "beta", "web").await;
    let exec = |args: &'static [&'static str]| {
        let pod = pod.clone();
        async move {
            let mut all = vec!["-n", "shop", "exec", pod.as_str(), "--"];
            all.extend_from_slice(args);
            kubectl(kc, "beta", &all).await
        }
    };

    env.fleet
        .set_fault(
            "beta",
            Fault::ForbidResource {
                resource: "pods/exec".into(),
            },
        )
        .expect("fault");
    let o = exec(&["hostname"]).await;
    assert!(
        o.code != 0 && o.stderr.contains("Forbidden"),
        "{}",
        o.stderr
    );
    env.fleet.clear_faults("beta").expect("clear");

    env.fleet
        .set_fault("beta", Fault::ExpireToken)
        .expect("fault");
    let o = exec(&["hostname"]).await;
    assert!(
        o.code != 0 && o.stderr.contains("Unauthorized"),
        "{}",
        o.stderr
    );
    env.fleet.clear_faults("beta").expect("clear");

    env.fleet
        .set_fault("beta", Fault::RefuseConnections)
        .expect("fault");
    let o = exec(&["hostname"]).await;
    assert!(o.code != 0 && o.stderr.contains("refused"), "{}", o.stderr);
    env.fleet.clear_faults("beta").expect("clear");
    // the listener is back once a request goes through again
    running_pod(kc, "beta", "web").await;

    // an open session under a blackhole is held, then carries on
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kc)
        .args([
            "--context",
            "beta",
            "-n",
            "shop",
            "exec",
            "-i",
            &pod,
            "--",
            "sh",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("kubectl runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    stdin.write_all(b"hostname\n").await.expect("write");
    assert_eq!(next_line(&mut lines).await, Some(pod.clone()));
    env.fleet
        .set_fault("beta", Fault::Blackhole)
        .expect("fault");
    stdin.write_all(b"echo held\n").await.expect("write");
    env.fleet.clear_faults("beta").expect("clear");
    assert_eq!(next_line(&mut lines).await.as_deref(), Some("held"));
    stdin.write_all(b"exit 0\n").await.expect("write");
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("kubectl ends")
        .expect("status");
    assert!(status.success());
}
