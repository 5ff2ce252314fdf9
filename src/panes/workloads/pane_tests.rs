//! The workloads pane and its row actions, reducer-side: the table from
//! the store, sort and scopes, Enter to the pods, and what each action
//! key opens (never a change sent without the confirm dialog).

use super::act::{Answer, Dialog, Job};
use super::plan::{self, Planned, Target};
use crate::action::Action;
use crate::fleet::workloads::WorkloadInfo;
use crate::model::{WorkloadCondition, WorkloadKind, WorkloadRow};
use crate::msg::Msg;
use crate::state::{Modal, Pane, State};
use crate::update::tests::{code, key, list, pod, state};
use crate::update::{update, Effect};
use crate::write::{Audit, ClientLookup, RegionPolicy, Writer};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::sync::Arc;

/// A Deployment row in the store: `replicas` desired, all ready.
pub(crate) fn deployment_row(s: &mut State, region: usize, ns: &str, name: &str, replicas: u32) {
    let row = WorkloadRow {
        region,
        kind: WorkloadKind::Deployment,
        uid: format!("uid-{region}-{ns}-{name}"),
        namespace: ns.into(),
        name: name.into(),
        desired: replicas,
        updated: replicas,
        ready: replicas,
        available: replicas,
        generation: 1,
        observed_generation: 1,
        images: vec![format!("registry.local/{name}:1.0")],
        created: s.now - 3600,
        ..WorkloadRow::default()
    };
    put(s, row);
}

fn put(s: &mut State, row: WorkloadRow) {
    let now = s.now;
    s.store.workloads_mut().upsert(
        WorkloadInfo {
            row,
            probes: Vec::new(),
        },
        now,
    );
}

/// A write path over `regions` with no clients (nothing can be sent).
pub(crate) fn writer(dir: &std::path::Path, regions: &[&str]) -> Writer {
    let policies = regions
        .iter()
        .map(|n| RegionPolicy {
            name: n.to_string(),
            context: n.to_string(),
            production: false,
            read_only: false,
        })
        .collect();
    let clients: ClientLookup = Arc::new(|_| None);
    Writer::new(policies, false, clients, Audit::open(dir).expect("audit"))
}

fn fleet() -> State {
    let mut s = state(&["eu", "us"]);
    deployment_row(&mut s, 0, "shop", "checkout", 3);
    deployment_row(&mut s, 1, "shop", "checkout", 6);
    deployment_row(&mut s, 0, "web", "front", 2);
    // a rollout under way and a stalled one
    put(
        &mut s,
        WorkloadRow {
            region: 1,
            kind: WorkloadKind::Deployment,
            uid: "u-cart".into(),
            namespace: "shop".into(),
            name: "cart".into(),
            desired: 6,
            updated: 2,
            ready: 5,
            available: 5,
            generation: 2,
            observed_generation: 2,
            ..WorkloadRow::default()
        },
    );
    put(
        &mut s,
        WorkloadRow {
            region: 0,
            kind: WorkloadKind::StatefulSet,
            uid: "u-db".into(),
            namespace: "data".into(),
            name: "db".into(),
            desired: 3,
            updated: 1,
            ready: 1,
            available: 1,
            generation: 4,
            observed_generation: 4,
            conditions: vec![WorkloadCondition {
                type_: "Progressing".into(),
                status: "False".into(),
                reason: "ProgressDeadlineExceeded".into(),
                ..WorkloadCondition::default()
            }],
            ..WorkloadRow::default()
        },
    );
    s.ui.size = (160, 40);
    update(&mut s, key('w'));
    s.refresh_view();
    s
}

fn names(s: &State) -> Vec<String> {
    s.workloads
        .view()
        .iter()
        .map(|k| format!("{}/{}/{}", s.region_name(k.region), k.namespace, k.name))
        .collect()
}

fn screen(s: &State) -> String {
    screen_at(s, 160)
}

fn screen_at(s: &State, width: u16) -> String {
    let mut term =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, 40)).expect("terminal");
    let styles = crate::theme::Styles::default();
    term.draw(|f| crate::ui::draw(s, &styles, f)).expect("draw");
    term.backend().to_string()
}

fn select(s: &mut State, want: &str) {
    let i = names(s).iter().position(|n| n == want).expect("shown");
    let view = s.workloads.view().to_vec();
    s.workloads.cursor.top(&view);
    s.workloads.cursor.move_by(i as isize, &view);
}

#[test]
fn every_workload_of_every_region_with_its_rollout_state() {
    let s = fleet();
    assert_eq!(s.ui.focus, Pane::Workloads);
    assert_eq!(
        names(&s),
        [
            "eu/data/db",
            "us/shop/cart",
            "eu/shop/checkout",
            "us/shop/checkout",
            "eu/web/front"
        ]
    );
    let text = screen(&s);
    for want in [
        "Workloads (5)",
        "REGION",
        "UP-TO-DATE",
        "ROLLOUT",
        "stalled",
        "2 of 6 updated",
        "complete",
        "!1/3",
        "StatefulSet",
        "registry.local/checkout:1.0",
    ] {
        assert!(text.contains(want), "{want} not in\n{text}");
    }
}

#[test]
fn at_80_columns_the_name_and_rollout_still_show() {
    let s = fleet();
    let text = screen_at(&s, 80);
    for want in ["NAME", "ROLLOUT", "checkout", "2 of 6 updated", "stalled"] {
        assert!(text.contains(want), "{want} not in\n{text}");
    }
}

#[test]
fn sort_scopes_and_filter_follow_the_cockpits_keys() {
    let mut s = fleet();
    update(&mut s, key('s')); // by name
    s.refresh_view();
    assert_eq!(names(&s)[0], "us/shop/cart");
    update(&mut s, key('r'));
    s.refresh_view();
    assert_eq!(names(&s)[0], "eu/web/front");
    // R: the region scope narrows this table as it does the pods
    update(&mut s, key('R'));
    s.refresh_view();
    assert!(
        names(&s).iter().all(|n| n.starts_with("eu/")),
        "{:?}",
        names(&s)
    );
    update(&mut s, key('R'));
    update(&mut s, key('R'));
    s.refresh_view();
    assert_eq!(names(&s).len(), 5);
    update(&mut s, key('/'));
    for c in "check".chars() {
        update(&mut s, key(c));
    }
    update(&mut s, code(KeyCode::Enter));
    s.refresh_view();
    assert_eq!(names(&s), ["us/shop/checkout", "eu/shop/checkout"]);
}

#[test]
fn enter_shows_the_workloads_pods() {
    let mut s = fleet();
    list(
        &mut s,
        1,
        vec![
            pod(1, "shop", "checkout-1", "Running"),
            pod(1, "shop", "cart-1", "Running"),
        ],
    );
    select(&mut s, "us/shop/checkout");
    update(&mut s, code(KeyCode::Enter));
    s.refresh_view();
    assert_eq!(s.ui.focus, Pane::Pods);
    let shown: Vec<String> = s
        .store
        .view()
        .iter()
        .filter_map(|slot| s.store.get(*slot).map(|p| p.name.clone()))
        .collect();
    assert_eq!(shown, ["checkout-1"]);
}

#[test]
fn scale_takes_a_valid_count_then_looks_up_before_the_confirm_dialog() {
    let mut s = fleet();
    select(&mut s, "us/shop/checkout");
    assert!(update(&mut s, key('c')).is_empty());
    let Some(Modal::Workload(d)) = &s.ui.modal else {
        panic!("no scale input");
    };
    assert!(matches!(**d, Dialog::Scale { .. }));
    // the input starts at the current count
    for _ in 0..3 {
        update(&mut s, code(KeyCode::Backspace));
    }
    for c in "99999".chars() {
        update(&mut s, key(c));
    }
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    let text = screen(&s);
    assert!(
        text.contains("replicas must be between 0 and 10000"),
        "{text}"
    );
    for _ in 0..5 {
        update(&mut s, code(KeyCode::Backspace));
    }
    update(&mut s, key('8'));
    let effects = update(&mut s, code(KeyCode::Enter));
    assert!(s.ui.modal.is_none());
    let [Effect::Workload(Job::Prepare {
        action,
        target,
        inputs,
    })] = effects.as_slice()
    else {
        panic!("{effects:?}");
    };
    assert_eq!(*action, Action::Scale);
    let Ok(Planned::Change { object, params }) = plan::plan(*action, target, inputs) else {
        panic!("not a change");
    };
    assert_eq!(params, crate::write::Params::Scale { from: 6, to: 8 });
    let dir = tempfile::tempdir().expect("dir");
    let w = writer(dir.path(), &["eu", "us"]);
    let c = w.prepare(1, object, params).expect("prepare");
    update(
        &mut s,
        Msg::Workloads(Box::new(Answer::Prepared(Ok((
            c,
            vec!["autoscaled by checkout".into()],
        ))))),
    );
    let text = screen(&s);
    for want in [
        "region     us",
        "change     scale: replicas 6 -> 8",
        "warning    autoscaled by checkout",
    ] {
        assert!(text.contains(want), "{want} not in\n{text}");
    }
}

#[test]
fn a_statefulset_cannot_be_paused_and_read_only_refuses_before_asking() {
    let mut s = fleet();
    select(&mut s, "eu/data/db");
    assert!(update(&mut s, key('P')).is_empty());
    let toast = s.ui.toasts.back().expect("a toast");
    assert!(toast.text.contains("Deployments only"), "{}", toast.text);
    s.access.read_only = true;
    select(&mut s, "us/shop/checkout");
    for k in ['c', 'u', 'P', 'U'] {
        assert!(update(&mut s, key(k)).is_empty(), "{k}");
        assert!(s.ui.modal.is_none());
        let toast = s.ui.toasts.back().expect("a toast");
        assert!(
            toast.text.contains("read-only") && toast.text.contains("nothing sent"),
            "{}",
            toast.text
        );
    }
    let ctrl_r = Msg::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL));
    assert!(update(&mut s, ctrl_r).is_empty());
    // help greys them with the reason
    let help: Vec<String> = crate::ui::overlays::help::lines(&s, &crate::theme::Styles::default())
        .iter()
        .map(|l| l.to_string())
        .collect();
    let scale = help
        .iter()
        .find(|l| l.contains(" scale "))
        .expect("scale in help");
    assert!(scale.contains("greyed: read-only"), "{scale}");
}

#[test]
fn greyed_actions_say_why_in_the_hint_line_and_when_pressed() {
    let mut s = fleet();
    select(&mut s, "us/shop/checkout");
    let effects = super::act::want_offers(&mut s);
    let [Effect::Workload(Job::Offers(asked, _))] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    // asked once per selection kind and minute
    assert!(super::act::want_offers(&mut s).is_empty());
    let why = "patch deployments.apps/scale is forbidden".to_string();
    let offers = super::act::ROW_ACTIONS
        .iter()
        .filter(|a| **a != Action::RolloutStatus)
        .map(|a| {
            let o = if *a == Action::Scale {
                plan::Offer::Greyed(why.clone())
            } else {
                plan::Offer::Available
            };
            (*a, o)
        })
        .collect();
    update(
        &mut s,
        Msg::Workloads(Box::new(Answer::Offers(asked.clone(), offers))),
    );
    let text = screen_at(&s, 220);
    assert!(
        text.contains("[c scale: patch deployments.apps/scale is forbidden]"),
        "{text}"
    );
    assert!(text.contains("<C-r> restart"), "{text}");
    assert!(update(&mut s, key('c')).is_empty());
    assert!(s.ui.modal.is_none());
    assert!(s
        .ui
        .toasts
        .back()
        .is_some_and(|t| t.text.contains("forbidden")));
}

#[test]
fn undo_lists_revisions_with_the_image_diff_and_v_follows_the_rollout() {
    let mut s = fleet();
    select(&mut s, "us/shop/cart");
    let effects = update(&mut s, key('u'));
    let [Effect::Workload(Job::Revisions(target))] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert!(matches!(target, Target::Workload { name, .. } if name == "cart"));
    assert!(screen(&s).contains("reading revisions"));
    update(&mut s, code(KeyCode::Esc));
    assert!(s.ui.modal.is_none());
    // the live status view reads the store
    update(&mut s, key('v'));
    assert!(screen(&s).contains("Waiting for deployment \"cart\" rollout to finish: 2 out of 6 new replicas have been updated..."));
    let mut done = s
        .store
        .workloads()
        .rows()
        .values()
        .find(|i| i.row.name == "cart")
        .expect("cart")
        .row
        .clone();
    done.updated = 6;
    done.available = 6;
    done.ready = 6;
    put(&mut s, done);
    s.refresh_view();
    let text = screen(&s);
    assert!(text.contains("2 out of 6 new replicas"), "{text}");
    assert!(
        text.contains("deployment \"cart\" successfully rolled out"),
        "{text}"
    );
}

#[test]
fn exec_and_port_forward_from_a_workload_row_open_on_one_of_its_ready_pods() {
    let mut s = fleet();
    list(
        &mut s,
        1,
        vec![
            pod(1, "shop", "checkout-2", "CrashLoopBackOff"),
            pod(1, "shop", "checkout-1", "Running"),
            pod(1, "shop", "cart-1", "Running"),
        ],
    );
    select(&mut s, "us/shop/checkout");
    let opened = |s: &State| match &s.ui.modal {
        Some(Modal::Session(d)) => match d.as_ref() {
            crate::panes::exec::SessionDialog::Exec(p) => format!("exec {}", p.pod),
            crate::panes::exec::SessionDialog::Forward(f) => format!("forward {}", f.pod),
        },
        other => format!("{other:?}"),
    };
    update(&mut s, key('e'));
    assert_eq!(opened(&s), "exec checkout-1");
    s.ui.modal = None;
    update(&mut s, key('F'));
    assert_eq!(opened(&s), "forward checkout-1");
    // a workload with no ready pod says so and opens nothing
    s.ui.modal = None;
    select(&mut s, "eu/web/front");
    update(&mut s, key('e'));
    assert!(s.ui.modal.is_none());
    assert!(s
        .ui
        .toasts
        .iter()
        .any(|t| t.text.contains("no ready pod of the selected workload")));
}
