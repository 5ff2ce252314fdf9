//! End-to-end for the logs pane: the real binary on `pitwall demo` in tmux.
//! Select checkout, follow it in all four regions, filter by level, search,
//! save the filtered view, and read the file back (its lines and its mode).
//! Conditions are waited for with a generous bound; nothing is timed.

mod common;

use common::{Tmux, BIN, DEMO_REGIONS};
use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::time::Instant;

/// The rows of log entries on the screen (`region/pod/container` tagged).
fn entry_rows(screen: &str) -> Vec<&str> {
    screen
        .lines()
        .filter(|l| {
            DEMO_REGIONS
                .iter()
                .any(|r| l.contains(&format!("{r}/checkout-")))
        })
        .collect()
}

/// The number in `... <word> N ...` on the screen.
fn count_after(screen: &str, word: &str) -> Option<usize> {
    let at = screen.find(word)? + word.len();
    screen[at..]
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// A saved entry below warn (an entry without a level, such as a stack
/// trace's tail cut by the first request's `tailLines`, is not known to be
/// below and stays).
fn below_warn(line: &str) -> bool {
    ["info", "debug", "trace"]
        .iter()
        .any(|l| line.contains(&format!("\"level\":\"{l}\"")))
        || line.contains(" INFO ")
        || line.contains(" DEBUG ")
}

#[test]
fn follow_checkout_in_every_region_filter_search_and_save() {
    let t = Tmux::start(170, 48, &[]);
    t.keys(&["-l", &format!("{BIN} demo")]);
    t.keys(&["Enter"]);
    t.wait_for("the pods pane", |s| s.contains("┌ Pods"));

    // the pods pane, filtered to checkout; l follows the selected pod
    t.keys(&["o", "/"]);
    t.type_text("checkout");
    t.keys(&["Enter"]);
    t.wait_for("checkout pods", |s| {
        common::pod_rows(s).iter().any(|r| r.contains("checkout-"))
    });
    t.keys(&["l"]);
    t.wait_for("the logs of one checkout pod", |s| {
        s.contains("Logs · pod shop/checkout-")
    });
    // a: the same workload in every region
    t.keys(&["a"]);
    t.wait_for("checkout in every region", |s| {
        s.contains("Logs · deployment shop/checkout in every region")
    });
    let mut seen = BTreeSet::new();
    let start = Instant::now();
    while seen.len() < DEMO_REGIONS.len() {
        let screen = t.screen();
        for row in entry_rows(&screen) {
            for r in DEMO_REGIONS {
                if row.contains(&format!("{r}/checkout-")) {
                    seen.insert(r);
                }
            }
        }
        assert!(
            start.elapsed() < common::PATIENCE,
            "regions seen {seen:?}:\n{screen}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let screen = t.screen();
    assert!(screen.contains("not streamed 0"), "{screen}");
    assert!(screen.contains("dropped at streams 0"), "{screen}");

    // level at least warn: every entry shown is WARN or ERROR
    t.keys(&["v"]);
    t.type_text("warn");
    t.keys(&["Enter"]);
    let screen = t.wait_for("forty warnings or worse", |s| {
        count_after(s, "filter:").is_some_and(|n| n >= 40)
    });
    let rows = entry_rows(&screen);
    assert!(!rows.is_empty(), "{screen}");
    for row in &rows {
        assert!(
            !row.contains(" INFO ") && !row.contains(" DEBUG "),
            "{row}\n{screen}"
        );
    }
    assert!(rows
        .iter()
        .any(|r| r.contains(" WARN ") || r.contains(" ERROR ")));
    // a bad regex says why and keeps the filter
    t.keys(&["i"]);
    t.type_text("(");
    t.keys(&["Enter"]);
    t.wait_for("the regex error", |s| {
        s.contains("error: regex parse error") || s.contains("unclosed group")
    });
    t.keys(&["Escape"]);
    // (the input is closed before the next key: an Esc followed at once by
    // `/` reads as Alt-/ to a terminal)
    t.wait_for("the include input closed", |s| {
        !s.contains("include regex:")
    });

    // search: the cursor goes to a match and the view stops following
    t.keys(&["/"]);
    t.type_text("ERROR|error");
    t.keys(&["Enter"]);
    t.wait_for("paused on a match", |s| s.contains("· paused"));
    t.keys(&["n"]);
    t.keys(&["N"]);
    let screen = t.screen();
    assert!(!screen.contains("no match"), "{screen}");

    // save the filtered view to the state dir
    t.keys(&["s"]);
    t.wait_for("the save prompt", |s| {
        s.contains("save the shown entries to")
    });
    t.keys(&["Enter"]);
    let screen = t.wait_for("saved", |s| {
        s.contains("saved ") && s.contains(" entries (")
    });
    let saved = count_after(&screen, "saved").expect("count");
    let dir = t.home().join(".local/state/pitwall/logs");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}\n{screen}", dir.display()))
        .filter_map(|e| e.ok())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let path = files[0].path();
    assert!(screen.contains(&*path.file_name().unwrap_or_default().to_string_lossy()));
    let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", path.display());
    let dir_mode = std::fs::metadata(&dir).expect("meta").permissions().mode() & 0o777;
    assert_eq!(dir_mode, 0o700);
    let text = std::fs::read_to_string(&path).expect("read");
    let entries: Vec<&str> = text.lines().filter(|l| !l.starts_with("    ")).collect();
    assert_eq!(entries.len(), saved, "{text}");
    assert!(saved >= 40);
    let mut regions = BTreeSet::new();
    for e in &entries {
        assert!(!below_warn(e), "below warn: {e}");
        let r = DEMO_REGIONS
            .iter()
            .find(|r| e.contains(&format!(" {r}/checkout-")))
            .unwrap_or_else(|| panic!("not a checkout entry: {e}"));
        regions.insert(*r);
        // the kubelet's timestamp first
        assert!(
            e.starts_with("20") && e.as_bytes().get(10) == Some(&b'T'),
            "{e}"
        );
        assert!(!e.chars().any(|c| c.is_control()), "{e:?}");
    }
    assert_eq!(regions.len(), DEMO_REGIONS.len(), "{regions:?}");
    t.keys(&["q"]);
    t.wait_for_prompt();
    t.assert_terminal_restored();
}
