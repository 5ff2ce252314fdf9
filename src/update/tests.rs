//! Reducer tests: messages in, state and effects out.

use super::*;
use crate::action::Action;
use crate::model::PodRow;
use crate::msg::Health;
use crate::state::{Modal, RegionState};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub fn pod(region: usize, ns: &str, name: &str, status: &str) -> PodRow {
    let ok = status == "Running";
    PodRow {
        region,
        uid: format!("uid-{region}-{ns}-{name}"),
        namespace: ns.into(),
        name: name.into(),
        phase: if ok {
            "Running".into()
        } else {
            "Pending".into()
        },
        status: status.into(),
        ready: u16::from(ok),
        total: 1,
        node: "node-a".into(),
        owner_kind: "Deployment".into(),
        owner_name: name.split('-').next().unwrap_or_default().into(),
        ..PodRow::default()
    }
}

pub(crate) fn state(regions: &[&str]) -> State {
    let regions = regions
        .iter()
        .map(|n| {
            RegionState::from_config(&crate::config::RegionConfig {
                name: n.to_string(),
                context: n.to_string(),
                ..Default::default()
            })
        })
        .collect();
    State::new(regions, crate::keymap::Keymap::default(), 1_000_000)
}

pub(crate) fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

pub(crate) fn code(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

pub(crate) fn list(state: &mut State, region: usize, rows: Vec<PodRow>) {
    update(
        state,
        Msg::Pods {
            region,
            update: PodUpdate::ListStart { namespace: None },
        },
    );
    update(
        state,
        Msg::Pods {
            region,
            update: PodUpdate::ListPage(rows),
        },
    );
    update(
        state,
        Msg::Pods {
            region,
            update: PodUpdate::ListDone { namespace: None },
        },
    );
    update(
        state,
        Msg::RegionHealth {
            feed: crate::fleet::health::Feed::PODS,
            region,
            health: Health::Live,
        },
    );
}

pub(crate) fn selected_name(state: &mut State) -> String {
    state.refresh_view();
    state
        .ui
        .pods
        .selected
        .and_then(|s| state.store.get(s))
        .map(|r| r.name.clone())
        .unwrap_or_default()
}

pub(crate) fn shop(state: &mut State) {
    list(
        state,
        0,
        vec![
            pod(0, "shop", "cart-1", "Running"),
            pod(0, "shop", "checkout-1", "CrashLoopBackOff"),
            pod(0, "shop", "web-1", "Running"),
        ],
    );
    list(
        state,
        1,
        vec![
            pod(1, "infra", "dns-1", "Running"),
            pod(1, "shop", "pay-1", "Pending"),
        ],
    );
}

#[test]
fn stale_keeps_its_first_moment_and_live_clears_it() {
    let mut s = state(&["eu"]);
    let stale = |since, reason: &str| Msg::RegionHealth {
        feed: crate::fleet::health::Feed::PODS,
        region: 0,
        health: Health::Stale {
            since,
            reason: reason.into(),
        },
    };
    update(&mut s, stale(100, "watch silent"));
    update(&mut s, stale(130, "relisting"));
    assert_eq!(
        s.regions[0].health,
        Health::Stale {
            since: 100,
            reason: "relisting".into()
        }
    );
    update(
        &mut s,
        Msg::RegionHealth {
            feed: crate::fleet::health::Feed::PODS,
            region: 0,
            health: Health::Live,
        },
    );
    update(&mut s, stale(200, "x"));
    assert_eq!(
        s.regions[0].health,
        Health::Stale {
            since: 200,
            reason: "x".into()
        }
    );
}

#[test]
fn quit_suspend_help_and_toasts() {
    let mut s = state(&["eu"]);
    assert_eq!(update(&mut s, key('q')), vec![Effect::Quit]);
    let mut s = state(&["eu"]);
    let ctrl_z = Msg::Key(KeyEvent::new(KeyCode::Char('z'), KeyModifiers::CONTROL));
    assert_eq!(update(&mut s, ctrl_z), vec![Effect::Suspend]);
    update(&mut s, key('?'));
    assert!(matches!(s.ui.modal, Some(Modal::Help { .. })));
    assert_eq!(
        update(&mut s, key('q')),
        vec![],
        "q closes the overlay, not the app"
    );
    assert!(s.ui.modal.is_none());

    let diag = crate::diagnostic::Diagnostic::new("theme.toml", "unknown scope").at(3, 1);
    update(&mut s, Msg::Diagnostics(vec![diag]));
    assert_eq!(s.ui.toasts.len(), 1);
    assert!(s.ui.toasts[0]
        .text
        .contains("theme.toml:3:1: unknown scope"));
    let later = s.now + 60;
    update(&mut s, Msg::Tick(later));
    assert!(s.ui.toasts.is_empty());
}

#[test]
fn palette_runs_actions_and_jumps_to_pods() {
    let mut s = state(&["eu", "us"]);
    shop(&mut s);
    update(&mut s, key(':'));
    for c in "problems_only".chars() {
        update(&mut s, key(c));
    }
    match &s.ui.modal {
        Some(Modal::Palette(p)) => {
            assert_eq!(
                p.candidates.first(),
                Some(&crate::state::ui::PaletteItem::Action(Action::ProblemsOnly))
            )
        }
        other => panic!("expected palette, got {other:?}"),
    }
    update(&mut s, code(KeyCode::Enter));
    assert!(s.store.view_spec().problems_only);
    assert!(s.ui.modal.is_none());

    update(&mut s, key(':'));
    for c in "pay-1".chars() {
        update(&mut s, key(c));
    }
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(selected_name(&mut s), "pay-1");
}

#[test]
fn the_palette_never_offers_a_cluster_change_blind() {
    use crate::action::{Danger, ACTIONS};
    use crate::panes::workloads::act::{Answer, Dialog, Job};
    use crate::state::ui::PaletteItem;
    let mut s = state(&["eu"]);
    shop(&mut s);
    crate::panes::workloads::pane_tests::deployment_row(&mut s, 0, "shop", "checkout", 3);
    // the cursor on checkout-1, whose owner is Deployment checkout
    s.refresh_view();
    let at = s
        .store
        .view()
        .iter()
        .position(|slot| s.store.get(*slot).is_some_and(|p| p.name == "checkout-1"))
        .expect("checkout-1 shown");
    crate::panes::pods::select_index(&mut s, at);
    let dir = tempfile::tempdir().expect("dir");
    let writer = crate::panes::workloads::pane_tests::writer(dir.path(), &["eu"]);
    let mut offered = Vec::new();
    for query in ["", "scale", "exec", "rollout", "delete"] {
        s.ui.modal = None;
        update(&mut s, key(':'));
        for c in query.chars() {
            update(&mut s, key(c));
        }
        let Some(Modal::Palette(p)) = &s.ui.modal else {
            panic!("expected the palette for {query:?}");
        };
        for item in &p.candidates {
            if let PaletteItem::Action(a) = item {
                let spec = ACTIONS.iter().find(|x| x.action == *a).expect("registered");
                if spec.danger == Danger::Mutating && !offered.contains(a) {
                    offered.push(*a);
                }
            }
        }
    }
    assert!(offered.contains(&Action::Scale), "{offered:?}");
    assert!(offered.contains(&Action::RolloutRestart), "{offered:?}");
    assert!(offered.contains(&Action::DeletePod), "{offered:?}");
    // each one, run from the palette, asks first: an input, a picker, or
    // the lookup that ends in the confirm dialog; nothing is ever sent
    for action in offered {
        s.ui.modal = None;
        update(&mut s, key(':'));
        for c in action.name().chars() {
            update(&mut s, key(c));
        }
        let effects = update(&mut s, code(KeyCode::Enter));
        assert!(
            !effects.iter().any(|e| matches!(e, Effect::Write(_))),
            "{action:?} acted blind: {effects:?}"
        );
        match (&s.ui.modal, effects.as_slice()) {
            (Some(Modal::Workload(d)), _) => {
                assert!(
                    matches!(
                        (action, &**d),
                        (Action::Scale, Dialog::Scale { .. })
                            | (Action::RolloutUndo, Dialog::Undo { .. })
                    ),
                    "{action:?} opened {d:?}"
                );
            }
            (
                None,
                [Effect::Workload(Job::Prepare {
                    action: a,
                    target,
                    inputs,
                })],
            ) => {
                assert_eq!(*a, action);
                // what the lookup answers opens the confirm dialog
                let Ok(crate::panes::workloads::plan::Planned::Change { object, params }) =
                    crate::panes::workloads::plan::plan(*a, target, inputs)
                else {
                    panic!("{action:?} is not a change");
                };
                let c = writer.prepare(0, object, params).expect("prepare");
                let effects = update(
                    &mut s,
                    Msg::Workloads(Box::new(Answer::Prepared(Ok((c, Vec::new()))))),
                );
                assert!(effects.is_empty());
                assert!(matches!(s.ui.modal, Some(Modal::Confirm(_))), "{action:?}");
            }
            other => panic!("{action:?} from the palette: {other:?}"),
        }
    }
}

#[test]
fn the_badge_shows_the_worst_feed() {
    use crate::fleet::health::Feed;
    let mut s = state(&["eu"]);
    let health = |feed, health| Msg::RegionHealth {
        region: 0,
        feed,
        health,
    };
    update(&mut s, health(Feed::CLIENT, Health::Live));
    update(&mut s, health(Feed::PODS, Health::Live));
    update(
        &mut s,
        health(
            Feed::EVENTS,
            Health::Stale {
                since: 50,
                reason: "quiet".into(),
            },
        ),
    );
    assert_eq!(
        s.regions[0].health,
        Health::Stale {
            since: 50,
            reason: "quiet".into()
        }
    );
    update(&mut s, health(Feed::PODS, Health::Forbidden("no".into())));
    assert_eq!(s.regions[0].health, Health::Forbidden("no".into()));
    update(&mut s, health(Feed::PODS, Health::Live));
    update(&mut s, health(Feed::EVENTS, Health::Live));
    assert_eq!(s.regions[0].health, Health::Live);
}

#[test]
fn a_feed_with_its_own_badge_never_dims_pods_or_reaches_triage() {
    use crate::fleet::health::Feed;
    let mut s = state(&["eu"]);
    for feed in [Feed::CLIENT, Feed::PODS] {
        update(
            &mut s,
            Msg::RegionHealth {
                region: 0,
                feed,
                health: Health::Live,
            },
        );
    }
    list(&mut s, 0, vec![pod(0, "shop", "api-1", "Running")]);
    update(
        &mut s,
        Msg::RegionHealth {
            region: 0,
            feed: Feed::own_badge("metrics"),
            health: Health::Unreachable("connection refused".into()),
        },
    );
    s.refresh_view();
    assert!(s.regions[0].health.is_live(), "{:?}", s.regions[0].health);
    assert!(
        s.incident.triage.items.is_empty(),
        "{:?}",
        s.incident.triage.items
    );
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 40)).unwrap();
    term.draw(|f| crate::ui::draw(&s, &crate::theme::Styles::default(), f))
        .unwrap();
    let screen = term.backend().to_string();
    assert!(!screen.contains("not live"), "{screen}");
}

#[test]
fn palette_scopes_to_a_region_or_namespace() {
    let mut s = state(&["eu", "us"]);
    shop(&mut s);
    update(&mut s, key(':'));
    for c in "infra".chars() {
        update(&mut s, key(c));
    }
    update(&mut s, code(KeyCode::Enter));
    s.refresh_view();
    assert_eq!(s.store.view_spec().namespace.as_deref(), Some("infra"));
    assert_eq!(s.store.view().len(), 1);
    update(&mut s, key(':'));
    update(&mut s, key('u'));
    update(&mut s, key('s'));
    update(&mut s, code(KeyCode::Enter));
    s.refresh_view();
    assert_eq!(s.store.view_spec().region, Some(1));
    assert_eq!(s.store.view_spec().namespace, None);
    assert_eq!(s.store.view().len(), 2);
}

#[test]
fn overlays_never_scroll_past_their_content() {
    let mut s = state(&["eu"]);
    list(&mut s, 0, vec![pod(0, "shop", "cart-1", "Running")]);
    update(&mut s, Msg::Resize(80, 24));
    update(&mut s, key('d'));
    let body: Vec<String> = (0..100).map(|i| format!("line {i}")).collect();
    update(
        &mut s,
        Msg::Described {
            region: 0,
            namespace: "shop".into(),
            name: "cart-1".into(),
            result: Ok(body.join("\n")),
        },
    );
    let scroll = |s: &State| match &s.ui.modal {
        Some(Modal::Describe(v)) => v.scroll,
        _ => usize::MAX,
    };
    update(&mut s, key('G'));
    let bottom = scroll(&s);
    assert!(bottom > 0 && bottom < 100, "bottom {bottom}");
    update(&mut s, key('k'));
    assert_eq!(
        scroll(&s),
        bottom - 1,
        "the first key back up moves the view"
    );
    update(&mut s, key('g'));
    update(&mut s, key('g'));
    assert_eq!(scroll(&s), 0);
}

#[test]
fn the_embedded_default_keymap_resolves_sequences_and_prefixes() {
    use crate::keymap::{Key, Keymap, Lookup};
    let key = |c| Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::NONE,
    };
    let km = Keymap::default();
    let ctx = [
        crate::action::KeyContext::Table,
        crate::action::KeyContext::Global,
    ];
    assert_eq!(km.lookup(&ctx, &[key('q')]), Lookup::Action(Action::Quit));
    assert_eq!(
        km.lookup(&ctx, &[key('g'), key('g')]),
        Lookup::Action(Action::Top)
    );
    match km.lookup(&ctx, &[key('g')]) {
        Lookup::Pending(h) => assert!(h.iter().any(|h| h.action == Action::Top)),
        other => panic!("expected pending, got {other:?}"),
    }
    assert_eq!(km.lookup(&ctx, &[key('Z')]), Lookup::Unbound);
}
