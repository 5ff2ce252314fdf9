//! The whole screen on a `TestBackend`, at 80x24 and 160x48, as insta
//! snapshots. The clock (local time zone) is masked.

use crate::app::Cockpit;
use crate::config::RegionConfig;
use crate::keymap::Keymap;
use crate::model::PodRow;
use crate::msg::{Health, Msg, PodUpdate};
use crate::theme::Styles;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

pub(super) const NOW: i64 = 1_800_000_000;

pub(super) fn pod(region: usize, ns: &str, name: &str, status: &str, i: i64) -> PodRow {
    let ok = status == "Running";
    PodRow {
        region,
        uid: format!("uid-{region}-{name}"),
        namespace: ns.into(),
        name: name.into(),
        phase: "Running".into(),
        status: status.into(),
        ready: u16::from(ok) + 1,
        total: 2,
        restarts: if ok { 0 } else { 4 },
        last_restart: if ok { None } else { Some(NOW - 300) },
        created: NOW - 3600 * (i + 1),
        node: format!("node-{region}-{}", i % 3),
        ip: format!("10.{region}.0.{}", i + 10),
        owner_kind: "Deployment".into(),
        owner_name: name.rsplit_once('-').map_or(name, |(a, _)| a).into(),
        ..PodRow::default()
    }
}

fn cockpit() -> Cockpit {
    let regions: Vec<RegionConfig> = ["cn-north", "us-east", "sg-hub", "eu-west"]
        .iter()
        .map(|n| RegionConfig {
            name: n.to_string(),
            context: n.to_string(),
            ..RegionConfig::default()
        })
        .collect();
    let mut c = Cockpit::new(&regions, Keymap::default(), Styles::default(), NOW);
    let rows0 = vec![
        pod(0, "shop", "checkout-7d9f-abcde", "Running", 0),
        pod(0, "shop", "checkout-7d9f-fghij", "CrashLoopBackOff", 1),
        pod(0, "shop", "cart-5c4d-klmno", "Running", 2),
        // a hostile name: escape sequences and a bidi override must be defused
        pod(
            0,
            "shop",
            "evil-\u{1b}]52;c;AAAA\u{7}x-\u{202e}gnp",
            "Running",
            3,
        ),
    ];
    let rows1 = vec![
        pod(1, "payments", "ledger-0", "Running", 4),
        pod(1, "payments", "ledger-1", "Init:0/1", 5),
    ];
    for (region, rows) in [(0, rows0), (1, rows1)] {
        c.handle(Msg::Pods {
            region,
            update: PodUpdate::ListStart { namespace: None },
        });
        c.handle(Msg::Pods {
            region,
            update: PodUpdate::ListPage(rows),
        });
        c.handle(Msg::Pods {
            region,
            update: PodUpdate::ListDone { namespace: None },
        });
    }
    c.handle(Msg::RegionHealth {
        feed: crate::fleet::health::Feed::PODS,
        region: 0,
        health: Health::Live,
    });
    c.handle(Msg::RegionHealth {
        feed: crate::fleet::health::Feed::PODS,
        region: 1,
        health: Health::Stale {
            since: NOW - 20,
            reason: "no events or bookmarks for 15s".into(),
        },
    });
    c.handle(Msg::RegionHealth {
        feed: crate::fleet::health::Feed::PODS,
        region: 2,
        health: Health::Forbidden("pods is forbidden".into()),
    });
    c.handle(Msg::RegionHealth {
        feed: crate::fleet::health::Feed::PODS,
        region: 3,
        health: Health::Unreachable("Connection refused (os error 111)".into()),
    });
    c
}

pub(super) fn screen(c: &mut Cockpit, w: u16, h: u16) -> String {
    let mut term = match Terminal::new(TestBackend::new(w, h)) {
        Ok(t) => t,
        Err(e) => panic!("test backend: {e}"),
    };
    c.handle(Msg::Resize(w, h));
    if let Err(e) = c.draw(&mut term) {
        panic!("draw: {e}");
    }
    redact_clock(&term.backend().to_string())
}

/// Local clock times (`13:27:12`, or cut short to `13:27`) as `HH:MM:SS`,
/// so snapshots read the same in every time zone.
pub(crate) fn redact_clock(text: &str) -> String {
    let clock = regex::Regex::new(r"\d\d:\d\d(:\d\d)?").unwrap_or_else(|e| panic!("{e}"));
    clock.replace_all(text, "HH:MM:SS").into_owned()
}

pub(super) fn key(c: &mut Cockpit, code: KeyCode) {
    c.handle(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

#[test]
fn cockpit_80x24() {
    let mut c = cockpit();
    let s = screen(&mut c, 80, 24);
    assert!(
        !s.contains('\u{1b}') && !s.contains('\u{202e}'),
        "hostile text reached the screen"
    );
    insta::assert_snapshot!(s);
}

#[test]
fn cockpit_160x48() {
    let mut c = cockpit();
    insta::assert_snapshot!(screen(&mut c, 160, 48));
}

#[test]
fn filter_and_which_key_hint_80x24() {
    let mut c = cockpit();
    key(&mut c, KeyCode::Char('/'));
    for ch in "ledg".chars() {
        key(&mut c, KeyCode::Char(ch));
    }
    let filtered = screen(&mut c, 80, 24);
    assert!(filtered.contains("ledger-0") && !filtered.contains("checkout"));
    insta::assert_snapshot!("filter_80x24", filtered);
    key(&mut c, KeyCode::Enter);
    key(&mut c, KeyCode::Char('g'));
    let hint = screen(&mut c, 80, 24);
    assert!(
        hint.contains("gg top"),
        "which-key hint lists what g completes to:\n{hint}"
    );
}

#[test]
fn help_and_palette_overlays_80x24() {
    let mut c = cockpit();
    key(&mut c, KeyCode::Char('?'));
    let help = screen(&mut c, 80, 24);
    assert!(help.contains("quit") && help.contains("Quit pitwall"));
    insta::assert_snapshot!("help_80x24", help);
    // scrolled to the end, the last context's bindings show
    key(&mut c, KeyCode::Char('G'));
    let end = screen(&mut c, 80, 24);
    assert!(end.contains("[input]") && end.contains("Complete the text input"));
    key(&mut c, KeyCode::Esc);
    key(&mut c, KeyCode::Char(':'));
    for ch in "sort".chars() {
        key(&mut c, KeyCode::Char(ch));
    }
    insta::assert_snapshot!("palette_80x24", screen(&mut c, 80, 24));
}

#[test]
fn tiny_and_huge_terminals_do_not_panic() {
    let mut c = cockpit();
    for (w, h) in [(1, 1), (10, 3), (20, 5), (33, 7), (300, 120)] {
        let _ = screen(&mut c, w, h);
    }
}

#[test]
fn long_names_keep_their_unique_suffix() {
    use crate::panes::pods::view::middle_ellipsis;
    assert_eq!(
        middle_ellipsis("checkout-7d9f8b6c4-x2x9z".into(), 12),
        "checko…x2x9z"
    );
    assert_eq!(middle_ellipsis("short".into(), 12), "short");
    let mut c = cockpit();
    let long = pod(
        0,
        "shop",
        "payments-gateway-5d8f7c9b6-abcde-very-long-q7x2k",
        "Running",
        6,
    );
    c.handle(Msg::Pods {
        region: 0,
        update: PodUpdate::Changes(vec![crate::msg::Change::Upsert(long)]),
    });
    let s = screen(&mut c, 80, 24);
    assert!(
        s.contains("q7x2k"),
        "the suffix of a long name stays visible:\n{s}"
    );
}
