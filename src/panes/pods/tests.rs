//! The pods pane's reducer: rows in, selection, filter, scopes, sort and
//! describe through the keys a person presses.

use crate::msg::{Health, Msg, PodChange, PodUpdate};
use crate::state::Modal;
use crate::update::tests::{code, key, pod, selected_name, shop, state};
use crate::update::{update, Effect};
use crossterm::event::KeyCode;

#[test]
fn rows_arrive_per_region_and_changes_apply() {
    let mut s = state(&["eu", "us"]);
    shop(&mut s);
    assert_eq!(s.store.len(), 5);
    assert!(s.regions.iter().all(|r| r.health == Health::Live));
    let mut fixed = pod(0, "shop", "checkout-1", "Running");
    fixed.restarts = 3;
    update(
        &mut s,
        Msg::Pods {
            region: 0,
            update: PodUpdate::Changes(vec![
                PodChange::Upsert(fixed),
                PodChange::Delete("uid-0-shop-web-1".into()),
            ]),
        },
    );
    assert_eq!(s.store.len(), 4);
    let row = s
        .store
        .find(0, "uid-0-shop-checkout-1")
        .map(|r| (r.status.clone(), r.restarts));
    assert_eq!(row, Some(("Running".into(), 3)));
}

#[test]
fn selection_moves_and_follows_its_pod_across_resorts() {
    let mut s = state(&["eu", "us"]);
    shop(&mut s);
    // default sort: namespace, then name
    assert_eq!(selected_name(&mut s), "dns-1");
    update(&mut s, key('j'));
    update(&mut s, key('j'));
    assert_eq!(selected_name(&mut s), "checkout-1");
    update(&mut s, key('r')); // reverse
    assert_eq!(
        selected_name(&mut s),
        "checkout-1",
        "selection stays on the pod"
    );
    assert_eq!(s.ui.pods.cursor, 2);
    update(&mut s, key('G'));
    assert_eq!(selected_name(&mut s), "dns-1");
    update(&mut s, key('g'));
    assert!(
        !s.ui.pending_keys.is_empty(),
        "g waits for the rest of the sequence"
    );
    update(&mut s, key('g'));
    assert!(s.ui.pending_keys.is_empty());
    assert_eq!(selected_name(&mut s), "web-1");
}

#[test]
fn filter_narrows_live_and_escape_clears_it() {
    let mut s = state(&["eu", "us"]);
    shop(&mut s);
    update(&mut s, key('/'));
    for c in "chk".chars() {
        update(&mut s, key(c));
    }
    s.refresh_view();
    assert_eq!(s.store.view().len(), 1);
    assert_eq!(selected_name(&mut s), "checkout-1");
    update(&mut s, code(KeyCode::Enter));
    assert!(s.ui.filter_input.is_none());
    assert_eq!(s.store.view_spec().filter, "chk", "enter keeps the filter");
    update(&mut s, key('/'));
    update(&mut s, code(KeyCode::Esc));
    s.refresh_view();
    assert_eq!(s.store.view().len(), 5);
}

#[test]
fn scopes_problems_and_next_problem() {
    let mut s = state(&["eu", "us"]);
    shop(&mut s);
    update(&mut s, key(']'));
    assert_eq!(selected_name(&mut s), "checkout-1");
    update(&mut s, key(']'));
    assert_eq!(selected_name(&mut s), "pay-1");
    update(&mut s, key('p'));
    s.refresh_view();
    assert_eq!(s.store.view().len(), 2);
    update(&mut s, key('p'));
    update(&mut s, key('R'));
    s.refresh_view();
    assert_eq!(s.store.view_spec().region, Some(0));
    assert_eq!(s.store.view().len(), 3);
    update(&mut s, key('R'));
    update(&mut s, key('N'));
    s.refresh_view();
    assert_eq!(s.store.view_spec().namespace.as_deref(), Some("infra"));
    assert_eq!(s.store.view().len(), 1);
}

#[test]
fn describe_asks_for_the_selected_pod_and_shows_the_answer() {
    let mut s = state(&["eu", "us"]);
    shop(&mut s);
    update(&mut s, key('j'));
    let effects = update(&mut s, key('d'));
    assert_eq!(
        effects,
        vec![Effect::Describe {
            region: 0,
            namespace: "shop".into(),
            name: "cart-1".into()
        }]
    );
    update(
        &mut s,
        Msg::Described {
            region: 0,
            namespace: "shop".into(),
            name: "cart-1".into(),
            result: Ok("{\n  \"kind\": \"Pod\"\n}".into()),
        },
    );
    match &s.ui.modal {
        Some(Modal::Describe(v)) => {
            assert_eq!(
                v.lines.as_ref().and_then(|l| l.as_ref().ok()).map(Vec::len),
                Some(3)
            )
        }
        other => panic!("expected describe, got {other:?}"),
    }
    update(&mut s, code(KeyCode::Esc));
    assert!(s.ui.modal.is_none());
}
