//! The cockpit's own confirm flow against the simulator: keys in, the
//! confirm dialog's text, the effect run as the loop runs it, the write
//! path's answer as a toast, and the server's state read back.

use crate::harness::{self, Harness, Msg};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use k8s_openapi::api::apps::v1::Deployment;
use pitwall::state::{Modal, ToastLevel};
use pitwall::update::confirm;
use pitwall::write::{ObjectRef, Params};

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

async fn deployments(h: &Harness, region: &str) -> kube::Api<Deployment> {
    let spec = harness::ClientSpec {
        kubeconfig: harness::KubeconfigSource::Inline(Box::new(h.kubeconfig.clone())),
        context: region.to_string(),
        namespaces: Vec::new(),
    };
    match harness::fleet::client::build(&spec).await {
        Ok(c) => kube::Api::namespaced(c, "shop"),
        Err(e) => panic!("client for {region}: {e}"),
    }
}

/// Opens the dialog for `params` on `object`, answers `y`, runs what comes
/// out as the loop does, and waits for the answer's toast.
async fn confirm_with_y(
    h: &mut Harness,
    region: &str,
    object: ObjectRef,
    params: Params,
) -> (ToastLevel, String) {
    let r = h.region(region);
    let c = match h.env.writer.prepare(r, object, params) {
        Ok(c) => c,
        Err(e) => panic!("prepare: {e}"),
    };
    let state = &mut h.cockpit.state;
    confirm::ask(state, c, Vec::new());
    assert!(matches!(state.ui.modal, Some(Modal::Confirm(_))));
    let before = state.ui.toasts.len();
    let effects = h.cockpit.handle(key('y'));
    assert_eq!(effects.len(), 1, "{effects:?}");
    assert!(h.cockpit.state.ui.modal.is_none());
    h.run(effects);
    h.until("the write path's answer", |s| s.ui.toasts.len() > before)
        .await;
    let t = h
        .cockpit
        .state
        .ui
        .toasts
        .back()
        .cloned()
        .unwrap_or_else(|| panic!("no toast"));
    (t.level, t.text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmed_dialog_changes_the_cluster_and_says_so() {
    let mut h = harness::start(|_| {}, &[]).await;
    h.all_live().await;
    let api = deployments(&h, "pre-release").await;
    let now = match api.get("checkout").await {
        Ok(d) => d.spec.and_then(|s| s.replicas).unwrap_or(1),
        Err(e) => panic!("get checkout: {e}"),
    };
    let to = now + 2;
    let (level, text) = confirm_with_y(
        &mut h,
        "pre-release",
        ObjectRef::deployment("shop", "checkout"),
        Params::Scale { from: now, to },
    )
    .await;
    assert_eq!(level, ToastLevel::Info, "{text}");
    assert!(
        text.starts_with("done: scale deployment shop/checkout in pre-release")
            && text.contains(&format!("replicas {now} -> {to}")),
        "{text}"
    );
    let replicas = match api.get("checkout").await {
        Ok(d) => d.spec.and_then(|s| s.replicas),
        Err(e) => panic!("get checkout: {e}"),
    };
    assert_eq!(replicas, Some(to));
    let audit = std::fs::read_to_string(h.audit_dir.path().join("audit/audit.jsonl"))
        .unwrap_or_else(|e| panic!("audit log: {e}"));
    assert!(
        audit
            .lines()
            .any(|l| l.contains("\"checkout\"") && l.contains("\"scale\"")),
        "{audit}"
    );

    // the server's refusal, in its words
    let (level, text) = confirm_with_y(
        &mut h,
        "pre-release",
        ObjectRef::deployment("shop", "no-such-thing"),
        Params::Scale { from: 1, to: 2 },
    )
    .await;
    assert_eq!(level, ToastLevel::Error, "{text}");
    assert!(
        text.starts_with("failed: scale deployment shop/no-such-thing")
            && text.contains("not found"),
        "{text}"
    );
}
