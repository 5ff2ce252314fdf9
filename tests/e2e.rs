//! End-to-end: the real binary in a real terminal (tmux), read the way a
//! person reads the screen.

mod common;

use common::{Tmux, BIN};
use std::process::Command;

const DEMO_REGIONS: [&str; 4] = ["pre-release", "cn-north", "us-east", "ap-southeast"];

fn demo_command() -> String {
    format!("{BIN} demo")
}

/// The inside of the Pods pane's box (the triage and probes panes beside
/// it also mention regions and `x/y`), or the whole screen without one.
fn pods_pane(screen: &str) -> String {
    let lines: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
    let found = lines.iter().enumerate().find_map(|(i, l)| {
        let start = (0..l.len()).find(|&c| l[c..].starts_with(&['┌', ' ', 'P', 'o', 'd', 's']))?;
        let end = (start + 1..l.len()).find(|&c| l[c] == '┐')?;
        Some((i, start, end))
    });
    let Some((top, start, end)) = found else {
        return screen.to_string();
    };
    let mut out = String::new();
    for l in &lines[top + 1..] {
        if l.get(start) == Some(&'└') {
            break;
        }
        let inner: String = l.iter().skip(start + 1).take(end - start - 1).collect();
        out.push_str(&inner);
        out.push('\n');
    }
    out
}

/// Lines of the screen that are pod rows of the demo fleet.
fn pod_rows(screen: &str) -> Vec<String> {
    pods_pane(screen)
        .lines()
        .filter(|l| {
            DEMO_REGIONS.iter().any(|r| l.contains(r)) && (l.contains("Running") || l.contains('/'))
        })
        .filter(|l| {
            l.split_whitespace().any(|w| {
                w.matches('/').count() == 1 && w.chars().all(|c| c.is_ascii_digit() || c == '/')
            })
        })
        .map(String::from)
        .collect()
}

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
    t.run(&demo_command());
    t.wait_for("pods from all four regions", |s| {
        all_regions_visible(s) && pod_rows(s).len() >= 10
    });
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

/// The pid of the program the tmux shell is running.
fn child_of_shell(t: &Tmux) -> String {
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
    pid
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

/// Nine problems, one of each kind the config loader reports.
const NINE_PROBLEMS: &str = r#"read_only = "yes"
colour = "red"
thme = "light"

[[region]]
name = "eu"
context = ""
zone = "a"

[[region]]
name = "eu"
context = "eu"
production = "no"

[layout]
wide = ["logs"]
narrow = "tiles"
"#;

/// Where each of the nine problems is, as the list shows it.
const NINE_AT: [&str; 9] = [
    "config.toml:1:13: `read_only` must be",
    "config.toml:2:1: unknown key `colour`",
    "config.toml:3:1: unknown key `thme`",
    "config.toml:7:11: `context` must not be empty",
    "config.toml:8:1: unknown key `zone`",
    "config.toml:11:8: duplicate region name `eu`",
    "config.toml:13:14: `production` must be",
    "config.toml:16:9: unknown pane `logs`",
    "config.toml:17:10: unknown narrow layout `tiles`",
];

#[test]
fn a_broken_config_starts_read_only_and_keeps_every_problem_on_screen() {
    let t = Tmux::start(140, 40, &[]);
    std::fs::write(t.home().join("config.toml"), NINE_PROBLEMS).expect("write config");
    t.run(&format!(
        "cd {} && {BIN} demo --config config.toml",
        t.home().display()
    ));
    let notice = "read-only: config has 9 problems (press ? to list)";
    let screen = t.wait_for("every problem listed at start", |s| {
        s.contains(notice) && NINE_AT.iter().all(|p| s.contains(p))
    });
    assert!(screen.contains("the config did not load"), "{screen}");
    // closed, the list is gone and its toasts fade; the notice stays
    t.keys(&["Escape"]);
    t.wait_for("the notice alone, after the toasts are gone", |s| {
        s.contains(notice) && NINE_AT.iter().all(|p| !s.contains(p)) && pod_rows(s).len() >= 5
    });
    t.keys(&["?"]);
    t.wait_for("every problem listed again", |s| {
        NINE_AT.iter().all(|p| s.contains(p)) && s.contains("Quit pitwall")
    });
    close_overlay(&t);
    t.keys(&["q"]);
    t.wait_for_prompt();
    t.assert_terminal_restored();
}

/// Two contexts on a port where nothing answers.
const TWO_CONTEXTS: &str = "apiVersion: v1
kind: Config
clusters:
- name: nowhere
  cluster: {server: 'https://127.0.0.1:9'}
users:
- name: nobody
  user: {token: t}
contexts:
- name: ctx-alpha
  context: {cluster: nowhere, user: nobody}
- name: ctx-beta
  context: {cluster: nowhere, user: nobody}
";

#[test]
fn a_broken_config_never_streams_contexts_it_did_not_name() {
    let t = Tmux::start(140, 40, &[]);
    let home = t.home().to_path_buf();
    std::fs::create_dir_all(home.join(".kube")).expect("mkdir");
    std::fs::write(home.join(".kube/config"), TWO_CONTEXTS).expect("write kubeconfig");
    // nothing salvageable: no region at all, and the reason
    std::fs::write(home.join("broken.toml"), "[[region]\nname = \"alpha\"\n").expect("write");
    t.run(&format!(
        "{BIN} --config {}",
        home.join("broken.toml").display()
    ));
    let screen = t.wait_for("no region and the notice", |s| {
        s.contains("no region: the config did not load")
            && s.contains("read-only: config has 1 problem (press ? to list)")
    });
    assert!(
        !screen.contains("ctx-"),
        "a kubeconfig context is streamed:\n{screen}"
    );
    close_overlay(&t);
    t.keys(&["q"]);
    t.wait_for_prompt();

    // a typo elsewhere: the region that checked out, and nothing more
    std::fs::write(
        home.join("typo.toml"),
        "colour = 1\n[[region]]\nname = \"alpha\"\ncontext = \"ctx-alpha\"\n",
    )
    .expect("write");
    t.run(&format!(
        "clear; {BIN} --config {}",
        home.join("typo.toml").display()
    ));
    let screen = t.wait_for("the configured region and the notice", |s| {
        s.contains("[alpha ") && s.contains("read-only: config has 1 problem")
    });
    assert!(!screen.contains("ctx-beta"), "{screen}");
    close_overlay(&t);
    t.keys(&["q"]);
    t.wait_for_prompt();
    t.assert_terminal_restored();
}

#[test]
fn a_60000_key_binding_is_reported_in_the_cockpit_not_a_crash() {
    let t = Tmux::start(140, 40, &[]);
    let path = t.home().join("long.toml");
    std::fs::write(
        &path,
        format!("[table]\n\"{}\" = \"down\"\n", "j".repeat(60_000)),
    )
    .expect("write keymap");
    t.run(&format!("{BIN} demo --keymap {}", path.display()));
    t.wait_for("the cockpit with the keymap problem noted", |s| {
        s.contains("1 problem at start-up (press ? to list)") && pod_rows(s).len() >= 5
    });
    t.keys(&["?"]);
    t.wait_for("the problem listed", |s| {
        s.contains("long.toml:2:1: bad key `jjj") && s.contains("at most 8 keys long")
    });
    close_overlay(&t);
    t.keys(&["q"]);
    t.wait_for_prompt();
    t.assert_terminal_restored();
}

/// A kubeconfig whose one context gets its credentials from `plugin` (a
/// shell script written to $HOME), and a config naming that context.
fn exec_plugin_setup(t: &Tmux, plugin: &str, timeout: u64) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let home = t.home();
    let script = home.join("plugin.sh");
    std::fs::write(&script, format!("#!/bin/sh\n{plugin}")).expect("write plugin");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let kubeconfig = home.join("exec-kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1
kind: Config
clusters:
- name: nowhere
  cluster: {{server: 'https://127.0.0.1:9'}}
users:
- name: plugged
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: {}
      interactiveMode: Never
contexts:
- name: ctx-plugged
  context: {{cluster: nowhere, user: plugged}}
",
            script.display()
        ),
    )
    .expect("write kubeconfig");
    let config = home.join("plugin.toml");
    std::fs::write(
        &config,
        format!(
            "credential_plugin_timeout = {timeout}\n[[region]]\nname = \"plugged\"\n\
             context = \"ctx-plugged\"\nkubeconfig = \"{}\"\n",
            kubeconfig.display()
        ),
    )
    .expect("write config");
    config
}

/// Waits until no process has `marker` in its command line.
fn wait_until_gone(marker: &str) {
    let start = std::time::Instant::now();
    loop {
        let out = Command::new("pgrep")
            .args(["-f", marker])
            .output()
            .expect("pgrep");
        if !out.status.success() {
            return;
        }
        assert!(
            start.elapsed() < common::PATIENCE,
            "`{marker}` still runs: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn a_hanging_credential_plugin_blocks_neither_q_nor_sigterm() {
    let t = Tmux::start(120, 30, &[]);
    let started = t.home().join("plugin-started");
    let plugin = format!("touch {}\nexec sleep 100017\n", started.display());
    let config = exec_plugin_setup(&t, &plugin, 600);
    for how in ["q", "TERM"] {
        let _ = std::fs::remove_file(&started);
        t.run(&format!("clear; {BIN} --config {}", config.display()));
        common::wait_for_file_to_exist(&started);
        t.wait_for("the region connecting", |s| {
            s.contains("[plugged connecting]")
        });
        if how == "q" {
            t.keys(&["q"]);
        } else {
            let pid = child_of_shell(&t);
            let kill = Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .expect("kill");
            assert!(kill.success());
        }
        t.wait_for_prompt();
        t.assert_terminal_restored();
        // and the plugin does not outlive the cockpit
        wait_until_gone("sleep 100017");
    }
}

#[test]
fn a_credential_plugin_that_runs_too_long_is_an_error_on_the_badge() {
    let t = Tmux::start(140, 30, &[]);
    let config = exec_plugin_setup(&t, "exec sleep 100019\n", 2);
    t.run(&format!("{BIN} --config {}", config.display()));
    t.wait_for("the timeout on the badge", |s| {
        s.contains("[plugged error: credential plugin timed out after 2s]")
    });
    t.keys(&["q"]);
    t.wait_for_prompt();
    t.assert_terminal_restored();
    wait_until_gone("sleep 100019");
}

#[test]
fn a_credential_plugin_cannot_read_the_cockpits_keys() {
    let t = Tmux::start(120, 30, &[]);
    let home = t.home().display().to_string();
    let plugin = format!(
        "touch {home}/plugin-started\nhead -c 1 /dev/tty > {home}/stolen 2> {home}/tty-error\n\
         exec sleep 100023\n"
    );
    let config = exec_plugin_setup(&t, &plugin, 600);
    t.run(&format!("{BIN} --config {}", config.display()));
    common::wait_for_file_to_exist(&t.home().join("tty-error"));
    t.wait_for("the region connecting", |s| {
        s.contains("[plugged connecting]")
    });
    t.keys(&["?"]);
    t.wait_for("the cockpit got the key", |s| s.contains("Quit pitwall"));
    close_overlay(&t);
    t.keys(&["q"]);
    t.wait_for_prompt();
    t.assert_terminal_restored();
    let stolen = std::fs::read(t.home().join("stolen")).unwrap_or_default();
    assert!(
        stolen.is_empty(),
        "the plugin read {stolen:?} from the terminal"
    );
    wait_until_gone("sleep 100023");
}

/// Esc, and wait until the overlay is gone: an Esc and a key sent together
/// read as Alt and that key.
fn close_overlay(t: &Tmux) {
    t.keys(&["Escape"]);
    t.wait_for("the overlay closed", |s| !s.contains("(Esc closes)"));
}

#[test]
fn a_log_that_cannot_be_opened_is_said_on_screen_and_the_cockpit_runs() {
    let t = Tmux::start(140, 40, &[]);
    // the log's directory is taken by a file
    let state = t.home().join(".local/state");
    std::fs::create_dir_all(&state).expect("mkdir");
    std::fs::write(state.join("pitwall"), "not a directory").expect("write");
    t.run(&demo_command());
    t.wait_for("the cockpit with the problem noted", |s| {
        s.contains("1 problem at start-up (press ? to list)") && pod_rows(s).len() >= 5
    });
    t.keys(&["?"]);
    t.wait_for("where the log should be", |s| {
        s.contains(".local/state/pitwall/pitwall.log: cannot open the log")
    });
    close_overlay(&t);
    t.keys(&["q"]);
    t.wait_for_prompt();
    t.assert_terminal_restored();
}
