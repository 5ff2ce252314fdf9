use super::*;
use crate::action::KeyContext::{Global, Input, Modal, Table};

fn keys(text: &str) -> Vec<Key> {
    parse_keys(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn pane(km: &Keymap, text: &str) -> Lookup {
    km.lookup(&[Table, Global], &keys(text))
}

fn errors(source: &str) -> Vec<String> {
    match Keymap::defaults().layered("user.toml", source) {
        Ok(_) => Vec::new(),
        Err(diags) => diags.iter().map(|d| d.to_string()).collect(),
    }
}

#[test]
fn defaults_answer_single_keys_by_context_priority() {
    let km = Keymap::defaults();
    assert_eq!(pane(&km, "q"), Lookup::Action(Action::Quit));
    assert_eq!(pane(&km, "j"), Lookup::Action(Action::Down));
    assert_eq!(pane(&km, "<C-d>"), Lookup::Action(Action::PageDown));
    assert_eq!(pane(&km, "G"), Lookup::Action(Action::Bottom));
    assert_eq!(pane(&km, "<S-Tab>"), Lookup::Action(Action::FocusPrev));
    // [table] comes first, so Esc clears the filter there; globally it is back.
    assert_eq!(pane(&km, "<Esc>"), Lookup::Action(Action::ClearFilter));
    assert_eq!(
        km.lookup(&[Global], &keys("<Esc>")),
        Lookup::Action(Action::Back)
    );
    assert_eq!(pane(&km, "x"), Lookup::Unbound);
    assert_eq!(
        km.lookup(&[Modal], &keys("y")),
        Lookup::Action(Action::Confirm)
    );
    assert_eq!(km.lookup(&[Modal], &keys("q")), Lookup::Unbound);
    assert_eq!(
        km.lookup(&[Input], &keys("<Tab>")),
        Lookup::Action(Action::Complete)
    );
    assert_eq!(km.lookup(&[Table, Global], &[]), Lookup::Unbound);
}

#[test]
fn a_prefix_is_pending_with_its_completions() {
    let km = Keymap::defaults();
    assert_eq!(
        pane(&km, "g"),
        Lookup::Pending(vec![Hint {
            keys: "gg".into(),
            action: Action::Top
        }])
    );
    assert_eq!(pane(&km, "gg"), Lookup::Action(Action::Top));
    assert_eq!(pane(&km, "gx"), Lookup::Unbound);
    assert_eq!(pane(&km, "ggg"), Lookup::Unbound);
}

#[test]
fn ctrl_c_always_quits() {
    let km = Keymap::defaults();
    for ctxs in [&[Modal][..], &[Input], &[Table, Global], &[]] {
        assert_eq!(
            km.lookup(ctxs, &keys("<C-c>")),
            Lookup::Action(Action::Quit)
        );
    }
    assert_eq!(pane(&km, "g<C-c>"), Lookup::Action(Action::Quit));
    // Unbinding or rebinding it is refused, and the help lists it.
    assert_eq!(
        errors("[global]\n\"<C-c>\" = \"none\"\n"),
        ["user.toml:2:1: `<C-c>`: <C-c> always quits and cannot be rebound"]
    );
    assert!(km.bindings(Global).contains(&Hint {
        keys: "<C-c>".into(),
        action: Action::Quit
    }));
}

#[test]
fn a_layer_replaces_equal_keys_and_silently_drops_prefix_conflicts() {
    let km = Keymap::defaults()
        .layered(
            "user.toml",
            "[table]\n\"j\" = \"up\"\n\"g\" = \"show_triage\"\n\"dd\" = \"describe\"\n",
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(pane(&km, "j"), Lookup::Action(Action::Up));
    // `g` replaces the longer `gg` it is a prefix of.
    assert_eq!(pane(&km, "g"), Lookup::Action(Action::ShowTriage));
    // `dd` replaces the shorter `d` that is its prefix.
    assert_eq!(
        pane(&km, "d"),
        Lookup::Pending(vec![Hint {
            keys: "dd".into(),
            action: Action::Describe
        }])
    );
    // Other contexts are untouched.
    assert_eq!(
        km.lookup(&[Modal], &keys("y")),
        Lookup::Action(Action::Confirm)
    );
}

#[test]
fn none_unbinds_a_key_and_everything_it_starts() {
    let km = Keymap::defaults()
        .layered(
            "user.toml",
            "[global]\n\"q\" = \"none\"\n[table]\n\"g\" = \"none\"\n",
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(pane(&km, "q"), Lookup::Unbound);
    assert_eq!(pane(&km, "g"), Lookup::Unbound);
    assert_eq!(pane(&km, "gg"), Lookup::Unbound);
    assert!(km.keys_for(Global, Action::Quit) == ["<C-c>"]);
}

#[test]
fn unbinding_a_prefix_and_binding_longer_keys_in_one_file_is_allowed() {
    let km = Keymap::defaults()
        .layered("user.toml", "[table]\n\"g\" = \"none\"\n\"gt\" = \"top\"\n")
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(pane(&km, "gt"), Lookup::Action(Action::Top));
    assert_eq!(pane(&km, "gg"), Lookup::Unbound);
    // The order of lines in the file does not matter.
    let km = Keymap::defaults()
        .layered("user.toml", "[table]\n\"gt\" = \"top\"\n\"g\" = \"none\"\n")
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(pane(&km, "gt"), Lookup::Action(Action::Top));
    assert_eq!(pane(&km, "gg"), Lookup::Unbound);
    assert_eq!(
        errors("q = \"quit\"\n"),
        ["user.toml:1:1: `q` is outside any section: put bindings under [global], [table], [modal] or [input]"]
    );
}

#[test]
fn every_problem_in_a_layer_is_reported_with_its_position() {
    let source = "\
[global]
\"x\" = \"fly\"
\"<C-\" = \"quit\"
\"<c-d>\" = \"help\"
\"<C-d>\" = \"quit\"
\"z\" = 3
[table]
\"g\" = \"top\"
\"gx\" = \"bottom\"
[pods]
\"l\" = \"down\"
";
    assert_eq!(
        errors(source),
        [
            "user.toml:2:7: unknown action `fly` for key `x`",
            "user.toml:3:1: bad key `<C-`: `<C-` has no closing `>`",
            "user.toml:5:1: `<C-d>` is the same key as `<c-d>` on line 4 in [global]",
            "user.toml:6:7: the action for key `z` must be a string, found an integer",
            "user.toml:9:1: `gx` conflicts with `g` on line 8 in [table]: one is a prefix of the other",
            "user.toml:10:2: unknown section [pods] (expected global, table, modal or input)",
        ]
    );
}

#[test]
fn a_broken_layer_is_skipped_and_the_rest_still_loads() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("keymap.toml");
    std::fs::write(&path, "[global]\n\"x\" = \"quit\"\n\"y\" = \"fly\"\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let (km, diags) = Keymap::load("vim", Some(&path));
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].line, Some(3));
    // The user layer is skipped whole: `x` stays unbound...
    assert_eq!(pane(&km, "x"), Lookup::Unbound);
    // ...while the defaults and the vim layer beneath it still apply.
    assert_eq!(pane(&km, "j"), Lookup::Action(Action::Down));
    assert_eq!(pane(&km, "ZZ"), Lookup::Action(Action::Quit));
}

#[test]
fn shipped_keymaps_load_cleanly_and_differ() {
    for name in shipped_names() {
        let (_, diags) = Keymap::load(name, None);
        assert!(diags.is_empty(), "{name}: {diags:?}");
    }
    let (vim, _) = Keymap::load("vim", None);
    assert_eq!(
        vim.lookup(&[Global], &keys("<C-w>")),
        Lookup::Pending(vec![
            Hint {
                keys: "<C-w>W".into(),
                action: Action::FocusPrev
            },
            Hint {
                keys: "<C-w>w".into(),
                action: Action::FocusNext
            },
        ])
    );
    let (emacs, _) = Keymap::load("emacs", None);
    assert_eq!(pane(&emacs, "<C-n>"), Lookup::Action(Action::Down));
    assert_eq!(pane(&emacs, "g"), Lookup::Unbound);
    assert_eq!(pane(&emacs, "<A-gt>"), Lookup::Action(Action::Bottom));
    let (k9s, _) = Keymap::load("k9s", None);
    for (keys, action) in [
        ("s", Action::Exec),
        ("<C-k>", Action::DeletePod),
        ("F", Action::PortForward),
        ("d", Action::Describe),
        ("y", Action::Yaml),
        ("/", Action::Filter),
        ("g", Action::Top),
    ] {
        assert_eq!(pane(&k9s, keys), Lookup::Action(action), "{keys}");
    }
    assert_eq!(
        k9s.lookup(&[Global], &keys(":")),
        Lookup::Action(Action::Palette)
    );
}

#[test]
fn unknown_keymap_names_and_missing_files_are_reported() {
    let (km, diags) = Keymap::load("helix", None);
    assert_eq!(
        diags.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        ["keymap: unknown keymap `helix` (shipped: default, vim, emacs, k9s; or give a file path)"]
    );
    assert_eq!(pane(&km, "q"), Lookup::Action(Action::Quit));
    let (_, diags) = Keymap::load("default", Some(Path::new("/nonexistent/keymap.toml")));
    assert_eq!(diags.len(), 1);
    assert!(diags[0]
        .to_string()
        .starts_with("/nonexistent/keymap.toml: cannot read keymap: "));
}

#[test]
fn help_lists_bindings_in_registry_order() {
    let km = Keymap::defaults();
    let table = km.bindings(Table);
    let order: Vec<usize> = table.iter().map(|h| h.action as usize).collect();
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(order, sorted);
    assert_eq!(km.keys_for(Table, Action::Down), ["j", "<Down>"]);
    assert_eq!(km.keys_for(Table, Action::Top), ["gg", "<Home>"]);
}

mod layering_properties {
    use super::*;
    use proptest::prelude::*;

    fn arb_keys() -> impl Strategy<Value = String> {
        proptest::collection::vec(prop_oneof![Just("g"), Just("G"), Just("<C-d>")], 1..4)
            .prop_map(|parts| parts.concat())
    }

    fn arb_action() -> impl Strategy<Value = &'static str> {
        prop_oneof![Just("top"), Just("bottom"), Just("describe"), Just("none")]
    }

    /// A layer's lines, dropping ones that would make the file itself
    /// invalid (repeats and prefix conflicts between its own bindings).
    fn arb_layer() -> impl Strategy<Value = Vec<(String, &'static str)>> {
        proptest::collection::vec((arb_keys(), arb_action()), 1..6).prop_map(|lines| {
            let mut kept: Vec<(String, &'static str)> = Vec::new();
            for (k, a) in lines {
                let clash = kept.iter().any(|(other, other_a)| {
                    *other == k
                        || (a != "none"
                            && *other_a != "none"
                            && (other.starts_with(&k) || k.starts_with(other.as_str())))
                });
                if !clash {
                    kept.push((k, a));
                }
            }
            kept
        })
    }

    proptest! {
        #[test]
        fn layers_keep_the_table_prefix_free_and_the_last_word_wins(
            layers in proptest::collection::vec(arb_layer(), 1..4)
        ) {
            let mut km = Keymap::defaults();
            for layer in &layers {
                let source: String = std::iter::once("[table]\n".to_string())
                    .chain(layer.iter().map(|(k, a)| format!("\"{k}\" = \"{a}\"\n")))
                    .collect();
                km = match km.layered("p.toml", &source) {
                    Ok(km) => km,
                    Err(e) => return Err(TestCaseError::fail(format!("{source}: {e:?}"))),
                };
                // What this layer bound now answers; what it unbound acts no more.
                for (k, a) in layer {
                    let found = km.lookup(&[Table], &keys(k));
                    match Action::from_name(a) {
                        Some(action) => prop_assert_eq!(found, Lookup::Action(action), "{}", k),
                        // Unbound, or only the start of this layer's longer keys.
                        None => prop_assert!(!matches!(found, Lookup::Action(_)), "{}", k),
                    }
                }
            }
            let bound: Vec<Vec<Key>> = km
                .bindings(Table)
                .iter()
                .map(|h| keys(&h.keys))
                .collect();
            for (i, a) in bound.iter().enumerate() {
                for b in &bound[i + 1..] {
                    prop_assert!(!a.starts_with(b) && !b.starts_with(a), "{:?} vs {:?}", a, b);
                }
            }
        }
    }
}

#[test]
fn key_sequences_are_bounded_and_a_huge_one_is_a_positioned_error() {
    let eight = "g".repeat(super::keys::MAX_SEQUENCE);
    assert_eq!(keys(&eight).len(), super::keys::MAX_SEQUENCE);
    assert!(errors(&format!(
        "[table]\n\"{eight}\" = \"top\"\n\"gh\" = \"up\"\n"
    ))
    .iter()
    .all(|e| !e.contains("at most")));
    // 60,000 keys once overflowed the stack; now it is one short message.
    let huge = "j".repeat(60_000);
    let found = errors(&format!("[table]\n\"{huge}\" = \"down\"\n"));
    assert_eq!(
        found,
        vec![format!(
            "user.toml:2:1: bad key `{}…`: a binding is at most 8 keys long; this one is longer",
            "j".repeat(40)
        )]
    );
}

#[test]
fn a_panes_own_section_wins_only_where_it_is_looked_up() {
    let km = Keymap::defaults()
        .layered("user.toml", "[logs]\n\"s\" = \"top\"\n")
        .unwrap_or_else(|d| panic!("{d:?}"));
    // with the logs pane focused its section comes first
    assert_eq!(
        km.lookup(
            &[crate::action::KeyContext::Logs, Table, Global],
            &keys("s")
        ),
        Lookup::Action(Action::Top)
    );
    // every other pane keeps the [table] meaning
    assert_eq!(pane(&km, "s"), Lookup::Action(Action::SortNext));
    assert!(errors("[nowhere]\n\"s\" = \"top\"\n")
        .iter()
        .any(|e| e.contains("nowhere")));
}
