//! The simulator against clients nobody here wrote: kubectl, kube-rs and the
//! official Python client, over real HTTPS on 127.0.0.1.

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams, WatchEvent, WatchParams};
use kube::runtime::watcher;
use pitwall_sim::{Fault, Fleet, Scenario};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// Every wait in these tests is bounded by this.
const WAIT: Duration = Duration::from_secs(40);

fn small() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios/test-small.toml");
    Scenario::load(&path).expect("test scenario loads")
}

struct Env {
    fleet: Fleet,
    _dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

async fn start(scenario: Scenario) -> Env {
    let fleet = Fleet::start(scenario, None).await.expect("fleet starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, fleet.kubeconfig_yaml()).expect("write kubeconfig");
    Env {
        fleet,
        _dir: dir,
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
        .arg("--request-timeout=20s")
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

async fn ok(kc: &Path, ctx: &str, args: &[&str]) -> String {
    let o = kubectl(kc, ctx, args).await;
    assert_eq!(
        o.code, 0,
        "kubectl {args:?} failed: {}{}",
        o.stdout, o.stderr
    );
    o.stdout
}

/// Re-run `kubectl args` until `pred` holds on its stdout.
async fn until(
    kc: &Path,
    ctx: &str,
    args: &[&str],
    what: &str,
    pred: impl Fn(&str) -> bool,
) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let o = kubectl(kc, ctx, args).await;
        if o.code == 0 && pred(&o.stdout) {
            return o.stdout;
        }
        if tokio::time::Instant::now() > deadline {
            panic!(
                "timed out waiting for {what}; last output:\n{}{}",
                o.stdout, o.stderr
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn client(env: &Env, ctx: &str) -> kube::Client {
    let kc = kube::config::Kubeconfig::from_yaml(&env.fleet.kubeconfig_yaml())
        .expect("kubeconfig parses");
    let opts = kube::config::KubeConfigOptions {
        context: Some(ctx.into()),
        ..Default::default()
    };
    let mut cfg = kube::Config::from_custom_kubeconfig(kc, &opts)
        .await
        .expect("config");
    // Observe the server's answers as they are, without kube's own retries
    // of 429/503 (it would wait out Retry-After up to 15 times).
    cfg.default_retry = false;
    kube::Client::try_from(cfg).expect("client")
}

fn api_code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_serves_the_demo_fleet_to_kubectl() {
    let dir = tempfile::tempdir().expect("temp dir");
    let kc = dir.path().join("kubeconfig");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pitwall"))
        .args(["sim", "--kubeconfig-out"])
        .arg(&kc)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("pitwall sim starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut printed = String::new();
    tokio::time::timeout(WAIT, async {
        while let Ok(Some(l)) = lines.next_line().await {
            if l == "ready" {
                break;
            }
            printed.push_str(&l);
            printed.push('\n');
        }
    })
    .await
    .expect("simulator reports ready");
    for ctx in ["pre-release", "cn-north", "us-east", "ap-southeast"] {
        assert!(printed.contains(ctx), "contexts are printed: {printed}");
        let pods: Value =
            serde_json::from_str(&ok(&kc, ctx, &["get", "pods", "-A", "-o", "json"]).await)
                .expect("pod list is JSON");
        let items = pods["items"].as_array().expect("items");
        assert!(
            items.len() >= 120 && items.len() <= 180,
            "{ctx}: about 150 pods, got {}",
            items.len()
        );
        for p in items {
            assert_eq!(
                p["status"]["phase"], "Running",
                "{ctx}: {}",
                p["metadata"]["name"]
            );
            assert!(p["status"]["podIP"]
                .as_str()
                .is_some_and(|ip| ip.starts_with("10.")));
            assert!(p["spec"]["nodeName"]
                .as_str()
                .is_some_and(|n| n.starts_with(ctx)));
            assert!(p["metadata"]["ownerReferences"][0]["kind"].is_string());
            assert!(p["status"]["containerStatuses"][0]["ready"].is_boolean());
        }
        let nodes = ok(&kc, ctx, &["get", "nodes"]).await;
        assert!(
            nodes
                .lines()
                .next()
                .is_some_and(|h| h.contains("STATUS") && h.contains("VERSION")),
            "{nodes}"
        );
        assert!(
            nodes.contains(&format!("{ctx}-node-01")) && nodes.contains("Ready"),
            "{nodes}"
        );
        ok(&kc, ctx, &["get", "events", "-A"]).await;
        let workloads = ok(&kc, ctx, &["get", "deploy,rs,sts", "-A"]).await;
        for want in [
            "deployment.apps/checkout",
            "deployment.apps/web-front",
            "replicaset.apps/payments-",
            "statefulset.apps/redis",
        ] {
            assert!(
                workloads.contains(want),
                "{ctx}: {want} missing in\n{workloads}"
            );
        }
    }
    let checkout = ok(
        &kc,
        "cn-north",
        &[
            "get",
            "deploy",
            "checkout",
            "-n",
            "shop",
            "-o",
            "jsonpath={.spec.replicas}",
        ],
    )
    .await;
    assert_eq!(checkout, "6");
    let bad = kubectl(&kc, "us-east", &["--token", "not-the-token", "get", "pods"]).await;
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("Unauthorized"), "{}", bad.stderr);
    // SIGTERM stops it cleanly.
    let pid = child.id().expect("pid") as i32;
    // SAFETY: signalling the child this test started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("exits on SIGTERM")
        .expect("wait");
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_scale_restart_history_undo_pause() {
    let env = start(small()).await;
    let kc = env.kubeconfig.as_path();
    let ctx = "beta";
    let ns = ["-n", "shop"];
    let a = |x: &'static [&'static str]| [&ns[..], x].concat();

    let out = ok(kc, ctx, &a(&["scale", "deploy/web", "--replicas=5"])).await;
    assert!(out.contains("deployment.apps/web scaled"), "{out}");
    let out = ok(
        kc,
        ctx,
        &a(&["rollout", "status", "deploy/web", "--timeout=30s"]),
    )
    .await;
    assert!(out.contains("successfully rolled out"), "{out}");
    let out = ok(kc, ctx, &a(&["get", "deploy", "web"])).await;
    assert!(out.contains("5/5"), "{out}");
    let described = ok(kc, ctx, &a(&["describe", "deploy", "web"])).await;
    assert!(
        described.contains("ScalingReplicaSet") && described.contains("from 3 to 5"),
        "{described}"
    );

    let out = ok(kc, ctx, &a(&["rollout", "restart", "deploy/web"])).await;
    assert!(out.contains("restarted"), "{out}");
    let out = ok(
        kc,
        ctx,
        &a(&["rollout", "status", "deploy/web", "--timeout=30s"]),
    )
    .await;
    assert!(out.contains("successfully rolled out"), "{out}");
    let history = ok(kc, ctx, &a(&["rollout", "history", "deploy/web"])).await;
    let revisions: Vec<&str> = history
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(revisions, ["1", "2"], "{history}");
    let pods = ok(kc, ctx, &a(&["get", "pods", "-l", "app=web", "-o", "json"])).await;
    let pods: Value = serde_json::from_str(&pods).expect("json");
    let restarted = pods["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|p| p["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"].is_string())
        .count();
    assert!(
        restarted >= 5,
        "new pods carry the restart annotation: {restarted}"
    );

    let out = ok(
        kc,
        ctx,
        &a(&["rollout", "undo", "deploy/web", "--to-revision=1"]),
    )
    .await;
    assert!(out.contains("rolled back"), "{out}");
    let out = ok(
        kc,
        ctx,
        &a(&["rollout", "status", "deploy/web", "--timeout=30s"]),
    )
    .await;
    assert!(out.contains("successfully rolled out"), "{out}");
    let history = ok(kc, ctx, &a(&["rollout", "history", "deploy/web"])).await;
    let revisions: Vec<&str> = history
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    // As on a real server: revision 1's ReplicaSet becomes revision 3.
    assert_eq!(revisions, ["2", "3"], "{history}");

    let out = ok(kc, ctx, &a(&["rollout", "pause", "deploy/web"])).await;
    assert!(out.contains("paused"), "{out}");
    ok(
        kc,
        ctx,
        &a(&[
            "set",
            "image",
            "deploy/web",
            "web=registry.local/shop/web:1.1.0",
        ]),
    )
    .await;
    let rs_before = ok(kc, ctx, &a(&["get", "rs", "-l", "app=web", "-o", "name"])).await;
    assert_eq!(
        rs_before.lines().count(),
        2,
        "paused: no new ReplicaSet\n{rs_before}"
    );
    let out = ok(kc, ctx, &a(&["rollout", "resume", "deploy/web"])).await;
    assert!(out.contains("resumed"), "{out}");
    let out = ok(
        kc,
        ctx,
        &a(&["rollout", "status", "deploy/web", "--timeout=30s"]),
    )
    .await;
    assert!(out.contains("successfully rolled out"), "{out}");
    // As on a real server, the rollout is complete once the old ReplicaSet
    // is at 0; its last pod may still be terminating for a moment.
    until(
        kc,
        ctx,
        &a(&[
            "get",
            "pods",
            "-l",
            "app=web",
            "-o",
            "jsonpath={.items[*].spec.containers[0].image}",
        ]),
        "only the new image's pods",
        |images| {
            images
                .split_whitespace()
                .all(|i| i == "registry.local/shop/web:1.1.0")
        },
    )
    .await;

    // StatefulSet scale subresource.
    ok(
        kc,
        ctx,
        &["-n", "data", "scale", "sts/cache", "--replicas=3"],
    )
    .await;
    until(
        kc,
        ctx,
        &["-n", "data", "get", "sts", "cache"],
        "cache 3/3",
        |o| o.contains("3/3"),
    )
    .await;
    let pods = ok(kc, ctx, &["-n", "data", "get", "pods", "-o", "name"]).await;
    assert!(pods.contains("pod/cache-2"), "{pods}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_watch_logs_events_and_rbac() {
    let env = start(small()).await;
    let kc = env.kubeconfig.as_path();
    let ctx = "alpha";

    // get --watch sees a deletion.
    let victim = ok(
        kc,
        ctx,
        &[
            "-n",
            "shop",
            "get",
            "pods",
            "-l",
            "app=batch",
            "-o",
            "jsonpath={.items[0].metadata.name}",
        ],
    )
    .await;
    let mut watch = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kc)
        .args([
            "--context",
            ctx,
            "--request-timeout=0",
            "-n",
            "shop",
            "get",
            "pods",
            "--watch",
        ])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("kubectl watch");
    let mut lines = BufReader::new(watch.stdout.take().expect("stdout")).lines();
    tokio::time::timeout(WAIT, async {
        while let Ok(Some(l)) = lines.next_line().await {
            if l.starts_with(&victim) {
                break;
            }
        }
    })
    .await
    .expect("watch lists the pod");
    ok(
        kc,
        ctx,
        &["-n", "shop", "delete", "pod", &victim, "--wait=false"],
    )
    .await;
    let seen = tokio::time::timeout(WAIT, async {
        while let Ok(Some(l)) = lines.next_line().await {
            if l.starts_with(&victim) && l.contains("Terminating") {
                return true;
            }
        }
        false
    })
    .await
    .expect("watch sees the change");
    assert!(seen);
    drop(watch);

    // logs --tail and -f.
    let pod = ok(
        kc,
        ctx,
        &[
            "-n",
            "shop",
            "get",
            "pods",
            "-l",
            "app=web",
            "-o",
            "jsonpath={.items[0].metadata.name}",
        ],
    )
    .await;
    let tail = ok(kc, ctx, &["-n", "shop", "logs", &pod, "--tail=5"]).await;
    assert_eq!(tail.lines().count(), 5, "{tail}");
    let tail = ok(kc, ctx, &["-n", "shop", "logs", &pod, "--tail=100"]).await;
    assert_eq!(tail.lines().count(), 100, "{tail}");
    let json_lines = tail
        .lines()
        .filter(|l| {
            serde_json::from_str::<Value>(l)
                .is_ok_and(|v| v["level"].is_string() && v["trace_id"].is_string())
        })
        .count();
    assert!(json_lines >= 50, "mostly JSON lines: {tail}");
    let stamped = ok(
        kc,
        ctx,
        &["-n", "shop", "logs", &pod, "--tail=2", "--timestamps"],
    )
    .await;
    assert!(
        stamped.lines().all(|l| l
            .split(' ')
            .next()
            .is_some_and(|t| t.ends_with('Z') && t.contains('T'))),
        "{stamped}"
    );
    let limited = ok(kc, ctx, &["-n", "shop", "logs", &pod, "--limit-bytes=100"]).await;
    assert_eq!(limited.len(), 100, "{limited}");
    let all = ok(kc, ctx, &["-n", "shop", "logs", &pod]).await;
    let recent = ok(kc, ctx, &["-n", "shop", "logs", &pod, "--since=2s"]).await;
    assert!(
        !recent.is_empty() && recent.lines().count() < all.lines().count(),
        "--since narrows the logs"
    );
    let mut follow = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kc)
        .args([
            "--context",
            ctx,
            "--request-timeout=0",
            "-n",
            "shop",
            "logs",
            "-f",
            "--tail=1",
            &pod,
        ])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("kubectl logs -f");
    let mut lines = BufReader::new(follow.stdout.take().expect("stdout")).lines();
    let mut got = Vec::new();
    tokio::time::timeout(WAIT, async {
        while let Ok(Some(l)) = lines.next_line().await {
            got.push(l);
            if got.len() >= 4 {
                break;
            }
        }
    })
    .await
    .expect("follow receives new lines");
    assert!(got.len() >= 4);
    // The follow stream ends when the container stops.
    ok(
        kc,
        ctx,
        &["-n", "shop", "delete", "pod", &pod, "--wait=false"],
    )
    .await;
    let status = tokio::time::timeout(WAIT, async {
        while let Ok(Some(_)) = lines.next_line().await {}
        follow.wait().await
    })
    .await
    .expect("follow ends when the pod stops")
    .expect("wait");
    assert!(status.success(), "{status:?}");

    // RBAC: exec is forbidden in alpha, allowed in beta.
    let no = kubectl(
        kc,
        ctx,
        &[
            "auth",
            "can-i",
            "create",
            "pods",
            "--subresource=exec",
            "-n",
            "shop",
        ],
    )
    .await;
    assert_eq!(
        (no.code, no.stdout.trim().starts_with("no")),
        (1, true),
        "{}",
        no.stdout
    );
    let yes = kubectl(kc, ctx, &["auth", "can-i", "list", "pods", "-n", "shop"]).await;
    assert_eq!((yes.code, yes.stdout.trim()), (0, "yes"));
    let beta = kubectl(
        kc,
        "beta",
        &[
            "auth",
            "can-i",
            "create",
            "pods",
            "--subresource=exec",
            "-n",
            "shop",
        ],
    )
    .await;
    assert_eq!((beta.code, beta.stdout.trim()), (0, "yes"));

    // The scenario's readiness failure (+10s) shows as events and READY 0/1.
    let events = until(
        kc,
        ctx,
        &["-n", "shop", "get", "events"],
        "Unhealthy events",
        |o| {
            o.contains("Readiness probe failed: HTTP probe failed with statuscode: 503")
                && o.contains("(x")
        },
    )
    .await;
    assert!(events.contains("Unhealthy"), "{events}");
    let ev: Value = serde_json::from_str(
        &ok(
            kc,
            ctx,
            &[
                "-n",
                "shop",
                "get",
                "events",
                "--field-selector",
                "reason=Unhealthy",
                "-o",
                "json",
            ],
        )
        .await,
    )
    .expect("json");
    let e0 = &ev["items"][0];
    assert!(e0["count"].as_u64().is_some_and(|c| c >= 2), "{e0}");
    assert!(
        e0["firstTimestamp"].as_str() <= e0["lastTimestamp"].as_str(),
        "{e0}"
    );
    assert_eq!(e0["involvedObject"]["kind"], "Pod");
    let pods = ok(kc, ctx, &["-n", "shop", "get", "pods", "-l", "app=api"]).await;
    assert_eq!(
        pods.lines().filter(|l| l.contains(" 0/1 ")).count(),
        2,
        "{pods}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_rollout_crash_loops() {
    let env = start(small()).await;
    let kc = env.kubeconfig.as_path();
    // The scenario rolls a bad image out in beta at +20s (1s real).
    let pods = until(
        kc,
        "beta",
        &["-n", "shop", "get", "pods", "-l", "app=api"],
        "CrashLoopBackOff",
        |o| o.contains("CrashLoopBackOff"),
    )
    .await;
    assert!(pods.contains("Running"), "old pods keep serving: {pods}");
    let list: Value = serde_json::from_str(
        &ok(
            kc,
            "beta",
            &["-n", "shop", "get", "pods", "-l", "app=api", "-o", "json"],
        )
        .await,
    )
    .expect("json");
    let crashed = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|p| {
            p["status"]["containerStatuses"][0]["restartCount"]
                .as_u64()
                .unwrap_or(0)
                >= 1
        })
        .expect("a restarted pod");
    let cs = &crashed["status"]["containerStatuses"][0];
    assert_eq!(cs["lastState"]["terminated"]["reason"], "Error");
    assert_eq!(cs["image"], "registry.local/shop/api:2.0.0-bad");
    let name = crashed["metadata"]["name"].as_str().expect("name");
    let prev = ok(
        kc,
        "beta",
        &["-n", "shop", "logs", name, "--previous", "--tail=3"],
    )
    .await;
    assert_eq!(prev.lines().count(), 3, "{prev}");
    let status = kubectl(
        kc,
        "beta",
        &[
            "-n",
            "shop",
            "rollout",
            "status",
            "deploy/api",
            "--watch=false",
        ],
    )
    .await;
    assert!(
        status
            .stdout
            .contains("Waiting for deployment \"api\" rollout to finish"),
        "{}",
        status.stdout
    );
    let history = ok(
        kc,
        "beta",
        &["-n", "shop", "rollout", "history", "deploy/api"],
    )
    .await;
    assert!(
        history.contains("kubectl set image deployment/api api=registry.local/shop/api:2.0.0-bad"),
        "{history}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_paging_watcher_and_faults() {
    let env = start(small()).await;
    let c = client(&env, "beta").await;
    let pods: Api<Pod> = Api::all(c.clone());

    // Paging with a small page size returns every pod exactly once.
    let all = pods.list(&ListParams::default()).await.expect("list");
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut lp = ListParams::default().limit(3);
        if let Some(t) = &token {
            lp = lp.continue_token(t);
        }
        let page = pods.list(&lp).await.expect("page");
        assert!(page.items.len() <= 3);
        pages += 1;
        names.extend(page.items.iter().filter_map(|p| p.metadata.name.clone()));
        token = page.metadata.continue_.filter(|t| !t.is_empty());
        if token.is_none() {
            break;
        }
    }
    let mut expected: Vec<String> = all
        .items
        .iter()
        .filter_map(|p| p.metadata.name.clone())
        .collect();
    expected.sort();
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len(), "no duplicates across pages");
    assert_eq!(sorted, expected);
    assert!(pages >= 4, "{pages} pages");

    // Selectors.
    let web = pods
        .list(&ListParams::default().labels("app=web"))
        .await
        .expect("labels");
    assert_eq!(web.items.len(), 3);
    let node = web.items[0]
        .spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .expect("node");
    let on_node = pods
        .list(&ListParams::default().fields(&format!("spec.nodeName={node}")))
        .await
        .expect("fields");
    assert!(!on_node.items.is_empty());
    assert!(on_node
        .items
        .iter()
        .all(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node.as_str())));
    let bad = pods
        .list(&ListParams::default().fields("spec.bogus=1"))
        .await
        .expect_err("bad field");
    assert_eq!(api_code(&bad), Some(400));

    // runtime::watcher: initial list, then a live change.
    let shop: Api<Pod> = Api::namespaced(c.clone(), "shop");
    let mut stream = watcher(shop.clone(), watcher::Config::default()).boxed();
    tokio::time::timeout(WAIT, async {
        while let Some(ev) = stream.try_next().await.expect("watch event") {
            if matches!(ev, watcher::Event::InitDone) {
                break;
            }
        }
    })
    .await
    .expect("watcher syncs");
    let target = web.items[0].metadata.name.clone().expect("name");
    shop.patch(
        &target,
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"touched": "yes"}}})),
    )
    .await
    .expect("patch");
    tokio::time::timeout(WAIT, async {
        while let Some(ev) = stream.try_next().await.expect("watch event") {
            if let watcher::Event::Apply(p) = ev {
                if p.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("touched"))
                    .is_some()
                {
                    break;
                }
            }
        }
    })
    .await
    .expect("watcher sees the patch");
    drop(stream);

    // Faults are the errors a real server sends.
    env.fleet
        .set_fault("beta", Fault::ListError { code: 500 })
        .expect("fault");
    assert_eq!(
        api_code(&pods.list(&ListParams::default()).await.expect_err("500")),
        Some(500)
    );
    env.fleet.clear_faults("beta").expect("clear");
    env.fleet
        .set_fault("beta", Fault::ListError { code: 429 })
        .expect("fault");
    assert_eq!(
        api_code(&pods.list(&ListParams::default()).await.expect_err("429")),
        Some(429)
    );
    env.fleet.clear_faults("beta").expect("clear");
    env.fleet
        .set_fault(
            "beta",
            Fault::ForbidNamespace {
                namespace: "shop".into(),
            },
        )
        .expect("fault");
    assert_eq!(
        api_code(&shop.list(&ListParams::default()).await.expect_err("403")),
        Some(403)
    );
    let data: Api<Pod> = Api::namespaced(c.clone(), "data");
    assert!(
        data.list(&ListParams::default()).await.is_ok(),
        "other namespaces still readable"
    );
    env.fleet.clear_faults("beta").expect("clear");

    // A watch from a version that has left the history window: 410.
    let rv = shop
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("rv");
    shop.patch(
        &target,
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"touched": "again"}}})),
    )
    .await
    .expect("patch");
    env.fleet.compact("beta").expect("compact");
    let mut w = shop
        .watch(&WatchParams::default(), &rv)
        .await
        .expect("watch opens")
        .boxed();
    let first = tokio::time::timeout(WAIT, w.try_next())
        .await
        .expect("an event")
        .expect("decodes");
    match first {
        Some(WatchEvent::Error(e)) => assert_eq!((e.code, e.reason.as_str()), (410, "Expired")),
        other => panic!("expected 410 Expired, got {other:?}"),
    }

    // A malformed chunk breaks decoding of the stream.
    let rv = shop
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("rv");
    env.fleet
        .set_fault("beta", Fault::MalformedWatch)
        .expect("fault");
    let mut w = shop
        .watch(&WatchParams::default(), &rv)
        .await
        .expect("watch opens")
        .boxed();
    shop.patch(
        &target,
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"touched": "broken"}}})),
    )
    .await
    .expect("patch");
    let r = tokio::time::timeout(WAIT, w.try_next())
        .await
        .expect("something arrives");
    assert!(r.is_err(), "malformed JSON is a decode error: {r:?}");
    env.fleet.clear_faults("beta").expect("clear");

    // Token expiry: 401 from now on.
    env.fleet
        .set_fault("beta", Fault::ExpireToken)
        .expect("fault");
    assert_eq!(
        api_code(&pods.list(&ListParams::default()).await.expect_err("401")),
        Some(401)
    );
    env.fleet.clear_faults("beta").expect("clear");

    // Refused connections, then back.
    let port = env
        .fleet
        .regions()
        .iter()
        .find(|r| r.name == "beta")
        .expect("beta")
        .port;
    env.fleet
        .set_fault("beta", Fault::RefuseConnections)
        .expect("fault");
    let refused = tokio::time::timeout(WAIT, async {
        loop {
            match tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return true,
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    })
    .await
    .expect("connections get refused");
    assert!(refused);
    env.fleet.clear_faults("beta").expect("clear");
    tokio::time::timeout(WAIT, async {
        while pods.list(&ListParams::default()).await.is_err() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("serves again after the fault clears");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_strings_reach_clients_byte_for_byte() {
    let env = start(small()).await;
    env.fleet
        .set_fault("alpha", Fault::HostileStrings)
        .expect("fault");
    let c = client(&env, "alpha").await;
    let shop: Api<Pod> = Api::namespaced(c.clone(), "shop");
    let victim = shop
        .list(&ListParams::default().labels("app=batch"))
        .await
        .expect("list")
        .items[0]
        .metadata
        .name
        .clone()
        .expect("name");
    shop.delete(&victim, &Default::default())
        .await
        .expect("delete");
    let events: Api<Event> = Api::namespaced(c.clone(), "shop");
    let found = tokio::time::timeout(WAIT, async {
        loop {
            let evs = events.list(&ListParams::default()).await.expect("events");
            if let Some(m) = evs
                .items
                .iter()
                .filter_map(|e| e.message.clone())
                .find(|m| m.contains("\u{1b}]52;c;"))
            {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("a hostile event message");
    assert!(
        found.contains("\u{202e}") && found.contains("\u{1b}[2J"),
        "{found:?}"
    );
    // The replacement pod carries hostile labels and annotations.
    let pod = tokio::time::timeout(WAIT, async {
        loop {
            let ps = shop
                .list(&ListParams::default().labels("app=batch"))
                .await
                .expect("list");
            if let Some(p) = ps.items.into_iter().find(|p| {
                p.metadata
                    .labels
                    .as_ref()
                    .is_some_and(|l| l.contains_key("sim.pitwall.dev/hostile"))
            }) {
                return p;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("a hostile pod");
    let labels = pod.metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels["sim.pitwall.dev/hostile"], "x\u{1b}[31my");
    let ann = pod.metadata.annotations.clone().unwrap_or_default();
    assert!(ann["sim.pitwall.dev/hostile"].starts_with("\u{1b}]52;c;"));
    // Log lines too (kubectl passes them through unchanged).
    let name = shop
        .list(&ListParams::default().labels("app=api"))
        .await
        .expect("list")
        .items[0]
        .metadata
        .name
        .clone()
        .expect("name");
    let logs = ok(
        &env.kubeconfig,
        "alpha",
        &["-n", "shop", "logs", &name, "--tail=400"],
    )
    .await;
    assert!(
        logs.contains("\u{1b}]52;c;cHduZWQ=\u{7}"),
        "hostile log lines present"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_watch_410_and_relist() {
    let env = start(small()).await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/watch_relist.py");
    let mut cmd = Command::new("python3");
    cmd.arg(&script)
        .arg(&env.kubeconfig)
        .args(["beta", "shop", "200"])
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(90), cmd.output())
        .await
        .expect("python finishes")
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "python failed:\n{stdout}\n{stderr}");
    for step in [
        "watch from resourceVersion saw MODIFIED",
        "got 410 Expired",
        "recovered after relist",
    ] {
        assert!(stdout.contains(step), "missing {step:?} in\n{stdout}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_endpoint_flips_faults_with_its_own_token() {
    let env = start(small()).await;
    let kc = env.kubeconfig.as_path();
    let alpha = env
        .fleet
        .regions()
        .iter()
        .find(|r| r.name == "alpha")
        .expect("alpha")
        .clone();
    let ca = env.fleet.ca_pem().to_string();
    let dir = tempfile::tempdir().expect("dir");
    let ca_path = dir.path().join("ca.pem");
    std::fs::write(&ca_path, ca).expect("ca");
    let curl = |method: &'static str, token: String, path: &'static str, body: &'static str| {
        let ca_path = ca_path.clone();
        let url = format!("{}{}", alpha.url, path);
        async move {
            let out = Command::new("curl")
                .args(["-sS", "--max-time", "20", "-X", method, "--cacert"])
                .arg(&ca_path)
                .args([
                    "-H",
                    &format!("Authorization: Bearer {token}"),
                    "-H",
                    "Content-Type: application/json",
                    "-d",
                    body,
                    "-w",
                    "\n%{http_code}",
                    &url,
                ])
                .output()
                .await
                .expect("curl runs");
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
    };
    // The region's own token is not the admin token.
    let denied = curl(
        "POST",
        alpha.token.clone(),
        "/_sim/faults",
        r#"{"kind":"list_error","code":500}"#,
    )
    .await;
    assert!(denied.ends_with("401"), "{denied}");
    let applied = curl(
        "POST",
        env.fleet.admin_token().to_string(),
        "/_sim/faults",
        r#"{"kind":"list_error","code":500}"#,
    )
    .await;
    assert!(applied.ends_with("200"), "{applied}");
    let o = kubectl(kc, "alpha", &["get", "pods", "-A"]).await;
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("Internal error occurred"), "{}", o.stderr);
    let cleared = curl(
        "DELETE",
        env.fleet.admin_token().to_string(),
        "/_sim/faults",
        "{}",
    )
    .await;
    assert!(cleared.ends_with("200"), "{cleared}");
    ok(kc, "alpha", &["get", "pods", "-A"]).await;
    let state = curl(
        "GET",
        env.fleet.admin_token().to_string(),
        "/_sim/state",
        "",
    )
    .await;
    assert!(state.contains("\"region\":\"alpha\""), "{state}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_knobs_pods_per_region_and_churn() {
    let env = start(small().with_pods_per_region(3_000).with_churn(200.0)).await;
    let c = client(&env, "alpha").await;
    let pods: Api<Pod> = Api::all(c.clone());
    let mut total = 0;
    let mut token: Option<String> = None;
    loop {
        let mut lp = ListParams::default().limit(500);
        if let Some(t) = &token {
            lp = lp.continue_token(t);
        }
        let page = pods.list(&lp).await.expect("page");
        total += page.items.len();
        token = page.metadata.continue_.filter(|t| !t.is_empty());
        if token.is_none() {
            break;
        }
    }
    assert_eq!(total, 3_000);
    // Churn: pod updates keep arriving on a watch.
    let rv = pods
        .list(&ListParams::default().limit(1))
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("rv");
    let mut w = pods
        .watch(&WatchParams::default(), &rv)
        .await
        .expect("watch")
        .boxed();
    let mut modified = 0;
    tokio::time::timeout(WAIT, async {
        while let Some(ev) = w.try_next().await.expect("event") {
            if matches!(ev, WatchEvent::Modified(_)) {
                modified += 1;
                if modified >= 50 {
                    break;
                }
            }
        }
    })
    .await
    .expect("churn produces updates");
    assert!(modified >= 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_scenario_is_refused_naming_file_and_field() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("broken.toml");
    std::fs::write(&path, "[[region]]\nname = \"a\"\nnodes = 0\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_pitwall"))
        .args(["sim", "--scenario"])
        .arg(&path)
        .output()
        .await
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.toml: region[0].nodes"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_delete_namespace_and_create_from_file() {
    let env = start(small()).await;
    let kc = env.kubeconfig.as_path();
    let out = ok(
        kc,
        "alpha",
        &["delete", "namespace", "data", "--timeout=30s"],
    )
    .await;
    assert!(out.contains("deleted"), "{out}");
    let ns = ok(kc, "alpha", &["get", "ns", "-o", "name"]).await;
    assert!(
        !ns.contains("namespace/data") && ns.contains("namespace/shop"),
        "{ns}"
    );
    let file = env._dir.path().join("ns.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: created\n",
    )
    .expect("write");
    let out = ok(
        kc,
        "alpha",
        &[
            "create",
            "-f",
            file.to_str().expect("path"),
            "--validate=false",
        ],
    )
    .await;
    assert!(out.contains("namespace/created created"), "{out}");
    let again = kubectl(
        kc,
        "alpha",
        &[
            "create",
            "-f",
            file.to_str().expect("path"),
            "--validate=false",
        ],
    )
    .await;
    assert!(again.stderr.contains("AlreadyExists"), "{}", again.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bookmarks_arrive_and_stalled_watches_send_nothing() {
    let env = start(small_fast_bookmarks()).await;
    let c = client(&env, "alpha").await;
    let shop: Api<Pod> = Api::namespaced(c, "shop");
    let list = shop
        .list(&ListParams::default().labels("app=batch"))
        .await
        .expect("list");
    let rv = list.metadata.resource_version.clone().expect("rv");
    let target = list.items[0].metadata.name.clone().expect("name");
    let wp = WatchParams::default().labels("app=batch");
    let mut w = shop.watch(&wp, &rv).await.expect("watch").boxed();
    let bookmark = tokio::time::timeout(WAIT, async {
        while let Some(ev) = w.try_next().await.expect("event") {
            if let WatchEvent::Bookmark(b) = ev {
                return b.metadata.resource_version;
            }
        }
        String::new()
    })
    .await
    .expect("a bookmark arrives");
    assert!(
        bookmark
            .parse::<u64>()
            .is_ok_and(|b| b >= rv.parse::<u64>().unwrap_or(0)),
        "{bookmark}"
    );

    // While stalled, a change is not delivered; after the fault clears the
    // next change is, so the first one seen is the later one.
    env.fleet
        .set_fault("alpha", Fault::StallWatches)
        .expect("fault");
    let label = |v: &str| Patch::Merge(json!({"metadata": {"labels": {"stall": v}}}));
    shop.patch(&target, &PatchParams::default(), &label("during"))
        .await
        .expect("patch");
    tokio::time::sleep(Duration::from_millis(500)).await;
    env.fleet.clear_faults("alpha").expect("clear");
    shop.patch(&target, &PatchParams::default(), &label("after"))
        .await
        .expect("patch");
    let first = tokio::time::timeout(WAIT, async {
        while let Some(ev) = w.try_next().await.expect("event") {
            if let WatchEvent::Modified(p) = ev {
                if let Some(v) = p.metadata.labels.as_ref().and_then(|l| l.get("stall")) {
                    return v.clone();
                }
            }
        }
        String::new()
    })
    .await
    .expect("a change after the stall");
    assert_eq!(first, "after");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liveness_failures_restart_and_oom_kills_crash_loop() {
    let env = start(small()).await;
    let kc = env.kubeconfig.as_path();
    env.fleet
        .set_fault(
            "beta",
            Fault::LivenessFailure {
                namespace: "shop".into(),
                workload: "web".into(),
                pods: 1,
            },
        )
        .expect("liveness fault");
    env.fleet
        .set_fault(
            "beta",
            Fault::OomKill {
                namespace: "shop".into(),
                workload: "batch".into(),
                pods: 2,
            },
        )
        .expect("oom fault");
    until(
        kc,
        "beta",
        &["-n", "shop", "get", "events"],
        "liveness events",
        |o| {
            o.contains("Liveness probe failed: HTTP probe failed with statuscode: 500")
                && o.contains("failed liveness probe, will be restarted")
        },
    )
    .await;
    let restarted = |o: &str| {
        let v: Value = serde_json::from_str(o).unwrap_or(Value::Null);
        v["items"].as_array().is_some_and(|items| {
            items.iter().any(|p| {
                p["status"]["containerStatuses"][0]["restartCount"]
                    .as_u64()
                    .unwrap_or(0)
                    >= 1
            })
        })
    };
    until(
        kc,
        "beta",
        &["-n", "shop", "get", "pods", "-l", "app=web", "-o", "json"],
        "a liveness restart",
        restarted,
    )
    .await;
    let oom = until(
        kc,
        "beta",
        &["-n", "shop", "get", "pods", "-l", "app=batch", "-o", "json"],
        "OOMKilled",
        |o| o.contains("\"OOMKilled\""),
    )
    .await;
    let v: Value = serde_json::from_str(&oom).expect("json");
    let killed = v["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|p| {
            p["status"]["containerStatuses"][0]["lastState"]["terminated"]["reason"] == "OOMKilled"
        })
        .expect("an OOMKilled pod");
    assert_eq!(
        killed["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"],
        137
    );
    let table = until(
        kc,
        "beta",
        &["-n", "shop", "get", "pods", "-l", "app=batch"],
        "CrashLoopBackOff",
        |o| o.contains("CrashLoopBackOff"),
    )
    .await;
    assert!(
        table
            .lines()
            .skip(1)
            .all(|l| l.contains("CrashLoopBackOff") || l.contains("Running")),
        "{table}"
    );
}

/// test-small.toml with bookmarks every second: for the tests that wait
/// for one (the default, as kube-apiserver, is once a minute).
fn small_fast_bookmarks() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios/test-small.toml");
    let text = std::fs::read_to_string(&path).expect("read test-small.toml");
    Scenario::from_toml(
        &format!("bookmark_interval_seconds = 1.0\n{text}"),
        "test-small.toml with 1 s bookmarks",
    )
    .expect("scenario loads")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_with_timeout_gets_a_bookmark_two_seconds_before_its_end() {
    let env = start(small()).await;
    let c = client(&env, "alpha").await;
    let data: Api<Pod> = Api::namespaced(c, "data");
    let list = data.list(&ListParams::default()).await.expect("list");
    let rv = list.metadata.resource_version.clone().expect("rv");
    const T: u32 = 6;
    let wp = WatchParams::default().timeout(T);
    let started = tokio::time::Instant::now();
    let mut w = data.watch(&wp, &rv).await.expect("watch").boxed();
    let mut seen = Vec::new();
    let ended = tokio::time::timeout(WAIT, async {
        while let Some(ev) = w.try_next().await.expect("event") {
            let what = match ev {
                WatchEvent::Bookmark(_) => "BOOKMARK",
                WatchEvent::Added(_) => "ADDED",
                WatchEvent::Modified(_) => "MODIFIED",
                WatchEvent::Deleted(_) => "DELETED",
                WatchEvent::Error(_) => "ERROR",
            };
            seen.push((what, started.elapsed()));
        }
        started.elapsed()
    })
    .await
    .expect("the watch ends by itself");
    // Nothing changes in `data`: the only line is the pre-deadline bookmark.
    assert_eq!(seen.len(), 1, "{seen:?}");
    let (what, at) = seen[0];
    assert_eq!(what, "BOOKMARK");
    let t = Duration::from_secs(T as u64);
    assert!(
        at >= t - Duration::from_secs(3) && at < t,
        "bookmark at {at:?}"
    );
    assert!(
        ended >= t - Duration::from_millis(500),
        "ended at {ended:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_watch_without_timeout_is_not_cut_short() {
    let env = start(small()).await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/watch_long.py");
    let before = env.fleet.watch_requests("beta").expect("beta");
    let mut cmd = Command::new("python3");
    cmd.arg(&script)
        .arg(&env.kubeconfig)
        .args(["beta", "shop", "30"])
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(90), cmd.output())
        .await
        .expect("python finishes")
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "python failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("read 30 changes"), "{stdout}");
    // 30 changes half a second apart, all on the first watch request: the
    // server did not end it (the client would have reopened it).
    let after = env.fleet.watch_requests("beta").expect("beta");
    assert_eq!(after - before, 1, "{stdout}");
}

/// Read from a raw TCP socket for `wait`: the bytes read, and whether the
/// peer closed (EOF or reset).
async fn read_for(sock: &mut tokio::net::TcpStream, wait: Duration) -> (usize, bool) {
    use tokio::io::AsyncReadExt;
    let mut got = 0;
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, sock.read(&mut buf)).await {
            Err(_) => return (got, false),
            Ok(Ok(0)) | Ok(Err(_)) => return (got, true),
            Ok(Ok(n)) => got += n,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blackhole_holds_sockets_silent_until_cleared() {
    use tokio::io::AsyncWriteExt;
    let env = start(small()).await;
    let kc = env.kubeconfig.as_path();
    let alpha = env
        .fleet
        .regions()
        .iter()
        .find(|r| r.name == "alpha")
        .expect("alpha")
        .clone();
    // Not TLS: a live server answers with an alert and closes at once.
    const GARBAGE: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut probe = tokio::net::TcpStream::connect(("127.0.0.1", alpha.port))
        .await
        .expect("connect");
    probe.write_all(GARBAGE).await.expect("write");
    let (_, closed) = read_for(&mut probe, WAIT).await;
    assert!(closed, "a live server closes a non-TLS connection");

    // A watch and a raw connection are open when the path dies.
    let c = client(&env, "alpha").await;
    let shop: Api<Pod> = Api::namespaced(c.clone(), "shop");
    let list = shop.list(&ListParams::default()).await.expect("list");
    let rv = list.metadata.resource_version.clone().expect("rv");
    let target = list.items[0].metadata.name.clone().expect("name");
    let mut w = shop
        .watch(&WatchParams::default().timeout(280), &rv)
        .await
        .expect("watch")
        .boxed();
    let mut held = tokio::net::TcpStream::connect(("127.0.0.1", alpha.port))
        .await
        .expect("connect");
    env.fleet
        .set_fault("alpha", Fault::Blackhole)
        .expect("fault");

    held.write_all(GARBAGE).await.expect("write");
    let (n, closed) = read_for(&mut held, Duration::from_secs(3)).await;
    assert_eq!(
        (n, closed),
        (0, false),
        "held connection: no bytes, no close"
    );
    // New connections are accepted and never answered.
    let mut fresh = tokio::time::timeout(
        WAIT,
        tokio::net::TcpStream::connect(("127.0.0.1", alpha.port)),
    )
    .await
    .expect("connect in time")
    .expect("connect is accepted");
    fresh.write_all(GARBAGE).await.expect("write");
    let (n, closed) = read_for(&mut fresh, Duration::from_secs(3)).await;
    assert_eq!(
        (n, closed),
        (0, false),
        "new connection: no bytes, no close"
    );
    let o = kubectl(
        kc,
        "alpha",
        &["--request-timeout=2s", "get", "pods", "-n", "shop"],
    )
    .await;
    assert_ne!(o.code, 0, "kubectl gets no answer: {}", o.stdout);
    // beta is not affected
    ok(kc, "beta", &["get", "pods", "-n", "shop"]).await;

    env.fleet.clear_faults("alpha").expect("clear");
    // The held connections carry bytes again (the alert, then the close).
    let (n, closed) = read_for(&mut held, WAIT).await;
    assert!(
        n > 0 && closed,
        "held connection after clearing: {n} bytes, closed {closed}"
    );
    let (n, closed) = read_for(&mut fresh, WAIT).await;
    assert!(
        n > 0 && closed,
        "new connection after clearing: {n} bytes, closed {closed}"
    );
    // The watch opened before goes on from where it was.
    shop.patch(
        &target,
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"healed": "yes"}}})),
    )
    .await
    .expect("patch after clearing");
    let healed = tokio::time::timeout(WAIT, async {
        while let Some(ev) = w.try_next().await.expect("event") {
            if let WatchEvent::Modified(p) = ev {
                if p.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("healed"))
                    .is_some_and(|v| v == "yes")
                {
                    return true;
                }
            }
        }
        false
    })
    .await
    .expect("the held watch carries the change");
    assert!(healed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_port_clears_refused_connections() {
    let env = start(small()).await;
    let kc = env.kubeconfig.as_path();
    let dir = tempfile::tempdir().expect("dir");
    let ca_path = dir.path().join("ca.pem");
    std::fs::write(&ca_path, env.fleet.ca_pem()).expect("ca");
    let admin = env.fleet.admin_url();
    let token = env.fleet.admin_token().to_string();
    let curl = |method: &'static str, path: &'static str, body: &'static str| {
        let (ca_path, url, token) = (ca_path.clone(), format!("{admin}{path}"), token.clone());
        async move {
            let out = Command::new("curl")
                .args(["-sS", "--max-time", "20", "-X", method, "--cacert"])
                .arg(&ca_path)
                .args(["-H", &format!("Authorization: Bearer {token}")])
                .args(["-H", "Content-Type: application/json", "-d", body])
                .args(["-w", "\n%{http_code}", &url])
                .output()
                .await
                .expect("curl runs");
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
    };
    let regions = curl("GET", "/_sim/regions", "").await;
    assert!(
        regions.contains("\"alpha\"") && regions.ends_with("200"),
        "{regions}"
    );
    let applied = curl(
        "POST",
        "/_sim/regions/alpha/faults",
        r#"{"kind":"refuse_connections"}"#,
    )
    .await;
    assert!(applied.ends_with("200"), "{applied}");
    until(kc, "beta", &["get", "ns"], "beta still answers", |_| true).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let o = kubectl(kc, "alpha", &["get", "pods", "-n", "shop"]).await;
        // kubectl says "connection refused" or "The connection to the
        // server ... was refused", depending on its discovery cache
        if o.code != 0
            && (o.stderr.contains("connection refused") || o.stderr.contains("was refused"))
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "alpha still answers: {}",
            o.stderr
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let faults = curl("GET", "/_sim/regions/alpha/faults", "").await;
    assert!(faults.contains("\"refuse_connections\":true"), "{faults}");
    let cleared = curl("DELETE", "/_sim/regions/alpha/faults", "{}").await;
    assert!(cleared.ends_with("200"), "{cleared}");
    until(
        kc,
        "alpha",
        &["get", "pods", "-n", "shop"],
        "alpha answers again",
        |o| o.contains("Running"),
    )
    .await;
    // The same under a blackhole.
    let applied = curl(
        "POST",
        "/_sim/regions/beta/faults",
        r#"{"kind":"blackhole"}"#,
    )
    .await;
    assert!(applied.ends_with("200"), "{applied}");
    let cleared = curl("DELETE", "/_sim/regions/beta/faults", "{}").await;
    assert!(cleared.ends_with("200"), "{cleared}");
    ok(kc, "beta", &["get", "pods", "-n", "shop"]).await;
}

/// `pitwall sim` with a state directory, until it prints `ready`.
async fn sim_binary(state: &Path, kc: &Path) -> (tokio::process::Child, String) {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios/test-small.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pitwall"))
        .arg("sim")
        .arg("--scenario")
        .arg(&scenario)
        .arg("--state-dir")
        .arg(state)
        .arg("--kubeconfig-out")
        .arg(kc)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("pitwall sim starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut printed = String::new();
    tokio::time::timeout(WAIT, async {
        while let Ok(Some(l)) = lines.next_line().await {
            if l == "ready" {
                return;
            }
            printed.push_str(&l);
            printed.push('\n');
        }
        panic!("the simulator exited: {printed}");
    })
    .await
    .expect("simulator reports ready");
    (child, printed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_with_its_state_dir_the_simulator_keeps_ca_tokens_and_ports() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("dir");
    let state = dir.path().join("state");
    let kc = dir.path().join("kubeconfig");
    let (mut first, printed) = sim_binary(&state, &kc).await;
    let before = std::fs::read_to_string(&kc).expect("kubeconfig");
    ok(&kc, "alpha", &["get", "pods", "-n", "shop"]).await;
    let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(&state), 0o700);
    for f in std::fs::read_dir(&state).expect("state dir") {
        let f = f.expect("entry").path();
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
    assert_eq!(mode(&kc), 0o600);
    first.kill().await.expect("stop the first simulator");
    let _ = first.wait().await;
    let o = kubectl(&kc, "alpha", &["get", "pods", "-n", "shop"]).await;
    assert_ne!(o.code, 0, "nothing answers while it is down");

    // Restarted: the kubeconfig written before still works.
    let kc2 = dir.path().join("kubeconfig-2");
    let (_second, printed2) = sim_binary(&state, &kc2).await;
    assert_eq!(printed, printed2.replace("kubeconfig-2", "kubeconfig"));
    let after = std::fs::read_to_string(&kc2).expect("kubeconfig");
    assert_eq!(before, after, "same CA, servers and tokens");
    let pods = ok(&kc, "alpha", &["get", "pods", "-n", "shop"]).await;
    assert!(pods.contains("Running"), "{pods}");
    ok(&kc, "beta", &["get", "deploy", "-A"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_starts_with_the_last_hour_of_events() {
    use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
    let env = start(small()).await;
    let c = client(&env, "alpha").await;
    let events: Vec<Event> = Api::<Event>::all(c.clone())
        .list(&ListParams::default())
        .await
        .expect("events")
        .items;
    let pods: Vec<Pod> = Api::<Pod>::all(c.clone())
        .list(&ListParams::default())
        .await
        .expect("pods")
        .items;
    assert!(!pods.is_empty());
    let time = |e: &Event| {
        e.first_timestamp
            .as_ref()
            .map(|t| t.0)
            .expect("firstTimestamp")
    };
    let mut oldest = None;
    let mut newest = None;
    for p in &pods {
        let uid = p.metadata.uid.as_deref().expect("uid");
        let name = p.metadata.name.as_deref().expect("name");
        let mut seen = Vec::new();
        for e in events
            .iter()
            .filter(|e| e.involved_object.uid.as_deref() == Some(uid))
        {
            assert_eq!(e.type_.as_deref(), Some("Normal"), "{e:?}");
            assert_eq!(e.count, Some(1), "{e:?}");
            assert_eq!(e.involved_object.kind.as_deref(), Some("Pod"));
            assert_eq!(e.involved_object.name.as_deref(), Some(name));
            assert_eq!(e.first_timestamp, e.last_timestamp);
            let source = e.source.as_ref().and_then(|s| s.component.clone());
            let reason = e.reason.clone().expect("reason");
            let want = if reason == "Scheduled" {
                "default-scheduler"
            } else {
                "kubelet"
            };
            assert_eq!(source.as_deref(), Some(want), "{e:?}");
            seen.push((time(e), reason));
        }
        seen.sort();
        let reasons: Vec<&str> = seen.iter().map(|(_, r)| r.as_str()).collect();
        assert_eq!(
            reasons,
            ["Scheduled", "Pulled", "Created", "Started"],
            "{name}: {seen:?}"
        );
        // the pod's own times agree with its events
        let created = p.metadata.creation_timestamp.as_ref().expect("created").0;
        assert!(
            created <= seen[0].0,
            "{name}: created {created} after Scheduled"
        );
        let started = p
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .and_then(|c| c[0].state.as_ref())
            .and_then(|s| s.running.as_ref())
            .and_then(|r| r.started_at.as_ref())
            .expect("startedAt")
            .0;
        assert_eq!(started.as_second(), seen[3].0.as_second(), "{name}");
        oldest = oldest.min(Some(seen[0].0)).or(Some(seen[0].0));
        newest = newest.max(Some(seen[3].0));
    }
    let (oldest, newest) = (oldest.expect("oldest"), newest.expect("newest"));
    let span = newest.duration_since(oldest);
    assert!(
        span.as_secs() <= 3_600,
        "spread over about an hour: {span:?}"
    );
    // the rollouts: ScalingReplicaSet on each Deployment, naming its ReplicaSet
    let rs: Vec<ReplicaSet> = Api::<ReplicaSet>::all(c.clone())
        .list(&ListParams::default())
        .await
        .expect("replicasets")
        .items;
    for d in Api::<Deployment>::all(c)
        .list(&ListParams::default())
        .await
        .expect("deployments")
        .items
    {
        let uid = d.metadata.uid.as_deref().expect("uid");
        let own = rs
            .iter()
            .find(|r| {
                r.metadata
                    .owner_references
                    .as_ref()
                    .is_some_and(|o| o.iter().any(|o| o.uid == uid))
            })
            .and_then(|r| r.metadata.name.clone())
            .expect("its replicaset");
        let scaled: Vec<&Event> = events
            .iter()
            .filter(|e| {
                e.involved_object.uid.as_deref() == Some(uid)
                    && e.reason.as_deref() == Some("ScalingReplicaSet")
            })
            .collect();
        assert_eq!(scaled.len(), 1, "{:?}", d.metadata.name);
        let msg = scaled[0].message.as_deref().unwrap_or("");
        assert!(
            msg.starts_with(&format!("Scaled up replica set {own} from 0 to ")),
            "{msg}"
        );
        assert_eq!(
            scaled[0]
                .source
                .as_ref()
                .and_then(|s| s.component.as_deref()),
            Some("deployment-controller")
        );
    }
    // kubectl shows them as it shows a real cluster's
    let kc = env.kubeconfig.as_path();
    let out = ok(kc, "alpha", &["get", "events", "-n", "shop"]).await;
    for want in [
        "Scheduled",
        "Pulled",
        "Created",
        "Started",
        "ScalingReplicaSet",
    ] {
        assert!(out.contains(want), "{want} missing in\n{out}");
    }
}

/// A custom resource the scenario defines: kubectl finds it by its plural,
/// kind and short name through discovery, and prints its printer columns
/// (the wide ones with `-o wide`); watching it holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_crd_reads_like_a_real_one_to_kubectl() {
    let env = start(Scenario::demo()).await;
    let kc = &env.kubeconfig;
    let table = ok(kc, "us-east", &["get", "canaries", "-A"]).await;
    let head: Vec<&str> = table
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(
        head,
        ["NAMESPACE", "NAME", "TARGET", "WEIGHT", "PHASE", "AGE"],
        "{table}"
    );
    let row = |name: &str| -> Vec<String> {
        table
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} missing:\n{table}"))
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    assert_eq!(
        row("checkout-canary")[..5],
        ["shop", "checkout-canary", "checkout", "10", "Progressing"]
    );
    assert_eq!(
        row("search-canary")[..5],
        ["search", "search-canary", "search", "50", "Paused"]
    );
    // the short name and the kind, as kubectl resolves them
    let short = ok(kc, "us-east", &["get", "can", "-n", "shop", "-o", "wide"]).await;
    assert!(
        short.contains("ANALYSIS") && short.contains("error-rate"),
        "{short}"
    );
    let one = ok(
        kc,
        "us-east",
        &[
            "get",
            "canary",
            "checkout-canary",
            "-n",
            "shop",
            "-o",
            "json",
        ],
    )
    .await;
    let v: Value = serde_json::from_str(&one).expect("JSON");
    assert_eq!(v["spec"]["weight"], 10);
    assert_eq!(v["apiVersion"], "rollouts.pitwall.dev/v1");
    // only us-east holds the search canary
    let cn = ok(kc, "cn-north", &["get", "canaries", "-A", "-o", "name"]).await;
    assert_eq!(cn.trim(), "canary.rollouts.pitwall.dev/checkout-canary");
    let missing = kubectl(kc, "us-east", &["get", "canary", "nope", "-n", "shop"]).await;
    assert_ne!(missing.code, 0);
    assert!(
        missing
            .stderr
            .contains("canaries.rollouts.pitwall.dev \"nope\" not found"),
        "{}",
        missing.stderr
    );
    // every namespace holds the CA bundle ConfigMap, as a real cluster's
    let cms = ok(kc, "us-east", &["get", "cm", "-n", "shop"]).await;
    let cm: Vec<&str> = cms
        .lines()
        .find(|l| l.starts_with("kube-root-ca.crt"))
        .unwrap_or_else(|| panic!("{cms}"))
        .split_whitespace()
        .collect();
    assert_eq!(cm[..2], ["kube-root-ca.crt", "1"], "{cms}");
    // a watch holds until its timeout rather than ending at once
    let watch = kubectl(
        kc,
        "us-east",
        &["get", "canaries", "-A", "--watch", "--request-timeout=3s"],
    )
    .await;
    assert!(watch.stdout.contains("checkout-canary"), "{}", watch.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_name_resources_as_kube_apiserver_does() {
    let env = start(small()).await;
    let kc = env.kubeconfig.as_path();
    let no = kubectl(kc, "alpha", &["get", "deploy", "nope", "-n", "shop"]).await;
    assert_ne!(no.code, 0);
    assert!(
        no.stderr
            .contains("Error from server (NotFound): deployments.apps \"nope\" not found"),
        "{}",
        no.stderr
    );
    // The core group stays unqualified.
    let no = kubectl(kc, "alpha", &["get", "pod", "nope", "-n", "shop"]).await;
    assert!(
        no.stderr
            .contains("Error from server (NotFound): pods \"nope\" not found"),
        "{}",
        no.stderr
    );
    let no = kubectl(kc, "alpha", &["delete", "hpa", "nope", "-n", "shop"]).await;
    assert!(
        no.stderr
            .contains("horizontalpodautoscalers.autoscaling \"nope\" not found"),
        "{}",
        no.stderr
    );

    // The autoscaler's status as kubectl prints it: a steady load leaves web be.
    let hpa = until(
        kc,
        "alpha",
        &["get", "hpa", "web", "-n", "shop"],
        "hpa status",
        |o| o.contains("%/70%") && !o.contains("<unknown>"),
    )
    .await;
    assert!(hpa.contains("Deployment/web"), "{hpa}");
    // NAME REFERENCE TARGETS ("cpu: N%/70%") MINPODS MAXPODS REPLICAS AGE
    let cols: Vec<&str> = hpa
        .lines()
        .nth(1)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(cols.get(4..7), Some(&["3", "10", "3"][..]), "{hpa}");

    // AlreadyExists and Conflict name it the same way.
    let web = ok(
        kc,
        "alpha",
        &["get", "deploy", "web", "-n", "shop", "-o", "json"],
    )
    .await;
    let file = env._dir.path().join("web.json");
    std::fs::write(&file, &web).expect("write");
    let path = file.to_str().expect("path");
    let again = kubectl(kc, "alpha", &["create", "-f", path, "--validate=false"]).await;
    assert!(
        again.stderr.contains("(AlreadyExists)")
            && again
                .stderr
                .contains("deployments.apps \"web\" already exists"),
        "{}",
        again.stderr
    );
    ok(
        kc,
        "alpha",
        &["scale", "deploy", "web", "-n", "shop", "--replicas=5"],
    )
    .await;
    let stale = kubectl(kc, "alpha", &["replace", "-f", path, "--validate=false"]).await;
    assert!(
        stale.stderr.contains(
            "Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified"
        ),
        "{}",
        stale.stderr
    );
}
