//! Exec and port-forward through the write path, against the in-process
//! simulator over real HTTPS: the session API runs commands and returns
//! their exit codes; cn-north's RBAC refuses exec before the exec request
//! (and the cockpit's picker is greyed with the reason); read-only refuses
//! before anything is sent; a forward started from the cockpit answers HTTP
//! with the pod's name, follows its workload to the replacement when the
//! pod is deleted, and releases its port when stopped; a forward to a pod
//! ends, listener and all, when the pod is deleted; a forward to a Service
//! from the resources pane (`:svc`, `F`) answers from a pod of its
//! selector and follows it to a replacement. The audit lines are read back
//! field by field.

// the harness re-exports more than these tests use
#[allow(unused_imports)]
mod harness;

use harness::*;
use k8s_openapi::api::core::v1::Pod as CorePod;
use kube::api::Api as KubeApi;
use pitwall::panes::exec::SessionDialog;
use pitwall::panes::forwards::state::{ForwardSpec, ForwardTarget};
use pitwall::state::Modal;
use pitwall::tasks::{TaskCommand, TaskKey, TaskState};
use pitwall::write::session::{self, ExecRequest};
use pitwall::write::Refusal;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn key(c: char) -> Msg {
    Msg::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char(c),
        crossterm::event::KeyModifiers::NONE,
    ))
}

fn press(c: crossterm::event::KeyCode) -> Msg {
    Msg::Key(crossterm::event::KeyEvent::new(
        c,
        crossterm::event::KeyModifiers::NONE,
    ))
}

/// A running, ready pod of `app` in `namespace`.
async fn ready_pod(h: &Harness, region: &str, namespace: &str, app: &str) -> String {
    ready_pod_but(h, region, namespace, app, "").await
}

/// A running, ready pod of `app` other than `not`.
async fn ready_pod_but(h: &Harness, region: &str, namespace: &str, app: &str, not: &str) -> String {
    let client = h.api(region).await.into_client();
    let api: KubeApi<CorePod> = KubeApi::namespaced(client, namespace);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let pods = api
            .list(&ListParams::default().labels(&format!("app={app}")))
            .await
            .unwrap_or_else(|e| panic!("list {app}: {e}"));
        let ready = pods.items.into_iter().find(|p| {
            let st = p.status.as_ref();
            p.metadata.name.as_deref() != Some(not)
                && p.metadata.deletion_timestamp.is_none()
                && st.and_then(|s| s.phase.as_deref()) == Some("Running")
                && st
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        });
        if let Some(name) = ready.and_then(|p| p.metadata.name) {
            return name;
        }
        assert!(tokio::time::Instant::now() < deadline, "no ready {app} pod");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Runs a command without a TTY; its stdout and exit code.
async fn exec(h: &Harness, region: usize, pod: &str, command: &[&str]) -> (String, Option<i32>) {
    let req = ExecRequest {
        region,
        namespace: "shop".into(),
        pod: pod.into(),
        container: None,
        command: command.iter().map(|s| s.to_string()).collect(),
        tty: false,
    };
    let mut s = session::exec_session(&h.env.writer, &req)
        .await
        .unwrap_or_else(|r| panic!("exec {command:?}: {r}"));
    let mut out = String::new();
    if let Some(mut stdout) = s.process.stdout() {
        tokio::time::timeout(WAIT, stdout.read_to_string(&mut out))
            .await
            .unwrap_or_else(|_| panic!("exec {command:?}: no end of output"))
            .unwrap_or_else(|e| panic!("exec {command:?}: {e}"));
    }
    let status = s
        .process
        .take_status()
        .unwrap_or_else(|| panic!("no status"));
    let status = tokio::time::timeout(WAIT, status)
        .await
        .unwrap_or_else(|_| panic!("exec {command:?}: no status"));
    let code = status.as_ref().and_then(session::exit_code);
    s.audit.end(code, pitwall::write::audit::AuditResult::Ok);
    (out, code)
}

fn audit_lines(h: &Harness) -> Vec<Value> {
    let path = h.audit_dir.path().join("audit").join("audit.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("audit line {l}: {e}")))
        .collect()
}

/// Selects `pod` of `region` in the pods table.
fn select(h: &mut Harness, region: usize, pod: &str) {
    let s = &mut h.cockpit.state;
    s.refresh_view();
    let index = s
        .store
        .view()
        .iter()
        .position(|slot| {
            s.store
                .get(*slot)
                .is_some_and(|r| r.region == region && r.name == pod)
        })
        .unwrap_or_else(|| panic!("{pod} not in the table"));
    pitwall::panes::pods::select_index(s, index);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_runs_commands_returns_exit_codes_and_is_refused_where_it_must_be() {
    let mut h = start(|_| {}, &[]).await;
    h.all_live().await;
    let us = h.region("us-east");
    let cn = h.region("cn-north");
    let pod = ready_pod(&h, "us-east", "shop", "cart").await;

    let (out, code) = exec(&h, us, &pod, &["hostname"]).await;
    assert_eq!(out.trim(), pod);
    assert_eq!(code, Some(0));
    let (_, code) = exec(&h, us, &pod, &["sh", "-c", "exit 3"]).await;
    assert_eq!(code, Some(3));

    // another pod deleted under a session: the session ends with 137
    let victim = ready_pod_but(&h, "us-east", "shop", "cart", &pod).await;
    let req = ExecRequest {
        region: us,
        namespace: "shop".into(),
        pod: victim.clone(),
        container: None,
        command: vec!["sleep".into(), "60".into()],
        tty: false,
    };
    let mut s = session::exec_session(&h.env.writer, &req)
        .await
        .unwrap_or_else(|r| panic!("exec sleep: {r}"));
    let status = s
        .process
        .take_status()
        .unwrap_or_else(|| panic!("no status"));
    let api: KubeApi<CorePod> = KubeApi::namespaced(h.api("us-east").await.into_client(), "shop");
    api.delete(&victim, &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("delete {victim}: {e}"));
    let ended = tokio::time::timeout(WAIT, status)
        .await
        .unwrap_or_else(|_| panic!("the session outlived its pod"));
    assert_eq!(ended.as_ref().and_then(session::exit_code), Some(137));
    s.audit
        .end(Some(137), pitwall::write::audit::AuditResult::Ok);

    // cn-north forbids exec: refused by the access review, so the exec
    // request itself is never sent (the server would answer it 403: Failed)
    let cn_pod = ready_pod(&h, "cn-north", "shop", "cart").await;
    let req = ExecRequest {
        region: cn,
        namespace: "shop".into(),
        pod: cn_pod.clone(),
        container: None,
        command: vec!["hostname".into()],
        tty: false,
    };
    match session::exec_session(&h.env.writer, &req).await {
        Err(Refusal::Forbidden(why)) => assert!(why.contains("exec"), "{why}"),
        Err(other) => panic!("expected an RBAC refusal, got {other}"),
        Ok(_) => panic!("exec opened in cn-north"),
    }
    // read-only refuses before anything at all
    let (regions, _) = pitwall::app::fleet_regions(&h.fleet).unwrap_or_else(|e| panic!("{e}"));
    let ro_dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (ro, _) = pitwall::app::writer_for(
        &regions,
        pitwall::config::Access {
            read_only: true,
            ..Default::default()
        },
        &h.clients,
        Some(ro_dir.path().join("audit")),
    );
    let before = h.requests("us-east").all;
    let us_req = ExecRequest {
        region: us,
        pod: pod.clone(),
        ..req.clone()
    };
    assert!(matches!(
        session::exec_session(&ro, &us_req).await,
        Err(Refusal::ReadOnly { region: None })
    ));
    let fwd = session::port_forward(
        &ro,
        us,
        pitwall::write::ObjectRef::pod("shop", &pod),
        Value::Null,
    )
    .await;
    assert!(matches!(fwd, Err(Refusal::ReadOnly { region: None })));
    // the sources' own traffic aside (watches hold, probes only when quiet),
    // nothing of ours: no audit record either
    let after = h.requests("us-east").all;
    assert!(
        after - before <= 2,
        "requests sent in read-only: {}",
        after - before
    );
    assert!(!ro_dir.path().join("audit/audit.jsonl").exists());

    // the cockpit's picker on a cn-north pod: greyed with the reason, and
    // Enter sends nothing
    h.until("the cn-north pod in the table", |s| {
        s.store.rows().any(|r| r.region == cn && r.name == cn_pod)
    })
    .await;
    select(&mut h, cn, &cn_pod);
    let effects = h.cockpit.handle(key('e'));
    assert_eq!(effects.len(), 1, "{effects:?}");
    h.run(effects);
    h.until("the picker's check", |s| {
        matches!(&s.ui.modal, Some(Modal::Session(d))
            if matches!(d.as_ref(), SessionDialog::Exec(p) if p.access.is_some()))
    })
    .await;
    assert!(h
        .cockpit
        .handle(press(crossterm::event::KeyCode::Enter))
        .is_empty());
    let screen = h.screen(120, 40);
    assert!(screen.contains("refused:"), "{screen}");
    assert!(screen.contains("pods/exec"), "{screen}");

    // the audit: a start and an end per session, field by field
    let lines = audit_lines(&h);
    let sessions: Vec<&Value> = lines
        .iter()
        .filter(|l| l["action"] == "exec" && l["object"]["name"] == pod.as_str())
        .collect();
    assert_eq!(sessions.len(), 4, "{lines:?}");
    for l in &sessions {
        assert_eq!(l["region"], "us-east");
        assert_eq!(l["context"], "us-east");
        assert_eq!(l["verb"], "create");
        assert_eq!(l["object"]["kind"], "Pod");
        assert_eq!(l["object"]["namespace"], "shop");
        assert_eq!(l["object"]["name"], pod.as_str());
        assert_eq!(l["result"], "ok");
        assert_eq!(l["session"]["kind"], "exec");
        assert!(!l["user"].as_str().unwrap_or_default().is_empty());
        assert!(!l["host"].as_str().unwrap_or_default().is_empty());
        assert!(l["time"].as_str().is_some_and(|t| t.contains('T')));
    }
    assert_eq!(sessions[0]["session"]["phase"], "start");
    assert_eq!(
        sessions[0]["parameters"]["command"],
        serde_json::json!(["hostname"])
    );
    assert_eq!(sessions[1]["session"]["phase"], "end");
    assert_eq!(sessions[1]["session"]["exit_code"], 0);
    assert!(sessions[1]["session"]["bytes_in"].is_u64());
    assert!(sessions[1]["session"]["bytes_out"].is_u64());
    assert_eq!(sessions[3]["session"]["exit_code"], 3);
    assert_eq!(
        sessions[2]["parameters"]["command"],
        serde_json::json!(["sh", "-c", "exit 3"])
    );
}

/// One HTTP request through the forward; the body (the pod's name).
async fn http_get(port: u16) -> Result<String, String> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    s.write_all(b"GET / HTTP/1.1\r\nHost: pitwall\r\nConnection: close\r\n\r\n")
        .await
        .map_err(|e| e.to_string())?;
    // the responder keeps the connection alive: read by Content-Length
    let mut buf = Vec::new();
    let read = async {
        let mut chunk = [0u8; 4096];
        loop {
            let text = String::from_utf8_lossy(&buf).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .ok_or(format!("no Content-Length: {head}"))?;
                if body.len() >= len {
                    if !head.starts_with("HTTP/1.1 200") {
                        return Err(head.to_string());
                    }
                    return Ok(body[..len].trim().to_string());
                }
            }
            match s.read(&mut chunk).await {
                Ok(0) => return Err(format!("closed after {text:?}")),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(e.to_string()),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .map_err(|_| "no answer".to_string())?
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    l.local_addr().unwrap_or_else(|e| panic!("{e}")).port()
}

fn bindable(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forward_answers_follows_its_workload_and_releases_its_port() {
    let mut h = start(|_| {}, &[]).await;
    h.all_live().await;
    let us = h.region("pre-release");
    let pod = ready_pod(&h, "pre-release", "shop", "cart").await;
    h.until("the pod in the table", |s| {
        s.store.rows().any(|r| r.region == us && r.name == pod)
    })
    .await;

    // F on the pod: the dialog offers its Deployment with the declared port
    select(&mut h, us, &pod);
    let effects = h.cockpit.handle(key('F'));
    h.run(effects);
    h.until("the forward dialog's check", |s| {
        matches!(&s.ui.modal, Some(Modal::Session(d))
            if matches!(d.as_ref(), SessionDialog::Forward(f) if f.access.is_some() && f.declared.is_some()))
    })
    .await;
    let local = free_port();
    {
        let Some(Modal::Session(d)) = &h.cockpit.state.ui.modal else {
            panic!("no dialog")
        };
        let SessionDialog::Forward(f) = d.as_ref() else {
            panic!("not the forward dialog")
        };
        assert_eq!(f.access, Some(Ok(())));
        assert_eq!(f.declared, Some(Ok(vec![8080])));
        assert_eq!(f.ports.lines().join(""), "8080");
        assert_eq!(f.target(), ForwardTarget::Deployment("cart".into()));
    }
    // another local port than the remote one (8080 may be taken here)
    h.cockpit.handle(press(crossterm::event::KeyCode::Home));
    for c in format!("{local}:").chars() {
        h.cockpit.handle(key(c));
    }
    let effects = h.cockpit.handle(press(crossterm::event::KeyCode::Enter));
    assert!(
        matches!(
            effects.as_slice(),
            [pitwall::update::Effect::Task(TaskCommand::Start(..))]
        ),
        "{effects:?}"
    );
    h.run(effects);
    let key_ = TaskKey(format!(
        "port-forward pre-release/shop/deployment/cart {local}"
    ));
    h.until("the forward to listen", |s| {
        matches!(
            s.tasks.get(&key_),
            Some(TaskState::Running(_) | TaskState::Failed(_))
        )
    })
    .await;
    assert!(
        matches!(
            h.cockpit.state.tasks.get(&key_),
            Some(TaskState::Running(_))
        ),
        "{:?}",
        h.cockpit.state.tasks.get(&key_)
    );
    assert!(h.cockpit.state.ui.modal.is_none());

    let first = http_get(local)
        .await
        .unwrap_or_else(|e| panic!("curl: {e}"));
    let cart = first.clone();
    assert!(first.starts_with("cart-"), "{first}");
    assert!(h.cockpit.state.tasks.get(&key_).is_some());

    // the pod it reaches is deleted: the next answers come from another
    let api: KubeApi<CorePod> =
        KubeApi::namespaced(h.api("pre-release").await.into_client(), "shop");
    api.delete(&cart, &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("delete {cart}: {e}"));
    let deadline = tokio::time::Instant::now() + WAIT;
    let replacement = loop {
        h.run_for(Duration::from_millis(200)).await;
        if let Ok(name) = http_get(local).await {
            if name != cart {
                break name;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still forwarding to {cart}"
        );
    };
    assert!(replacement.starts_with("cart-"), "{replacement}");

    // the pane shows it with its counters
    h.until("counters", |s| {
        s.forwards
            .rows
            .get(&key_)
            .is_some_and(|r| r.stats.bytes_out > 0 && r.stats.total >= 2)
    })
    .await;
    h.cockpit.handle(key('f'));
    let screen = h.screen(160, 30);
    assert!(screen.contains(&format!("127.0.0.1:{local}")), "{screen}");
    assert!(
        screen.contains("pre-release/shop/deployment/cart:8080"),
        "{screen}"
    );
    assert!(screen.contains("forwarding"), "{screen}");

    // x stops it: the port is free again
    let effects = h.cockpit.handle(key('x'));
    h.run(effects);
    h.until("the forward to stop", |s| {
        matches!(s.tasks.get(&key_), Some(TaskState::Stopped))
    })
    .await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while !bindable(local) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "127.0.0.1:{local} still held"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // a port in use is said so, and nothing is audited for it
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let busy = holder.local_addr().unwrap_or_else(|e| panic!("{e}")).port();
    let to_pod = ForwardSpec {
        region: us,
        region_name: "pre-release".into(),
        namespace: "shop".into(),
        target: ForwardTarget::Pod(replacement.clone()),
        remote: 8080,
        local: busy,
    };
    h.run(vec![pitwall::panes::forwards::start(to_pod.clone())]);
    h.until("the busy port refused", |s| {
        matches!(s.tasks.get(&to_pod.key()), Some(TaskState::Failed(_)))
    })
    .await;
    match h.cockpit.state.tasks.get(&to_pod.key()) {
        Some(TaskState::Failed(why)) => assert!(why.contains("in use"), "{why}"),
        other => panic!("{other:?}"),
    }
    drop(holder);

    // a forward to a pod ends with the pod, listener and all
    let to_pod = ForwardSpec {
        local: free_port(),
        ..to_pod
    };
    h.run(vec![pitwall::panes::forwards::start(to_pod.clone())]);
    h.until("the pod forward to listen", |s| {
        matches!(s.tasks.get(&to_pod.key()), Some(TaskState::Running(_)))
    })
    .await;
    assert_eq!(
        http_get(to_pod.local).await.as_deref(),
        Ok(replacement.as_str())
    );
    api.delete(&replacement, &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("delete {replacement}: {e}"));
    h.until("the pod forward to end", |s| {
        matches!(s.tasks.get(&to_pod.key()), Some(TaskState::Failed(_)))
    })
    .await;
    match h.cockpit.state.tasks.get(&to_pod.key()) {
        Some(TaskState::Failed(why)) => assert!(why.contains(&replacement), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(bindable(to_pod.local), "listener left after the pod went");

    // audit: start and end of both forwards that opened, bytes counted
    let lines = audit_lines(&h);
    let fwd: Vec<&Value> = lines
        .iter()
        .filter(|l| l["action"] == "port-forward")
        .collect();
    assert_eq!(fwd.len(), 4, "{lines:?}");
    let phases: Vec<&str> = fwd
        .iter()
        .map(|l| l["session"]["phase"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(phases, ["start", "end", "start", "end"]);
    assert_eq!(fwd[0]["object"]["kind"], "Deployment");
    assert_eq!(fwd[0]["object"]["name"], "cart");
    assert_eq!(fwd[0]["region"], "pre-release");
    assert_eq!(fwd[0]["verb"], "create");
    assert_eq!(
        fwd[0]["parameters"]["local_address"],
        format!("127.0.0.1:{local}")
    );
    assert_eq!(fwd[0]["parameters"]["remote_port"], 8080);
    assert_eq!(fwd[1]["result"], "ok");
    assert!(fwd[1]["session"]["bytes_in"].as_u64().unwrap_or(0) > 0);
    assert!(fwd[1]["session"]["bytes_out"].as_u64().unwrap_or(0) > 0);
    assert_eq!(fwd[2]["object"]["kind"], "Pod");
    assert!(fwd[3]["result"]["failed"]
        .as_str()
        .is_some_and(|w| w.contains("gone") || w.contains("no longer")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forward_to_a_service_follows_its_pods_and_releases_its_port() {
    let mut h = start(|_| {}, &[]).await;
    h.all_live().await;
    let us = h.region("pre-release");
    // a Service pod is ready before the forward is asked for
    ready_pod(&h, "pre-release", "shop", "cart").await;

    // `:svc`: the resources pane lists every region's Services
    let effects = h.cockpit.handle(key(':'));
    h.run(effects);
    for c in "svc".chars() {
        h.cockpit.handle(key(c));
    }
    let effects = h.cockpit.handle(press(crossterm::event::KeyCode::Enter));
    h.run(effects);
    let row_of_cart = |s: &pitwall::state::State| {
        let spec = s.store.view_spec();
        s.resources
            .view(&s.region_names, spec.region, spec.namespace.as_deref())
            .rows
            .iter()
            .position(|r| r.region == us && r.namespace == "shop" && r.name == "cart")
    };
    h.until("service/cart in the resources pane", |s| {
        row_of_cart(s).is_some()
    })
    .await;
    assert_eq!(
        h.cockpit
            .state
            .resources
            .rt
            .as_ref()
            .map(|t| t.kind.as_str()),
        Some("Service")
    );
    h.cockpit.state.resources.cursor = row_of_cart(&h.cockpit.state).unwrap_or_default();

    // F on the row: the dialog offers the Service with its ports
    let effects = h.cockpit.handle(key('F'));
    h.run(effects);
    h.until("the service forward dialog's check", |s| {
        matches!(&s.ui.modal, Some(Modal::Session(d))
            if matches!(d.as_ref(), SessionDialog::Forward(f) if f.access.is_some() && f.declared.is_some()))
    })
    .await;
    {
        let Some(Modal::Session(d)) = &h.cockpit.state.ui.modal else {
            panic!("no dialog")
        };
        let SessionDialog::Forward(f) = d.as_ref() else {
            panic!("not the forward dialog")
        };
        assert_eq!(f.access, Some(Ok(())));
        assert_eq!(f.declared, Some(Ok(vec![8080])));
        assert_eq!(f.target(), ForwardTarget::Service("cart".into()));
    }
    let screen = h.screen(160, 40);
    assert!(screen.contains("service/cart"), "{screen}");
    assert!(screen.contains("service ports"), "{screen}");
    let local = free_port();
    h.cockpit.handle(press(crossterm::event::KeyCode::Home));
    for c in format!("{local}:").chars() {
        h.cockpit.handle(key(c));
    }
    let effects = h.cockpit.handle(press(crossterm::event::KeyCode::Enter));
    h.run(effects);
    let key_ = TaskKey(format!(
        "port-forward pre-release/shop/service/cart {local}"
    ));
    h.until("the service forward to listen", |s| {
        matches!(
            s.tasks.get(&key_),
            Some(TaskState::Running(_) | TaskState::Failed(_))
        )
    })
    .await;
    assert!(
        matches!(
            h.cockpit.state.tasks.get(&key_),
            Some(TaskState::Running(_))
        ),
        "{:?}",
        h.cockpit.state.tasks.get(&key_)
    );

    // HTTP answers with a pod of the Service (the oldest ready one)
    let served = http_get(local)
        .await
        .unwrap_or_else(|e| panic!("curl: {e}"));
    assert!(served.starts_with("cart-"), "{served}");

    // its pod is deleted: the answers come from a replacement
    let api: KubeApi<CorePod> =
        KubeApi::namespaced(h.api("pre-release").await.into_client(), "shop");
    api.delete(&served, &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("delete {served}: {e}"));
    let deadline = tokio::time::Instant::now() + WAIT;
    let replacement = loop {
        h.run_for(Duration::from_millis(200)).await;
        if let Ok(name) = http_get(local).await {
            if name != served {
                break name;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still forwarding to {served}"
        );
    };
    assert!(replacement.starts_with("cart-"), "{replacement}");

    // x in the forwards pane frees the port
    h.cockpit.handle(key('f'));
    let screen = h.screen(160, 30);
    assert!(
        screen.contains("pre-release/shop/service/cart:8080"),
        "{screen}"
    );
    let effects = h.cockpit.handle(key('x'));
    h.run(effects);
    h.until("the service forward to stop", |s| {
        matches!(s.tasks.get(&key_), Some(TaskState::Stopped))
    })
    .await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while !bindable(local) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "127.0.0.1:{local} still held"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // audited as a forward to the Service
    let lines = audit_lines(&h);
    let fwd: Vec<&Value> = lines
        .iter()
        .filter(|l| l["action"] == "port-forward")
        .collect();
    assert_eq!(fwd.len(), 2, "{lines:?}");
    assert_eq!(fwd[0]["object"]["kind"], "Service");
    assert_eq!(fwd[0]["object"]["name"], "cart");
    assert_eq!(fwd[0]["parameters"]["remote_port"], 8080);
    assert_eq!(fwd[1]["session"]["phase"], "end");
    assert_eq!(fwd[1]["result"], "ok");
}

mod common;
// the real binary in tmux
#[path = "sessions/tmux.rs"]
mod tmux;
