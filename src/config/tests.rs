use super::*;

fn errors(source: &str) -> Vec<String> {
    match parse("config.toml", source, None) {
        Ok(c) => panic!("expected errors, parsed {c:?}"),
        Err(diags) => diags.iter().map(|d| d.to_string()).collect(),
    }
}

#[test]
fn a_full_config_parses() {
    let source = r#"
theme = "light"
keymap = "vim"
read_only = true

[[region]]
name = "cn-north"
context = "prod-cn-north"
kubeconfig = "kube/cn"
namespaces = ["shop", "search"]
production = true
prometheus_url = "http://127.0.0.1:9090"
elasticsearch_url = "https://127.0.0.1:9200"
elasticsearch_index = "logs-*"

[[region]]
name = "eu-west"
context = "eu"

[layout]
wide = ["pods", "triage"]
narrow = "stack"
narrow_below = 100
open_on_trouble = false
"#;
    let config = parse("config.toml", source, Some(Path::new("/etc/pitwall")))
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(config.theme, "light");
    assert_eq!(config.keymap, "vim");
    assert!(config.read_only);
    assert_eq!(
        config.regions,
        vec![
            RegionConfig {
                name: "cn-north".into(),
                context: "prod-cn-north".into(),
                kubeconfig: Some(PathBuf::from("/etc/pitwall/kube/cn")),
                namespaces: vec!["shop".into(), "search".into()],
                production: true,
                read_only: false,
                prometheus_url: Some("http://127.0.0.1:9090".into()),
                prometheus: None,
                elasticsearch_url: Some("https://127.0.0.1:9200".into()),
                elasticsearch_index: Some("logs-*".into()),
                ..RegionConfig::default()
            },
            RegionConfig {
                name: "eu-west".into(),
                context: "eu".into(),
                ..RegionConfig::default()
            },
        ]
    );
    assert_eq!(
        config.layout,
        Layout {
            wide: vec![Pane::Pods, Pane::Triage],
            narrow: NarrowLayout::Stack,
            narrow_below: 100,
            open_on_trouble: false,
        }
    );
}

#[test]
fn an_empty_config_is_the_default() {
    assert_eq!(parse("c", "", None), Ok(Config::default()));
    let config = parse("c", "theme = \"my/theme.toml\"\n", Some(Path::new("/cfg")));
    assert_eq!(
        config.map(|c| c.theme),
        Ok("/cfg/my/theme.toml".to_string())
    );
}

#[test]
fn every_problem_is_reported_with_its_position() {
    let source = r#"them = "light"
read_only = "yes"
keymap = ""

[[region]]
name = "a"
context = "ctx-a"
namespaces = "shop"

[[region]]
name = "a"
context = ""
zone = 3
prometheus_url = "127.0.0.1:9090"

[[region]]
context = "c"

[layout]
wide = ["pods", "gantt", "pods"]
narrow = "columns"
narrow_below = 5
"#;
    assert_eq!(
        errors(source),
        [
            "config.toml:1:1: unknown key `them` (expected theme, keymap, read_only, credential_plugin_timeout, [[region]], [layout], [logs], [network] or [[stage]])",
            "config.toml:2:13: `read_only` must be true or false, found a string",
            "config.toml:3:10: `keymap` must not be empty",
            "config.toml:8:14: `namespaces` must be an array of strings, found a string",
            "config.toml:11:8: duplicate region name `a` (first on line 6)",
            "config.toml:12:11: `context` must not be empty",
            "config.toml:13:1: unknown key `zone` in [[region]] (expected name, context, kubeconfig, namespaces, production, read_only, prometheus, prometheus_url, elasticsearch, elasticsearch_url or elasticsearch_index)",
            "config.toml:14:18: `prometheus_url` must start with http:// or https://, found `127.0.0.1:9090`",
            "config.toml:16:1: [[region]] needs a `name`",
            "config.toml:20:17: unknown pane `gantt` (expected triage, pods, probes, workloads, forwards, logs, network, releases or resources)",
            "config.toml:20:26: pane `pods` is listed twice",
            "config.toml:21:10: unknown narrow layout `columns` (expected tabs or stack)",
            "config.toml:22:16: `narrow_below` must be between 40 and 1000 columns, found 5",
        ]
    );
}

#[test]
fn a_region_table_instead_of_an_array_is_explained() {
    assert_eq!(
        errors("[region]\nname = \"a\"\n"),
        ["config.toml:1:1: `region` must be an array of tables (write [[region]]), found a table"]
    );
}

#[test]
fn missing_files_the_default_is_fine_a_named_one_is_not() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let missing = dir.path().join("nope.toml");
    let err = load(Some(&missing)).expect_err("missing named file");
    assert_eq!(err.len(), 1);
    assert!(
        err[0].message.starts_with("cannot read config: "),
        "{}",
        err[0]
    );
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "read_only = true\n").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(load(Some(&path)).map(|c| c.read_only), Ok(true));
    // A device or a huge file is refused rather than read whole.
    let err = load(Some(Path::new("/dev/zero"))).expect_err("unbounded file");
    assert_eq!(
        err[0].to_string(),
        "/dev/zero: cannot read config: larger than 1024 KiB"
    );
}

const KUBECONFIG: &str = r#"
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c1
  cluster:
    server: https://127.0.0.1:6443
users:
- name: u1
  user:
    token: abc
contexts:
- name: dev
  context: {cluster: c1, user: u1}
- name: prod-eu
  context: {cluster: c1, user: u1, namespace: shop}
"#;

#[test]
fn every_kubeconfig_context_becomes_a_region() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("kubeconfig");
    std::fs::write(&path, KUBECONFIG).unwrap_or_else(|e| panic!("{e}"));
    let regions = regions_from_kubeconfig(Some(&path), &[]).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<_> = regions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["dev", "prod-eu"]);
    assert_eq!(regions[1].context, "prod-eu");
    assert!(regions[1].production && !regions[0].production);
    assert_eq!(regions[0].kubeconfig.as_deref(), Some(path.as_path()));
    let only = regions_from_kubeconfig(Some(&path), &["prod-eu".to_string()])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(only.len(), 1);
    let err = regions_from_kubeconfig(Some(&path), &["qa".to_string()]).expect_err("unknown");
    assert_eq!(
        err.message,
        "context `qa` is not in the kubeconfig (it has: dev, prod-eu)"
    );
}

#[test]
fn a_missing_kubeconfig_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("absent");
    let err = regions_from_kubeconfig(Some(&path), &[]).expect_err("no kubeconfig");
    assert_eq!(
        err.message,
        format!(
            "no kubeconfig at {}; configure [[region]] in config.toml or try `pitwall demo`",
            path.display()
        )
    );
    std::fs::write(&path, "clusters: [").unwrap_or_else(|e| panic!("{e}"));
    let err = regions_from_kubeconfig(Some(&path), &[]).expect_err("bad yaml");
    assert!(
        err.message.starts_with("invalid kubeconfig: "),
        "{}",
        err.message
    );
}

#[test]
fn settings_merge_flags_and_fall_back_on_errors() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "keymap = \"vim\"\ntheme = \"nope\"\n").unwrap_or_else(|e| panic!("{e}"));
    let args = crate::cli::CockpitArgs {
        config: Some(path.clone()),
        read_only: true,
        ..Default::default()
    };
    let s = load_settings(&args, crate::theme::ColorSupport::TrueColor);
    assert!(s.config.read_only);
    assert_eq!(s.config.keymap, "vim");
    use crate::action::{Action, KeyContext};
    use crate::keymap::{parse_keys, Lookup};
    let zz = parse_keys("ZZ").unwrap_or_default();
    assert_eq!(
        s.keymap.lookup(&[KeyContext::Global], &zz),
        Lookup::Action(Action::Quit)
    );
    assert_eq!(s.diagnostics.len(), 1);
    assert!(s.diagnostics[0].message.starts_with("unknown theme `nope`"));
    let (default, _) = crate::theme::Styles::load("default", None, s.colors);
    assert_eq!(s.styles.get("ui.error"), default.get("ui.error"));

    std::fs::write(&path, "read_only = 1\n").unwrap_or_else(|e| panic!("{e}"));
    let s = load_settings(&args, crate::theme::ColorSupport::TrueColor);
    assert_eq!(s.config.keymap, "default");
    assert_eq!(s.diagnostics.len(), 1);
    assert_eq!(s.diagnostics[0].line, Some(1));
}

#[test]
fn configured_regions_are_narrowed_by_context_and_get_the_flag_kubeconfig() {
    let config = parse(
        "c",
        "[[region]]\nname = \"eu\"\ncontext = \"ctx-eu\"\n\
         [[region]]\nname = \"us\"\ncontext = \"ctx-us\"\nkubeconfig = \"/k/us\"\n",
        None,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let flag = Path::new("/k/flag");
    let all = resolve_regions(&config, Some(flag), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].kubeconfig.as_deref(), Some(flag));
    assert_eq!(all[1].kubeconfig.as_deref(), Some(Path::new("/k/us")));
    let one =
        resolve_regions(&config, None, &["ctx-us".to_string()]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        one.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["us"]
    );
    let err = resolve_regions(&config, None, &["ap".to_string()]).expect_err("unknown");
    assert_eq!(
        err.to_string(),
        "--context: `ap` is no configured region or context (regions: eu, us)"
    );
}

#[test]
fn a_config_with_problems_keeps_only_what_checked_out() {
    let source = "\
read_only = false
thme = \"light\"

[[region]]
name = \"cn\"
context = \"prod-cn\"
namespaces = [\"shop\"]
production = true
read_only = true

[[region]]
name = \"eu\"
context = \"eu\"
namespaces = [\"shop\", 7]

[[region]]
name = \"us\"
contxt = \"us\"
";
    let (config, problems) = parse_salvaged("config.toml", source, None);
    let config = config.unwrap_or_else(|| panic!("salvaged: {problems:?}"));
    let shown: Vec<String> = problems.iter().map(|d| d.to_string()).collect();
    assert_eq!(shown.len(), 4, "{shown:#?}");
    assert!(shown[0].starts_with("config.toml:2:1: unknown key `thme`"));
    // eu lost part of its scope and us its context: neither is watched,
    // rather than watched wider than the file meant
    assert_eq!(
        config.regions,
        vec![RegionConfig {
            name: "cn".into(),
            context: "prod-cn".into(),
            namespaces: vec!["shop".into()],
            production: true,
            read_only: true,
            ..RegionConfig::default()
        }]
    );
    let (none, problems) = parse_salvaged("config.toml", "[[region]\n", None);
    assert!(none.is_none());
    assert_eq!(problems.len(), 1);
}

#[test]
fn a_broken_config_is_read_only_and_never_widens_the_regions() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("config.toml");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\n\
         contexts:\n- name: a\n  context: {cluster: x, user: y}\n\
         - name: b\n  context: {cluster: x, user: y}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let args = crate::cli::CockpitArgs {
        config: Some(path.clone()),
        ..Default::default()
    };
    let load = |text: &str| {
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        load_settings(&args, crate::theme::ColorSupport::TrueColor)
    };

    // clean: writable, unless a flag says otherwise
    let s = load("[[region]]\nname = \"a\"\ncontext = \"a\"\n");
    assert_eq!(s.read_only(&s.config.regions[0]), None);
    let flagged = RegionConfig {
        read_only: true,
        ..RegionConfig::default()
    };
    assert_eq!(s.read_only(&flagged), Some(ReadOnly::Region));

    // a typo: read-only whatever the file said, and the one region kept
    let s = load("read_only = false\ncolour = 1\n[[region]]\nname = \"a\"\ncontext = \"a\"\n");
    assert_eq!(s.config.problems, 1);
    assert_eq!(
        s.read_only(&s.config.regions[0]),
        Some(ReadOnly::ConfigProblems(1))
    );
    let regions =
        resolve_regions(&s.config, Some(&kubeconfig), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        regions.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["a"]
    );

    // nothing salvageable: no region at all, not every kubeconfig context
    let s = load("[[region]\nname = \"a\"\n");
    assert_eq!(s.config.problems, 1);
    assert_eq!(
        s.access().read_only(false),
        Some(ReadOnly::ConfigProblems(1))
    );
    assert_eq!(
        resolve_regions(&s.config, Some(&kubeconfig), &[]),
        Ok(Vec::new())
    );
    // ... unless the command line names the contexts itself
    let named = resolve_regions(&s.config, Some(&kubeconfig), &["b".to_string()])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        named.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["b"]
    );
}

#[test]
fn the_state_answers_read_only_per_region() {
    use crate::state::{RegionState, State};
    let regions = [
        RegionConfig {
            name: "eu".into(),
            ..RegionConfig::default()
        },
        RegionConfig {
            name: "us".into(),
            read_only: true,
            ..RegionConfig::default()
        },
    ];
    let states = regions.iter().map(RegionState::from_config).collect();
    let mut state = State::new(states, crate::keymap::Keymap::defaults(), 0);
    assert_eq!(state.read_only(0), None);
    assert_eq!(state.read_only(1), Some(ReadOnly::Region));
    assert_eq!(state.read_only(7), Some(ReadOnly::Region), "unknown region");
    state.access.read_only = true;
    assert_eq!(state.read_only(0), Some(ReadOnly::Global));
    state.access.config_problems = 3;
    assert_eq!(state.read_only(0), Some(ReadOnly::ConfigProblems(3)));
    assert_eq!(
        ReadOnly::ConfigProblems(3).reason(),
        "read-only: config has 3 problems"
    );
}

#[test]
fn stages_are_read_in_order_with_their_gates() {
    let src = r#"
[[stage]]
name = "pre-release"
regions = ["pre-release"]

[[stage]]
name = "production"
regions = ["us-east", "ap-southeast"]
soak = 300
max_unready = 1
max_probe_failures = 10
no_crash_loop = false
rollout_deadline = 900
"#;
    let c = parse("config.toml", src, None).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(c.stages.len(), 2);
    assert_eq!(c.stages[0].name, "pre-release");
    assert_eq!(c.stages[0].gates, stages::Gates::default());
    let p = &c.stages[1];
    assert_eq!(p.regions, ["us-east", "ap-southeast"]);
    assert_eq!(
        p.gates,
        stages::Gates {
            soak_secs: 300,
            max_unready: 1,
            max_probe_failures: 10,
            no_crash_loop: false,
            rollout_deadline_secs: 900,
        }
    );
}

#[test]
fn a_bad_stage_is_reported_with_its_line() {
    let src = "[[stage]]\nname = \"a\"\nregions = [\"x\"]\nsoak = -1\n\n[[stage]]\nname = \"b\"\nregions = [\"x\"]\ncolour = 1\n";
    let errors = parse("config.toml", src, None).expect_err("errors");
    let text: Vec<String> = errors.iter().map(|d| d.to_string()).collect();
    assert!(
        text.iter()
            .any(|t| t.starts_with("config.toml:4:8:") && t.contains("`soak`")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|t| t.starts_with("config.toml:8:") && t.contains("more than one stage")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains("unknown key `colour` in [[stage]]")),
        "{text:?}"
    );
}

#[test]
fn the_network_settings_and_a_regions_prometheus_are_read() {
    let source = r#"
[network]
warn = 0.6
critical = 0.8
poll_interval_seconds = 10

[network.queries]
drop = 'irate(node_nf_conntrack_stat_drop{$selector}[1m])'

[[region]]
name = "us-east"
context = "us"
[region.prometheus]
url = "https://prom.us.example"
bearer_token_env = "HOME"
timeout_seconds = 3
selector = 'cluster="us"'
"#;
    let config = match parse("config.toml", source, None) {
        Ok(c) => c,
        Err(d) => panic!("{d:?}"),
    };
    let n = &config.network;
    assert_eq!((n.thresholds.warn, n.thresholds.critical), (0.6, 0.8));
    assert_eq!(n.poll_interval, std::time::Duration::from_secs(10));
    let p = config.regions[0].prometheus.as_ref().expect("prometheus");
    assert_eq!(p.url, "https://prom.us.example");
    assert_eq!(p.selector, "cluster=\"us\"");
    assert_eq!(p.timeout, std::time::Duration::from_secs(3));
    // the token is the variable's value, and never printed
    let home = std::env::var("HOME").unwrap_or_default();
    assert_eq!(
        p.auth,
        crate::panes::network::prom::Auth::Bearer(home.clone())
    );
    assert!(home.is_empty() || !format!("{config:?}").contains(&home));
    assert_eq!(
        n.region_prometheus(p).queries.drop,
        "irate(node_nf_conntrack_stat_drop{$selector}[1m])"
    );
    // an unset variable and a bad threshold are problems, with their place
    let shown = errors(
        "[network]\nwarn = 2\n\n[[region]]\nname = \"a\"\ncontext = \"a\"\n[region.prometheus]\nurl = \"http://p\"\nbearer_token_env = \"PITWALL_SURELY_UNSET_TOKEN\"\n",
    );
    assert_eq!(shown.len(), 2, "{shown:#?}");
    assert!(
        shown[0].starts_with("config.toml:2:1:") || shown[0].starts_with("config.toml:1:"),
        "{shown:#?}"
    );
    assert!(shown[0].contains("network.warn"), "{shown:#?}");
    assert!(
        shown[1].contains("PITWALL_SURELY_UNSET_TOKEN is not set"),
        "{shown:#?}"
    );
}
