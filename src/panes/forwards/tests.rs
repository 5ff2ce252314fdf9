//! The forward dialog and the forwards pane's reducer.

use super::*;
use crate::msg::Msg;
use crate::panes::exec::SessionMsg;
use crate::tasks::TaskReport;
use crate::update::tests::{code, key, list, pod, state};
use crate::update::update;
use crossterm::event::KeyCode;

fn dialog(s: &State) -> &ForwardDialog {
    match &s.ui.modal {
        Some(Modal::Session(d)) => match d.as_ref() {
            SessionDialog::Forward(d) => d,
            other => panic!("expected the forward dialog, got {other:?}"),
        },
        other => panic!("expected the forward dialog, got {other:?}"),
    }
}

fn opened() -> State {
    let mut s = state(&["eu"]);
    list(&mut s, 0, vec![pod(0, "shop", "cart-1", "Running")]);
    s.refresh_view();
    let effects = update(&mut s, key('F'));
    assert_eq!(effects.len(), 1, "{effects:?}");
    let id = dialog(&s).id;
    update(
        &mut s,
        Msg::Session(SessionMsg::Checked {
            id,
            access: Ok(()),
            ports: Some(Ok(vec![8080, 9090])),
        }),
    );
    s
}

fn report(s: &mut State, key: &TaskKey, state: TaskState) {
    update(
        s,
        Msg::Task(TaskReport {
            key: key.clone(),
            generation: 1,
            state,
        }),
    );
}

#[test]
fn f_on_a_pod_offers_its_workload_with_the_declared_port() {
    let mut s = opened();
    let d = dialog(&s);
    assert_eq!(d.target(), ForwardTarget::Deployment("cart".into()));
    assert_eq!(d.ports.lines().join(""), "8080");
    update(&mut s, code(KeyCode::Down));
    assert_eq!(dialog(&s).target(), ForwardTarget::Pod("cart-1".into()));
}

#[test]
fn enter_starts_the_task_and_a_port_in_use_asks_for_another() {
    let mut s = opened();
    let effects = update(&mut s, code(KeyCode::Enter));
    let k1 = TaskKey("port-forward eu/shop/deployment/cart 8080".into());
    match effects.as_slice() {
        [Effect::Task(TaskCommand::Start(k, _))] => assert_eq!(k, &k1),
        other => panic!("{other:?}"),
    }
    assert_eq!(dialog(&s).waiting.as_ref(), Some(&k1));
    report(&mut s, &k1, TaskState::Starting);
    report(
        &mut s,
        &k1,
        TaskState::Failed("127.0.0.1:8080 is in use: choose another local port".into()),
    );
    let d = dialog(&s);
    assert!(d.waiting.is_none());
    assert!(d.error.as_deref().is_some_and(|e| e.contains("in use")));
    // another local port: LOCAL:REMOTE
    for _ in 0..4 {
        update(&mut s, code(KeyCode::Backspace));
    }
    for c in "18080:8080".chars() {
        update(&mut s, crate::update::tests::key(c));
    }
    let effects = update(&mut s, code(KeyCode::Enter));
    let key2 = TaskKey("port-forward eu/shop/deployment/cart 18080".into());
    assert!(matches!(effects.as_slice(), [Effect::Task(TaskCommand::Start(k, _))] if *k == key2));
    report(
        &mut s,
        &key2,
        TaskState::Running("127.0.0.1:18080 -> deployment/cart:8080".into()),
    );
    assert!(s.ui.modal.is_none());
    assert!(s
        .ui
        .toasts
        .iter()
        .any(|t| t.text.contains("forwarding 127.0.0.1:18080")));
    update(
        &mut s,
        Msg::Session(SessionMsg::Forward {
            key: key2.clone(),
            stats: Stats {
                pod: "cart-1".into(),
                active: 1,
                total: 3,
                bytes_in: 100,
                bytes_out: 2048,
                last_error: None,
            },
        }),
    );
    // the pane lists it; x stops the selected one, X every running one
    update(&mut s, key('f'));
    assert_eq!(s.ui.focus, crate::panes::Pane::Forwards);
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(119, 30))
        .unwrap_or_else(|e| panic!("{e}"));
    let styles = crate::theme::Styles::default();
    s.refresh_view();
    term.draw(|f| crate::ui::draw(&s, &styles, f))
        .unwrap_or_else(|e| panic!("{e}"));
    let screen: String = term
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    for want in [
        "127.0.0.1:18080",
        "eu/shop/deployment/cart:8080",
        "cart-1",
        "forwarding",
        "1 (3)",
        "2.0 KiB",
    ] {
        assert!(screen.contains(want), "{want} not in {screen}");
    }
    // the failed one sorts after; select the running one
    let running = s.forwards.rows.keys().position(|k| *k == key2).unwrap_or(0);
    s.forwards.cursor = running;
    assert_eq!(
        update(&mut s, key('x')),
        vec![Effect::Task(TaskCommand::Stop(key2.clone()))]
    );
    assert_eq!(
        update(&mut s, key('X')),
        vec![Effect::Task(TaskCommand::Stop(key2.clone()))]
    );
    report(&mut s, &key2, TaskState::Stopped);
    assert!(s.forwards.rows.values().all(|r| r.ended));
    assert!(update(&mut s, key('X')).is_empty());
}

#[test]
fn a_refused_forward_is_greyed_and_starts_nothing() {
    let mut s = state(&["eu"]);
    list(&mut s, 0, vec![pod(0, "shop", "cart-1", "Running")]);
    s.refresh_view();
    update(&mut s, key('F'));
    let id = dialog(&s).id;
    update(
        &mut s,
        Msg::Session(SessionMsg::Checked {
            id,
            access: Err("read-only mode: no changes".into()),
            ports: Some(Ok(vec![8080])),
        }),
    );
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    assert!(dialog(&s)
        .error
        .as_deref()
        .is_some_and(|e| e.contains("read-only")));
}
