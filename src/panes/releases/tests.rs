//! The releases pane's pure parts through the whole cockpit: the timeline
//! and the matrix from store rows and revisions, drift, the gates'
//! verdicts, plans persisted and restored, keys, and snapshots of the
//! timeline and the matrix at 80x24 and 160x48.

use super::gates::{self, Reading};
use super::plan::{Plan, PlanState, Wave, WaveGates, WaveRegion, WaveState};
use super::state::View;
use super::{matrix, persist, timeline};
use crate::action::Action;
use crate::app::Cockpit;
use crate::config::stages::{demo_stages, Gates};
use crate::config::RegionConfig;
use crate::fleet::owners::tests::{crashlooping, pod};
use crate::fleet::stream::IncidentUpdate;
use crate::fleet::workloads::WorkloadInfo;
use crate::keymap::Keymap;
use crate::model::{EventRow, InvolvedObject, WorkloadCondition, WorkloadKind, WorkloadRow};
use crate::msg::{Change, Health, Msg, PodUpdate, Update};
use crate::panes::workloads::rollout::{self, RolloutState};
use crate::panes::Pane;
use crate::theme::Styles;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use serde_json::json;

const NOW: i64 = 1_800_000_000;
const REGIONS: [&str; 4] = ["pre-release", "cn-north", "us-east", "ap-southeast"];

fn stamp(t: i64) -> String {
    jiff::Timestamp::from_second(t).expect("time").to_string()
}

fn workload(region: usize, name: &str, image: &str, desired: u32, updated: u32) -> WorkloadInfo {
    WorkloadInfo {
        row: WorkloadRow {
            region,
            kind: WorkloadKind::Deployment,
            uid: format!("dep-{region}-{name}"),
            namespace: "shop".into(),
            name: name.into(),
            desired,
            updated,
            ready: updated,
            available: updated,
            revision: 5,
            paused: false,
            generation: 2,
            observed_generation: 2,
            images: vec![image.into()],
            conditions: vec![WorkloadCondition {
                type_: "Progressing".into(),
                status: "True".into(),
                reason: "ReplicaSetUpdated".into(),
                message: "ReplicaSet \"checkout-5\" is progressing.".into(),
                last_transition: Some(NOW - 600),
            }],
            created: NOW - 30 * 86_400,
        },
        probes: Vec::new(),
    }
}

/// checkout's ReplicaSets: revisions 1..=n a day and a half apart, the
/// last created at `last`.
fn revisions(region: usize, images: &[&str], last: i64) -> Vec<rollout::Revision> {
    let n = images.len() as i64;
    let sets: Vec<k8s_openapi::api::apps::v1::ReplicaSet> = images
        .iter()
        .enumerate()
        .map(|(i, img)| {
            let i = i as i64;
            serde_json::from_value(json!({
                "metadata": {
                    "name": format!("checkout-{i}"),
                    "creationTimestamp": stamp(last - (n - 1 - i) * 36 * 3600),
                    "annotations": {
                        "deployment.kubernetes.io/revision": (i + 1).to_string(),
                        "kubernetes.io/change-cause": format!("release {}", super::plan::tag(img)),
                    },
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                        "name": "checkout", "uid": format!("dep-{region}-checkout"), "controller": true}],
                },
                "spec": {"selector": {}, "template": {"spec": {"containers": [{"name": "checkout", "image": img}]}}},
            }))
            .expect("replicaset")
        })
        .collect();
    rollout::revisions(&format!("dep-{region}-checkout"), &sets)
}

fn scaling(region: usize, at: i64, message: &str) -> EventRow {
    EventRow {
        region,
        uid: format!("ev-{region}-{at}"),
        namespace: "shop".into(),
        name: format!("checkout.{at}"),
        object: InvolvedObject {
            kind: "Deployment".into(),
            namespace: "shop".into(),
            name: "checkout".into(),
            uid: format!("dep-{region}-checkout"),
            field_path: String::new(),
        },
        type_: "Normal".into(),
        reason: "ScalingReplicaSet".into(),
        message: message.into(),
        count: 1,
        first_seen: at,
        last_seen: at,
        source: "deployment-controller".into(),
    }
}

const V: [&str; 5] = [
    "registry.local/shop/checkout:4.0.0",
    "registry.local/shop/checkout:4.1.0",
    "registry.local/shop/checkout:4.1.2",
    "registry.local/shop/checkout:4.2.0",
    "registry.local/shop/checkout:4.3.0",
];

fn halted_plan() -> Plan {
    let region = |r: &str, note: &str| WaveRegion {
        region: r.into(),
        container: "checkout".into(),
        from: V[3].into(),
        to: V[4].into(),
        replicas: 4,
        paused: false,
        note: note.into(),
    };
    let gates = WaveGates::from(&Gates::default());
    Plan {
        namespace: "shop".into(),
        name: "checkout".into(),
        image: V[4].into(),
        source: "pre-release (pre-release)".into(),
        waves: vec![
            Wave {
                stage: "canary".into(),
                gates: gates.clone(),
                regions: vec![region("cn-north", "complete; unready 0, probe failures +0")],
                state: WaveState::Passed,
                started: Some(NOW - 1500),
                ended: Some(NOW - 1200),
            },
            Wave {
                stage: "production".into(),
                gates,
                regions: vec![
                    region("us-east", "crash loop: 2 pod(s)"),
                    region("ap-southeast", "complete; unready 0, probe failures +0"),
                ],
                state: WaveState::Failed,
                started: Some(NOW - 900),
                ended: Some(NOW - 700),
            },
        ],
        state: PlanState::Halted("wave 2 production: us-east: crash loop: 2 pod(s)".into()),
        created: NOW - 1600,
        updated: NOW - 700,
    }
}

/// Four regions as the demo's: checkout on 4.3.0 in pre-release and
/// cn-north, mid-rollout in us-east with two pods crash-looping, 4.2.0 in
/// ap-southeast; cart on a hotfix in us-east that pre-release never ran.
fn cockpit() -> Cockpit {
    let regions: Vec<RegionConfig> = REGIONS
        .iter()
        .map(|n| RegionConfig {
            name: n.to_string(),
            context: n.to_string(),
            ..RegionConfig::default()
        })
        .collect();
    let mut c = Cockpit::new(&regions, Keymap::default(), Styles::default(), NOW);
    super::restore(&mut c.state, demo_stages(), None);
    for region in 0..4 {
        c.handle(Msg::RegionHealth {
            region,
            feed: crate::fleet::health::Feed::PODS,
            health: Health::Live,
        });
        let (img, updated) = match region {
            0 | 1 => (V[4], 4),
            2 => (V[4], 2),
            _ => (V[3], 4),
        };
        let cart = if region == 2 {
            "registry.local/shop/cart:3.0.8-hotfix"
        } else {
            "registry.local/shop/cart:3.0.7"
        };
        c.handle(Msg::Incident {
            region,
            update: IncidentUpdate::Workloads(
                WorkloadKind::Deployment,
                Update::ListPage(vec![
                    workload(region, "checkout", img, 4, updated),
                    workload(region, "cart", cart, 2, 2),
                ]),
            ),
        });
        // the rollouts of the last hour (us-east's still under way)
        let (at, msg) = match region {
            0 => (NOW - 2900, "Scaled down replica set checkout-3 from 4 to 0"),
            1 => (NOW - 1300, "Scaled down replica set checkout-3 from 4 to 0"),
            2 => (NOW - 850, "Scaled up replica set checkout-4 from 0 to 1"),
            _ => (
                NOW - 30 * 3600 + 200,
                "Scaled down replica set checkout-2 from 4 to 0",
            ),
        };
        let events = vec![Change::Upsert(scaling(region, at, msg))];
        c.handle(Msg::Incident {
            region,
            update: IncidentUpdate::Events(Update::Changes(events)),
        });
    }
    let mut pods = Vec::new();
    for i in 0..2 {
        let mut p = crashlooping(
            pod(
                2,
                &format!("u{i}"),
                &format!("checkout-5-p{i}"),
                "checkout",
                false,
            ),
            false,
        );
        p.created = NOW - 800;
        p.last_restart = Some(NOW - 760 + i * 20);
        pods.push(p);
    }
    c.handle(Msg::Pods {
        region: 2,
        update: PodUpdate::ListPage(pods),
    });
    let rel = &mut c.state.releases;
    rel.workload = Some(("shop".into(), "checkout".into()));
    rel.revisions.insert(0, Ok(revisions(0, &V, NOW - 3000)));
    rel.revisions.insert(1, Ok(revisions(1, &V, NOW - 1500)));
    rel.revisions.insert(2, Ok(revisions(2, &V, NOW - 900)));
    rel.revisions
        .insert(3, Ok(revisions(3, &V[..4], NOW - 30 * 3600)));
    rel.first_stage_images.insert(
        ("shop".into(), "checkout".into()),
        V.iter().map(|v| v.to_string()).collect(),
    );
    rel.first_stage_images.insert(
        ("shop".into(), "cart".into()),
        ["registry.local/shop/cart:3.0.7".to_string()].into(),
    );
    rel.plans
        .insert(("shop".into(), "checkout".into()), halted_plan());
    rel.axis = super::state::Axis::H1;
    c.state.ui.focus = Pane::Releases;
    c
}

fn screen(c: &mut Cockpit, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    c.handle(Msg::Resize(w, h));
    c.draw(&mut term).expect("draw");
    term.backend().to_string()
}

#[test]
fn the_timeline_has_revisions_in_order_rollouts_and_trouble_per_region() {
    let c = cockpit();
    let st = &c.state;
    let t = timeline::build(&st.store, &st.releases, &st.region_names, NOW);
    let revs: Vec<(usize, String)> = t
        .markers
        .iter()
        .filter(|m| m.kind == timeline::Kind::Revision)
        .map(|m| (m.region, m.label.clone()))
        .collect();
    let cn: Vec<&str> = revs
        .iter()
        .filter(|r| r.0 == 1)
        .map(|r| r.1.as_str())
        .collect();
    assert_eq!(
        cn,
        [
            "rev 1 4.0.0",
            "rev 2 4.1.0",
            "rev 3 4.1.2",
            "rev 4 4.2.0",
            "rev 5 4.3.0"
        ]
    );
    assert!(t.markers.windows(2).all(|w| w[0].at <= w[1].at));
    // the newest revision's detail: its change-cause and the image diff
    let last = t
        .markers
        .iter()
        .rfind(|m| m.region == 1 && m.kind == timeline::Kind::Revision)
        .expect("revision");
    assert!(
        last.detail
            .contains(&"change-cause: release 4.3.0".to_string()),
        "{:?}",
        last.detail
    );
    assert!(
        last.detail
            .contains(&format!("image: {}  ->  {}", V[3], V[4])),
        "{:?}",
        last.detail
    );
    // us-east: its rollout still under way is a bar to now; its crash loops
    assert!(t
        .bars
        .iter()
        .any(|b| b.region == 2 && b.to == NOW && b.label == "rollout of rev 5"));
    let trouble: Vec<&str> = t
        .markers
        .iter()
        .filter(|m| m.kind == timeline::Kind::Trouble)
        .map(|m| m.label.as_str())
        .collect();
    assert!(
        trouble
            .iter()
            .any(|l| l.starts_with("crash loop checkout-5-p0")),
        "{trouble:?}"
    );
    assert!(t
        .markers
        .iter()
        .all(|m| m.kind != timeline::Kind::Trouble || m.region == 2));
    // the promotion's waves are on their lanes
    assert!(t.markers.iter().any(|m| m.region == 2
        && m.kind == timeline::Kind::Promotion
        && m.label == "wave 2 production failed"));
    // opened at a moment: the marker just before it is selected
    let at = NOW - 870;
    let i = timeline::marker_at(&t, Some(at));
    assert!(t.markers[i].at <= at && t.markers[i + 1..].iter().any(|m| m.at > at));
}

#[test]
fn the_matrix_shows_versions_mixed_rollouts_and_drift() {
    let c = cockpit();
    let rows = matrix::build(&c.state.store, &c.state.releases, &c.state.region_names);
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["cart", "checkout"]);
    let checkout = &rows[1];
    let cells: Vec<&str> = checkout.cells.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(cells, ["4.3.0", "4.3.0", "4.3.0", "4.2.0"]);
    assert_eq!(checkout.cells[2].mixed, Some((2, 4)));
    assert_eq!(checkout.cells[2].promotion, Some("failed"));
    // pre-release ran both checkout images; cart's hotfix never ran there
    assert!(!checkout.drift());
    let cart = &rows[0];
    let drift: Vec<bool> = cart.cells.iter().map(|c| c.drift).collect();
    assert_eq!(drift, [false, false, true, false]);
    // without what pre-release ran (not read yet), nothing is called drift
    let mut c = c;
    c.state.releases.first_stage_images.clear();
    let rows = matrix::build(&c.state.store, &c.state.releases, &c.state.region_names);
    assert!(rows.iter().all(|r| !r.drift()));
}

#[test]
fn gates_fail_on_crash_loops_unready_pods_probe_spikes_and_stalls() {
    let g = WaveGates::from(&Gates {
        soak_secs: 60,
        max_unready: 1,
        max_probe_failures: 5,
        no_crash_loop: true,
        rollout_deadline_secs: 600,
    });
    let ok = Reading {
        rollout: RolloutState::Complete,
        crash_looping: Vec::new(),
        unready: vec!["a".into()],
        probe_failures: 12,
        images: vec![V[4].into()],
    };
    assert_eq!(gates::check(&g, &ok, 10, false), Ok(()));
    let crash = Reading {
        crash_looping: vec!["checkout-x".into()],
        ..ok.clone()
    };
    assert!(gates::check(&g, &crash, 10, true)
        .unwrap_err()
        .contains("crash loop"));
    let lenient = WaveGates {
        no_crash_loop: false,
        ..g.clone()
    };
    assert_eq!(gates::check(&lenient, &crash, 10, false), Ok(()));
    let unready = Reading {
        unready: vec!["a".into(), "b".into()],
        ..ok.clone()
    };
    assert!(gates::check(&g, &unready, 10, false)
        .unwrap_err()
        .contains("2 pod(s) unready"));
    // a rollout under way may have unready pods
    assert_eq!(gates::check(&g, &unready, 10, true), Ok(()));
    assert!(gates::check(&g, &ok, 6, false)
        .unwrap_err()
        .contains("probe failures: 6"));
    let stalled = Reading {
        rollout: RolloutState::Stalled,
        ..ok
    };
    assert!(gates::check(&g, &stalled, 10, true)
        .unwrap_err()
        .contains("deadline"));
}

#[test]
fn plans_persist_0600_and_come_back_interrupted_when_they_were_running() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path().join("promotions");
    let mut running = halted_plan();
    running.state = PlanState::Running;
    persist::save(&d, &running).expect("saved");
    let mut done = halted_plan();
    done.name = "cart".into();
    done.state = PlanState::Done;
    persist::save(&d, &done).expect("saved");
    assert_eq!(
        std::fs::metadata(&d).expect("dir").permissions().mode() & 0o777,
        0o700
    );
    let f = d.join("shop_checkout.json");
    assert_eq!(
        std::fs::metadata(&f).expect("file").permissions().mode() & 0o777,
        0o600
    );
    let back = persist::load_all(&d);
    assert_eq!(back.len(), 2);
    assert_eq!(back[0].name, "cart");
    assert_eq!(back[0].state, PlanState::Done);
    assert_eq!(back[1].state, PlanState::Interrupted);
    assert_eq!(back[1].waves, running.waves);
    // a restored cockpit says so
    let mut c = cockpit();
    super::restore(&mut c.state, demo_stages(), Some(d.clone()));
    assert!(c.state.ui.toasts.iter().any(|t| t
        .text
        .contains("promotion of shop/checkout was interrupted")));
    // bounded: past MAX_PLANS files the oldest finished go
    for i in 0..persist::MAX_PLANS + 5 {
        let mut p = done.clone();
        p.name = format!("w{i:03}");
        p.updated = i as i64;
        persist::save(&d, &p).expect("saved");
    }
    let files = std::fs::read_dir(&d).expect("dir").count();
    assert_eq!(files, persist::MAX_PLANS);
    assert!(
        d.join("shop_checkout.json").exists(),
        "an unfinished plan is kept"
    );
}

#[test]
fn plan_lines_say_each_wave_and_region() {
    let lines = halted_plan().lines();
    assert_eq!(
        lines[0],
        "promote shop/checkout to 4.3.0 (proven in pre-release (pre-release))"
    );
    assert!(lines[1].starts_with("wave 1 canary [passed]: soak 120 s, unready <= 0"));
    assert_eq!(lines[2], "  cn-north: 4.2.0 -> 4.3.0, 4 replicas");
    assert!(lines[3].starts_with("wave 2 production [failed]"));
    assert_eq!(super::plan::tag("reg:5000/a/b:1.2"), "1.2");
    assert_eq!(super::plan::tag("reg:5000/a/b"), "reg:5000/a/b");
}

#[test]
fn keys_move_markers_switch_views_and_cycle_the_axis() {
    let mut c = cockpit();
    let act = |c: &mut Cockpit, a: Action| crate::update::dispatch(&mut c.state, a);
    let before = super::selected_marker(&c.state);
    act(&mut c, Action::MarkerPrev);
    assert_eq!(super::selected_marker(&c.state), before - 1);
    act(&mut c, Action::MarkerNext);
    act(&mut c, Action::MarkerNext);
    // the newest marker was selected: moving past it stays on it
    assert_eq!(super::selected_marker(&c.state), before);
    act(&mut c, Action::ReleasesAxis);
    assert_eq!(c.state.releases.axis, super::state::Axis::H6);
    let effects = act(&mut c, Action::ReleasesView);
    assert_eq!(c.state.releases.view, View::Matrix);
    // the history task starts with the pane
    assert!(
        matches!(effects.as_slice(), [crate::update::Effect::Task(_)]),
        "{effects:?}"
    );
    act(&mut c, Action::Down);
    assert_eq!(c.state.releases.row, 1);
    // Enter on a matrix row: that workload's timeline
    act(&mut c, Action::Select);
    assert_eq!(c.state.releases.view, View::Timeline);
    assert_eq!(
        c.state.releases.workload,
        Some(("shop".into(), "checkout".into()))
    );
    // `T` on a pod: its Deployment's timeline at the pod's last restart
    c.state.releases.workload = None;
    c.state.ui.focus = Pane::Pods;
    let pod = c
        .state
        .ui
        .pods
        .selected
        .and_then(|s| c.state.store.get(s))
        .cloned()
        .expect("a pod selected");
    act(&mut c, Action::Timeline);
    assert_eq!(c.state.ui.focus, Pane::Releases);
    assert_eq!(
        c.state.releases.workload,
        Some(("shop".into(), "checkout".into()))
    );
    assert_eq!(c.state.releases.at, pod.last_restart);
    assert!(c.state.releases.detail);
}

#[test]
fn snapshots_of_the_timeline_and_the_matrix() {
    let mut c = cockpit();
    insta::assert_snapshot!("releases_timeline_160x48", screen(&mut c, 160, 48));
    insta::assert_snapshot!("releases_timeline_80x24", screen(&mut c, 80, 24));
    c.state.releases.view = View::Matrix;
    insta::assert_snapshot!("releases_matrix_160x48", screen(&mut c, 160, 48));
    insta::assert_snapshot!("releases_matrix_80x24", screen(&mut c, 80, 24));
}

#[test]
fn showing_the_pane_reads_history_and_abort_stops_and_keeps_the_plan() {
    let mut c = cockpit();
    c.state.ui.focus = Pane::Pods;
    let effects = crate::update::dispatch(&mut c.state, Action::ShowReleases);
    assert_eq!(c.state.ui.focus, Pane::Releases);
    let started: Vec<String> = effects
        .iter()
        .filter_map(|e| match e {
            crate::update::Effect::Task(crate::tasks::TaskCommand::Start(k, _)) => {
                Some(k.0.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(started, ["releases history shop/checkout"]);
    // shown again: the same task goes on
    assert!(crate::update::dispatch(&mut c.state, Action::ShowReleases).is_empty());
    // abort a running promotion: its task is stopped, the plan kept aborted
    let key = ("shop".to_string(), "checkout".to_string());
    if let Some(p) = c.state.releases.plans.get_mut(&key) {
        p.state = PlanState::Running;
    }
    let effects = crate::update::dispatch(&mut c.state, Action::PromotionAbort);
    assert_eq!(c.state.releases.plans[&key].state, PlanState::Aborted);
    assert!(effects.iter().any(|e| matches!(e,
        crate::update::Effect::Task(crate::tasks::TaskCommand::Stop(k)) if k.0 == "promote shop/checkout")));
    // a late report of the stopped task does not bring it back
    let mut late = c.state.releases.plans[&key].clone();
    late.state = PlanState::Running;
    c.handle(Msg::Releases(super::ReleasesMsg::Progress(Box::new(late))));
    assert_eq!(c.state.releases.plans[&key].state, PlanState::Aborted);
    // a finished plan is not aborted again
    assert!(crate::update::dispatch(&mut c.state, Action::PromotionAbort).is_empty());
}

#[test]
fn t_on_a_triage_item_opens_the_timeline_at_its_time() {
    let mut c = cockpit();
    c.state.releases.workload = None;
    c.state.refresh_view();
    c.state.ui.focus = Pane::Triage;
    let item = c
        .state
        .incident
        .triage
        .selected()
        .cloned()
        .expect("the crash loop in triage");
    assert!(item.since.is_some());
    crate::update::dispatch(&mut c.state, Action::Timeline);
    assert_eq!(c.state.ui.focus, Pane::Releases);
    assert_eq!(
        c.state.releases.workload,
        Some(("shop".into(), "checkout".into()))
    );
    assert_eq!(c.state.releases.at, item.since);
    // the marker selected is what came just before that moment
    let t = timeline::build(
        &c.state.store,
        &c.state.releases,
        &c.state.region_names,
        NOW,
    );
    let m = &t.markers[super::selected_marker(&c.state)];
    assert!(
        m.at <= item.since.unwrap_or(NOW) && m.kind != timeline::Kind::Trouble,
        "{m:?}"
    );
}

#[test]
fn hostile_change_causes_and_images_are_drawn_defused() {
    let mut c = cockpit();
    let evil = "registry.local/shop/checkout:\u{1b}[2J4.4.0\u{202e}";
    let mut revs = revisions(1, &[V[3], evil], NOW - 600);
    for r in &mut revs {
        r.change_cause = Some("oops \u{1b}]52;c;cHduZWQ=\u{7} \u{1b}[31mred".into());
    }
    c.state.releases.revisions.insert(1, Ok(revs));
    c.state.releases.detail = true;
    for (w, h) in [(160, 48), (80, 24)] {
        let s = screen(&mut c, w, h);
        assert!(
            !s.contains('\u{1b}') && !s.contains('\u{7}') && !s.contains('\u{202e}'),
            "{s}"
        );
    }
}

#[test]
fn a_region_that_is_not_live_says_so_on_its_lane_and_over_its_column() {
    let mut c = cockpit();
    // us-east's feed goes stale: its rows are kept, never shown as live
    let us = c
        .state
        .region_names
        .iter()
        .position(|n| n == "us-east")
        .expect("us-east");
    c.handle(crate::msg::Msg::RegionHealth {
        region: us,
        feed: crate::fleet::health::Feed::PODS,
        health: crate::fleet::health::Health::Unreachable("connection refused".into()),
    });
    assert!(!c.state.regions[us].health.is_live());
    let timeline = screen(&mut c, 160, 48);
    let lanes: Vec<&str> = timeline.lines().filter(|l| l.contains("(stale)")).collect();
    assert_eq!(lanes.len(), 1, "{timeline}");
    c.state.releases.view = View::Matrix;
    let matrix = screen(&mut c, 160, 48);
    assert!(matrix.contains("us-east (stale)"), "{matrix}");
    assert!(!matrix.contains("cn-north (stale)"), "{matrix}");
}
