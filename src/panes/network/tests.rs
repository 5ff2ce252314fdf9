//! The network pane in the cockpit: its keys, what a poll's message does
//! (metrics badge, findings, triage items, one cause one item), the poller
//! started once per live region, `C` from a pod row, and the whole screen
//! with the pane open (snapshot).

use super::expo::parse;
use super::view::View;
use crate::app::Cockpit;
use crate::config::RegionConfig;
use crate::keymap::Keymap;
use crate::model::PodRow;
use crate::msg::{Feed, Health, Msg, PodUpdate};
use crate::panes::triage::rank::{Level, Problem};
use crate::state::Pane;
use crate::tasks::TaskCommand;
use crate::theme::Styles;
use crate::update::Effect;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

const NOW: i64 = 1_800_000_000;

fn pod(name: &str, ip: &str, node: &str, ready: bool) -> PodRow {
    PodRow {
        region: 0,
        uid: format!("uid-{name}"),
        namespace: "shop".into(),
        name: name.into(),
        phase: "Running".into(),
        status: "Running".into(),
        ready: u16::from(ready),
        total: 1,
        created: NOW - 3600,
        node: node.into(),
        ip: ip.into(),
        owner_kind: "Deployment".into(),
        owner_name: "web".into(),
        ..PodRow::default()
    }
}

fn real(ip: &str, weight: u32, active: u32) -> String {
    let l = format!("local_address=\"10.96.0.11\",local_mark=\"\",local_port=\"80\",proto=\"TCP\",remote_address=\"{ip}\",remote_port=\"8080\"");
    format!("node_ipvs_backend_weight{{{l}}} {weight}\nnode_ipvs_backend_connections_active{{{l}}} {active}\nnode_ipvs_backend_connections_inactive{{{l}}} 9\n")
}

/// Two regions live, three pods in ap-southeast; no poll yet.
fn cockpit() -> Cockpit {
    let regions: Vec<RegionConfig> = ["ap-southeast", "eu-west"]
        .iter()
        .map(|n| RegionConfig {
            name: n.to_string(),
            context: n.to_string(),
            ..RegionConfig::default()
        })
        .collect();
    let mut c = Cockpit::new(&regions, Keymap::default(), Styles::default(), NOW);
    let rows = vec![
        pod("web-a", "10.64.0.2", "ap-node-01", true),
        pod("web-b", "10.64.0.3", "ap-node-02", true),
        pod("web-c", "10.64.0.4", "ap-node-02", false),
    ];
    c.handle(Msg::Pods {
        region: 0,
        update: PodUpdate::ListStart { namespace: None },
    });
    c.handle(Msg::Pods {
        region: 0,
        update: PodUpdate::ListPage(rows),
    });
    c.handle(Msg::Pods {
        region: 0,
        update: PodUpdate::ListDone { namespace: None },
    });
    c
}

fn live(c: &mut Cockpit, region: usize) -> Vec<Effect> {
    c.handle(Msg::RegionHealth {
        region,
        feed: Feed::PODS,
        health: Health::Live,
    })
}

/// Polls of ap-southeast as its poller would leave them: a node filling
/// up and dropping, a director with a stale backend (no pod has
/// 10.64.0.9) and a weight-0 backend with connections.
fn polls(c: &mut Cockpit, n: usize) {
    c.state.network.ensure(2);
    for step in 0..n {
        let t = (NOW - 600 + step as i64 * 60) as f64;
        {
            let mut net = super::state::lock(&c.state.network.regions[0].net);
            let drop = step * 120;
            net.ingest(
                "ap-node-02",
                t,
                &parse(&format!(
                    "node_nf_conntrack_entries {}\nnode_nf_conntrack_entries_limit 262144\nnode_nf_conntrack_stat_drop {drop}\nnode_nf_conntrack_stat_insert_failed {}\n",
                    (200_000 + step * 10_000).min(262_144),
                    drop / 2
                ))
                .samples,
            );
            let lvs = format!(
                "{}{}{}{}{}",
                real("10.64.0.2", 1, 5),
                real("10.64.0.4", 1, 1),
                real("10.64.0.3", 0, 4),
                real("10.64.0.9", 1, 3),
                real("10.64.0.8", 1, 2)
            );
            net.ingest(
                "ap-node-01",
                t,
                &parse(&format!(
                    "node_nf_conntrack_entries 9000\nnode_nf_conntrack_entries_limit 262144\n{lvs}"
                ))
                .samples,
            );
        }
        c.handle(Msg::Network {
            region: 0,
            error: None,
        });
    }
}

fn screen(c: &mut Cockpit, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap_or_else(|e| panic!("{e}"));
    c.handle(Msg::Resize(w, h));
    c.draw(&mut term).unwrap_or_else(|e| panic!("draw: {e}"));
    let text = term.backend().to_string();
    let clock = regex::Regex::new(r"\d\d:\d\d:\d\d").unwrap_or_else(|e| panic!("{e}"));
    clock.replace_all(&text, "HH:MM:SS").into_owned()
}

fn key(c: &mut Cockpit, ch: char) {
    let mods = if ch.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    c.handle(Msg::Key(KeyEvent::new(KeyCode::Char(ch), mods)));
}

#[test]
fn a_live_region_starts_its_poller_once() {
    let mut c = cockpit();
    assert!(
        c.handle(Msg::RegionHealth {
            region: 0,
            feed: Feed::PODS,
            health: Health::Syncing,
        })
        .is_empty(),
        "not before the region is live"
    );
    let starts = |fx: &[Effect]| {
        fx.iter()
            .filter_map(|e| match e {
                Effect::Task(TaskCommand::Start(k, _)) => Some(k.0.clone()),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        starts(&live(&mut c, 0)),
        vec!["network poller ap-southeast".to_string()]
    );
    assert!(starts(&live(&mut c, 0)).is_empty(), "once");
    assert_eq!(
        starts(&live(&mut c, 1)),
        vec!["network poller eu-west".to_string()]
    );
}

#[test]
fn a_failing_poll_is_a_metrics_badge_and_never_the_regions() {
    let mut c = cockpit();
    live(&mut c, 0);
    live(&mut c, 1);
    c.handle(Msg::Network {
        region: 1,
        error: Some("unreachable: Connection refused (os error 111)".into()),
    });
    assert!(c.state.regions[1].health.is_live(), "the region stays live");
    let s = screen(&mut c, 160, 20);
    let header = s.lines().next().unwrap_or_default();
    assert!(
        header.contains("[eu-west live (0) · metrics: unreachable: Connection refused"),
        "{header}"
    );
    assert!(!header.contains("[ap-southeast live (3) ·"), "{header}");
    // the pods are not dimmed: the title says no region is
    assert!(!s.contains("not live"), "{s}");
    // it answers again: the badge goes
    c.handle(Msg::Network {
        region: 1,
        error: None,
    });
    let s = screen(&mut c, 160, 20);
    assert!(!s.contains("metrics"), "{s}");
}

#[test]
fn triage_lists_each_network_cause_once() {
    let mut c = cockpit();
    live(&mut c, 0);
    polls(&mut c, 1);
    c.state.refresh_view();
    let items = |c: &Cockpit| -> Vec<(Problem, Level, String, String)> {
        c.state
            .incident
            .triage
            .items
            .iter()
            .filter(|i| i.id.kind == "Node" || i.id.kind == "VirtualService")
            .map(|i| (i.id.problem, i.level, i.id.name.clone(), i.how_bad.clone()))
            .collect()
    };
    // one poll: the hot node (76 %: warn), weight 0; a stale backend waits
    // for a second poll
    let first = items(&c);
    assert!(
        first.iter().any(|(p, l, n, _)| *p == Problem::Conntrack
            && *l == Level::Warning
            && n == "ap-node-02"),
        "{first:#?}"
    );
    assert!(!first.iter().any(|(p, ..)| *p == Problem::StaleBackend));
    polls(&mut c, 4);
    c.state.refresh_view();
    let all = items(&c);
    let conntrack: Vec<_> = all
        .iter()
        .filter(|(p, ..)| *p == Problem::Conntrack)
        .collect();
    assert_eq!(
        conntrack.len(),
        1,
        "full and dropping is one cause: {all:#?}"
    );
    let (_, level, _, how) = conntrack[0];
    assert_eq!(*level, Level::Critical);
    assert!(
        how.starts_with("conntrack 88% full, dropping 2.0/s"),
        "{how}"
    );
    let stale: Vec<_> = all
        .iter()
        .filter(|(p, ..)| *p == Problem::StaleBackend)
        .collect();
    assert_eq!(stale.len(), 1, "{all:#?}");
    assert_eq!(stale[0].1, Level::Critical);
    assert_eq!(
        stale[0].3,
        "2 stale backends (10.64.0.8:8080 no pod, 10.64.0.9:8080 no pod)"
    );
    assert!(all.iter().any(|(p, l, n, how)| *p == Problem::WeightZero
        && *l == Level::Warning
        && n == "TCP 10.96.0.11:80"
        && how == "10.64.0.3:8080 weight 0 with 4 active"));
    // the unready backend is the pod's item, not the network's
    assert_eq!(all.len(), 3, "{all:#?}");
    // the first sighting is kept while the cause lasts
    let since = c
        .state
        .incident
        .triage
        .items
        .iter()
        .find(|i| i.id.problem == Problem::Conntrack)
        .and_then(|i| i.since);
    assert_eq!(since, Some(NOW));
}

#[test]
fn keys_switch_views_open_a_node_and_c_comes_from_a_pod_row() {
    let mut c = cockpit();
    live(&mut c, 0);
    polls(&mut c, 3);
    key(&mut c, 'M');
    assert_eq!(c.state.ui.focus, Pane::Network);
    assert_eq!(c.state.network.view, View::Nodes);
    // the hottest node is the first row: Enter opens its chart
    c.handle(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    assert_eq!(
        c.state.network.view,
        View::Detail("ap-southeast".into(), "ap-node-02".into())
    );
    c.handle(Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    assert_eq!(c.state.network.view, View::Nodes);
    key(&mut c, 'j');
    key(&mut c, 'j');
    assert_eq!(c.state.network.cursor, 1, "bounded by the two nodes");
    key(&mut c, 'v');
    assert_eq!(c.state.network.view, View::Lvs);
    key(&mut c, 'v');
    assert_eq!(c.state.network.view, View::Nodes);
    // from the pods pane: C on web-b opens its node's conntrack
    key(&mut c, 'o');
    c.state.refresh_view();
    let at = c
        .state
        .store
        .view()
        .iter()
        .position(|s| c.state.store.get(*s).is_some_and(|r| r.name == "web-b"))
        .unwrap_or_else(|| panic!("web-b listed"));
    for _ in 0..at {
        key(&mut c, 'j');
    }
    key(&mut c, 'C');
    assert_eq!(c.state.ui.focus, Pane::Network);
    assert_eq!(
        c.state.network.view,
        View::Detail("ap-southeast".into(), "ap-node-02".into())
    );
    let s = screen(&mut c, 100, 20);
    assert!(s.contains("ap-southeast/ap-node-02"), "{s}");
}

#[test]
fn the_pane_open_over_the_cockpit() {
    let mut c = cockpit();
    live(&mut c, 0);
    live(&mut c, 1);
    polls(&mut c, 5);
    c.handle(Msg::Network {
        region: 1,
        error: Some("timed out".into()),
    });
    key(&mut c, 'M');
    let s = screen(&mut c, 120, 24);
    insta::assert_snapshot!("network_pane_120x24", s);
    assert!(s.contains("source: direct scrape"), "{s}");
    assert!(s.contains("[eu-west metrics: timed out]"), "{s}");
    let first = s
        .lines()
        .skip_while(|l| !l.contains("REGION"))
        .nth(1)
        .unwrap_or_default();
    assert!(
        first.contains("!!ap-southeast") && first.contains("ap-node-02"),
        "{s}"
    );
    assert!(s.contains("stale LVS backend 10.64.0.9:8080 of TCP 10.96.0.11:80: no pod"));
    key(&mut c, 'v');
    let s = screen(&mut c, 120, 24);
    insta::assert_snapshot!("network_pane_lvs_120x24", s);
}

#[test]
fn enter_on_a_network_item_in_triage_opens_the_pane() {
    let mut c = cockpit();
    live(&mut c, 0);
    polls(&mut c, 5);
    key(&mut c, 't');
    c.state.refresh_view();
    let at = |c: &Cockpit, p: Problem| {
        c.state
            .incident
            .triage
            .items
            .iter()
            .position(|i| i.id.problem == p)
            .unwrap_or_else(|| panic!("{p:?} listed"))
    };
    for _ in 0..at(&c, Problem::Conntrack) {
        key(&mut c, 'j');
    }
    c.handle(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    assert_eq!(c.state.ui.focus, Pane::Network);
    assert_eq!(
        c.state.network.view,
        View::Detail("ap-southeast".into(), "ap-node-02".into())
    );
    key(&mut c, 't');
    c.handle(Msg::Key(KeyEvent::new(KeyCode::Home, KeyModifiers::NONE)));
    for _ in 0..at(&c, Problem::StaleBackend) {
        key(&mut c, 'j');
    }
    c.handle(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    assert_eq!(c.state.ui.focus, Pane::Network);
    assert_eq!(c.state.network.view, View::Lvs);
}

#[test]
fn hostile_names_from_labels_are_defused() {
    let mut c = cockpit();
    live(&mut c, 0);
    c.state.network.ensure(2);
    {
        let mut net = super::state::lock(&c.state.network.regions[0].net);
        let evil = "n\u{1b}[2J\u{202e}x";
        let l = "local_address=\"10.96.0.1\u{1b}]52;c;AAAA\u{7}\",local_mark=\"\",local_port=\"80\",proto=\"TCP\",remote_address=\"10.9.9.9\",remote_port=\"1\"";
        net.ingest(
            evil,
            NOW as f64,
            &parse(&format!(
                "node_nf_conntrack_entries 250000\nnode_nf_conntrack_entries_limit 262144\nnode_ipvs_backend_weight{{{l}}} 1\n"
            ))
            .samples,
        );
    }
    c.handle(Msg::Network {
        region: 0,
        error: Some("query error: \u{1b}[31mred".into()),
    });
    key(&mut c, 'M');
    for view in ["nodes", "lvs"] {
        let s = screen(&mut c, 160, 30);
        assert!(s.contains("[ap-southeast metrics: query error:"), "{s}");
        assert!(
            !s.contains('\u{1b}') && !s.contains('\u{202e}') && !s.contains('\u{7}'),
            "{view}: hostile text reached the screen:\n{s}"
        );
        key(&mut c, 'v');
    }
    c.state.refresh_view();
    let s = screen(&mut c, 160, 30);
    assert!(!s.contains('\u{1b}'));
}
