//! exec, attach and port-forward of the simulator against clients nobody
//! here wrote: kubectl (plain and `-it` in a real terminal) and the official
//! Python client's `stream` and `portforward`, over real HTTPS on 127.0.0.1.

mod common;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn horizontal_pod_autoscalers_are_served() {
    use futures::StreamExt;
    use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
    let env = start().await;
    let kc = env.kubeconfig.as_path();

    let o = kubectl(kc, "beta", &["api-resources", "--api-group=autoscaling"]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout
            .lines()
            .any(|l| l.starts_with("horizontalpodautoscalers")
                && l.contains("hpa")
                && l.contains("autoscaling/v2")),
        "{}",
        o.stdout
    );
    let o = kubectl(kc, "beta", &["-n", "shop", "get", "hpa"]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let header = o.stdout.lines().next().unwrap_or("");
    for c in [
        "NAME",
        "REFERENCE",
        "TARGETS",
        "MINPODS",
        "MAXPODS",
        "REPLICAS",
        "AGE",
    ] {
        assert!(header.contains(c), "{header}");
    }
    let row: Vec<&str> = o
        .stdout
        .lines()
        .find(|l| l.starts_with("web "))
        .unwrap_or_else(|| panic!("web's HPA listed: {}", o.stdout))
        .split_whitespace()
        .collect();
    assert_eq!(&row[..2], ["web", "Deployment/web"], "{row:?}");
    assert!(row[3].ends_with("/70%"), "{row:?}");
    assert_eq!(&row[4..6], ["3", "10"], "{row:?}");

    // its status follows the target: watch it while the Deployment is scaled
    let client = {
        let kcfg = kube::config::Kubeconfig::read_from(kc).expect("kubeconfig");
        let opts = kube::config::KubeConfigOptions {
            context: Some("beta".into()),
            ..Default::default()
        };
        let cfg = kube::Config::from_custom_kubeconfig(kcfg, &opts)
            .await
            .expect("config");
        kube::Client::try_from(cfg).expect("client")
    };
    let api: kube::Api<HorizontalPodAutoscaler> = kube::Api::namespaced(client, "shop");
    let hpa = api.get("web").await.expect("get hpa");
    assert_eq!(hpa.spec.as_ref().map(|s| s.max_replicas), Some(10));
    let rv = hpa.metadata.resource_version.clone().unwrap_or_default();
    let mut events = api
        .watch(
            &kube::api::WatchParams::default().fields("metadata.name=web"),
            &rv,
        )
        .await
        .expect("watch hpa")
        .boxed();
    let o = kubectl(
        kc,
        "beta",
        &["-n", "shop", "scale", "deployment/web", "--replicas=6"],
    )
    .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    tokio::time::timeout(WAIT, async {
        while let Some(e) = events.next().await {
            if let Ok(kube::api::WatchEvent::Modified(h)) = e {
                let current = h.status.as_ref().and_then(|s| s.current_replicas);
                if current == Some(6) {
                    return;
                }
            }
        }
        panic!("the watch ended before the HPA saw 6 replicas");
    })
    .await
    .expect("the HPA's status follows the scale");
}

async fn next_line(
    l: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
) -> Option<String> {
    tokio::time::timeout(WAIT, l.next_line())
        .await
        .expect("a line")
        .expect("stdout reads")
}

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
