//! Shipped keymaps and themes load cleanly; broken config, keymap and theme
//! files run through the real `pitwall check-config` give exact errors.

use pitwall::keymap::Keymap;
use pitwall::theme::{ColorSupport, Styles};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn toml_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn every_shipped_keymap_loads_by_name_and_by_path_without_diagnostics() {
    let files = toml_files("keymaps");
    let names: Vec<String> = files.iter().map(|p| stem(p)).collect();
    assert_eq!(names, ["default", "emacs", "vim"]);
    for file in &files {
        let (_, diags) = Keymap::load(&stem(file), None);
        assert!(diags.is_empty(), "{}: {diags:?}", file.display());
        let (_, diags) = Keymap::load(&file.display().to_string(), None);
        assert!(diags.is_empty(), "{}: {diags:?}", file.display());
    }
}

#[test]
fn every_shipped_theme_loads_by_name_and_by_path_without_diagnostics() {
    let files = toml_files("themes");
    let names: Vec<String> = files.iter().map(|p| stem(p)).collect();
    assert_eq!(names, ["default", "high-contrast", "light", "mono"]);
    for file in &files {
        for colors in [ColorSupport::TrueColor, ColorSupport::Ansi16] {
            let (_, diags) = Styles::load(&stem(file), None, colors);
            assert!(diags.is_empty(), "{}: {diags:?}", file.display());
            let (_, diags) = Styles::load(&file.display().to_string(), None, colors);
            assert!(diags.is_empty(), "{}: {diags:?}", file.display());
        }
    }
}

/// The real binary, run from the repository with an empty home.
fn check_config(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pitwall"))
        .arg("check-config")
        .args(args)
        .current_dir(repo())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env_remove("KUBECONFIG")
        .output()
        .unwrap_or_else(|e| panic!("running pitwall: {e}"))
}

fn text(bytes: &[u8], home: &Path) -> String {
    String::from_utf8_lossy(bytes).replace(&home.display().to_string(), "$HOME")
}

fn assert_fails_with(args: &[&str], expected_stderr: &str) {
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = check_config(home.path(), args);
    assert_eq!(text(&out.stderr, home.path()), expected_stderr, "{args:?}");
    assert_eq!(out.status.code(), Some(1), "{args:?}");
}

#[test]
fn a_valid_config_passes() {
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = check_config(home.path(), &["--config", "tests/fixtures/config-ok.toml"]);
    assert_eq!(text(&out.stderr, home.path()), "");
    assert_eq!(
        text(&out.stdout, home.path()),
        "config OK: tests/fixtures/config-ok.toml (2 regions)\n\
         contexts OK: 2 regions found in 1 kubeconfig\n\
         keymap OK: vim\ntheme OK: light\n"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn no_config_at_all_is_fine() {
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = check_config(home.path(), &[]);
    assert_eq!(
        text(&out.stdout, home.path()),
        "config: none at $HOME/.config/pitwall/config.toml; using defaults\n\
         keymap OK: default\ntheme OK: default\n"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_broken_config_reports_every_problem() {
    assert_fails_with(
        &["--config", "tests/fixtures/config-broken.toml"],
        "\
tests/fixtures/config-broken.toml:2:13: `read_only` must be true or false, found a string
tests/fixtures/config-broken.toml:3:1: unknown key `colour` (expected theme, keymap, read_only, [[region]] or [layout])
tests/fixtures/config-broken.toml:10:8: duplicate region name `eu` (first on line 6)
tests/fixtures/config-broken.toml:11:11: `context` must not be empty
tests/fixtures/config-broken.toml:14:17: unknown pane `gantt` (expected triage, pods, probes or logs)
check-config: 5 problems found
",
    );
}

#[test]
fn region_contexts_are_checked_against_their_kubeconfigs() {
    assert_fails_with(
        &["--config", "tests/fixtures/config-contexts.toml"],
        "\
tests/fixtures/config-contexts.toml:4:11: region `cn-north`: context `prod-cn-nort` is not in tests/fixtures/kubeconfig.yaml (it has: prod-cn-north, eu-west)
tests/fixtures/config-contexts.toml:10:14: region `eu-west`: no kubeconfig at tests/fixtures/missing-kubeconfig.yaml
check-config: 2 problems found
",
    );
}

#[test]
fn context_flags_must_name_existing_contexts() {
    assert_fails_with(
        &[
            "--kubeconfig",
            "tests/fixtures/kubeconfig.yaml",
            "--context",
            "eu-west,ap-south",
        ],
        "\
tests/fixtures/kubeconfig.yaml: context `ap-south` is not in the kubeconfig (it has: prod-cn-north, eu-west)
check-config: 1 problem found
",
    );
    assert_fails_with(
        &[
            "--config",
            "tests/fixtures/config-ok.toml",
            "--context",
            "ap-south",
        ],
        "\
--context: `ap-south` is no configured region or context (regions: cn-north, eu-west)
check-config: 1 problem found
",
    );
}

#[test]
fn a_toml_syntax_error_is_positioned() {
    assert_fails_with(
        &["--config", "tests/fixtures/config-syntax.toml"],
        "\
tests/fixtures/config-syntax.toml:2:9: invalid TOML: invalid table header; expected `.`, `]]`
check-config: 1 problem found
",
    );
}

#[test]
fn a_missing_named_config_is_an_error() {
    assert_fails_with(
        &["--config", "tests/fixtures/absent.toml"],
        "\
tests/fixtures/absent.toml: cannot read config: No such file or directory (os error 2)
check-config: 1 problem found
",
    );
}

const BROKEN_KEYMAP: &str = "\
tests/fixtures/keymap-broken.toml:2:7: unknown action `launch_missiles` for key `x`
tests/fixtures/keymap-broken.toml:3:1: bad key `<C-`: `<C-` has no closing `>`
tests/fixtures/keymap-broken.toml:7:1: `gg` conflicts with `g` on line 6 in [table]: one is a prefix of the other
tests/fixtures/keymap-broken.toml:9:1: `<C-d>` is the same key as `<c-d>` on line 8 in [table]
tests/fixtures/keymap-broken.toml:11:2: unknown section [pods] (expected global, table, modal or input)
";

const BROKEN_THEME: &str = "\
tests/fixtures/theme-broken.toml:2:1: unknown scope `ui.txt`
tests/fixtures/theme-broken.toml:3:24: unknown colour `amber-ish` for `pod.status.pending` (not in the palette, \"#rrggbb\", an ANSI name or 0-255)
tests/fixtures/theme-broken.toml:4:41: unknown modifier `blinking` for `ui.error` (expected one of bold, dim, italic, underlined, slow-blink, rapid-blink, reversed, hidden, crossed-out)
tests/fixtures/theme-broken.toml:7:10: palette colour `accent` must be \"#rrggbb\", an ANSI name or 0-255, found `#12345`
";

#[test]
fn a_broken_keymap_and_theme_given_as_flags() {
    assert_fails_with(
        &[
            "--keymap",
            "tests/fixtures/keymap-broken.toml",
            "--theme",
            "tests/fixtures/theme-broken.toml",
        ],
        &format!("{BROKEN_KEYMAP}{BROKEN_THEME}check-config: 9 problems found\n"),
    );
}

#[test]
fn files_named_in_the_config_are_found_next_to_it() {
    assert_fails_with(
        &["--config", "tests/fixtures/config-names-broken-files.toml"],
        &format!("{BROKEN_KEYMAP}{BROKEN_THEME}check-config: 9 problems found\n"),
    );
}

#[test]
fn flags_override_the_config_and_names_must_exist() {
    assert_fails_with(
        &[
            "--config",
            "tests/fixtures/config-ok.toml",
            "--keymap",
            "helix",
            "--theme",
            "solarized",
        ],
        "\
keymap: unknown keymap `helix` (shipped: default, vim, emacs; or give a file path)
theme: unknown theme `solarized` (shipped: default, light, high-contrast, mono; or a file in the themes dir, or a path)
check-config: 2 problems found
",
    );
}

#[test]
fn an_inheritance_cycle_is_reported_where_it_closes() {
    assert_fails_with(
        &["--theme", "tests/fixtures/theme-cycle-a.toml"],
        "\
tests/fixtures/theme-cycle-b.toml:1:12: theme `theme-cycle-a.toml` inherits itself
check-config: 1 problem found
",
    );
}

#[test]
fn the_users_own_keymap_and_themes_are_checked_too() {
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = home.path().join(".config/pitwall");
    std::fs::create_dir_all(dir.join("themes")).unwrap_or_else(|e| panic!("{e}"));
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    write("config.toml", "theme = \"night\"\n");
    write("keymap.toml", "[table]\n\"J\" = \"page_down\"\n");
    write(
        "themes/night.toml",
        "inherits = \"default\"\n\"ui.text\" = \"#aaaaaa\"\n",
    );
    write("themes/unused.toml", "\"sparkline\" = \"violet\"\n");
    let out = check_config(home.path(), &[]);
    assert_eq!(
        text(&out.stdout, home.path()),
        "\
config OK: $HOME/.config/pitwall/config.toml (no regions: every kubeconfig context becomes one)
keymap OK: default + $HOME/.config/pitwall/keymap.toml
theme OK: night
"
    );
    assert_eq!(
        text(&out.stderr, home.path()),
        "\
$HOME/.config/pitwall/themes/unused.toml:1:15: unknown colour `violet` for `sparkline` (not in the palette, \"#rrggbb\", an ANSI name or 0-255)
check-config: 1 problem found
"
    );
    assert_eq!(out.status.code(), Some(1));

    // A broken user keymap is reported; the layer is skipped, not fatal.
    write("keymap.toml", "[table]\n\"J\" = \"page_dn\"\n");
    std::fs::remove_file(dir.join("themes/unused.toml")).unwrap_or_else(|e| panic!("{e}"));
    let out = check_config(home.path(), &[]);
    assert_eq!(
        text(&out.stderr, home.path()),
        "\
$HOME/.config/pitwall/keymap.toml:2:7: unknown action `page_dn` for key `J`
check-config: 1 problem found
"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn the_configuration_doc_lists_every_default_binding_and_scope() {
    let doc = std::fs::read_to_string(repo().join("docs/CONFIGURATION.md"))
        .unwrap_or_else(|e| panic!("docs/CONFIGURATION.md: {e}"));
    let keymap = Keymap::defaults();
    for ctx in pitwall::action::KeyContext::ALL {
        for hint in keymap.bindings(ctx) {
            let row_found = doc.lines().any(|line| {
                line.starts_with(&format!("| {} |", ctx.name()))
                    && line.contains(&format!("`{}`", hint.keys))
                    && line.contains(&format!("| `{}` |", hint.action.name()))
            });
            assert!(
                row_found,
                "{} {} -> {}",
                ctx.name(),
                hint.keys,
                hint.action.name()
            );
        }
    }
    for spec in pitwall::action::ACTIONS {
        assert!(
            doc.contains(&format!("| `{}` | {} |", spec.name, spec.help)),
            "docs/CONFIGURATION.md, Actions table: add or update the row `| `{}` | {} |`",
            spec.name,
            spec.help
        );
    }
    for scope in pitwall::theme::SCOPES {
        let last = scope.rsplit('.').next().unwrap_or(scope);
        assert!(
            doc.contains(&format!("`{scope}`")) || doc.contains(&format!("`.{last}`")),
            "{scope}"
        );
    }
}

#[test]
fn a_60000_key_sequence_is_a_clear_error_not_a_crash() {
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = home.path().join("long.toml");
    let huge = "j".repeat(60_000);
    std::fs::write(&path, format!("[table]\n\"{huge}\" = \"down\"\n"))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = check_config(home.path(), &["--keymap", &path.display().to_string()]);
    assert_eq!(
        text(&out.stderr, home.path()),
        format!(
            "$HOME/long.toml:2:1: bad key `{}…`: a binding is at most 8 keys long; this one is longer\n\
             check-config: 1 problem found\n",
            "j".repeat(40)
        )
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn with_no_regions_the_kubeconfig_itself_is_checked() {
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = check_config(
        home.path(),
        &["--kubeconfig", "tests/fixtures/kubeconfig.yaml"],
    );
    assert_eq!(
        text(&out.stdout, home.path()),
        "config: none at $HOME/.config/pitwall/config.toml; using defaults\n\
         kubeconfig OK: 2 contexts, each a region\n\
         keymap OK: default\ntheme OK: default\n"
    );
    assert_eq!(out.status.code(), Some(0));

    let broken = home.path().join("kubeconfig");
    std::fs::write(&broken, "clusters: [").unwrap_or_else(|e| panic!("{e}"));
    let out = check_config(
        home.path(),
        &["--kubeconfig", &broken.display().to_string()],
    );
    let stderr = text(&out.stderr, home.path());
    assert!(
        stderr.starts_with("$HOME/kubeconfig: invalid kubeconfig: "),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("check-config: 1 problem found\n"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(1));

    let out = check_config(home.path(), &["--kubeconfig", "tests/fixtures/absent.yaml"]);
    assert_eq!(
        text(&out.stderr, home.path()),
        "tests/fixtures/absent.yaml: no kubeconfig at tests/fixtures/absent.yaml; \
         configure [[region]] in config.toml or try `pitwall demo`\n\
         check-config: 1 problem found\n"
    );
    assert_eq!(out.status.code(), Some(1));
}
