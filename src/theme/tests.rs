use super::*;
use ratatui::style::Modifier;

fn theme(source: &str) -> Result<Resolved, Vec<String>> {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("t.toml");
    std::fs::write(&path, source).unwrap_or_else(|e| panic!("{e}"));
    resolve(&path.display().to_string(), None).map_err(|ds| {
        ds.iter()
            .map(|d| d.to_string().replace(&path.display().to_string(), "t.toml"))
            .collect()
    })
}

fn styles_of(source: &str, colors: ColorSupport) -> Styles {
    let resolved = theme(source).unwrap_or_else(|e| panic!("{e:?}"));
    Styles::from_theme(&resolved, colors)
}

#[test]
fn detection_is_a_function_of_the_environment() {
    use ColorSupport::*;
    let d = ColorSupport::from_env;
    assert_eq!(d(true, Some("xterm-256color"), Some("truecolor")), Mono);
    assert_eq!(d(false, Some("dumb"), Some("truecolor")), Mono);
    assert_eq!(
        d(false, Some("xterm-256color"), Some("truecolor")),
        TrueColor
    );
    assert_eq!(d(false, Some("xterm"), Some("24bit")), TrueColor);
    // Over SSH COLORTERM is gone; TERM still says 256 colours.
    assert_eq!(d(false, Some("xterm-256color"), None), Ansi256);
    assert_eq!(d(false, Some("tmux-256color"), Some("")), Ansi256);
    assert_eq!(d(false, Some("xterm"), None), Ansi16);
    assert_eq!(d(false, Some("linux"), None), Ansi16);
    assert_eq!(d(false, None, None), Ansi16);
}

#[test]
fn scopes_fall_back_along_dots_then_to_ui_text() {
    let styles = styles_of(
        r##"
"ui.text" = "#010101"
"pod" = "#020202"
"pod.status" = { fg = "#030303", modifiers = ["bold"] }
"pod.status.pending" = "amber"
[palette]
amber = "#ffb000"
"##,
        ColorSupport::TrueColor,
    );
    assert_eq!(
        styles.get("pod.status.pending"),
        Style::new().fg(Color::Rgb(255, 176, 0))
    );
    assert_eq!(
        styles.get("pod.status.failed"),
        Style::new()
            .fg(Color::Rgb(3, 3, 3))
            .add_modifier(Modifier::BOLD)
    );
    assert_eq!(
        styles.get("pod.restarts.recent"),
        Style::new().fg(Color::Rgb(2, 2, 2))
    );
    assert_eq!(
        styles.get("probe.failed"),
        Style::new().fg(Color::Rgb(1, 1, 1))
    );
    // A scope the UI invents later still falls back rather than panicking.
    assert_eq!(
        styles.get("pod.status.evicted"),
        Style::new()
            .fg(Color::Rgb(3, 3, 3))
            .add_modifier(Modifier::BOLD)
    );
    assert_eq!(styles.get("nothing"), Style::new().fg(Color::Rgb(1, 1, 1)));
}

#[test]
fn unquoted_dotted_keys_and_tables_name_scopes_too() {
    let styles = styles_of(
        "[pod.status]\nrunning = \"green\"\nfg = \"red\"\n",
        ColorSupport::TrueColor,
    );
    assert_eq!(
        styles.get("pod.status.running"),
        Style::new().fg(Color::Green)
    );
    assert_eq!(
        styles.get("pod.status.pending"),
        Style::new().fg(Color::Red)
    );
}

#[test]
fn a_child_palette_recolours_inherited_scopes() {
    let dark = styles_of("inherits = \"default\"\n", ColorSupport::TrueColor);
    let light = styles_of("inherits = \"light\"\n", ColorSupport::TrueColor);
    let (shipped_light, diags) = Styles::load("light", None, ColorSupport::TrueColor);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(light.get("ui.error"), shipped_light.get("ui.error"));
    assert_eq!(
        light.get("ui.error"),
        Style::new()
            .fg(Color::Rgb(0xcf, 0x22, 0x2e))
            .add_modifier(Modifier::BOLD)
    );
    assert_eq!(
        dark.get("ui.error"),
        Style::new()
            .fg(Color::Rgb(0xff, 0x6b, 0x6b))
            .add_modifier(Modifier::BOLD)
    );
    // A child scope replaces the parent's, a child palette entry only its colour.
    let child = styles_of(
        "inherits = \"default\"\n\"ui.error\" = \"accent\"\n[palette]\naccent = \"#000001\"\n",
        ColorSupport::TrueColor,
    );
    assert_eq!(child.get("ui.error"), Style::new().fg(Color::Rgb(0, 0, 1)));
    assert_eq!(
        child.get("ui.border.focused"),
        Style::new().fg(Color::Rgb(0, 0, 1))
    );
}

#[test]
fn styles_downgrade_to_the_terminal() {
    let src = "\"ui.selection\" = { fg = \"#ff0000\", bg = \"#000080\" }\n\"ui.text\" = 208\n";
    let s256 = styles_of(src, ColorSupport::Ansi256);
    assert_eq!(
        s256.get("ui.selection"),
        Style::new().fg(Color::Indexed(196)).bg(Color::Indexed(18))
    );
    let s16 = styles_of(src, ColorSupport::Ansi16);
    assert_eq!(
        s16.get("ui.selection"),
        Style::new().fg(Color::LightRed).bg(Color::Blue)
    );
    assert_eq!(s16.get("ui.text"), Style::new().fg(Color::Yellow));
    let mono = styles_of(src, ColorSupport::Mono);
    assert_eq!(
        mono.get("ui.selection"),
        Style::new().add_modifier(Modifier::REVERSED)
    );
    assert_eq!(mono.get("ui.text"), Style::new());
}

#[test]
fn no_colour_means_the_mono_theme_and_no_colour_anywhere() {
    let (styles, diags) = Styles::load("default", None, ColorSupport::Mono);
    assert!(diags.is_empty());
    for scope in SCOPES {
        let style = styles.get(scope);
        assert_eq!((style.fg, style.bg), (None, None), "{scope}");
    }
    assert!(styles
        .get("ui.selection")
        .add_modifier
        .contains(Modifier::REVERSED));
    assert!(styles.get("ui.error").add_modifier.contains(Modifier::BOLD));
    // The requested theme is still checked.
    let (_, diags) = Styles::load("neon", None, ColorSupport::Mono);
    assert_eq!(diags.len(), 1);
}

#[test]
fn every_shipped_theme_loads_cleanly_in_every_colour_mode() {
    for name in shipped_names() {
        for colors in [
            ColorSupport::TrueColor,
            ColorSupport::Ansi256,
            ColorSupport::Ansi16,
            ColorSupport::Mono,
        ] {
            let (styles, diags) = Styles::load(name, None, colors);
            assert!(diags.is_empty(), "{name}: {diags:?}");
            let sel = styles.get("ui.selection");
            assert!(
                sel.bg.is_some() || sel.add_modifier.contains(Modifier::REVERSED),
                "{name} {colors:?}: selection invisible"
            );
        }
    }
}

#[test]
fn theme_errors_are_positioned_and_fall_back_to_default() {
    let errs = theme(
        r##""ui.txt" = "red"
"ui.text" = "amber"
"ui.error" = { fg = "red", modifiers = ["blink"] }
"ui.hint" = 300
"ui.dim" = ["red"]
inherits = 3
[palette]
bad = "#12345"
"probe.failed" = { fg = "red" }
"##,
    )
    .expect_err("broken theme");
    assert_eq!(
        errs,
        [
            "t.toml:1:1: unknown scope `ui.txt`",
            "t.toml:2:13: unknown colour `amber` for `ui.text` (not in the palette, \"#rrggbb\", an ANSI name or 0-255)",
            "t.toml:3:41: unknown modifier `blink` for `ui.error` (expected one of bold, dim, italic, underlined, slow-blink, rapid-blink, reversed, hidden, crossed-out)",
            "t.toml:4:13: colour index 300 for `ui.hint` fg is not 0-255",
            "t.toml:5:12: scope `ui.dim` must be a colour or a table, found an array",
            "t.toml:6:12: `inherits` must be a theme name, found an integer",
            "t.toml:8:7: palette colour `bad` must be \"#rrggbb\", an ANSI name or 0-255, found `#12345`",
            "t.toml:9:1: scope `probe.failed` is inside [palette]: put scopes above the [palette] table",
        ]
    );
    let errs = theme("\"ui.text\" = \"amber\"\n").expect_err("unknown colour");
    assert_eq!(
        errs,
        ["t.toml:1:13: unknown colour `amber` for `ui.text` (not in the palette, \"#rrggbb\", an ANSI name or 0-255)"]
    );
    let (styles, diags) = Styles::load("/nonexistent/t.toml", None, ColorSupport::TrueColor);
    assert_eq!(
        diags.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        ["theme: cannot read theme /nonexistent/t.toml: No such file or directory (os error 2)"]
    );
    let (default, _) = Styles::load("default", None, ColorSupport::TrueColor);
    assert_eq!(styles.get("ui.error"), default.get("ui.error"));
}

#[test]
fn inheritance_finds_user_themes_and_stops_on_cycles() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let write = |name: &str, text: &str| {
        std::fs::write(dir.path().join(name), text).unwrap_or_else(|e| panic!("{e}"))
    };
    // A user theme named like a shipped one wins, and may inherit the shipped one.
    write(
        "default.toml",
        "inherits = \"default\"\n\"ui.error\" = \"#000002\"\n",
    );
    write("mine.toml", "inherits = \"sub/base.toml\"\n");
    std::fs::create_dir(dir.path().join("sub")).unwrap_or_else(|e| panic!("{e}"));
    write(
        "sub/base.toml",
        "inherits = \"light\"\n\"ui.hint\" = \"#000003\"\n",
    );
    write("a.toml", "inherits = \"b\"\n");
    write("b.toml", "inherits = \"a\"\n");
    let (styles, diags) = Styles::load("default", Some(dir.path()), ColorSupport::TrueColor);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(styles.get("ui.error"), Style::new().fg(Color::Rgb(0, 0, 2)));
    assert!(styles.get("ui.title").add_modifier.contains(Modifier::BOLD));
    let (styles, diags) = Styles::load("mine", Some(dir.path()), ColorSupport::TrueColor);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(styles.get("ui.hint"), Style::new().fg(Color::Rgb(0, 0, 3)));
    let (_, diags) = Styles::load("a", Some(dir.path()), ColorSupport::TrueColor);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].message, "theme `a` inherits itself");
    assert_eq!((diags[0].line, diags[0].col), (Some(1), Some(12)));
}

#[test]
fn downgraded_shipped_themes_keep_text_readable() {
    use ColorSupport::*;
    for name in shipped_names() {
        for colors in [TrueColor, Ansi256, Ansi16] {
            let (styles, _) = Styles::load(name, None, colors);
            for scope in SCOPES {
                let s = styles.get(scope);
                if let (Some(fg), Some(bg)) = (s.fg, s.bg) {
                    assert_ne!(
                        fg, bg,
                        "{name} {colors:?} {scope}: text in its own background"
                    );
                }
            }
            let sel = styles.get("ui.selection");
            let row = styles.get("table.row");
            assert!(
                sel.bg != row.bg || sel.add_modifier.contains(Modifier::REVERSED),
                "{name} {colors:?}: selected row looks like any other row"
            );
        }
    }
}

#[test]
fn a_scope_with_a_plain_colour_inside_palette_is_reported() {
    let errs = theme("[palette]\naccent = \"#102030\"\n\"ui.text\" = \"#aaaaaa\"\n")
        .expect_err("scope in palette");
    assert_eq!(
        errs,
        ["t.toml:3:1: scope `ui.text` is inside [palette]: put scopes above the [palette] table"]
    );
}
