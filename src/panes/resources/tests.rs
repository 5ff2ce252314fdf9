//! The resources pane: names resolved as kubectl resolves them, Tables
//! read as the server prints them, rows across regions scoped, filtered
//! and sorted, and what its keys do.

use super::*;
use crate::model::resource::{
    from_resource_list, parse_table, resolve, ResourceType, ResourcesMsg, TablePage,
};
use crate::msg::Msg;
use crate::state::Modal;
use crate::update::tests::{code, key, state};
use crate::update::update;
use crossterm::event::KeyCode;
use serde_json::json;

fn deployments_table(rows: &[(&str, &str, &str)]) -> serde_json::Value {
    json!({
        "kind": "Table", "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": "42"},
        "columnDefinitions": [
            {"name": "Name", "type": "string", "priority": 0},
            {"name": "Ready", "type": "string", "priority": 0},
            {"name": "Age", "type": "string", "priority": 0},
            {"name": "Images", "type": "string", "priority": 1}
        ],
        "rows": rows.iter().map(|(ns, name, ready)| json!({
            "cells": [name, ready, "5m", "img"],
            "object": {"kind": "PartialObjectMetadata", "metadata": {"name": name, "namespace": ns}}
        })).collect::<Vec<_>>()
    })
}

fn page(rows: &[(&str, &str, &str)]) -> TablePage {
    parse_table(&deployments_table(rows)).unwrap()
}

#[test]
fn words_resolve_as_kubectl_resolves_them() {
    let widget = ResourceType {
        api: "/apis/example.com/v1".into(),
        plural: "widgets".into(),
        singular: "widget".into(),
        kind: "Widget".into(),
        namespaced: true,
        short_names: vec!["wd".into()],
    };
    for (word, kind) in [
        ("deploy", "Deployment"),
        ("deployments", "Deployment"),
        ("Deployment", "Deployment"),
        ("deployments.apps", "Deployment"),
        (":sts", "StatefulSet"),
        ("ds", "DaemonSet"),
        ("rs", "ReplicaSet"),
        ("svc", "Service"),
        ("ing", "Ingress"),
        ("no", "Node"),
        ("ev", "Event"),
        ("ns", "Namespace"),
        ("cm", "ConfigMap"),
        ("pvc", "PersistentVolumeClaim"),
        ("job", "Job"),
        ("cj", "CronJob"),
        ("wd", "Widget"),
        ("widget", "Widget"),
    ] {
        let found = resolve(word, std::slice::from_ref(&widget)).map(|t| t.kind);
        assert_eq!(found.as_deref(), Some(kind), "{word}");
    }
    assert_eq!(resolve("bogus", &[widget]), None);
}

#[test]
fn discovery_lists_keep_listable_resources_with_their_short_names() {
    let list = json!({"resources": [
        {"name": "widgets", "singularName": "widget", "namespaced": true, "kind": "Widget",
         "verbs": ["get", "list", "watch"], "shortNames": ["wd"]},
        {"name": "widgets/status", "singularName": "", "namespaced": true, "kind": "Widget", "verbs": ["get"]},
        {"name": "selfsubjectreviews", "namespaced": false, "kind": "SelfSubjectReview", "verbs": ["create"]}
    ]});
    let types = from_resource_list("/apis/example.com/v1", &list);
    assert_eq!(types.len(), 1);
    assert_eq!(types[0].short_names, vec!["wd".to_string()]);
    assert_eq!(types[0].group(), "example.com");
    assert!(types[0].named("widgets.example.com"));
}

#[test]
fn a_table_keeps_the_default_columns_and_each_rows_object() {
    let p = page(&[("shop", "web", "3/3")]);
    assert_eq!(p.columns, vec!["NAME", "READY", "AGE"]);
    assert_eq!(p.rows[0].cells, vec!["web", "3/3", "5m"]);
    assert_eq!(
        (p.rows[0].namespace.as_str(), p.rows[0].name.as_str()),
        ("shop", "web")
    );
    assert!(parse_table(&json!({"kind": "DeploymentList"})).is_err());
}

/// A cockpit with `:deploy` open and both regions' tables in.
fn shown() -> (crate::state::State, Vec<crate::update::Effect>) {
    let mut s = state(&["eu", "us"]);
    update(&mut s, Msg::Resize(120, 40));
    let effects = open(&mut s, "deploy");
    let generation = s.resources.generation;
    for (region, rows) in [
        (0, vec![("shop", "web", "3/3"), ("shop", "cart", "1/2")]),
        (1, vec![("search", "search", "12/30")]),
    ] {
        update(
            &mut s,
            Msg::Resources(ResourcesMsg::Table {
                generation,
                region,
                result: Ok(page(&rows)),
            }),
        );
    }
    (s, effects)
}

fn names(s: &crate::state::State) -> Vec<String> {
    current_view(s).rows.into_iter().map(|r| r.name).collect()
}

#[test]
fn a_command_starts_one_task_and_shows_every_regions_rows() {
    let (mut s, effects) = shown();
    assert!(matches!(
        effects.as_slice(),
        [Effect::Task(TaskCommand::Start(..))]
    ));
    assert_eq!(s.ui.focus, Pane::Resources);
    assert!(
        s.ui.panes().contains(&Pane::Resources),
        "in the pods pane's place"
    );
    assert!(!s.ui.panes().contains(&Pane::Pods));
    let view = current_view(&s);
    assert_eq!(
        view.columns,
        vec!["REGION", "NAMESPACE", "NAME", "READY", "AGE"]
    );
    assert_eq!(names(&s), vec!["web", "cart", "search"]);
    // a second command stops the first task; the first's late answers drop
    let old = s.resources.generation;
    let effects = open(&mut s, "no");
    assert!(matches!(
        effects.as_slice(),
        [
            Effect::Task(TaskCommand::Stop(_)),
            Effect::Task(TaskCommand::Start(..))
        ]
    ));
    update(
        &mut s,
        Msg::Resources(ResourcesMsg::Table {
            generation: old,
            region: 0,
            result: Ok(page(&[("shop", "late", "1/1")])),
        }),
    );
    assert!(names(&s).is_empty());
    assert_eq!(
        current_view(&s).columns,
        vec!["REGION"],
        "nodes have no namespace"
    );
    // `:po` is the pods pane
    open(&mut s, "po");
    assert_eq!(s.ui.focus, Pane::Pods);
}

#[test]
fn filter_scope_and_sort_work_on_the_visible_columns() {
    let (mut s, _) = shown();
    update(&mut s, key('/'));
    for c in "ready:1/".chars() {
        update(&mut s, key(c));
    }
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(names(&s), vec!["cart"], "column:value narrows that column");
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(names(&s).len(), 3, "Esc clears the filter");
    update(&mut s, key('R'));
    assert_eq!(names(&s), vec!["web", "cart"], "the region scope applies");
    update(&mut s, key('R'));
    update(&mut s, key('R'));
    // s cycles the columns shown, the arrow says which
    update(&mut s, key('s'));
    update(&mut s, key('s'));
    update(&mut s, key('s'));
    assert_eq!(s.resources.sort, Some(2));
    assert_eq!(names(&s), vec!["cart", "search", "web"]);
    update(&mut s, key('s'));
    assert_eq!(
        names(&s),
        vec!["cart", "web", "search"],
        "READY sorts as numbers"
    );
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 30)).unwrap();
    term.draw(|f| crate::ui::draw(&s, &crate::theme::Styles::default(), f))
        .unwrap();
    let screen = term.backend().to_string();
    assert!(screen.contains("READY↓"), "{screen}");
    assert!(screen.contains(":deploy (Deployment) 3/3"), "{screen}");
}

#[test]
fn describe_and_yaml_of_a_row_ask_for_that_object() {
    use crate::model::{ApiObject, ShowAs};
    let (mut s, _) = shown();
    update(&mut s, key('j'));
    let effects = update(&mut s, key('d'));
    let cart = ApiObject {
        region: 0,
        api: "/apis/apps/v1".into(),
        plural: "deployments".into(),
        kind: "Deployment".into(),
        namespace: Some("shop".into()),
        name: "cart".into(),
    };
    assert_eq!(
        effects,
        vec![Effect::Show {
            object: cart.clone(),
            show: ShowAs::Describe
        }]
    );
    assert!(matches!(s.ui.modal, Some(Modal::Describe(_))));
    update(&mut s, code(KeyCode::Esc));
    let effects = update(&mut s, key('y'));
    assert_eq!(
        effects,
        vec![Effect::Show {
            object: cart,
            show: ShowAs::Yaml
        }]
    );
}

#[test]
fn an_unknown_word_says_so_and_gives_the_table_back() {
    let mut s = state(&["eu"]);
    open(&mut s, "bogus");
    assert_eq!(s.ui.focus, Pane::Resources);
    update(
        &mut s,
        Msg::Resources(ResourcesMsg::Unknown {
            word: "bogus".into(),
        }),
    );
    assert_eq!(s.ui.focus, Pane::Pods);
    assert!(s
        .ui
        .toasts
        .iter()
        .any(|t| t.text == "unknown command or resource: bogus"));
}

#[test]
fn the_palette_runs_a_jump_it_knows_and_hides_dialog_keys() {
    let mut s = state(&["eu"]);
    update(&mut s, key(':'));
    match &s.ui.modal {
        Some(Modal::Palette(p)) => {
            let shown: Vec<_> = p
                .candidates
                .iter()
                .filter_map(|c| match c {
                    crate::state::ui::PaletteItem::Action(a) => Some(*a),
                    _ => None,
                })
                .collect();
            for hidden in crate::update::palette::DIALOG_ONLY {
                assert!(!shown.contains(&hidden), "{hidden:?} offered");
            }
        }
        other => panic!("{other:?}"),
    }
    for c in "no".chars() {
        update(&mut s, key(c));
    }
    let effects = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.ui.focus, Pane::Resources);
    assert_eq!(
        s.resources.rt.as_ref().map(|t| t.kind.as_str()),
        Some("Node")
    );
    assert!(matches!(
        effects.as_slice(),
        [Effect::Task(TaskCommand::Start(..))]
    ));
}

#[test]
fn help_scrolls_to_the_palettes_jumps_and_says_where_it_is() {
    let mut s = state(&["eu"]);
    update(&mut s, Msg::Resize(100, 30));
    update(&mut s, key('?'));
    update(&mut s, key('G'));
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).unwrap();
    term.draw(|f| crate::ui::draw(&s, &crate::theme::Styles::default(), f))
        .unwrap();
    let screen = term.backend().to_string();
    let total = crate::ui::overlays::help::line_count(&s);
    assert!(
        screen.contains(&format!("-{total} of {total} ")),
        "{screen}"
    );
    assert!(screen.contains("[palette]"), "{screen}");
    for jump in [
        ":pods", ":deploy", ":sts", ":ds", ":svc", ":no", ":ev", ":cj",
    ] {
        assert!(screen.contains(jump), "{jump}: {screen}");
    }
}

#[test]
fn back_returns_to_the_pods_table() {
    let (mut s, _) = shown();
    crate::update::dispatch(&mut s, Action::Back);
    assert_eq!(s.ui.focus, Pane::Pods);
    assert!(s.ui.panes().contains(&Pane::Pods));
    assert!(!s.ui.panes().contains(&Pane::Resources));
}

#[test]
fn f_forwards_to_a_service_row_and_explains_other_kinds() {
    // a Deployment row: not a Service, said so, no dialog
    let (mut s, _) = shown();
    let effects = update(&mut s, key('F'));
    assert!(effects.is_empty());
    assert!(s.ui.modal.is_none());
    assert!(s
        .ui
        .toasts
        .iter()
        .any(|t| t.text.contains("a Service (:svc)")));

    // a Service row: the forward dialog on the Service alone, checked
    let mut s = state(&["eu"]);
    update(&mut s, Msg::Resize(120, 40));
    open(&mut s, "svc");
    let generation = s.resources.generation;
    update(
        &mut s,
        Msg::Resources(ResourcesMsg::Table {
            generation,
            region: 0,
            result: Ok(page(&[("shop", "cart", "")])),
        }),
    );
    let effects = update(&mut s, key('F'));
    assert_eq!(effects.len(), 1, "{effects:?}");
    let Some(Modal::Session(d)) = &s.ui.modal else {
        panic!("no dialog: {:?}", s.ui.modal)
    };
    let crate::panes::exec::SessionDialog::Forward(f) = d.as_ref() else {
        panic!("not the forward dialog")
    };
    use crate::panes::forwards::state::ForwardTarget;
    assert_eq!(f.target(), ForwardTarget::Service("cart".into()));
    assert_eq!(f.namespace, "shop");
    // Up/Down do not offer a pod: the Service is the only target
    update(&mut s, code(KeyCode::Down));
    let Some(Modal::Session(d)) = &s.ui.modal else {
        panic!("dialog closed")
    };
    let crate::panes::exec::SessionDialog::Forward(f) = d.as_ref() else {
        panic!("not the forward dialog")
    };
    assert_eq!(f.target(), ForwardTarget::Service("cart".into()));
}
