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

/// The describe view's top line and search, as the overlay shows them.
fn view_at(s: &crate::state::State) -> (usize, String, crate::model::ShowAs) {
    match &s.ui.modal {
        Some(Modal::Describe(v)) => (v.scroll, v.search.clone(), v.show),
        other => panic!("expected the describe view, got {other:?}"),
    }
}

#[test]
fn describe_and_yaml_switch_and_search_with_slash_n_and_shift_n() {
    use crate::model::{ApiObject, ShowAs};
    let mut s = state(&["eu", "us"]);
    shop(&mut s);
    update(&mut s, Msg::Resize(120, 40));
    update(&mut s, key('j'));
    update(&mut s, key('d'));
    let body = "Name: cart-1\nState: Waiting\n  Reason: CrashLoopBackOff\nEvents:\n  Warning BackOff 1m kubelet Back-off\n  Warning BackOff 2m kubelet Back-off";
    update(
        &mut s,
        Msg::Described {
            region: 0,
            namespace: "shop".into(),
            name: "cart-1".into(),
            result: Ok(body.into()),
        },
    );
    // `/backoff` jumps to the first match as it is typed, case aside
    update(&mut s, key('/'));
    for c in "backoff".chars() {
        update(&mut s, key(c));
    }
    assert_eq!(view_at(&s).0, 2);
    update(&mut s, code(KeyCode::Enter));
    // n and N walk the matches and wrap; they never close the view
    update(&mut s, key('n'));
    assert_eq!(view_at(&s).0, 4);
    update(&mut s, key('n'));
    assert_eq!(view_at(&s).0, 5);
    update(&mut s, key('n'));
    assert_eq!(view_at(&s).0, 2, "wraps to the first match");
    update(&mut s, key('N'));
    assert_eq!(view_at(&s).0, 5, "and back to the last");
    // y asks for the YAML of the same pod and keeps the search
    let effects = update(&mut s, key('y'));
    let pod = ApiObject::pod(0, "shop", "cart-1");
    assert_eq!(
        effects,
        vec![Effect::Show {
            object: pod.clone(),
            show: ShowAs::Yaml
        }]
    );
    assert_eq!(view_at(&s).1, "backoff");
    assert_eq!(view_at(&s).2, ShowAs::Yaml);
    // a late description is not shown as the YAML
    update(
        &mut s,
        Msg::Described {
            region: 0,
            namespace: "shop".into(),
            name: "cart-1".into(),
            result: Ok("stale".into()),
        },
    );
    match &s.ui.modal {
        Some(Modal::Describe(v)) => assert!(v.lines.is_none()),
        other => panic!("{other:?}"),
    }
    update(
        &mut s,
        Msg::Shown {
            object: pod,
            show: ShowAs::Yaml,
            result: Ok("kind: Pod\nstatus:\n  reason: BackOff".into()),
        },
    );
    assert_eq!(view_at(&s).0, 2, "the answer opens on the first match");
    update(&mut s, key('q'));
    assert!(s.ui.modal.is_none(), "q closes the view");
    // y on the table opens the YAML view directly
    let effects = update(&mut s, key('y'));
    assert!(matches!(
        effects.as_slice(),
        [Effect::Show {
            show: ShowAs::Yaml,
            ..
        }]
    ));
    update(&mut s, code(KeyCode::Esc));
    assert!(s.ui.modal.is_none(), "Esc closes it");
}

/// The names in view, after a refresh.
fn names_in_view(s: &mut crate::state::State) -> Vec<String> {
    s.refresh_view();
    s.store
        .view()
        .iter()
        .filter_map(|slot| s.store.get(*slot))
        .map(|p| p.name.clone())
        .collect()
}

#[test]
fn the_filter_matches_status_and_every_column_and_narrows_by_field() {
    let mut s = state(&["cn-north", "us-east"]);
    let mut on_node = pod(0, "shop", "cart-1", "Running");
    on_node.node = "cn-north-node-03".into();
    crate::update::tests::list(
        &mut s,
        0,
        vec![
            pod(0, "shop", "checkout-1", "CrashLoopBackOff"),
            pod(0, "shop", "checkout-2", "Running"),
            on_node,
        ],
    );
    crate::update::tests::list(
        &mut s,
        1,
        vec![
            pod(1, "search", "search-1", "CrashLoopBackOff"),
            pod(1, "search", "search-2", "Running"),
        ],
    );
    let filter = |s: &mut crate::state::State, f: &str| {
        super::set_filter(s, f.into());
        let mut names = names_in_view(s);
        names.sort();
        names
    };
    // free text reaches the status column
    assert_eq!(filter(&mut s, "crash"), ["checkout-1", "search-1"]);
    // and the region
    assert_eq!(filter(&mut s, "us-east"), ["search-1", "search-2"]);
    // field:value narrows by one column, any case
    assert_eq!(
        filter(&mut s, "status:CrashLoopBackOff"),
        ["checkout-1", "search-1"]
    );
    assert_eq!(filter(&mut s, "node:cn-north-node-03"), ["cart-1"]);
    assert_eq!(filter(&mut s, "STATUS:crash ns:shop"), ["checkout-1"]);
    assert_eq!(filter(&mut s, "status:crash check"), ["checkout-1"]);
    // an unknown field is plain text
    assert!(filter(&mut s, "colour:red").is_empty());
    // a pod that stops crashing leaves a status filter at once
    super::set_filter(&mut s, "status:crash".into());
    assert_eq!(names_in_view(&mut s).len(), 2);
    update(
        &mut s,
        Msg::Pods {
            region: 1,
            update: PodUpdate::Changes(vec![PodChange::Upsert(pod(
                1, "search", "search-1", "Running",
            ))]),
        },
    );
    assert_eq!(names_in_view(&mut s), ["checkout-1"]);
}

#[test]
fn sort_cycles_through_the_columns_shown_only() {
    use crate::action::Action;
    use crate::state::Column;
    let mut s = state(&["eu", "us"]);
    shop(&mut s);
    let cycle = |s: &mut crate::state::State, width: u16| {
        s.ui.size = (width, 40);
        let mut seen = Vec::new();
        for _ in 0..12 {
            crate::update::dispatch(s, Action::SortNext);
            seen.push(s.store.view_spec().sort);
        }
        seen
    };
    let narrow = cycle(&mut s, 80);
    let shown = super::view::columns_for(78);
    assert!(narrow.iter().all(|c| shown.contains(c)), "{narrow:?}");
    for hidden in [Column::Node, Column::Ip, Column::Owner] {
        assert!(!narrow.contains(&hidden), "{hidden:?} is not shown at 80");
    }
    assert!(shown.iter().all(|c| narrow.contains(c)), "every shown one");
    let wide = cycle(&mut s, 200);
    assert!(wide.contains(&Column::Ip) && wide.contains(&Column::Node));
    // back on a narrow terminal, sorted by IP: the title marks it
    crate::update::dispatch(&mut s, Action::SortNext);
    while s.store.view_spec().sort != Column::Ip {
        crate::update::dispatch(&mut s, Action::SortNext);
    }
    s.refresh_view();
    let styles = crate::theme::Styles::default();
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24))
        .unwrap_or_else(|e| panic!("{e}"));
    term.draw(|f| crate::ui::draw(&s, &styles, f))
        .unwrap_or_else(|e| panic!("{e}"));
    let screen = term.backend().to_string();
    assert!(screen.contains("sort:ip↓"), "{screen}");
}
