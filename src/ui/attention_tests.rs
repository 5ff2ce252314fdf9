//! What makes trouble impossible to miss, at 80x24, 120x40 and 200x60: a
//! healthy fleet, incidents, and every region down.

use super::tests::{key, pod, screen, NOW};
use crate::app::Cockpit;
use crate::config::RegionConfig;
use crate::keymap::Keymap;
use crate::msg::{Health, Msg, PodUpdate};
use crate::state::Pane;
use crate::theme::Styles;
use crossterm::event::KeyCode;

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 60)];
const REGIONS: [&str; 4] = ["cn-north", "us-east", "sg-hub", "eu-west"];

fn health(c: &mut Cockpit, region: usize, health: Health) {
    c.handle(Msg::RegionHealth {
        feed: crate::fleet::health::Feed::PODS,
        region,
        health,
    });
}

/// Four live regions, two pods each; `crash` makes one of them crash-loop.
fn fleet(crash: bool) -> Cockpit {
    let regions: Vec<RegionConfig> = REGIONS
        .iter()
        .map(|n| RegionConfig {
            name: n.to_string(),
            context: n.to_string(),
            ..RegionConfig::default()
        })
        .collect();
    let mut c = Cockpit::new(&regions, Keymap::default(), Styles::default(), NOW);
    for region in 0..REGIONS.len() {
        let bad = if crash && region == 1 {
            "CrashLoopBackOff"
        } else {
            "Running"
        };
        let rows = vec![
            pod(region, "shop", "checkout-7d9f-abcde", "Running", 0),
            pod(region, "shop", "checkout-7d9f-fghij", bad, 1),
        ];
        for update in [
            PodUpdate::ListStart { namespace: None },
            PodUpdate::ListPage(rows),
            PodUpdate::ListDone { namespace: None },
        ] {
            c.handle(Msg::Pods { region, update });
        }
        health(&mut c, region, Health::Live);
    }
    c
}

fn all_down(c: &mut Cockpit) {
    for region in 0..REGIONS.len() {
        health(
            c,
            region,
            Health::Unreachable("connection lost: Connection refused (os error 111)".into()),
        );
    }
}

fn header(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

#[test]
fn healthy_fleet_leaves_the_room_to_pods() {
    let mut c = fleet(false);
    for (w, h) in SIZES {
        let s = screen(&mut c, w, h);
        assert!(header(&s).contains("ok"), "{s}");
        if w >= 120 {
            // triage and probes: one line each, pods below
            let lines: Vec<&str> = s.lines().collect();
            assert!(lines[1].contains("Triage: nothing wrong"), "{s}");
            assert!(lines[2].contains("Pods"), "{s}");
        }
        insta::assert_snapshot!(format!("healthy_{w}x{h}"), s);
    }
}

#[test]
fn incidents_show_in_the_header_and_tab_line_from_any_pane() {
    let mut c = fleet(true);
    for (w, h) in SIZES {
        let s = screen(&mut c, w, h);
        let head = header(&s);
        assert!(
            head.contains("!!1") || head.contains("!! 1 wrong, critical"),
            "count and severity:\n{s}"
        );
        if w < 120 {
            assert!(s.contains("Triage 1!!"), "tab line:\n{s}");
        }
        // not ready says so in text, not only in colour
        let row = |name: &str| {
            s.lines()
                .find(|l| l.contains("us-east") && l.contains(name))
                .unwrap_or_else(|| panic!("{name} missing:\n{s}"))
                .to_string()
        };
        assert!(row("checkout-7d9f-fghij").contains("!1/2"), "{s}");
        assert!(!row("checkout-7d9f-abcde").contains('!'), "{s}");
        insta::assert_snapshot!(format!("incident_{w}x{h}"), s);
    }
}

#[test]
fn every_region_down_is_one_line_of_badges_and_one_critical_item() {
    let mut c = fleet(false);
    all_down(&mut c);
    c.state.ui.focus = Pane::Triage;
    for (w, h) in SIZES {
        let s = screen(&mut c, w, h);
        let head = header(&s);
        assert!(head.contains("[eu-west"), "every badge on line one:\n{s}");
        assert!(!s
            .lines()
            .nth(1)
            .unwrap_or_default()
            .contains("unreachable]"));
        assert!(s.contains("4 regions unreachable"), "{s}");
        assert!(s.contains("Triage 1 (1 critical)"), "{s}");
        insta::assert_snapshot!(format!("all_down_{w}x{h}"), s);
    }
}

#[test]
fn opens_on_triage_when_something_is_wrong_until_the_first_key() {
    // armed as the real start arms it
    let mut c = fleet(true);
    c.state.ui.open_on_trouble = true;
    let _ = screen(&mut c, 80, 24);
    assert_eq!(c.state.ui.focus, Pane::Triage);
    // once there, focus is the user's
    key(&mut c, KeyCode::Char('o'));
    assert_eq!(c.state.ui.focus, Pane::Pods);
    let _ = screen(&mut c, 80, 24);
    assert_eq!(c.state.ui.focus, Pane::Pods);

    // a healthy start stays on pods; a key before trouble disarms it
    let mut c = fleet(false);
    c.state.ui.open_on_trouble = true;
    let _ = screen(&mut c, 80, 24);
    assert_eq!(c.state.ui.focus, Pane::Pods);
    key(&mut c, KeyCode::Char('j'));
    c.handle(Msg::Pods {
        region: 1,
        update: PodUpdate::Changes(vec![crate::msg::Change::Upsert(pod(
            1,
            "shop",
            "checkout-7d9f-fghij",
            "CrashLoopBackOff",
            1,
        ))]),
    });
    let _ = screen(&mut c, 80, 24);
    assert_eq!(c.state.ui.focus, Pane::Pods, "the user moved first");
}
