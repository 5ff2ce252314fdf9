use super::*;

fn container() -> Container {
    Container {
        pod: "checkout-7d9f-abcde".into(),
        namespace: "shop".into(),
        image: "registry.local/shop/checkout:4.2.0".into(),
        env: vec![("MODE".into(), "live".into())],
    }
}

fn cmd(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// Stdout, stderr and exit status of the steps.
fn play(steps: &[Step]) -> (String, String, Option<i32>) {
    let (mut o, mut e, mut x) = (String::new(), String::new(), None);
    for s in steps {
        match s {
            Step::Out(b) => o.push_str(&String::from_utf8_lossy(b)),
            Step::Err(b) => e.push_str(&String::from_utf8_lossy(b)),
            Step::Exit(c) => x = Some(*c),
            Step::Sleep(_) => {}
        }
    }
    (o, e, x)
}

#[test]
fn commands_run_and_exit_with_their_status() {
    let run = |args: &[&str]| play(&Shell::new(container(), false).start(&cmd(args)));
    assert_eq!(
        run(&["hostname"]),
        ("checkout-7d9f-abcde\n".into(), String::new(), Some(0))
    );
    assert_eq!(run(&["cat", "/etc/hostname"]).0, "checkout-7d9f-abcde\n");
    assert_eq!(run(&["sh", "-c", "exit 3"]).2, Some(3));
    assert_eq!(
        run(&["sh", "-c", "exit 3; echo no"]),
        (String::new(), String::new(), Some(3))
    );
    assert_eq!(run(&["echo", "a", "b"]).0, "a b\n");
    assert_eq!(
        run(&["sh", "-c", "echo \"$HOSTNAME\" '$HOME'; false || echo $?"]).0,
        "checkout-7d9f-abcde $HOME\n1\n"
    );
    let (o, e, x) = run(&["nosuch", "x"]);
    assert_eq!((o.as_str(), x), ("", Some(127)));
    assert!(e.contains("nosuch: command not found"), "{e}");
    let (_, e, x) = run(&["cat", "/nope"]);
    assert_eq!(x, Some(1));
    assert!(e.contains("No such file"));
    assert_eq!(run(&["ls", "/nope"]).2, Some(2));
    assert!(run(&["ls"]).0.contains("etc"));
    let env = run(&["env"]).0;
    assert!(
        env.contains("HOSTNAME=checkout-7d9f-abcde\n") && env.contains("MODE=live\n"),
        "{env}"
    );
    assert_eq!(run(&["stty", "size"]).2, Some(1), "no tty, no size");
}

#[test]
fn sleep_is_a_step_before_what_follows() {
    let steps = Shell::new(container(), false).start(&cmd(&["sh", "-c", "sleep 2 && echo done"]));
    assert_eq!(
        steps,
        vec![
            Step::Sleep(Duration::from_secs(2)),
            Step::Out(b"done\n".to_vec()),
            Step::Exit(0)
        ]
    );
    let bad = play(&Shell::new(container(), false).start(&cmd(&["sleep", "x"])));
    assert_eq!(bad.2, Some(1));
}

#[test]
fn tty_session_prompts_echoes_and_edits() {
    let mut sh = Shell::new(container(), true);
    let (o, _, x) = play(&sh.start(&cmd(&["bash"])));
    assert_eq!((o.as_str(), x), ("root@checkout-7d9f-abcde:/# ", None));
    // typed, a typo erased, Enter
    let (o, _, _) = play(&sh.input(b"hostnamx\x7fe\r"));
    assert_eq!(
        o,
        "hostnamx\x08 \x08e\r\ncheckout-7d9f-abcde\r\nroot@checkout-7d9f-abcde:/# "
    );
    sh.resize(120, 40);
    assert!(play(&sh.input(b"stty size\r")).0.contains("40 120\r\n"));
    // arrow keys are ignored, Ctrl-C abandons the line
    let (o, _, x) = play(&sh.input(b"\x1b[Aecho lost\x03"));
    assert_eq!(x, None);
    assert!(o.ends_with("^C\r\nroot@checkout-7d9f-abcde:/# "), "{o:?}");
    assert!(play(&sh.input(b"echo $?\r")).0.contains("130\r\n"));
    // a nested shell: exit leaves it, Ctrl-D the outer one
    assert_eq!(play(&sh.input(b"sh\r")).2, None);
    assert_eq!(play(&sh.input(b"exit 4\r")).2, None);
    let (o, _, x) = play(&sh.input(b"\x04"));
    assert_eq!(x, Some(4), "{o:?}");
    assert!(o.starts_with("exit\r\n"));
}

#[test]
fn tty_exit_returns_its_code_and_errors_go_to_the_one_stream() {
    let mut sh = Shell::new(container(), true);
    sh.start(&[]);
    let (o, e, x) = play(&sh.input(b"frob\r"));
    assert!(e.is_empty() && o.contains("frob: command not found") && x.is_none());
    assert_eq!(play(&sh.input(b"exit 3\r")).2, Some(3));
}

#[test]
fn piped_stdin_runs_as_a_script() {
    let mut sh = Shell::new(container(), false);
    assert!(sh.start(&cmd(&["sh"])).is_empty());
    let (o, _, x) = play(&sh.input(b"echo one\nhostname\n"));
    assert_eq!((o.as_str(), x), ("one\ncheckout-7d9f-abcde\n", None));
    assert_eq!(play(&sh.input(b"false")).2, None);
    assert_eq!(
        play(&sh.stdin_closed()),
        (String::new(), String::new(), Some(1))
    );
}

#[test]
fn words_follow_shell_quoting() {
    let w = words(
        r#"a 'b c' "d $X" e\ f ${X}y $"#,
        0,
        &[("X".into(), "1".into())],
    );
    assert_eq!(w, vec!["a", "b c", "d 1", "e f", "1y", "$"]);
    let parts = split_list("a; b && c || 'd;e' # note");
    let seps: Vec<Sep> = parts.iter().map(|p| p.0).collect();
    assert_eq!(seps, vec![Sep::Seq, Sep::Seq, Sep::And, Sep::Or]);
    assert_eq!(parts[3].1.trim(), "'d;e'");
}
