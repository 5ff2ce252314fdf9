//! End-to-end: the real binary in a real terminal (tmux), read the way a
//! person reads the screen.

mod common;

use common::{child_of_shell, demo_command, pod_rows, Tmux, BIN, DEMO_REGIONS};
use std::process::Command;

/// A pane border drawn exactly `width` columns wide: the cockpit laid itself
/// out for the terminal's current size.
fn spans_full_width(screen: &str, width: usize) -> bool {
    screen
        .lines()
        .any(|l| l.starts_with('┌') && l.ends_with('┐') && l.chars().count() == width)
}

fn all_regions_visible(screen: &str) -> bool {
    DEMO_REGIONS.iter().all(|r| screen.contains(r))
}

#[test]
fn demo_at_120x40_shows_every_region_filters_helps_and_quits_cleanly() {
    let t = Tmux::start(120, 40, &[]);
    t.run(&demo_command());
    let screen = t.wait_for("pods from all four regions", |s| {
        all_regions_visible(s) && pod_rows(s).len() >= 10
    });
    assert_eq!(
        t.pane_flag("alternate_on"),
        "1",
        "the cockpit runs on the alternate screen"
    );
    assert!(
        pod_rows(&screen).iter().any(|l| !l.contains("checkout")),
        "expected pods of several workloads before filtering:\n{screen}"
    );

    // `/` opens the filter; typing narrows the table to matching pods.
    t.keys(&["/"]);
    t.type_text("checkout");
    let filtered = t.wait_for("only checkout pods", |s| {
        let rows = pod_rows(s);
        !rows.is_empty() && rows.iter().all(|l| l.contains("checkout"))
    });
    assert!(filtered.contains("checkout"));
    t.keys(&["Enter"]);
    t.keys(&["Escape"]);
    t.wait_for("the filter cleared", |s| {
        pod_rows(s).iter().any(|l| !l.contains("checkout"))
    });

    // `?` shows help generated from the keymap.
    t.keys(&["?"]);
    let help = t.wait_for("the help overlay", |s| s.contains("Quit pitwall"));
    assert!(help.contains("help") || help.contains("Help"), "{help}");
    t.keys(&["Escape"]);
    t.wait_for("help closed", |s| !s.contains("Quit pitwall"));

    t.keys(&["q"]);
    t.wait_for_prompt();
    t.assert_terminal_restored();
}

/// `:deploy` and `:no` from the palette: the deployments and the nodes of
/// all four regions, with the columns their servers print.
#[test]
fn the_palette_shows_any_resource_across_every_region() {
    let t = Tmux::start(160, 48, &[]);
    t.run(&demo_command());
    t.wait_for("pods from all four regions", |s| {
        all_regions_visible(s) && pod_rows(s).len() >= 10
    });
    t.keys(&[":"]);
    t.type_text("deploy");
    t.keys(&["Enter"]);
    t.wait_for("the deployments", |s| s.contains(":deploy (Deployment)"));
    t.keys(&["/"]);
    t.type_text("checkout");
    t.keys(&["Enter"]);
    let deploys = t.wait_for("the checkout deployment of every region", |s| {
        DEMO_REGIONS
            .iter()
            .all(|r| s.lines().any(|l| l.contains(r) && l.contains("checkout")))
    });
    for column in [
        "REGION",
        "NAMESPACE",
        "NAME",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "AGE",
    ] {
        assert!(deploys.contains(column), "{column}:\n{deploys}");
    }
    t.keys(&[":"]);
    t.type_text("no");
    t.keys(&["Enter"]);
    let nodes = t.wait_for("the nodes of every region", |s| {
        s.contains(":no (Node)")
            && DEMO_REGIONS
                .iter()
                .all(|r| s.contains(&format!("{r}-node-01")))
    });
    assert!(
        nodes.contains("STATUS") && nodes.contains("Ready"),
        "{nodes}"
    );
    // a custom resource by name, with its printer columns
    t.keys(&[":"]);
    t.type_text("canary");
    t.keys(&["Enter"]);
    let canaries = t.wait_for("the canaries", |s| {
        s.contains(":canary (Canary)") && s.contains("search-canary")
    });
    for column in ["TARGET", "WEIGHT", "PHASE"] {
        assert!(canaries.contains(column), "{column}:\n{canaries}");
    }
    t.keys(&[":"]);
    t.type_text("nosuchthing");
    t.keys(&["Enter"]);
    t.wait_for("the unknown resource said", |s| {
        s.contains("unknown command or resource: nosuchthing")
    });
    t.keys(&["q"]);
    t.wait_for_prompt();
    t.assert_terminal_restored();
}

#[test]
fn demo_at_80x24_is_usable() {
    let t = Tmux::start(80, 24, &[]);
    t.run(&demo_command());
    let screen = t.wait_for("pod rows at 80x24", |s| {
        pod_rows(s).len() >= 5 || s.contains("checkout")
    });
    assert!(
        spans_full_width(&screen, 80),
        "the pane should fill 80 columns:
{screen}"
    );
    t.keys(&["?"]);
    t.wait_for("the help overlay", |s| s.contains("Quit pitwall"));
    t.keys(&["Escape"]);
    t.wait_for("help closed", |s| !s.contains("Quit pitwall"));
    t.keys(&["q"]);
    t.wait_for_prompt();
    t.assert_terminal_restored();
}

/// Every SGR sequence in `bytes` that sets a colour (foreground, background,
/// underline colour, or their defaults).
fn colour_sequences(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut found = Vec::new();
    let mut rest = &*text;
    while let Some(at) = rest.find("\x1b[") {
        rest = &rest[at + 2..];
        let end = rest
            .find(|c: char| ('\u{40}'..='\u{7e}').contains(&c))
            .unwrap_or(rest.len());
        let (params, tail) = rest.split_at(end);
        if tail.starts_with('m') {
            let is_colour = params
                .split([';', ':'])
                .filter_map(|p| p.parse::<u32>().ok())
                .any(|p| matches!(p, 30..=39 | 40..=49 | 58 | 59 | 90..=97 | 100..=107));
            if is_colour {
                found.push(format!("ESC[{params}m"));
            }
        }
        rest = tail;
    }
    found
}

#[test]
fn no_color_writes_no_colour_escapes() {
    let t = Tmux::start(120, 40, &[("NO_COLOR", "1")]);
    let raw = t.home().join("output.bin");
    let pipe = t.tmux(&[
        "pipe-pane",
        "-o",
        "-t",
        "0",
        &format!("cat >> {}", raw.display()),
    ]);
    assert!(pipe.status.success());
    t.run(&format!("{} --time-scale 3", demo_command()));
    t.wait_for("pods from all four regions", |s| {
        all_regions_visible(s) && pod_rows(s).len() >= 10
    });
    // an unready pod's row differs in text, not by colour alone: `!`
    // (checkout's readiness fails at +10 s at this pace)
    t.keys(&["o", "/"]);
    t.type_text("checkout");
    t.keys(&["Enter"]);
    let unready = t.wait_for("an unready pod marked in text", |s| {
        common::pods_pane(s).lines().any(|l| {
            l.contains("checkout")
                && l.split_whitespace()
                    .any(|w| w.starts_with('!') && w.contains('/'))
        })
    });
    let ready_rows = common::pods_pane(&unready)
        .lines()
        .filter(|l| l.contains("checkout") && l.contains(" 1/1 "))
        .count();
    assert!(ready_rows > 0, "ready rows carry no mark:\n{unready}");
    t.keys(&["j", "j", "?"]);
    t.wait_for("the help overlay", |s| s.contains("Quit pitwall"));
    t.keys(&["Escape"]);
    t.wait_for("help closed", |s| !s.contains("Quit pitwall"));
    t.keys(&["q"]);
    t.wait_for_prompt();
    let bytes = std::fs::read(&raw).expect("pipe-pane output");
    assert!(
        bytes.len() > 1000,
        "expected the cockpit's output to be recorded"
    );
    let colours = colour_sequences(&bytes);
    assert!(
        colours.is_empty(),
        "colour escapes written with NO_COLOR: {:?}",
        &colours[..colours.len().min(10)]
    );
}

#[test]
fn sigterm_restores_the_terminal() {
    let t = Tmux::start(100, 30, &[]);
    t.run(&demo_command());
    t.wait_for("pods on screen", |s| pod_rows(s).len() >= 5);
    let shell = t.pane_flag("pane_pid");
    let children = Command::new("pgrep")
        .args(["-P", &shell])
        .output()
        .expect("pgrep");
    let pid = String::from_utf8_lossy(&children.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    assert!(!pid.is_empty(), "pitwall process not found under the shell");
    let kill = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(kill.success());
    t.wait_for_prompt();
    t.assert_terminal_restored();
}

#[test]
fn no_regions_and_no_kubeconfig_suggests_the_demo() {
    let home = tempfile::tempdir().expect("temp dir");
    let out = Command::new(BIN)
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("KUBECONFIG", home.path().join("missing-kubeconfig"))
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .output()
        .expect("run pitwall");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pitwall demo"), "stderr: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "nothing should be drawn: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn ctrl_z_suspends_to_the_shell_and_fg_resumes_with_a_full_screen() {
    let t = Tmux::start(120, 40, &[]);
    t.run(&demo_command());
    t.wait_for("pods from all four regions", |s| {
        all_regions_visible(s) && pod_rows(s).len() >= 10
    });

    t.keys(&["C-z"]);
    t.wait_for_prompt();
    let suspended = t.screen();
    assert!(
        suspended.contains("Stopped"),
        "job control should report the stop:\n{suspended}"
    );
    assert_eq!(
        t.pane_flag("alternate_on"),
        "0",
        "suspended on the alternate screen"
    );

    t.run("fg");
    t.wait_for("the cockpit drawn again after fg", |s| {
        all_regions_visible(s) && pod_rows(s).len() >= 10
    });
    assert_eq!(t.pane_flag("alternate_on"), "1");
    t.keys(&["?"]);
    t.wait_for("keys still work after resume", |s| {
        s.contains("Quit pitwall")
    });
    t.keys(&["Escape"]);
    t.wait_for("help closed", |s| !s.contains("Quit pitwall"));
    t.keys(&["q"]);
    t.wait_for_prompt();
    t.assert_terminal_restored();
}

#[test]
fn a_resize_storm_leaves_a_correct_screen() {
    let t = Tmux::start(120, 40, &[]);
    t.run(&demo_command());
    t.wait_for("pods from all four regions", |s| {
        all_regions_visible(s) && pod_rows(s).len() >= 10
    });
    for (w, h) in [
        (80, 24),
        (200, 60),
        (60, 15),
        (150, 30),
        (81, 25),
        (120, 40),
        (90, 20),
        (100, 30),
    ] {
        let out = t.tmux(&[
            "resize-window",
            "-t",
            "0",
            "-x",
            &w.to_string(),
            "-y",
            &h.to_string(),
        ]);
        assert!(
            out.status.success(),
            "resize-window: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    t.wait_for("the cockpit redrawn for 100x30", |s| {
        s.lines().next().is_some_and(|l| l.starts_with("pitwall"))
            && spans_full_width(s, 100)
            && pod_rows(s).len() >= 5
    });
    t.keys(&["q"]);
    t.wait_for_prompt();
    t.assert_terminal_restored();
}

fn a_signal_restores_the_terminal(signal: &str) {
    let t = Tmux::start(100, 30, &[]);
    t.run(&demo_command());
    t.wait_for("pods on screen", |s| pod_rows(s).len() >= 5);
    assert_eq!(t.pane_flag("alternate_on"), "1");
    let pid = child_of_shell(&t);
    let kill = Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .expect("kill");
    assert!(kill.success());
    t.wait_for_prompt();
    t.assert_terminal_restored();
}

#[test]
fn sigint_from_outside_restores_the_terminal() {
    a_signal_restores_the_terminal("INT");
}

#[test]
fn sigquit_from_outside_restores_the_terminal() {
    a_signal_restores_the_terminal("QUIT");
}
