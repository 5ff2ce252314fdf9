//! End-to-end for the incident panes: the real binary running the demo
//! fleet in tmux, read the way a person reads the screen. The demo story
//! (checkout readiness failing in cn-north at +30 s, a crash-looping search
//! rollout in us-east at +90 s) runs three times faster here. Conditions are
//! waited for with a generous bound; nothing asserts on durations.

mod common;

use common::{Tmux, BIN};

/// The triage pane's lines (between its top and bottom border).
fn triage_lines(screen: &str) -> Vec<&str> {
    screen
        .lines()
        .skip_while(|l| !l.contains("┌ Triage"))
        .skip(1)
        .take_while(|l| !l.starts_with('└'))
        .collect()
}

#[test]
fn the_demo_story_shows_in_triage_and_enter_lands_on_the_pods() {
    let t = Tmux::start(160, 48, &[]);
    t.keys(&["-l", &format!("{BIN} demo --time-scale 3")]);
    t.keys(&["Enter"]);

    // the scripted incidents appear in triage, the crash loop on top
    let screen = t.wait_for("both scripted incidents in triage", |s| {
        let lines = triage_lines(s);
        lines
            .iter()
            .any(|l| l.contains("cn-north") && l.contains("shop/checkout"))
            && lines
                .first()
                .is_some_and(|l| l.contains("us-east") && l.contains("crash loop"))
    });
    assert!(screen.contains("Probe failures"), "{screen}");
    assert!(
        screen.contains("HTTP probe failed with statuscode: 503"),
        "{screen}"
    );
    // one cause, one item: search's crash loop and its rollout are one line
    let screen = t.wait_for("search's rollout stuck as one line", |s| {
        let lines = triage_lines(s);
        lines
            .first()
            .is_some_and(|l| l.contains("us-east") && l.contains("rollout of search stuck: "))
            && lines.iter().filter(|l| l.contains("search/search")).count() == 1
    });
    let checkout = triage_lines(&screen)
        .into_iter()
        .filter(|l| l.contains("cn-north shop/checkout "))
        .count();
    assert_eq!(checkout, 1, "{screen}");

    // focus triage, go to the top item (the crash loop) and press Enter
    t.keys(&["t"]);
    t.keys(&["Home"]);
    t.keys(&["Enter"]);
    let pods = t.wait_for("the pods of search in us-east", |s| {
        s.contains("deployment:search") && s.contains("region:us-east")
    });
    let rows: Vec<&str> = pods
        .lines()
        .skip_while(|l| !l.contains("┌ Pods"))
        .skip(2)
        .take_while(|l| !l.starts_with('└'))
        .filter(|l| l.contains("us-east"))
        .collect();
    assert!(!rows.is_empty(), "{pods}");
    assert!(rows.iter().all(|l| l.contains("search-")), "{pods}");

    // `/crash` narrows the whole table to the crash-looping pods
    t.keys(&["Escape"]);
    t.keys(&["/"]);
    t.type_text("crash");
    t.keys(&["Enter"]);
    // (rows read straight off the pane: an unready pod's READY is `!0/1`)
    let crashing = t.wait_for("only crash-looping pods", |s| {
        let pane = common::pods_pane(s);
        let rows: Vec<&str> = pane
            .lines()
            .filter(|l| common::DEMO_REGIONS.iter().any(|r| l.contains(r)))
            .collect();
        s.contains("/crash ")
            && !rows.is_empty()
            && rows.iter().all(|l| l.contains("CrashLoopBackOff"))
    });
    assert!(crashing.contains("CrashLoopBackOff"), "{crashing}");

    t.keys(&["q"]);
    t.wait_for_prompt();
    t.assert_terminal_restored();
}

#[test]
fn at_80x24_the_incident_shows_without_a_key_and_enter_selects_a_crash_looping_pod() {
    let t = Tmux::start(80, 24, &[]);
    t.keys(&["-l", &format!("{BIN} demo --time-scale 3")]);
    t.keys(&["Enter"]);
    // no key pressed: the cockpit opens on triage once something is wrong,
    // and the header carries the count
    let screen = t.wait_for("the crash loop on triage at 80x24", |s| {
        s.lines().next().is_some_and(|l| l.contains("!!"))
            && triage_lines(s)
                .iter()
                .any(|l| l.contains("us-east") && l.contains("crash loop"))
    });
    assert!(screen.contains("Triage "), "{screen}");
    // the crash loop is the top item: Enter lands on its crashing pods
    t.keys(&["Home"]);
    t.keys(&["Enter"]);
    // (at 80 columns the tab line covers the end of the title)
    let pods = t.wait_for("the pods of search in us-east", |s| {
        s.contains("region:us-east") && s.contains("ns:search")
    });
    let first = pods
        .lines()
        .skip_while(|l| !l.contains("┌ Pods"))
        .nth(2)
        .unwrap_or_default();
    assert!(first.contains("CrashLoopBackOff"), "{pods}");
    // `d` describes it as kubectl does; its events, at the end, carry the
    // kubelet's BackOff warnings
    t.keys(&["d"]);
    t.wait_for("the description", |s| s.contains("Containers:"));
    t.keys(&["G"]);
    let described = t.wait_for("the BackOff events", |s| {
        s.contains("Warning  BackOff") && s.contains("Back-off restarting")
    });
    assert!(described.contains("(describe, read-only"), "{described}");
    // `/` searches the description, n jumps on
    t.keys(&["/"]);
    t.type_text("exit code");
    t.keys(&["Enter"]);
    t.wait_for("the match marked", |s| {
        s.lines()
            .any(|l| l.contains(">") && l.contains("Exit Code:"))
    });
    common::close_overlay(&t);
    t.keys(&["q"]);
    t.wait_for_prompt();
    t.assert_terminal_restored();
}

/// The demo's network incident (a node's conntrack table fills at +60 s,
/// here six times faster):
/// the network pane shows the hot node on top with its drops, read through
/// the demo's own `prometheus` (started from the PATH, a child of pitwall)
/// or, without one, the direct scrape, and says which; triage lists it; on
/// quit no prometheus is left running.
#[test]
fn the_demo_network_incident_shows_in_the_network_pane_and_triage() {
    let with_prometheus = std::process::Command::new("sh")
        .args(["-c", "command -v prometheus"])
        .output()
        .is_ok_and(|o| o.status.success());
    let t = Tmux::start(160, 48, &[]);
    t.keys(&["-l", &format!("{BIN} demo --time-scale 6")]);
    t.keys(&["Enter"]);
    t.wait_for("the cockpit", |s| s.contains("[ap-southeast live"));
    let pitwall = common::child_of_shell(&t);
    t.keys(&["M"]);
    let screen = t.wait_for("the hot node on top of the network pane", |s| {
        s.lines()
            .skip_while(|l| !l.contains("REGION"))
            .nth(1)
            .is_some_and(|l| {
                l.contains("!!ap-southeast")
                    && l.contains("ap-southeast-node-02")
                    && l.contains("100%")
            })
            && s.contains("conntrack drops on ap-southeast-node-02")
    });
    let source = if with_prometheus {
        "source: Prometheus http://127.0.0.1:"
    } else {
        "source: direct scrape (node_exporter via the pod proxy): no prometheus on the PATH"
    };
    assert!(screen.contains(source), "{screen}");
    let prometheus = std::process::Command::new("pgrep")
        .args(["-P", &pitwall, "-x", "prometheus"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    assert_eq!(
        !prometheus.is_empty(),
        with_prometheus,
        "prometheus child: {prometheus:?}"
    );
    // its chart is Enter away
    t.keys(&["Enter"]);
    t.wait_for("the node's chart", |s| {
        s.contains("ap-southeast/ap-southeast-node-02") && s.contains("conntrack 100%")
    });
    t.keys(&["t"]);
    t.wait_for("the hot node in triage", |s| {
        triage_lines(s).iter().any(|l| {
            l.contains("ap-southeast")
                && l.contains("node/ap-southeast-node-02")
                && l.contains("conntrack")
        })
    });
    t.keys(&["q"]);
    t.wait_for_prompt();
    t.assert_terminal_restored();
    if !prometheus.is_empty() {
        let gone = std::time::Instant::now() + common::PATIENCE;
        while std::path::Path::new(&format!("/proc/{prometheus}")).exists() {
            assert!(
                std::time::Instant::now() < gone,
                "prometheus {prometheus} outlived pitwall"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}
