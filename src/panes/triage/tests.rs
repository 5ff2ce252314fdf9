//! The incident panes through the whole cockpit: rows and events in,
//! keys on the focused triage or probes pane, Enter lands on the pods,
//! snapshots of both panes.

use crate::action::Action;
use crate::app::Cockpit;
use crate::config::RegionConfig;
use crate::fleet::owners::tests::{crashlooping, pod};
use crate::fleet::stream::IncidentUpdate;
use crate::keymap::Keymap;
use crate::model::{EventRow, InvolvedObject, PodRow};
use crate::msg::{Change, Update};
use crate::msg::{Health, Msg, PodUpdate};
use crate::panes::triage::rank::Problem;
use crate::state::Pane;
use crate::theme::Styles;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

const NOW: i64 = 1_800_000_000;

fn cockpit() -> Cockpit {
    let regions: Vec<RegionConfig> = ["cn-north", "us-east"]
        .iter()
        .map(|n| RegionConfig {
            name: n.to_string(),
            context: n.to_string(),
            ..RegionConfig::default()
        })
        .collect();
    Cockpit::new(&regions, Keymap::default(), Styles::default(), NOW)
}

fn named(region: usize, workload: &str, i: usize, ready: bool) -> PodRow {
    let name = format!("{workload}-7d9f8-p{i:04}");
    let uid = format!("u-{region}-{name}");
    let mut p = pod(region, &uid, &name, workload, ready);
    p.created = NOW - 3 * 3600;
    p
}

fn crashing(p: PodRow) -> PodRow {
    let mut p = crashlooping(p, false);
    p.last_restart = Some(NOW - 240);
    if let Some(t) = p.containers[0].last_terminated.as_mut() {
        t.finished = Some(NOW - 240);
    }
    p
}

fn unhealthy(p: &PodRow, message: &str, count: u32) -> EventRow {
    EventRow {
        region: p.region,
        uid: format!("ev-{}", p.uid),
        namespace: p.namespace.clone(),
        name: format!("{}.1", p.name),
        object: InvolvedObject {
            kind: "Pod".into(),
            namespace: p.namespace.clone(),
            name: p.name.clone(),
            uid: p.uid.clone(),
            field_path: "spec.containers{app}".into(),
        },
        type_: "Warning".into(),
        reason: "Unhealthy".into(),
        message: message.into(),
        count,
        first_seen: NOW - 30,
        last_seen: NOW - 1,
        source: "kubelet".into(),
    }
}

/// cn-north: checkout with 2 of 6 pods failing readiness (one event
/// message hostile). us-east: api with 2 crash-looping pods.
fn fleet() -> Cockpit {
    let mut c = cockpit();
    for region in 0..2 {
        c.handle(Msg::RegionHealth {
            region,
            feed: crate::fleet::health::Feed::PODS,
            health: Health::Live,
        });
    }
    let mut checkout: Vec<PodRow> = (0..6).map(|i| named(0, "checkout", i, i >= 2)).collect();
    checkout.push(named(0, "cart", 0, true));
    c.handle(Msg::Pods {
        region: 0,
        update: PodUpdate::ListStart { namespace: None },
    });
    c.handle(Msg::Pods {
        region: 0,
        update: PodUpdate::ListPage(checkout.clone()),
    });
    c.handle(Msg::Pods {
        region: 0,
        update: PodUpdate::ListDone { namespace: None },
    });
    let mut api: Vec<PodRow> = (0..4).map(|i| named(1, "api", i, true)).collect();
    api.extend((4..6).map(|i| crashing(named(1, "api", i, false))));
    c.handle(Msg::Pods {
        region: 1,
        update: PodUpdate::ListPage(api),
    });
    let events = vec![
        Change::Upsert(unhealthy(
            &checkout[0],
            "Readiness probe failed: HTTP probe failed with statuscode: 503",
            7,
        )),
        Change::Upsert(unhealthy(
            &checkout[1],
            "Readiness probe failed: \u{1b}]52;c;cHduZWQ=\u{7}\u{1b}[2Jboom\u{202e}desrever",
            3,
        )),
    ];
    c.handle(Msg::Incident {
        region: 0,
        update: IncidentUpdate::Events(Update::Changes(events)),
    });
    c.state.refresh_view();
    c
}

fn act(c: &mut Cockpit, a: Action) {
    crate::update::dispatch(&mut c.state, a);
}

fn screen(c: &mut Cockpit, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    c.handle(Msg::Resize(w, h));
    c.draw(&mut term).unwrap();
    // clock times are local: the snapshots hold them as HH:MM:SS
    crate::ui::tests::redact_clock(&term.backend().to_string())
}

#[test]
fn pods_and_events_reach_the_panes_and_rank() {
    let c = fleet();
    let inc = &c.state.incident;
    let top = &inc.triage.items[0];
    assert_eq!((top.id.region, top.id.name.as_str()), (1, "api"));
    assert_eq!(top.id.problem, Problem::CrashLoop);
    assert_eq!(top.how_bad, "2/6 pods CrashLoopBackOff");
    let probe = &inc.probes.rows[0];
    assert_eq!(probe.key.workload.name, "checkout");
    assert_eq!((probe.pods_affected, probe.pods_total), (2, 6));
    assert_eq!(probe.failures_total, 10);
}

#[test]
fn enter_on_a_triage_item_lands_on_its_pods() {
    let mut c = fleet();
    act(&mut c, Action::ShowTriage);
    assert_eq!(c.state.ui.focus, Pane::Triage);
    act(&mut c, Action::Top);
    act(&mut c, Action::Select);
    let st = &c.state;
    assert_eq!(st.ui.focus, Pane::Pods);
    assert_eq!(st.store.view_spec().region, Some(1));
    let names: Vec<&str> = st
        .store
        .view()
        .iter()
        .filter_map(|s| st.store.get(*s))
        .map(|p| p.owner_name.as_str())
        .collect();
    assert_eq!(names.len(), 6);
    assert!(names.iter().all(|n| *n == "api"));
    // Esc in the table clears the scope again
    act(&mut c, Action::ClearFilter);
    assert_eq!(c.state.store.view().len(), 13);
}

/// The pods in view, in order: (name, status, healthy).
fn view_rows(c: &Cockpit) -> Vec<(String, String, bool)> {
    let st = &c.state;
    st.store
        .view()
        .iter()
        .filter_map(|s| st.store.get(*s))
        .map(|p| (p.name.clone(), p.status.clone(), p.is_healthy()))
        .collect()
}

fn selected_status(c: &Cockpit) -> Option<String> {
    let st = &c.state;
    st.ui
        .pods
        .selected
        .and_then(|s| st.store.get(s))
        .map(|p| p.status.clone())
}

#[test]
fn enter_lands_on_the_problem_pods_first_and_selected() {
    // triage: the crash loop of api; its crashing pods sort last by name
    let mut c = fleet();
    act(&mut c, Action::ShowTriage);
    act(&mut c, Action::Top);
    act(&mut c, Action::Select);
    let rows = view_rows(&c);
    assert_eq!(rows.len(), 6, "{rows:?}");
    assert!(
        rows[..2].iter().all(|r| r.1 == "CrashLoopBackOff"),
        "{rows:?}"
    );
    assert!(
        rows[2..].iter().all(|r| r.2),
        "healthy ones follow: {rows:?}"
    );
    assert_eq!(selected_status(&c).as_deref(), Some("CrashLoopBackOff"));
    let s = screen(&mut c, 120, 40);
    assert!(s.contains("problems first"), "the title says why:\n{s}");
    // the user's sort still orders within each group
    act(&mut c, Action::SortReverse);
    c.state.refresh_view();
    let rows = view_rows(&c);
    assert!(rows[..2].iter().all(|r| !r.2), "{rows:?}");

    // probes: the unready checkout pods first, one of them selected, even
    // with a reversed sort that would put them last
    let mut c = fleet();
    act(&mut c, Action::ShowPods);
    act(&mut c, Action::SortReverse);
    act(&mut c, Action::ShowProbes);
    act(&mut c, Action::Select);
    let rows = view_rows(&c);
    assert!(rows[..2].iter().all(|r| !r.2), "{rows:?}");
    assert!(rows[2..].iter().all(|r| r.2), "{rows:?}");
    let st = &c.state;
    let sel = st.ui.pods.selected.and_then(|s| st.store.get(s));
    assert!(sel.is_some_and(|p| !p.is_healthy()), "{sel:?}");
}

fn press(c: &mut Cockpit, ch: char) -> Vec<crate::update::Effect> {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    c.handle(Msg::Key(KeyEvent::new(
        KeyCode::Char(ch),
        KeyModifiers::NONE,
    )))
}

#[test]
fn keys_act_on_the_focused_pane_only() {
    let mut c = fleet();
    press(&mut c, 't');
    assert_eq!(c.state.ui.focus, Pane::Triage);
    let spec = c.state.store.view_spec().clone();
    let pods_cursor = c.state.ui.pods.cursor;
    // pod-table keys mean nothing on triage: no sort, no describe of a
    // pod of another region, no filter of the hidden table
    for ch in ['s', 'S', 'r', 'p', 'd', '/'] {
        assert!(press(&mut c, ch).is_empty(), "{ch} made an effect");
    }
    assert_eq!(c.state.store.view_spec(), &spec);
    assert!(c.state.ui.modal.is_none() && c.state.ui.filter_input.is_none());
    // movement moves the triage cursor, not the pods one
    let before = c.state.incident.triage.cursor.selected.clone();
    press(&mut c, 'j');
    assert_ne!(c.state.incident.triage.cursor.selected, before);
    assert_eq!(c.state.ui.pods.cursor, pods_cursor);
    // the same keys on the focused pods pane act on it
    press(&mut c, 'o');
    press(&mut c, 's');
    assert_ne!(c.state.store.view_spec().sort, spec.sort);
    assert_eq!(press(&mut c, 'd').len(), 1);
}

#[test]
fn enter_on_a_probe_row_lands_on_that_workload() {
    let mut c = fleet();
    act(&mut c, Action::ShowProbes);
    act(&mut c, Action::Select);
    let spec = c.state.store.view_spec();
    assert_eq!(spec.owner, Some(("Deployment".into(), "checkout".into())));
    assert_eq!(spec.namespace.as_deref(), Some("shop"));
    assert_eq!(c.state.store.view().len(), 6);
}

#[test]
fn probe_rows_of_a_region_that_is_not_live_say_so() {
    let mut c = fleet();
    let live = screen(&mut c, 160, 48);
    assert!(
        live.contains("Probe failures") && !live.contains("not live"),
        "{live}"
    );
    c.handle(Msg::RegionHealth {
        region: 0,
        feed: crate::fleet::health::Feed::EVENTS,
        health: Health::Stale {
            since: 1_000,
            reason: "no events or bookmarks for 15s".into(),
        },
    });
    c.state.refresh_view();
    let stale = screen(&mut c, 160, 48);
    assert!(stale.contains("from regions not live, dimmed"), "{stale}");
}

#[test]
fn cursor_keeps_its_item_when_a_region_goes_down() {
    let mut c = fleet();
    act(&mut c, Action::ShowTriage);
    act(&mut c, Action::Down);
    let chosen = c.state.incident.triage.cursor.selected.clone();
    assert!(chosen.is_some());
    c.handle(Msg::RegionHealth {
        region: 1,
        feed: crate::fleet::health::Feed::PODS,
        health: Health::Unreachable("connection refused".into()),
    });
    c.state.refresh_view();
    let inc = &c.state.incident;
    assert_eq!(inc.triage.items[0].id.problem, Problem::RegionDown);
    assert_eq!(inc.triage.cursor.selected, chosen);
    assert_eq!(
        Some(&inc.triage.items[inc.triage.cursor.cursor].id),
        chosen.as_ref()
    );
}

#[test]
fn incident_panes_snapshots() {
    let mut c = fleet();
    insta::assert_snapshot!("incident_160x48", screen(&mut c, 160, 48));
    act(&mut c, Action::ShowTriage);
    insta::assert_snapshot!("incident_triage_80x24", screen(&mut c, 80, 24));
    act(&mut c, Action::ShowProbes);
    insta::assert_snapshot!("incident_probes_80x24", screen(&mut c, 80, 24));
}

#[test]
fn panes_draw_at_both_sizes_with_hostile_text_defused() {
    let mut c = fleet();
    let wide = screen(&mut c, 160, 48);
    for pane in ["Triage", "Pods", "Probe failures"] {
        assert!(wide.contains(pane), "{pane} missing:\n{wide}");
    }
    assert!(wide.contains("crash loop") && wide.contains("2/6 pods CrashLoopBackOff"));
    // select the row whose latest message is the hostile one
    act(&mut c, Action::ShowProbes);
    let wide = screen(&mut c, 160, 48);
    assert!(wide.contains("boom") && wide.contains("desrever"), "{wide}");
    for bad in ['\u{1b}', '\u{7}', '\u{202e}'] {
        assert!(!wide.contains(bad), "{bad:?} reached the screen");
    }
    // 80x24: only the focused pane, with tabs
    let narrow = screen(&mut c, 80, 24);
    assert!(narrow.contains("Probe failures") && narrow.contains("Triage 2!!  Pods  Probes"));
    assert!(
        !narrow.contains("NAMESPACE"),
        "pods table hidden:\n{narrow}"
    );
    act(&mut c, Action::FocusNext);
    assert_eq!(c.state.ui.focus, Pane::Triage);
    let narrow = screen(&mut c, 80, 24);
    assert!(narrow.contains("crash loop"), "{narrow}");
}
