//! The cockpit acting, driven by keys against the simulator: keys in, the
//! dialogs' text on the drawn screen, the effects run as the loop runs
//! them, the write path's answer as a toast, kubectl confirming the change
//! and the audit log holding one line per change.

use crate::harness::{self, Harness, Msg};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pitwall::state::{Modal, Pane, ToastLevel};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn ch(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

/// Presses keys as the loop does: each key's effects are run.
fn press(h: &mut Harness, keys: &[KeyEvent]) {
    for k in keys {
        let effects = h.cockpit.handle(Msg::Key(*k));
        h.run(effects);
    }
}

fn typed(h: &mut Harness, text: &str) {
    let keys: Vec<KeyEvent> = text.chars().map(ch).collect();
    press(h, &keys);
}

fn kubeconfig(h: &Harness) -> PathBuf {
    let path = h.audit_dir.path().join("kubeconfig");
    std::fs::write(&path, h.fleet.kubeconfig_yaml()).unwrap_or_else(|e| panic!("kubeconfig: {e}"));
    path
}

/// `kubectl get` in a region's shop namespace, as JSON; `Err` with its
/// stderr when kubectl fails.
fn kubectl(h: &Harness, region: &str, args: &[&str]) -> Result<Value, String> {
    let ctx = &h.fleet.regions()[h.region(region)].context;
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig(h))
        .args(["--context", ctx, "-n", "shop", "-o", "json", "get"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("kubectl: {e}"));
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())
}

fn checkout(h: &Harness, region: &str) -> Value {
    kubectl(h, region, &["deployment", "checkout"]).unwrap_or_else(|e| panic!("{e}"))
}

/// Focuses the workloads pane on `shop/checkout` of `region`, by keys:
/// `w`, the filter, the region scope.
async fn select_checkout(h: &mut Harness, region: &str) {
    press(h, &[ch('w'), ch('/')]);
    typed(h, "checkout");
    press(h, &[code(KeyCode::Enter)]);
    let want = h.region(region);
    for _ in 0..=h.names.len() {
        if h.cockpit.state.store.view_spec().region == Some(want) {
            break;
        }
        press(h, &[ch('R')]);
    }
    press(h, &[ch('g'), ch('g')]);
    h.until("checkout selected", |s| {
        s.workloads
            .selected(&s.store)
            .is_some_and(|r| r.name == "checkout" && r.region == want)
    })
    .await;
    assert_eq!(h.cockpit.state.ui.focus, Pane::Workloads);
}

async fn confirm_dialog(h: &mut Harness) -> String {
    h.until("the confirm dialog", |s| {
        matches!(s.ui.modal, Some(Modal::Confirm(_)))
    })
    .await;
    h.screen(140, 40)
}

/// Waits for the write path's answer and returns its toast.
async fn answer(h: &mut Harness, before: usize) -> (ToastLevel, String) {
    h.until("the write path's answer", |s| {
        s.ui.toasts.iter().skip(before).any(|t| {
            t.text.starts_with("done:")
                || t.text.starts_with("failed:")
                || t.text.starts_with("refused")
        })
    })
    .await;
    let t = h
        .cockpit
        .state
        .ui
        .toasts
        .iter()
        .rev()
        .find(|t| {
            t.text.starts_with("done:")
                || t.text.starts_with("failed:")
                || t.text.starts_with("refused")
        })
        .cloned()
        .unwrap_or_else(|| panic!("no answer"));
    (t.level, t.text)
}

fn toasts(h: &Harness) -> usize {
    h.cockpit.state.ui.toasts.len()
}

async fn wait_kubectl(
    h: &mut Harness,
    what: &str,
    region: &str,
    ok: impl Fn(&Value) -> bool,
) -> Value {
    let mut last = Value::Null;
    for _ in 0..300 {
        last = checkout(h, region);
        if ok(&last) {
            return last;
        }
        h.run_for(std::time::Duration::from_millis(100)).await;
    }
    panic!("{what}: never seen by kubectl: {last}");
}

fn audit_lines(h: &Harness) -> Vec<Value> {
    let text =
        std::fs::read_to_string(h.audit_dir.path().join("audit/audit.jsonl")).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("audit line {l}: {e}")))
        .collect()
}

fn revision(d: &Value) -> i64 {
    d["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_restart_and_undo_by_keys_as_kubectl_sees_them() {
    let mut h = harness::start(|_| {}, &[]).await;
    h.all_live().await;
    select_checkout(&mut h, "pre-release").await;
    let now = checkout(&h, "pre-release")["spec"]["replicas"]
        .as_i64()
        .unwrap_or(0);

    // scale: the count input, then the confirm dialog with old -> new and the autoscaler
    press(&mut h, &[ch('c')]);
    let screen = h.screen(140, 40);
    assert!(screen.contains(&format!("replicas now {now}")), "{screen}");
    press(&mut h, &[code(KeyCode::Backspace); 6]);
    typed(&mut h, "8");
    press(&mut h, &[code(KeyCode::Enter)]);
    let screen = confirm_dialog(&mut h).await;
    for want in [
        "region     pre-release".to_string(),
        "namespace  shop".into(),
        "object     Deployment checkout".into(),
        format!("change     scale: replicas {now} -> 8"),
        "warning    autoscaled by checkout".into(),
        "confirm? (y/n)".into(),
    ] {
        assert!(screen.contains(&want), "{want} not in\n{screen}");
    }
    let before = toasts(&h);
    press(&mut h, &[ch('y')]);
    let (level, text) = answer(&mut h, before).await;
    assert_eq!(level, ToastLevel::Info, "{text}");
    assert!(text.contains(&format!("replicas {now} -> 8")), "{text}");
    wait_kubectl(&mut h, "8 replicas", "pre-release", |d| {
        d["spec"]["replicas"] == 8
    })
    .await;

    // restart: the restartedAt annotation, as kubectl rollout restart sets it
    let rev = revision(&checkout(&h, "pre-release"));
    press(&mut h, &[ctrl('r')]);
    let screen = confirm_dialog(&mut h).await;
    assert!(screen.contains("change     rollout restart"), "{screen}");
    let before = toasts(&h);
    press(&mut h, &[code(KeyCode::Enter)]);
    assert_eq!(answer(&mut h, before).await.0, ToastLevel::Info);
    let d = wait_kubectl(&mut h, "the restart's new revision", "pre-release", |d| {
        revision(d) > rev
    })
    .await;
    assert!(
        d["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
            .is_string(),
        "{d}"
    );

    // undo: the picker lists revisions; the older one differs by the restart only
    press(&mut h, &[ch('u')]);
    h.until("the revisions", |s| match &s.ui.modal {
        Some(Modal::Workload(d)) => matches!(&**d, pitwall::panes::workloads::act::Dialog::Undo { revisions: Some(Ok(r)), .. } if r.len() >= 2),
        _ => false,
    })
    .await;
    let screen = h.screen(140, 40);
    assert!(
        screen.contains(&format!("> revision {}", rev + 1)),
        "{screen}"
    );
    assert!(screen.contains(&format!("revision {rev}")), "{screen}");
    // each revision with its age, images and change-cause
    let newest = screen
        .lines()
        .find(|l| l.contains(&format!("> revision {}", rev + 1)))
        .unwrap_or_default();
    assert!(
        newest.contains("registry.local/shop/checkout:") && !newest.contains(" ? "),
        "{newest}"
    );
    assert!(screen.contains("same images as running"), "{screen}");
    press(&mut h, &[ch('j')]);
    press(&mut h, &[code(KeyCode::Enter)]);
    let screen = confirm_dialog(&mut h).await;
    assert!(
        screen.contains(&format!("change     rollout undo: back to revision {rev}")),
        "{screen}"
    );
    let before = toasts(&h);
    press(&mut h, &[ch('y')]);
    assert_eq!(answer(&mut h, before).await.0, ToastLevel::Info);
    let d = wait_kubectl(&mut h, "the undo", "pre-release", |d| {
        d["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
            .is_null()
    })
    .await;
    assert!(revision(&d) > rev + 1, "{d}");

    // a change the server refuses: the toast says why in its words
    let c = h
        .env
        .writer
        .prepare(
            h.region("pre-release"),
            pitwall::write::ObjectRef::deployment("shop", "no-such-thing"),
            pitwall::write::Params::Scale { from: 1, to: 2 },
        )
        .unwrap_or_else(|e| panic!("prepare: {e}"));
    pitwall::update::confirm::ask(&mut h.cockpit.state, c, Vec::new());
    let before = toasts(&h);
    press(&mut h, &[ch('y')]);
    let (level, text) = answer(&mut h, before).await;
    assert_eq!(level, ToastLevel::Error, "{text}");
    assert!(
        text.starts_with("failed: scale deployment shop/no-such-thing")
            && text.contains("not found"),
        "{text}"
    );

    // one audit line per change, in order (the refused one too: it was sent)
    let audit = audit_lines(&h);
    let actions: Vec<&str> = audit.iter().filter_map(|l| l["action"].as_str()).collect();
    assert_eq!(
        actions,
        ["scale", "rollout restart", "rollout undo", "scale"],
        "{audit:?}"
    );
    for l in &audit[..3] {
        assert_eq!(l["region"], "pre-release");
        assert_eq!(l["result"], "ok");
        assert!(l["object"].to_string().contains("checkout"), "{l}");
    }
    assert!(
        audit[3]["result"]["failed"]
            .as_str()
            .is_some_and(|m| m.contains("not found")),
        "{:?}",
        audit[3]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_takes_the_typed_name_and_pause_resume_delete_land() {
    let mut h = harness::start(|_| {}, &[]).await;
    h.all_live().await;
    select_checkout(&mut h, "us-east").await;

    // pause in a production region: y is a letter of the name there
    press(&mut h, &[ch('P')]);
    let screen = confirm_dialog(&mut h).await;
    assert!(
        screen.contains("production region: type `checkout` and press Enter"),
        "{screen}"
    );
    press(&mut h, &[ch('y'), code(KeyCode::Enter)]);
    let screen = h.screen(140, 40);
    assert!(
        screen.contains("type `checkout` exactly to confirm"),
        "{screen}"
    );
    assert_eq!(checkout(&h, "us-east")["spec"]["paused"], Value::Null);
    press(&mut h, &[code(KeyCode::Backspace)]);
    typed(&mut h, "checkout");
    let before = toasts(&h);
    press(&mut h, &[code(KeyCode::Enter)]);
    assert_eq!(answer(&mut h, before).await.0, ToastLevel::Info);
    wait_kubectl(&mut h, "paused", "us-east", |d| d["spec"]["paused"] == true).await;

    press(&mut h, &[ch('U')]);
    confirm_dialog(&mut h).await;
    typed(&mut h, "checkout");
    let before = toasts(&h);
    press(&mut h, &[code(KeyCode::Enter)]);
    assert_eq!(answer(&mut h, before).await.0, ToastLevel::Info);
    wait_kubectl(&mut h, "resumed", "us-east", |d| {
        d["spec"]["paused"] != true
    })
    .await;

    // delete a pod from the pods pane, its grace period shown
    press(&mut h, &[ch('o'), ch('g'), ch('g')]);
    let pod = h
        .cockpit
        .state
        .ui
        .pods
        .selected
        .and_then(|s| h.cockpit.state.store.get(s))
        .map(|p| p.name.clone())
        .unwrap_or_else(|| panic!("no pod selected"));
    assert!(pod.starts_with("checkout-"), "{pod}");
    press(&mut h, &[ctrl('k')]);
    let screen = confirm_dialog(&mut h).await;
    assert!(
        screen.contains(&format!("object     Pod {pod}")),
        "{screen}"
    );
    assert!(
        screen.contains("change     delete: grace period 30 s"),
        "{screen}"
    );
    typed(&mut h, &pod);
    let before = toasts(&h);
    press(&mut h, &[code(KeyCode::Enter)]);
    assert_eq!(answer(&mut h, before).await.0, ToastLevel::Info);
    let mut gone = false;
    for _ in 0..300 {
        match kubectl(&h, "us-east", &["pod", &pod]) {
            Err(e) if e.contains("NotFound") || e.contains("not found") => gone = true,
            Ok(p) if p["metadata"]["deletionTimestamp"].is_string() => gone = true,
            _ => {}
        }
        if gone {
            break;
        }
        h.run_for(std::time::Duration::from_millis(100)).await;
    }
    assert!(gone, "kubectl still sees {pod}");
    let audit = audit_lines(&h);
    let verbs: Vec<(&str, &str)> = audit
        .iter()
        .map(|l| {
            (
                l["verb"].as_str().unwrap_or(""),
                l["action"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        verbs,
        [
            ("patch", "rollout pause"),
            ("patch", "rollout resume"),
            ("delete", "delete")
        ],
        "{audit:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_refuses_from_the_ui_with_zero_requests() {
    let opts = harness::SourceOptions {
        // no probes while the keys are pressed: only the cockpit's own requests count
        probe_after: std::time::Duration::from_secs(3600),
        dead_after: std::time::Duration::from_secs(7200),
        ..harness::SourceOptions::default()
    };
    let mut h = harness::start_with(harness::Scenario::demo(), opts, |_| {}, &[]).await;
    h.all_live().await;
    h.cockpit.state.access.read_only = true;
    select_checkout(&mut h, "pre-release").await;
    h.run_for(std::time::Duration::from_millis(300)).await;
    let before = h.requests("pre-release").all;
    let replicas = checkout(&h, "pre-release")["spec"]["replicas"].clone();
    let after_kubectl = h.requests("pre-release").all;
    for k in [ch('c'), ctrl('r'), ch('u'), ch('P'), ch('U')] {
        press(&mut h, &[k]);
        assert!(h.cockpit.state.ui.modal.is_none(), "{k:?} opened a dialog");
        let t = h
            .cockpit
            .state
            .ui
            .toasts
            .back()
            .cloned()
            .unwrap_or_else(|| panic!("no toast"));
        assert!(
            t.text.contains("read-only") && t.text.contains("nothing sent"),
            "{}",
            t.text
        );
    }
    press(&mut h, &[ch('o'), ch('g'), ch('g'), ctrl('k')]);
    assert!(h.cockpit.state.ui.modal.is_none());
    // the hint line greys every action with the reason
    press(&mut h, &[ch('w')]);
    let screen = h.screen(200, 40);
    assert!(
        screen.contains("read-only (--read-only or read_only = true)]"),
        "{screen}"
    );
    h.run_for(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        h.requests("pre-release").all,
        after_kubectl,
        "requests were sent (before kubectl: {before})"
    );
    assert_eq!(checkout(&h, "pre-release")["spec"]["replicas"], replicas);
    assert!(audit_lines(&h).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rbac_greys_an_action_with_the_servers_reason_before_it_is_offered() {
    let toml = pitwall_sim::DEMO_TOML.replacen(
        "name = \"pre-release\"\n",
        "name = \"pre-release\"\nrbac = [\n  { effect = \"deny\", verbs = [\"patch\"], resources = [\"deployments/scale\"] },\n  { effect = \"allow\", verbs = [\"*\"], resources = [\"*\"] },\n]\n",
        1,
    );
    let scenario = harness::Scenario::from_toml(&toml, "demo with scale forbidden")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut h = harness::start_on(scenario, |_| {}, &[]).await;
    h.all_live().await;
    select_checkout(&mut h, "pre-release").await;
    h.until("the selection's offers", |s| {
        pitwall::panes::workloads::act::refusal(s, pitwall::action::Action::Scale).is_some()
    })
    .await;
    let screen = h.screen(200, 40);
    assert!(screen.contains("[c scale: "), "{screen}");
    assert!(screen.contains("<C-r> restart"), "{screen}");
    let before = checkout(&h, "pre-release")["spec"]["replicas"].clone();
    press(&mut h, &[ch('c')]);
    assert!(
        h.cockpit.state.ui.modal.is_none(),
        "a refused scale opened its input"
    );
    let t = h
        .cockpit
        .state
        .ui
        .toasts
        .back()
        .cloned()
        .unwrap_or_else(|| panic!("no toast"));
    assert!(
        t.text.starts_with("scale: ") && t.text.contains("scale"),
        "{}",
        t.text
    );
    assert_eq!(checkout(&h, "pre-release")["spec"]["replicas"], before);
    // the palette says it too
    press(&mut h, &[ch(':')]);
    typed(&mut h, "scale");
    let screen = h.screen(200, 40);
    assert!(screen.contains("greyed: "), "{screen}");
    press(&mut h, &[code(KeyCode::Esc)]);
    assert!(audit_lines(&h).is_empty());
}
