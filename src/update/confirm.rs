//! The confirm flow every mutating action goes through. A pane prepares a
//! `write::Confirmation` (`Writer::prepare`) and calls `ask`; the dialog
//! (`widgets::confirm::ConfirmDialog`) takes the keys while it is open:
//! y / Enter confirm (in a production region the object's name must be
//! typed, then Enter), n / Esc cancel. The confirmed change leaves as
//! `Effect::Write`, which `effects::spawn` hands to `write::send`; its
//! answer comes back as `Msg::Written` and becomes a toast. Nothing here
//! sends anything.

use super::Effect;
use crate::action::{Action, KeyContext};
use crate::keymap::{Key, Lookup};
use crate::state::{Modal, State, ToastLevel};
use crate::widgets::confirm::ConfirmDialog;
use crate::write::{Confirmation, Confirmed, Outcome, Refusal};
use crossterm::event::{KeyCode, KeyEvent};

/// What a confirmed dialog turns into. The default sends the one change;
/// a flow that does more (a promotion in waves) maps the `Confirmed` to
/// its own effects, e.g. a task that sends it through `write::send`.
pub type Then = Box<dyn FnOnce(Confirmed) -> Vec<Effect> + Send>;

/// The open confirm dialog and what its yes does.
pub struct Pending {
    pub dialog: ConfirmDialog,
    then: Option<Then>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("dialog", &self.dialog.lines())
            .finish_non_exhaustive()
    }
}

/// Opens the confirm dialog for one change; its yes sends it
/// (`Effect::Write`). `warnings` are shown above the question (an
/// autoscaler targeting a scaled object, ...). Replaces any open overlay.
pub fn ask(state: &mut State, confirmation: Confirmation, warnings: Vec<String>) {
    ask_then(state, dialog(confirmation, warnings), None);
}

/// Opens `dialog`; its yes runs `then` instead of sending the change itself
/// (`None`: send it, as `ask` does).
pub fn ask_then(state: &mut State, dialog: ConfirmDialog, then: Option<Then>) {
    state.ui.pending_keys.clear();
    state.ui.modal = Some(Modal::Confirm(Box::new(Pending { dialog, then })));
}

/// The dialog for `confirmation` with its warnings.
pub fn dialog(confirmation: Confirmation, warnings: Vec<String>) -> ConfirmDialog {
    warnings
        .into_iter()
        .fold(ConfirmDialog::new(confirmation), ConfirmDialog::warn)
}

/// A key while the dialog is open. Without a typed name the `[modal]`
/// section decides (confirm / cancel); with one, every key but Enter and
/// Esc goes to the name's input, so `y` and `n` can be typed.
pub fn on_key(state: &mut State, ev: KeyEvent, key: Key) -> Vec<Effect> {
    let Some(Modal::Confirm(pending)) = &mut state.ui.modal else {
        return Vec::new();
    };
    let typed = pending.dialog.needs_typed_name();
    let section = if typed {
        KeyContext::Input
    } else {
        KeyContext::Modal
    };
    let action = match state.keymap.lookup(&[section], &[key]) {
        Lookup::Action(a) => Some(a),
        _ if ev.code == KeyCode::Enter => Some(Action::Confirm),
        _ if ev.code == KeyCode::Esc => Some(Action::Cancel),
        _ => None,
    };
    match action {
        Some(Action::Quit) => {
            state.ui.modal = None;
            state.quit = true;
            vec![Effect::Quit]
        }
        Some(Action::Cancel | Action::Back) => {
            state.ui.modal = None;
            state
                .ui
                .toast(ToastLevel::Info, "cancelled: nothing sent", state.now);
            Vec::new()
        }
        Some(Action::Confirm | Action::Submit) => answer(state),
        _ => {
            if typed {
                pending.dialog.input.input(ev);
            }
            Vec::new()
        }
    }
}

/// The person's yes: the effect that sends it, or the dialog stays open
/// saying why (a wrong name).
fn answer(state: &mut State) -> Vec<Effect> {
    let Some(Modal::Confirm(pending)) = &mut state.ui.modal else {
        return Vec::new();
    };
    let Some(confirmed) = pending.dialog.answer() else {
        return Vec::new();
    };
    let then = pending.then.take();
    state.ui.modal = None;
    match then {
        Some(then) => then(confirmed),
        None => vec![Effect::Write(Box::new(confirmed))],
    }
}

/// The write path's answer, as a toast: the change made, or why not in
/// the words of the refusal or the server's Status.
pub fn on_written(state: &mut State, sentence: &str, result: Result<Outcome, Refusal>) {
    let (level, text) = match result {
        Ok(Outcome { audit: Ok(()), .. }) => (ToastLevel::Info, format!("done: {sentence}")),
        Ok(Outcome { audit: Err(e), .. }) => (
            ToastLevel::Warning,
            format!("done: {sentence} (not audited: {e})"),
        ),
        // sent, and the server said no
        Err(r @ Refusal::Failed { .. }) => (ToastLevel::Error, format!("failed: {sentence}: {r}")),
        // refused before anything was sent
        Err(r) => (
            ToastLevel::Error,
            format!("refused, nothing sent: {sentence}: {r}"),
        ),
    };
    let text = crate::sanitize::sanitize(&text).into_owned();
    state.ui.toast(level, text, state.now);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::Msg;
    use crate::update::tests::{code, key, state};
    use crate::update::update;
    use crate::write::{Audit, ClientLookup, ObjectRef, Params, RegionPolicy, Writer};
    use std::sync::Arc;
    use std::time::Duration;

    fn writer(dir: &std::path::Path) -> Writer {
        let regions = ["eu", "prod"]
            .iter()
            .map(|n| RegionPolicy {
                name: n.to_string(),
                context: format!("ctx-{n}"),
                production: *n == "prod",
                read_only: false,
            })
            .collect();
        let clients: ClientLookup = Arc::new(|_| None);
        Writer::new(regions, false, clients, Audit::open(dir).expect("audit"))
    }

    fn scale(w: &Writer, region: usize) -> Confirmation {
        w.prepare(
            region,
            ObjectRef::deployment("shop", "web"),
            Params::Scale { from: 3, to: 5 },
        )
        .expect("prepare")
    }

    fn dialog_text(s: &State) -> Vec<String> {
        match &s.ui.modal {
            Some(Modal::Confirm(p)) => p.dialog.lines(),
            other => panic!("no confirm dialog: {other:?}"),
        }
    }

    fn written(effects: &[Effect]) -> Vec<&Confirmed> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Write(c) => Some(&**c),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn y_or_enter_sends_the_change_and_closes_the_dialog() {
        let dir = tempfile::tempdir().expect("dir");
        let w = writer(dir.path());
        for yes in [key('y'), code(KeyCode::Enter)] {
            let mut s = state(&["eu", "prod"]);
            ask(&mut s, scale(&w, 0), vec!["autoscaled by web-hpa".into()]);
            let text = dialog_text(&s);
            assert!(text.contains(&"change     scale: replicas 3 -> 5".to_string()));
            assert!(text.contains(&"warning    autoscaled by web-hpa".to_string()));
            let effects = update(&mut s, yes);
            let sent = written(&effects);
            assert_eq!(sent.len(), 1, "{effects:?}");
            assert_eq!(
                sent[0].mutation().params(),
                &Params::Scale { from: 3, to: 5 }
            );
            assert_eq!(sent[0].mutation().region_name(), "eu");
            assert!(s.ui.modal.is_none());
        }
    }

    #[test]
    fn n_or_esc_cancels_and_sends_nothing() {
        let dir = tempfile::tempdir().expect("dir");
        let w = writer(dir.path());
        for no in [key('n'), code(KeyCode::Esc)] {
            let mut s = state(&["eu", "prod"]);
            ask(&mut s, scale(&w, 0), Vec::new());
            // keys that mean nothing in the dialog leave it open
            assert!(update(&mut s, key('j')).is_empty());
            assert!(s.ui.modal.is_some());
            assert!(update(&mut s, no).is_empty());
            assert!(s.ui.modal.is_none());
            assert!(s.ui.toasts.iter().any(|t| t.text.contains("nothing sent")));
        }
    }

    #[test]
    fn production_takes_the_typed_name_and_says_when_it_is_wrong() {
        let dir = tempfile::tempdir().expect("dir");
        let w = writer(dir.path());
        let mut s = state(&["eu", "prod"]);
        ask(&mut s, scale(&w, 1), Vec::new());
        assert!(dialog_text(&s)
            .iter()
            .any(|l| l == "production region: type `web` and press Enter"));
        // y and n are letters of a name here, not answers
        for c in "wy".chars() {
            assert!(update(&mut s, key(c)).is_empty());
        }
        assert!(s.ui.modal.is_some());
        assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
        assert!(dialog_text(&s)
            .iter()
            .any(|l| l.contains("type `web` exactly to confirm")));
        update(&mut s, code(KeyCode::Backspace));
        for c in "eb".chars() {
            update(&mut s, key(c));
        }
        let effects = update(&mut s, code(KeyCode::Enter));
        let sent = written(&effects);
        assert_eq!(sent.len(), 1, "{effects:?}");
        assert_eq!(sent[0].mutation().region_name(), "prod");
        assert!(s.ui.modal.is_none());
    }

    #[test]
    fn ctrl_c_quits_from_the_dialog_and_sends_nothing() {
        let dir = tempfile::tempdir().expect("dir");
        let w = writer(dir.path());
        for region in [0, 1] {
            let mut s = state(&["eu", "prod"]);
            ask(&mut s, scale(&w, region), Vec::new());
            let ctrl_c = Msg::Key(KeyEvent::new(
                KeyCode::Char('c'),
                crossterm::event::KeyModifiers::CONTROL,
            ));
            assert_eq!(update(&mut s, ctrl_c), vec![Effect::Quit]);
            assert!(s.quit && s.ui.modal.is_none());
        }
    }

    #[test]
    fn a_flow_of_its_own_gets_the_confirmed_change() {
        let dir = tempfile::tempdir().expect("dir");
        let w = writer(dir.path());
        let mut s = state(&["eu", "prod"]);
        let then: Then = Box::new(|c| vec![Effect::Write(Box::new(c)), Effect::Quit]);
        ask_then(&mut s, dialog(scale(&w, 0), Vec::new()), Some(then));
        let effects = update(&mut s, key('y'));
        assert_eq!(effects.len(), 2);
        assert_eq!(effects[1], Effect::Quit);
    }

    #[test]
    fn the_answer_becomes_a_toast_in_the_servers_words() {
        let mut s = state(&["eu"]);
        let sentence = "scale deployment shop/web in eu (context ctx-eu): replicas 3 -> 5";
        let answers: [(Result<Outcome, Refusal>, ToastLevel, &str); 3] = [
            (
                Ok(Outcome {
                    sentence: sentence.into(),
                    duration: Duration::from_millis(3),
                    audit: Ok(()),
                }),
                ToastLevel::Info,
                "done: scale deployment shop/web",
            ),
            (
                Err(Refusal::Failed {
                    code: Some(422),
                    message: "spec.replicas: Invalid value: -1".into(),
                }),
                ToastLevel::Error,
                "failed: scale deployment shop/web in eu (context ctx-eu): replicas 3 -> 5: 422: spec.replicas: Invalid value: -1",
            ),
            (
                Err(Refusal::ReadOnly { region: None }),
                ToastLevel::Error,
                "refused, nothing sent: scale deployment shop/web in eu (context ctx-eu): replicas 3 -> 5: read-only mode",
            ),
        ];
        for (result, level, want) in answers {
            update(
                &mut s,
                Msg::Written {
                    sentence: sentence.into(),
                    result,
                },
            );
            let t = s.ui.toasts.back().expect("a toast");
            assert_eq!(t.level, level);
            assert!(
                t.text.starts_with(want),
                "{:?} does not start with {want:?}",
                t.text
            );
        }
    }

    #[test]
    fn the_open_dialog_is_drawn_over_the_cockpit() {
        let dir = tempfile::tempdir().expect("dir");
        let w = writer(dir.path());
        let mut s = state(&["eu", "prod"]);
        s.ui.size = (100, 30);
        ask(&mut s, scale(&w, 1), Vec::new());
        for c in "web".chars() {
            update(&mut s, key(c));
        }
        let mut term =
            ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).expect("terminal");
        let styles = crate::theme::Styles::default();
        term.draw(|f| crate::ui::draw(&s, &styles, f))
            .expect("draw");
        let buf = term.backend().buffer();
        let text: String = (0..buf.area.height)
            .map(|y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
                    + "\n"
            })
            .collect();
        for want in [
            " confirm ",
            "region     prod",
            "object     Deployment web",
            "type `web` and press Enter",
            "│web",
        ] {
            assert!(text.contains(want), "{want} not in\n{text}");
        }
    }
}
