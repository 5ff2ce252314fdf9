//! kubectl exec: commands and their status, `-it` in a real terminal, and a session ended by deleting its pod.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_exec_runs_commands_and_returns_their_status() {
    let env = start().await;
    let kc = env.kubeconfig.as_path();
    let pod = running_pod(kc, "beta", "web").await;

    let o = kubectl(kc, "beta", &["-n", "shop", "exec", &pod, "--", "hostname"]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout, format!("{pod}\n"));

    let o = kubectl(
        kc,
        "beta",
        &["-n", "shop", "exec", &pod, "--", "sh", "-c", "exit 3"],
    )
    .await;
    assert_eq!(
        o.code, 3,
        "kubectl exits with the command's status: {}",
        o.stderr
    );

    let o = kubectl(
        kc,
        "beta",
        &[
            "-n",
            "shop",
            "exec",
            &pod,
            "--",
            "sh",
            "-c",
            "echo out; nosuch",
        ],
    )
    .await;
    assert_eq!(o.code, 127, "{}", o.stderr);
    assert_eq!(o.stdout, "out\n");
    assert!(
        o.stderr.contains("nosuch: command not found"),
        "{}",
        o.stderr
    );

    // stdin piped through: a shell reading a script
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
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(b"cat /etc/hostname\necho $HOSTNAME\nexit 5\n")
            .await
            .expect("write stdin");
    }
    let out = tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .expect("kubectl exec -i ends")
        .expect("kubectl output");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{pod}\n{pod}\n")
    );
    assert_eq!(out.status.code(), Some(5));

    // attach joins the container's (simulated) shell
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kc)
        .args(["--context", "beta", "-n", "shop", "attach", "-i", &pod])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("kubectl runs");
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(b"hostname\nexit 3\n")
            .await
            .expect("write stdin");
    }
    let out = tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .expect("kubectl attach -i ends")
        .expect("kubectl output");
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{pod}\n"));
    assert_eq!(out.status.code(), Some(3));

    // a container that is not the pod's
    let o = kubectl(
        kc,
        "beta",
        &["-n", "shop", "exec", &pod, "-c", "nope", "--", "true"],
    )
    .await;
    assert_ne!(o.code, 0);
    assert!(
        o.stderr.contains("container nope is not valid"),
        "{}",
        o.stderr
    );

    // alpha forbids exec: kubectl prints the server's Forbidden
    let pod = running_pod(kc, "alpha", "web").await;
    let o = kubectl(kc, "alpha", &["-n", "shop", "exec", &pod, "--", "hostname"]).await;
    assert_ne!(o.code, 0);
    assert!(
        o.stderr.contains("Forbidden") && o.stderr.contains("cannot create resource \"pods/exec\""),
        "{}",
        o.stderr
    );
    let can = kubectl(
        kc,
        "alpha",
        &[
            "-n",
            "shop",
            "auth",
            "can-i",
            "create",
            "pods",
            "--subresource=exec",
        ],
    )
    .await;
    assert!(can.stdout.starts_with("no"), "{}{}", can.stdout, can.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_exec_it_in_a_terminal() {
    let env = start().await;
    let kc = env.kubeconfig.clone();
    // (beta's api pods are replaced by a bad rollout early on)
    let pod = running_pod(&kc, "beta", "web").await;
    let pod2 = pod.clone();
    tokio::task::spawn_blocking(move || {
        let t = common::Tmux::start(100, 30, &[]);
        t.wait_for_prompt();
        t.run(&format!(
            "kubectl --kubeconfig {} --context beta -n shop exec -it {pod2} -- bash; echo \"rc=$?\"",
            kc.display()
        ));
        // (the screen drops the prompt's trailing space)
        let prompt = format!("root@{pod2}:/#");
        t.wait_for("the shell's prompt", |s| s.contains(&prompt));
        t.run("hostname");
        t.wait_for("hostname's answer", |s| {
            s.lines().any(|l| l.trim_end() == pod2)
        });
        // the terminal's size reached the shell
        t.run("stty size");
        t.wait_for("stty size", |s| s.lines().any(|l| l.trim_end() == "30 100"));
        t.run("exit 7");
        t.wait_for("kubectl to return", |s| s.contains("rc=7"));
    })
    .await
    .expect("tmux session");
    drop(env);
    let _ = pod;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_pod_ends_its_exec_session() {
    let env = start().await;
    let kc = env.kubeconfig.as_path();
    let pod = running_pod(kc, "beta", "batch").await;
    let mut session = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kc)
        .args(["--context", "beta", "-n", "shop", "exec", &pod, "--"])
        .args(["sh", "-c", "echo started; sleep 3600"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("kubectl runs");
    let mut lines = BufReader::new(session.stdout.take().expect("stdout")).lines();
    let first = tokio::time::timeout(WAIT, lines.next_line())
        .await
        .expect("the session starts")
        .expect("stdout reads");
    assert_eq!(first.as_deref(), Some("started"));
    let o = kubectl(
        kc,
        "beta",
        &["-n", "shop", "delete", "pod", &pod, "--wait=false"],
    )
    .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let status = tokio::time::timeout(WAIT, session.wait())
        .await
        .expect("kubectl exec ends when its pod goes")
        .expect("kubectl status");
    assert!(!status.success());
}
