//! Acting from the cockpit against the simulator over real HTTPS: each
//! registry action is planned, prepared, confirmed and sent through the one
//! write path, and kubectl confirms the effect; read-only refuses every
//! mutating action of the registry before any request; RBAC greys exec; the
//! audit log is read back by `pitwall audit`, field by field.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use pitwall::action::Action;
use pitwall::panes::workloads::plan::{self, Inputs, Planned, Target, WorkloadKind};
use pitwall::panes::workloads::rollout;
use pitwall::widgets::confirm::{self, ConfirmDialog};
use pitwall::write::{
    self, Access, Audit, ClientLookup, Permission, ReadClient, Refusal, RegionPolicy, Writer,
};
use pitwall_sim::{Fleet, Scenario};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

#[path = "actions/cockpit.rs"]
mod cockpit;
mod common;
#[allow(unused_imports)] // the harness re-exports more than these tests use
mod harness;
#[path = "actions/tmux.rs"]
mod tmux;

fn scenario(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("assets/scenarios/{name}.toml"));
    Scenario::load(&path).expect("scenario loads")
}

struct Env {
    fleet: Fleet,
    clients: Vec<kube::Client>,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl Env {
    async fn start(name: &str) -> Env {
        let fleet = Fleet::start(scenario(name), None)
            .await
            .expect("fleet starts");
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, fleet.kubeconfig_yaml()).expect("kubeconfig written");
        let mut clients = Vec::new();
        for r in fleet.regions() {
            let kc = kube::config::Kubeconfig::from_yaml(&fleet.kubeconfig_yaml()).expect("kc");
            let opts = kube::config::KubeConfigOptions {
                context: Some(r.context.clone()),
                ..Default::default()
            };
            let mut cfg = kube::Config::from_custom_kubeconfig(kc, &opts)
                .await
                .expect("config");
            cfg.default_retry = false;
            clients.push(kube::Client::try_from(cfg).expect("client"));
        }
        Env {
            fleet,
            clients,
            dir,
            kubeconfig,
        }
    }

    fn audit_dir(&self) -> PathBuf {
        self.dir.path().join("audit")
    }

    /// `beta` is production; `read_only_region` is read-only by itself.
    fn writer(&self, read_only: bool, read_only_region: Option<&str>) -> Writer {
        let regions = self
            .fleet
            .regions()
            .iter()
            .map(|r| RegionPolicy {
                name: r.name.clone(),
                context: r.context.clone(),
                production: r.name == "beta",
                read_only: Some(r.name.as_str()) == read_only_region,
            })
            .collect();
        let handles: Vec<ReadClient> = self.clients.iter().cloned().map(ReadClient::new).collect();
        let clients: ClientLookup = Arc::new(move |r| handles.get(r).cloned());
        Writer::new(
            regions,
            read_only,
            clients,
            Audit::open(&self.audit_dir()).expect("audit"),
        )
    }

    fn region(&self, name: &str) -> usize {
        self.fleet
            .regions()
            .iter()
            .position(|r| r.name == name)
            .expect("region")
    }

    fn context(&self, region: &str) -> String {
        self.fleet.regions()[self.region(region)].context.clone()
    }

    /// `kubectl get ... -o json` in a region.
    fn kubectl(&self, region: &str, args: &[&str]) -> Result<Value, String> {
        let out = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args([
                "--context",
                &self.context(region),
                "-n",
                "shop",
                "-o",
                "json",
            ])
            .args(args)
            .output()
            .expect("kubectl runs");
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())
    }

    fn kubectl_ok(&self, region: &str, args: &[&str]) -> Value {
        self.kubectl(region, args)
            .unwrap_or_else(|e| panic!("kubectl {args:?}: {e}"))
    }

    /// Plans `action` on `target`, then prepares, confirms (typing `typed`)
    /// and sends it.
    async fn act(
        &self,
        w: &Writer,
        action: Action,
        target: &Target,
        inputs: &Inputs,
        typed: &str,
    ) -> Result<write::Outcome, Refusal> {
        let Ok(Planned::Change { object, params }) = plan::plan(action, target, inputs) else {
            panic!("{action:?} is not a change on {target:?}");
        };
        let c = w.prepare(target.region(), object, params)?;
        write::send(w, c.confirm(typed)).await
    }

    /// Waits (bounded) until kubectl's view of the deployment satisfies `ok`.
    async fn wait_deployment(
        &self,
        region: &str,
        name: &str,
        ok: impl Fn(&Value) -> bool,
    ) -> Value {
        let mut last = Value::Null;
        for _ in 0..300 {
            last = self.kubectl_ok(region, &["get", "deployment", name]);
            if ok(&last) {
                return last;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("deployment {name} never reached the expected state: {last}");
    }
}

fn deployment(region: usize, replicas: i32) -> Target {
    Target::Workload {
        region,
        kind: WorkloadKind::Deployment,
        namespace: "shop".into(),
        name: "web".into(),
        replicas,
    }
}

fn revision_of(d: &Value) -> i64 {
    d["metadata"]["annotations"][rollout::REVISION]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_lands_as_kubectl_sees_it_and_is_audited() {
    let env = Env::start("test-small").await;
    let alpha = env.region("alpha");
    let w = env.writer(false, None);
    let mut inputs = Inputs {
        replicas: "5".into(),
        now: "2026-12-03T15:00:00Z".into(),
        undo: None,
    };
    let target = deployment(alpha, 3);

    // the autoscaler on web is read with the read-only handle and named in
    // the scale's confirm dialog
    let reader = ReadClient::new(env.clients[alpha].clone());
    let hpas: Value = reader
        .request(
            http::Request::get("/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers")
                .body(Vec::new())
                .expect("request"),
        )
        .await
        .expect("hpas");
    let hpas = hpas["items"].as_array().cloned().unwrap_or_default();
    let warning = confirm::hpa_warning(&hpas, "Deployment", "web").expect("web is autoscaled");
    let Ok(Planned::Change { object, params }) = plan::plan(Action::Scale, &target, &inputs) else {
        panic!("scale plans");
    };
    let dialog =
        ConfirmDialog::new(w.prepare(alpha, object, params).expect("prepare")).warn(warning);
    let lines = dialog.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("warning") && l.contains("autoscaled by")),
        "{lines:?}"
    );
    assert!(lines.contains(&format!("context    {}", env.context("alpha"))));

    // scale 3 -> 5
    let out = env
        .act(&w, Action::Scale, &target, &inputs, "")
        .await
        .expect("scaled");
    assert!(out.sentence.contains("replicas 3 -> 5"), "{}", out.sentence);
    assert_eq!(
        env.kubectl_ok("alpha", &["get", "deployment", "web"])["spec"]["replicas"],
        5
    );

    // rollout restart: the template annotation kubectl sets, and a new revision
    let before = revision_of(&env.kubectl_ok("alpha", &["get", "deployment", "web"]));
    env.act(&w, Action::RolloutRestart, &target, &inputs, "")
        .await
        .expect("restarted");
    let d = env
        .wait_deployment("alpha", "web", |d| revision_of(d) > before)
        .await;
    assert_eq!(
        d["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"],
        "2026-12-03T15:00:00Z"
    );
    // the live status view follows the restart to its end, as kubectl says it
    let mut said = Vec::new();
    let end = rollout::follow_status(
        &reader,
        "shop",
        "web",
        std::time::Duration::from_millis(100),
        |l| said.push(l),
    )
    .await;
    assert_eq!(end, Some(rollout::RolloutState::Complete), "{said:?}");
    assert_eq!(
        said.last().map(String::as_str),
        Some("deployment \"web\" successfully rolled out")
    );

    // pause, then resume
    env.act(&w, Action::RolloutPause, &target, &inputs, "")
        .await
        .expect("paused");
    assert_eq!(
        env.kubectl_ok("alpha", &["get", "deployment", "web"])["spec"]["paused"],
        true
    );
    env.act(&w, Action::RolloutResume, &target, &inputs, "")
        .await
        .expect("resumed");
    let paused = &env.kubectl_ok("alpha", &["get", "deployment", "web"])["spec"]["paused"];
    assert!(paused.is_null() || paused == false, "{paused}");

    // undo to the revision before the restart, chosen from the revisions
    // the ReplicaSets hold (read with the read-only handle)
    let get = |path: &str| {
        http::Request::get(format!("/apis/apps/v1/namespaces/shop/{path}"))
            .body(Vec::new())
            .expect("request")
    };
    let dep: Deployment = reader
        .request(get("deployments/web"))
        .await
        .expect("deployment");
    let sets: k8s_openapi::List<ReplicaSet> = reader
        .request(get("replicasets"))
        .await
        .expect("replicasets");
    let uid = dep.metadata.uid.clone().expect("uid");
    let revs = rollout::revisions(&uid, &sets.items);
    let old = revs
        .iter()
        .find(|r| r.number == before)
        .unwrap_or_else(|| panic!("revision {before} in {revs:?}"));
    assert_eq!(old.images, rollout::running_images(&dep));
    inputs.undo = Some(old.undo().expect("undo params"));
    let out = env
        .act(&w, Action::RolloutUndo, &target, &inputs, "")
        .await
        .expect("rolled back");
    assert!(
        out.sentence.contains(&format!("back to revision {before}")),
        "{}",
        out.sentence
    );
    let d = env
        .wait_deployment("alpha", "web", |d| {
            d["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
                .is_null()
        })
        .await;
    assert!(d["spec"]["template"]["metadata"]["labels"]["pod-template-hash"].is_null());
    // the rolled-back template is the newest revision again, as upstream
    let d = env
        .wait_deployment("alpha", "web", |d| revision_of(d) > before + 1)
        .await;
    assert!(revision_of(&d) > before + 1);

    // delete a pod with its grace period
    let pods = env.kubectl_ok("alpha", &["get", "pods"]);
    let pod = pods["items"]
        .as_array()
        .expect("pods")
        .iter()
        .find(|p| p["metadata"]["deletionTimestamp"].is_null())
        .expect("a live pod");
    let name = pod["metadata"]["name"].as_str().expect("name").to_string();
    let grace = pod["spec"]["terminationGracePeriodSeconds"]
        .as_u64()
        .map(|g| g as u32);
    let target_pod = Target::Pod {
        region: alpha,
        namespace: "shop".into(),
        name: name.clone(),
        grace_period_seconds: grace,
    };
    let out = env
        .act(&w, Action::DeletePod, &target_pod, &inputs, "")
        .await
        .expect("deleted");
    if let Some(g) = grace {
        assert!(
            out.sentence.contains(&format!("grace period {g} s")),
            "{}",
            out.sentence
        );
    }
    match env.kubectl("alpha", &["get", "pod", &name]) {
        Err(e) => assert!(e.contains("NotFound") || e.contains("not found"), "{e}"),
        Ok(p) => assert!(!p["metadata"]["deletionTimestamp"].is_null(), "{p}"),
    }

    // production: the typed name is required
    let beta = env.region("beta");
    let refused = env
        .act(&w, Action::Scale, &deployment(beta, 3), &inputs, "wrong")
        .await;
    assert!(
        matches!(refused, Err(Refusal::NotConfirmed(_))),
        "{refused:?}"
    );
    assert_eq!(
        env.kubectl_ok("beta", &["get", "deployment", "web"])["spec"]["replicas"],
        3
    );

    // the audit log, read back by `pitwall audit`, field by field
    let audit = Command::new(env!("CARGO_BIN_EXE_pitwall"))
        .arg("audit")
        .arg("--dir")
        .arg(env.audit_dir())
        .args(["--region", "alpha", "--since", "1h"])
        .output()
        .expect("pitwall audit runs");
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&audit.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let actions: Vec<&str> = lines.iter().filter_map(|l| l["action"].as_str()).collect();
    assert_eq!(
        actions,
        [
            "scale",
            "rollout restart",
            "rollout pause",
            "rollout resume",
            "rollout undo",
            "delete"
        ]
    );
    let verbs: Vec<&str> = lines.iter().filter_map(|l| l["verb"].as_str()).collect();
    assert_eq!(
        verbs,
        ["patch", "patch", "patch", "patch", "patch", "delete"]
    );
    for l in &lines {
        assert_eq!(l["region"], "alpha");
        assert_eq!(l["context"], env.context("alpha"));
        assert_eq!(l["result"], "ok");
        assert_eq!(l["object"]["namespace"], "shop");
        assert!(l["time"]
            .as_str()
            .is_some_and(|t| t.parse::<jiff::Timestamp>().is_ok()));
        assert!(l["user"].as_str().is_some_and(|u| !u.is_empty()));
        assert!(l["host"].as_str().is_some_and(|h| !h.is_empty()));
        assert!(l["duration_ms"].is_u64());
    }
    assert_eq!(lines[0]["object"]["kind"], "Deployment");
    assert_eq!(lines[0]["parameters"]["replicas"]["from"], 3);
    assert_eq!(lines[0]["parameters"]["replicas"]["to"], 5);
    assert_eq!(
        lines[1]["parameters"]["restartedAt"],
        "2026-12-03T15:00:00Z"
    );
    assert_eq!(lines[2]["parameters"]["paused"], true);
    assert_eq!(lines[3]["parameters"]["paused"], false);
    assert_eq!(lines[4]["parameters"]["revision"], before);
    assert_eq!(lines[5]["object"]["kind"], "Pod");
    assert_eq!(lines[5]["object"]["name"], name.as_str());
    assert_eq!(
        lines[5]["parameters"]["gracePeriodSeconds"],
        grace.map(Value::from).unwrap_or(Value::Null)
    );
    // the filters: another region has nothing; the future has nothing
    for args in [
        vec!["--region", "beta"],
        vec!["--since", "2999-01-01T00:00:00Z"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_pitwall"))
            .arg("audit")
            .arg("--dir")
            .arg(env.audit_dir())
            .args(&args)
            .output()
            .expect("pitwall audit runs");
        assert!(out.status.success());
        assert!(
            out.stdout.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let bad = Command::new(env!("CARGO_BIN_EXE_pitwall"))
        .args(["audit", "--since", "yesterday-ish"])
        .output()
        .expect("pitwall audit runs");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--since"));
}

/// Every mutating action of the registry, planned on the target it acts on.
fn every_mutating_action(region: usize) -> Vec<(Action, Planned)> {
    let inputs = Inputs {
        replicas: "7".into(),
        now: "2026-12-03T15:00:00Z".into(),
        undo: Some(pitwall::write::Params::Undo {
            revision: 1,
            template: serde_json::json!({}),
            images: vec![],
        }),
    };
    let pod = Target::Pod {
        region,
        namespace: "shop".into(),
        name: "web-0".into(),
        grace_period_seconds: Some(30),
    };
    plan::mutating_actions()
        .map(|a| {
            let planned = plan::plan(a, &deployment(region, 3), &inputs)
                .or_else(|_| plan::plan(a, &pod, &inputs))
                .unwrap_or_else(|e| panic!("{a:?} plans on neither a workload nor a pod: {e}"));
            (a, planned)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_refuses_every_mutating_action_before_any_request() {
    let env = Env::start("test-small").await;
    let alpha = env.region("alpha");
    let actions = every_mutating_action(alpha);
    assert_eq!(actions.len(), plan::mutating_actions().count());
    for (global, region_only) in [(true, None), (false, Some("alpha"))] {
        let w = env.writer(global, region_only);
        let before: Vec<u64> = ["alpha", "beta"]
            .iter()
            .map(|r| env.fleet.requests(r).expect("requests").all)
            .collect();
        for (action, planned) in &actions {
            let why = match planned {
                Planned::Change { object, params } => {
                    let c = w
                        .prepare(alpha, object.clone(), params.clone())
                        .expect("prepare");
                    let sent = write::send(&w, c.confirm(&object.name)).await;
                    let Err(r @ Refusal::ReadOnly { .. }) = sent else {
                        panic!("{action:?} was not refused as read-only: {sent:?}");
                    };
                    r.to_string()
                }
                Planned::Session(perm) => match write::allowed(&w, alpha, perm).await {
                    Access::Denied(why) => why,
                    other => panic!("{action:?} was offered in read-only mode: {other:?}"),
                },
            };
            assert!(why.contains("read-only"), "{action:?}: {why}");
        }
        let after: Vec<u64> = ["alpha", "beta"]
            .iter()
            .map(|r| env.fleet.requests(r).expect("requests").all)
            .collect();
        assert_eq!(before, after, "a request reached the simulator");
    }
    assert!(
        !env.audit_dir().join(write::audit::FILE).exists(),
        "refusals are not audited as changes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_in_cn_north_is_greyed_with_the_servers_reason() {
    let env = Env::start("demo").await;
    let w = env.writer(false, None);
    let cn = env.region("cn-north");
    let us = env.region("us-east");
    match write::allowed(&w, cn, &Permission::exec("shop")).await {
        Access::Denied(why) => assert!(!why.is_empty()),
        other => panic!("exec in cn-north offered: {other:?}"),
    }
    assert_eq!(
        write::allowed(&w, us, &Permission::exec("shop")).await,
        Access::Allowed
    );
    // the action as the cockpit offers it on a cn-north pod: greyed, with why
    let pod = Target::Pod {
        region: cn,
        namespace: "shop".into(),
        name: "checkout-0".into(),
        grace_period_seconds: Some(30),
    };
    match plan::offer(&w, Action::Exec, &pod).await {
        plan::Offer::Greyed(why) => assert!(!why.is_empty()),
        other => panic!("exec offered in cn-north: {other:?}"),
    }
    assert_eq!(
        plan::offer(&w, Action::DeletePod, &pod).await,
        plan::Offer::Available
    );
    assert_eq!(
        plan::offer(&w, Action::RolloutRestart, &deployment(cn, 3)).await,
        plan::Offer::Available
    );
    let us_pod = Target::Pod {
        region: us,
        namespace: "shop".into(),
        name: "checkout-0".into(),
        grace_period_seconds: Some(30),
    };
    assert_eq!(
        plan::offer(&w, Action::Exec, &us_pod).await,
        plan::Offer::Available
    );
    // read-only greys every mutating action, with the reason
    let ro = env.writer(true, None);
    for a in plan::mutating_actions() {
        let workload = deployment(cn, 3);
        let t = if matches!(a, Action::Exec | Action::DeletePod) {
            &pod
        } else {
            &workload
        };
        match plan::offer(&ro, a, t).await {
            plan::Offer::Greyed(why) => assert!(why.contains("read-only"), "{a:?}: {why}"),
            other => panic!("{a:?} offered in read-only mode: {other:?}"),
        }
    }
    // what cn-north does allow stays offered
    let restart = Permission {
        verb: "patch".into(),
        group: "apps".into(),
        resource: "deployments".into(),
        subresource: String::new(),
        namespace: "shop".into(),
    };
    assert_eq!(write::allowed(&w, cn, &restart).await, Access::Allowed);
}
