//! End-to-end, through the real binary in tmux: pitwall fails closed and
//! stays in charge of its process. A broken config starts read-only with
//! every problem on screen and never streams a context it did not name; a
//! 60,000-key binding is an error, not a crash; credential plugins that
//! hang, run too long or read /dev/tty neither block quitting nor steal
//! keys; a log that cannot be opened is said on screen.

mod common;

use common::{child_of_shell, close_overlay, demo_command, pod_rows, Tmux, BIN};
use std::process::Command;

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
wide = ["gantt"]
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
    "config.toml:16:9: unknown pane `gantt`",
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
    plugin_setup(t, plugin, timeout, |script| {
        format!(
            "    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: {script}
      interactiveMode: Never
"
        )
    })
}

/// The same, the script named by the old `auth-provider`'s `cmd-path`.
fn provider_plugin_setup(t: &Tmux, plugin: &str, timeout: u64) -> std::path::PathBuf {
    plugin_setup(t, plugin, timeout, |script| {
        format!(
            "    auth-provider:
      name: gcp
      config:
        cmd-path: {script}
        cmd-args: config config-helper --format=json
        token-key: '{{.credential.access_token}}'
"
        )
    })
}

fn plugin_setup(
    t: &Tmux,
    plugin: &str,
    timeout: u64,
    user: impl Fn(&str) -> String,
) -> std::path::PathBuf {
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
{}contexts:
- name: ctx-plugged
  context: {{cluster: nowhere, user: plugged}}
",
            user(&script.display().to_string())
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
fn an_auth_provider_command_runs_through_the_same_guard() {
    let t = Tmux::start(140, 30, &[]);
    let home = t.home().display().to_string();
    // it gets the arguments kube gives it, and nothing to read on stdin
    let plugin = format!(
        "echo \"$@\" > {home}/provider-args\ncat > {home}/provider-stdin\nexec sleep 100029\n"
    );
    let config = provider_plugin_setup(&t, &plugin, 2);
    t.run(&format!("{BIN} --config {}", config.display()));
    t.wait_for("the timeout on the badge", |s| {
        s.contains("[plugged error: credential plugin timed out after 2s]")
    });
    wait_until_gone("sleep 100029");
    let args = std::fs::read_to_string(t.home().join("provider-args")).unwrap_or_default();
    assert_eq!(args.trim(), "config config-helper --format=json");
    let stdin = std::fs::read(t.home().join("provider-stdin")).expect("stdin was read");
    assert!(stdin.is_empty(), "{stdin:?}");
    t.keys(&["q"]);
    t.wait_for_prompt();
    t.assert_terminal_restored();
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

#[test]
fn a_log_that_cannot_be_opened_is_said_on_screen_and_the_cockpit_runs() {
    let t = Tmux::start(140, 40, &[]);
    // the state directory is taken by a file: neither the log nor the
    // audit log can be opened
    let state = t.home().join(".local/state");
    std::fs::create_dir_all(&state).expect("mkdir");
    std::fs::write(state.join("pitwall"), "not a directory").expect("write");
    t.run(&demo_command());
    t.wait_for("the cockpit with both problems noted", |s| {
        s.contains("2 problems at start-up (press ? to list)") && pod_rows(s).len() >= 5
    });
    t.keys(&["?"]);
    t.wait_for("where the log should be", |s| {
        s.contains(".local/state/pitwall/pitwall.log: cannot open the log")
    });
    // with no audit log nothing may change the cluster unrecorded
    t.wait_for("the audit log's problem and its consequence", |s| {
        s.contains("every change is refused")
    });
    close_overlay(&t);
    t.keys(&["q"]);
    t.wait_for_prompt();
    t.assert_terminal_restored();
}

#[test]
fn the_log_rotates_and_stays_under_its_bound() {
    use std::os::unix::fs::PermissionsExt;
    const BOUND: u64 = 64 * 1024;
    let t = Tmux::start(120, 40, &[]);
    let dir = t.home().join(".local/state/pitwall");
    let rotated = dir.join("pitwall.log.1");
    // trace logging from the embedded simulator and the client fills the
    // log fast: wait for it to have rotated at least once
    t.run(&format!(
        "PITWALL_LOG=trace PITWALL_LOG_MAX_BYTES={BOUND} {}",
        demo_command()
    ));
    common::wait_for_file_to_exist(&rotated);
    t.wait_for("pods on screen", |s| pod_rows(s).len() >= 5);
    t.keys(&["q"]);
    t.wait_for_prompt();
    // the state dir also holds the audit log's own directory (0700)
    let mut names: Vec<String> = Vec::new();
    for e in std::fs::read_dir(&dir)
        .expect("the log dir")
        .filter_map(Result::ok)
    {
        let meta = e.metadata().expect("metadata");
        if meta.is_dir() {
            assert_eq!(meta.permissions().mode() & 0o777, 0o700, "{:?}", e.path());
        } else {
            names.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    assert_eq!(names, ["pitwall.log", "pitwall.log.1"]);
    for name in &names {
        let meta = std::fs::metadata(dir.join(name)).expect("metadata");
        assert!(meta.len() <= BOUND, "{name} is {} bytes", meta.len());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
    }
    let old = std::fs::read_to_string(&rotated).expect("read the old log");
    assert!(old.len() as u64 > BOUND / 2, "rotated early: {}", old.len());
    let dir_mode = std::fs::metadata(&dir).expect("dir").permissions().mode();
    assert_eq!(dir_mode & 0o777, 0o700);
}
