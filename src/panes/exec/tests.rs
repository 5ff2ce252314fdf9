//! The exec picker's reducer: opened on a pod, greyed when refused,
//! confirmed by name in production, and the session only once checked.

use super::*;
use crate::model::ContainerRow;
use crate::msg::Msg;
use crate::update::tests::{code, key, list, pod, state};
use crate::update::{update, Effect};

fn with_pod(production: bool) -> State {
    let mut s = state(&["eu"]);
    s.regions[0].production = production;
    let mut p = pod(0, "shop", "cart-1", "Running");
    p.containers = ["app", "sidecar"]
        .map(|n| ContainerRow {
            name: n.into(),
            ..ContainerRow::default()
        })
        .to_vec();
    list(&mut s, 0, vec![p]);
    s.refresh_view();
    s
}

fn picker(s: &State) -> &ExecPicker {
    match &s.ui.modal {
        Some(Modal::Session(d)) => match d.as_ref() {
            SessionDialog::Exec(p) => p,
            other => panic!("expected the exec picker, got {other:?}"),
        },
        other => panic!("expected the exec picker, got {other:?}"),
    }
}

fn checked(s: &mut State, access: Result<(), String>) {
    let id = picker(s).id;
    update(
        s,
        Msg::Session(SessionMsg::Checked {
            id,
            access,
            ports: None,
        }),
    );
}

fn type_text(s: &mut State, text: &str) {
    for c in text.chars() {
        update(s, key(c));
    }
}

#[test]
fn e_opens_the_picker_on_the_pod_and_asks_the_write_path() {
    let mut s = with_pod(false);
    let effects = update(&mut s, key('e'));
    assert!(matches!(effects.as_slice(), [Effect::Io(_)]), "{effects:?}");
    let p = picker(&s);
    assert_eq!(
        (p.region_name.as_str(), p.namespace.as_str(), p.pod.as_str()),
        ("eu", "shop", "cart-1")
    );
    assert_eq!(p.containers, ["app", "sidecar"]);
    update(&mut s, code(KeyCode::Down));
    type_text(&mut s, "cat /etc/hostname");
    let p = picker(&s);
    assert_eq!(p.chosen, 1);
    assert_eq!(p.command.lines().join(""), "cat /etc/hostname");
    // keys typed into the picker never reach the keymap (q does not quit)
    assert!(!s.quit);
}

#[test]
fn a_refused_exec_is_greyed_with_the_reason_and_sends_nothing() {
    let mut s = with_pod(false);
    update(&mut s, key('e'));
    checked(
        &mut s,
        Err("RBAC: cannot create pods/exec in namespace shop".into()),
    );
    let effects = update(&mut s, code(KeyCode::Enter));
    assert!(effects.is_empty(), "{effects:?}");
    let p = picker(&s);
    assert!(p
        .error
        .as_deref()
        .is_some_and(|e| e.contains("cannot create pods/exec")));
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30))
        .unwrap_or_else(|e| panic!("{e}"));
    let styles = crate::theme::Styles::default();
    term.draw(|f| crate::ui::draw(&s, &styles, f))
        .unwrap_or_else(|e| panic!("{e}"));
    let screen: String = term
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(
        screen.contains("refused: RBAC: cannot create pods/exec"),
        "{screen}"
    );
    update(&mut s, code(KeyCode::Esc));
    assert!(s.ui.modal.is_none());
}

#[test]
fn an_allowed_exec_runs_after_a_fresh_check_and_takes_the_terminal() {
    let mut s = with_pod(false);
    update(&mut s, key('e'));
    checked(&mut s, Ok(()));
    let effects = update(&mut s, code(KeyCode::Enter));
    assert!(matches!(effects.as_slice(), [Effect::Io(_)]), "{effects:?}");
    assert!(s.ui.modal.is_none());
    let job = TerminalJob::new("exec eu/shop/cart-1", || async { Ok("exit code 0".into()) });
    let effects = update(&mut s, Msg::Session(SessionMsg::Ready(job.clone())));
    assert_eq!(effects, vec![Effect::Terminal(job)]);
    update(
        &mut s,
        Msg::Session(SessionMsg::Refused("exec: refused: read-only".into())),
    );
    assert!(s
        .ui
        .toasts
        .iter()
        .any(|t| t.text.contains("refused: read-only")));
}

#[test]
fn production_needs_the_pod_name_typed() {
    let mut s = with_pod(true);
    update(&mut s, key('e'));
    checked(&mut s, Ok(()));
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    assert!(picker(&s).typing_name);
    type_text(&mut s, "cart-2");
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    for _ in 0..6 {
        update(&mut s, code(KeyCode::Backspace));
    }
    type_text(&mut s, "cart-1");
    assert_eq!(update(&mut s, code(KeyCode::Enter)).len(), 1);
}

#[test]
fn commands_split_like_a_shell_line() {
    assert_eq!(split_command("  ls -l  /tmp "), ["ls", "-l", "/tmp"]);
    assert_eq!(split_command("sh -c 'exit 3'"), ["sh", "-c", "exit 3"]);
    assert_eq!(split_command("echo \"\" x"), ["echo", "", "x"]);
    assert!(split_command("   ").is_empty());
}

#[test]
fn a_read_only_region_greys_exec_and_forward_without_asking() {
    let mut s = with_pod(false);
    s.regions[0].read_only = true;
    assert!(update(&mut s, key('e')).is_empty());
    assert!(matches!(&picker(&s).access, Some(Err(why)) if why.contains("read-only")));
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    update(&mut s, code(KeyCode::Esc));
    assert!(update(&mut s, key('F')).is_empty());
    match &s.ui.modal {
        Some(Modal::Session(d)) => match d.as_ref() {
            SessionDialog::Forward(f) => {
                assert!(matches!(&f.access, Some(Err(why)) if why.contains("read-only")))
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
}
