//! The cockpit core against the in-process simulator: the real kube client
//! over real HTTPS on 127.0.0.1, the real sources, reducers and drawing.
//! Conditions are waited for with generous bounded timeouts; nothing asserts
//! on durations.

mod harness;

use harness::*;
use pitwall::config::RegionConfig;
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_of_all_regions_arrive_and_a_change_appears() {
    let mut h = start(|_| {}, &[]).await;
    h.all_live().await;
    for name in h.names.clone() {
        h.matches_server(&name).await;
    }
    let screen = h.screen(160, 48);
    for name in &h.names {
        assert!(
            screen.contains(&format!("[{name} live")),
            "badge for {name}:\n{screen}"
        );
    }

    // delete one pod in us-east: its row goes, the replacement appears
    let region = "us-east";
    let idx = h.region(region);
    let victim = match h.cockpit.state.store.rows().find(|r| r.region == idx) {
        Some(r) => r.clone(),
        None => panic!("no pods in {region}"),
    };
    let api: Api<Pod> = Api::namespaced(h.api(region).await.into_client(), &victim.namespace);
    if let Err(e) = api.delete(&victim.name, &DeleteParams::default()).await {
        panic!("delete {}: {e}", victim.name);
    }
    let uid = victim.uid.clone();
    h.until("the deleted pod to leave the table", move |s| {
        s.store
            .find(idx, &uid)
            .is_none_or(|r| r.deleting || r.status == "Terminating")
    })
    .await;
    h.matches_server(region).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_watch_relists_without_duplicate_or_lost_rows() {
    // a stalled watch is reopened after `stall_after` (150 s on a real
    // server): shortened so the reopened watch meets the 410 soon
    let opts = SourceOptions {
        stall_after: Duration::from_secs(5),
        ..SourceOptions::default()
    };
    let mut h = start_with(Scenario::demo(), opts, |_| {}, &[]).await;
    h.all_live().await;
    let region = "ap-southeast";
    let idx = h.region(region);
    // the open watch goes quiet and every new one fails with 410: the
    // cockpit must notice the stall, reopen, then relist
    h.fleet
        .set_fault(region, Fault::WatchError { code: 410 })
        .unwrap_or_else(|e| panic!("{e}"));
    h.fleet
        .set_fault(region, Fault::StallWatches)
        .unwrap_or_else(|e| panic!("{e}"));
    // a change the broken watch cannot deliver
    let victim = match h.cockpit.state.store.rows().find(|r| r.region == idx) {
        Some(r) => r.clone(),
        None => panic!("no pods in {region}"),
    };
    let api: Api<Pod> = Api::namespaced(h.api(region).await.into_client(), &victim.namespace);
    if let Err(e) = api
        .delete(&victim.name, &DeleteParams::default().grace_period(0))
        .await
    {
        panic!("delete {}: {e}", victim.name);
    }
    h.until(
        "a relist",
        |s| matches!(&s.regions[idx].health, Health::Stale { reason, .. } if reason == "relisting"),
    )
    .await;
    h.fleet.compact(region).unwrap_or_else(|e| panic!("{e}"));
    h.fleet
        .clear_faults(region)
        .unwrap_or_else(|e| panic!("{e}"));
    h.until("the region live again", |s| s.regions[idx].health.is_live())
        .await;
    h.matches_server(region).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_forbidden_and_refused_regions_show_their_badge() {
    let mut h = start(
        |f| {
            let set = |r: &str, fault| f.set_fault(r, fault).unwrap_or_else(|e| panic!("{e}"));
            set("cn-north", Fault::ExpireToken);
            set(
                "us-east",
                Fault::ForbidResource {
                    resource: "pods".into(),
                },
            );
            set("ap-southeast", Fault::RefuseConnections);
        },
        &["ap-southeast"],
    )
    .await;
    let (a, b, c, ok) = (
        h.region("cn-north"),
        h.region("us-east"),
        h.region("ap-southeast"),
        h.region("pre-release"),
    );
    h.until("every badge", |s| {
        matches!(s.regions[a].health, Health::Unauthorized(_))
            && matches!(s.regions[b].health, Health::Forbidden(_))
            && matches!(s.regions[c].health, Health::Unreachable(_))
            && s.regions[ok].health.is_live()
    })
    .await;
    let screen = h.screen(160, 48);
    assert!(screen.contains("[cn-north unauthorized"), "{screen}");
    assert!(screen.contains("[us-east forbidden"), "{screen}");
    assert!(screen.contains("[ap-southeast unreachable"), "{screen}");
    assert!(screen.contains("[pre-release live"), "{screen}");
    assert_eq!(h.cockpit.state.store.region_len(a), 0);

    // the forbidden region recovers on its own once allowed
    h.fleet
        .clear_faults("us-east")
        .unwrap_or_else(|e| panic!("{e}"));
    h.until("us-east live", |s| {
        s.regions[b].health.is_live() && s.store.region_len(b) > 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_strings_are_drawn_defused() {
    let mut h = start(
        |f| {
            f.set_fault("pre-release", Fault::HostileStrings)
                .unwrap_or_else(|e| panic!("{e}"))
        },
        &[],
    )
    .await;
    h.all_live().await;
    let region = "pre-release";
    let idx = h.region(region);
    // a new pod carries hostile labels and annotations
    let victim = match h
        .cockpit
        .state
        .store
        .rows()
        .find(|r| r.region == idx && !r.owner_name.is_empty())
    {
        Some(r) => r.clone(),
        None => panic!("no owned pods in {region}"),
    };
    let before: HashSet<String> = h.cockpit_uids(idx).into_iter().collect();
    let api: Api<Pod> = Api::namespaced(h.api(region).await.into_client(), &victim.namespace);
    if let Err(e) = api
        .delete(&victim.name, &DeleteParams::default().grace_period(0))
        .await
    {
        panic!("delete {}: {e}", victim.name);
    }
    let owner = victim.owner_name.clone();
    h.until("a replacement pod", move |s| {
        s.store
            .rows()
            .any(|r| r.region == idx && r.owner_name == owner && !before.contains(&r.uid))
    })
    .await;
    let before_uids: Vec<String> = h.cockpit_uids(idx);
    let fresh = h
        .cockpit
        .state
        .store
        .rows()
        .filter(|r| r.region == idx && r.owner_name == victim.owner_name)
        .max_by_key(|r| r.created)
        .map(|r| r.name.clone())
        .unwrap_or_default();
    assert!(!before_uids.is_empty());

    // open its describe view through the palette and fetch the full object
    h.cockpit.state.refresh_view();
    let pos = h
        .cockpit
        .state
        .store
        .view()
        .iter()
        .position(|s| {
            h.cockpit
                .state
                .store
                .get(*s)
                .is_some_and(|r| r.region == idx && r.name == fresh)
        })
        .unwrap_or_else(|| panic!("{fresh} not in view"));
    h.cockpit.state.ui.pods.cursor = pos;
    h.cockpit.state.ui.pods.selected = h.cockpit.state.store.view().get(pos).copied();
    let key = |c| {
        Msg::Key(crossterm::event::KeyEvent::new(
            c,
            crossterm::event::KeyModifiers::NONE,
        ))
    };
    let effects = h.cockpit.handle(key(crossterm::event::KeyCode::Char('d')));
    h.run(effects);
    h.until(
        "the describe view",
        |s| matches!(&s.ui.modal, Some(pitwall::state::Modal::Describe(v)) if v.lines.is_some()),
    )
    .await;
    let text = match &h.cockpit.state.ui.modal {
        Some(pitwall::state::Modal::Describe(v)) => match &v.lines {
            Some(Ok(lines)) => lines.join("\n"),
            other => panic!("describe failed: {other:?}"),
        },
        _ => panic!("no describe view"),
    };
    assert!(
        text.contains("sim.pitwall.dev/hostile"),
        "the object carries hostile strings"
    );
    // scroll to the labels and draw
    let line = text
        .lines()
        .position(|l| l.contains("sim.pitwall.dev/hostile"))
        .unwrap_or(0);
    if let Some(pitwall::state::Modal::Describe(v)) = &mut h.cockpit.state.ui.modal {
        v.scroll = line.saturating_sub(2);
    }
    let screen = h.screen(160, 48);
    assert!(screen.contains("sim.pitwall.dev/hostile"), "{screen}");
    for bad in ['\u{1b}', '\u{7}', '\u{202e}'] {
        assert!(!screen.contains(bad), "{bad:?} reached the screen");
    }
    assert!(screen.contains(pitwall::sanitize::REPLACEMENT));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_credential_plugin_is_that_regions_error_only() {
    let (fleet, _) = fleet().await;
    // one more context on cn-north's cluster whose user runs a failing plugin
    let mut yaml = fleet.kubeconfig_yaml();
    let first = fleet.regions()[0].name.clone();
    yaml.push_str(
        "- name: broken\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      \
         command: sh\n      args: [\"-c\", \"echo plugin-noise >&2; exit 3\"]\n",
    );
    yaml = yaml.replace(
        "current-context:",
        &format!(
            "- name: broken\n  context:\n    cluster: {first}\n    user: broken\ncurrent-context:"
        ),
    );
    let kubeconfig = Kubeconfig::from_yaml(&yaml).unwrap_or_else(|e| panic!("kubeconfig: {e}"));
    let regions: Vec<RegionConfig> = ["broken", first.as_str()]
        .iter()
        .map(|c| RegionConfig {
            name: c.to_string(),
            context: c.to_string(),
            ..RegionConfig::default()
        })
        .collect();
    let specs = regions
        .iter()
        .map(|r| ClientSpec {
            kubeconfig: KubeconfigSource::Inline(Box::new(kubeconfig.clone())),
            context: r.context.clone(),
            namespaces: Vec::new(),
        })
        .collect();
    let mut cockpit = Cockpit::new(
        &regions,
        Keymap::default(),
        Styles::default(),
        pitwall::app::wall_now(),
    );
    let (tx, mut rx) = mpsc::channel(pitwall::app::CHANNEL);
    fleet::spawn_all(specs, tx, Clients::new(2), SourceOptions::default());
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let s = &cockpit.state;
        let broken = matches!(&s.regions[0].health, Health::Error(m) if m.contains("credentials"));
        if broken && s.regions[1].health.is_live() {
            break;
        }
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(msg)) => {
                cockpit.handle(msg);
            }
            _ => panic!("timed out: {:?}", cockpit.state.regions),
        }
    }
    assert!(cockpit.state.store.region_len(1) > 0);
    assert_eq!(cockpit.state.store.region_len(0), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_fleet_arrives_whole_through_paged_lists() {
    // 1,200 pods per region: three 500-pod pages each
    let mut h = start_on(Scenario::demo().with_pods_per_region(1200), |_| {}, &[]).await;
    h.until("every region synced", |s| {
        s.regions.iter().all(|r| r.health.is_live())
            && (0..s.regions.len()).all(|i| s.store.region_len(i) >= 1200)
    })
    .await;
    for name in h.names.clone() {
        h.matches_server(&name).await;
    }
    h.cockpit.state.refresh_view();
    assert_eq!(
        h.cockpit.state.store.view().len(),
        h.cockpit.state.store.len()
    );
    // the table draws only what fits, whatever the fleet's size
    let screen = h.screen(80, 24);
    assert!(screen.contains(&format!(
        "Pods {}/{}",
        h.cockpit.state.store.len(),
        h.cockpit.state.store.len()
    )));
}

/// `/crash` narrows the table to the crash-looping pods; `d` on one shows
/// it as `kubectl describe` does, with its BackOff events from the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_of_a_crash_looping_pod_shows_its_back_off_events() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let scenario = pitwall_sim::Scenario::from_toml(
        include_str!("../assets/scenarios/incident-test.toml"),
        "assets/scenarios/incident-test.toml",
    )
    .unwrap_or_else(|e| panic!("test scenario: {e}"));
    let mut h = start_on(scenario, |_| {}, &[]).await;
    h.all_live().await;
    h.until("a pod in CrashLoopBackOff that has backed off", |s| {
        s.store
            .rows()
            .any(|r| r.status == "CrashLoopBackOff" && r.restarts > 0)
    })
    .await;
    let press = |h: &mut Harness, code: KeyCode| {
        let effects = h
            .cockpit
            .handle(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        h.run(effects);
    };
    press(&mut h, KeyCode::Char('/'));
    for c in "crash".chars() {
        press(&mut h, KeyCode::Char(c));
    }
    press(&mut h, KeyCode::Enter);
    h.cockpit.state.refresh_view();
    let shown: Vec<String> = h
        .cockpit
        .state
        .store
        .view()
        .iter()
        .filter_map(|slot| h.cockpit.state.store.get(*slot))
        .map(|r| r.status.clone())
        .collect();
    assert!(!shown.is_empty(), "/crash shows the crash-looping pods");
    assert!(
        shown.iter().all(|s| s == "CrashLoopBackOff"),
        "/crash shows only them: {shown:?}"
    );
    press(&mut h, KeyCode::Char('j'));
    press(&mut h, KeyCode::Char('k'));
    press(&mut h, KeyCode::Char('d'));
    let described = |s: &State| match &s.ui.modal {
        Some(pitwall::state::Modal::Describe(v)) => v.lines.is_some(),
        _ => false,
    };
    h.until("the description", described).await;
    let text = match &h.cockpit.state.ui.modal {
        Some(pitwall::state::Modal::Describe(v)) => match &v.lines {
            Some(Ok(lines)) => lines.join("\n"),
            other => panic!("describe failed: {other:?}"),
        },
        other => panic!("no describe view: {other:?}"),
    };
    for needle in [
        "Status:",
        "Containers:",
        "      Reason:       CrashLoopBackOff",
        "    Last State:     Terminated",
        "      Exit Code:",
        "Conditions:",
        "Events:",
        "Warning  BackOff",
        "Back-off restarting failed container",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    // the same on screen, and `/backoff` finds the events
    press(&mut h, KeyCode::Char('/'));
    for c in "backoff".chars() {
        press(&mut h, KeyCode::Char(c));
    }
    press(&mut h, KeyCode::Enter);
    let screen = h.screen(160, 48);
    assert!(screen.contains("/backoff"), "{screen}");
    assert!(screen.contains("Back-off restarting"), "{screen}");
}

/// Presses keys on the cockpit and runs what they ask for (tasks too).
fn type_keys(h: &mut Harness, keys: &str) {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    for c in keys.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            c => KeyCode::Char(c),
        };
        let effects = h
            .cockpit
            .handle(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        h.run(effects);
    }
}

/// The (region, namespace, name) rows the resources pane holds.
fn resource_rows(s: &State) -> Vec<(usize, String, String)> {
    let mut out: Vec<_> = s
        .resources
        .tables
        .iter()
        .enumerate()
        .flat_map(|(i, t)| {
            t.page.iter().flat_map(move |p| {
                p.rows
                    .iter()
                    .map(move |r| (i, r.namespace.clone(), r.name.clone()))
            })
        })
        .collect();
    out.sort();
    out
}

/// `:deploy` lists every region's deployments as their servers print them,
/// follows a change through the watch; `:no` lists the nodes; describe and
/// YAML of a row come from the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_resource_in_every_region_from_the_palette() {
    use k8s_openapi::api::apps::v1::Deployment;
    let mut h = start(|_| {}, &[]).await;
    h.all_live().await;
    let mut expected = Vec::new();
    for (i, name) in h.names.clone().iter().enumerate() {
        let client = h.api(name).await.into_client();
        let deps: Api<Deployment> = Api::all(client);
        let list = deps
            .list(&ListParams::default())
            .await
            .unwrap_or_else(|e| panic!("deployments of {name}: {e}"));
        for d in list.items {
            expected.push((
                i,
                d.metadata.namespace.unwrap_or_default(),
                d.metadata.name.unwrap_or_default(),
            ));
        }
    }
    expected.sort();
    assert!(!expected.is_empty());
    type_keys(&mut h, ":deploy\n");
    let want = expected.clone();
    h.until("every region's deployments", move |s| {
        resource_rows(s) == want
    })
    .await;
    let view = h.cockpit.state.resources.view(&h.names, None, None);
    assert_eq!(
        view.columns,
        [
            "REGION",
            "NAMESPACE",
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE"
        ],
        "the server's columns"
    );
    let screen = h.screen(160, 48);
    for name in &h.names {
        assert!(screen.contains(name.as_str()), "{name} rows:\n{screen}");
    }

    // a change on the server reaches the table through the watch
    let region = h.names[1].clone();
    let (idx, ns, name) = expected
        .iter()
        .find(|(i, _, _)| *i == 1)
        .cloned()
        .unwrap_or_else(|| panic!("no deployment in {region}"));
    let deps: Api<Deployment> = Api::namespaced(h.api(&region).await.into_client(), &ns);
    let patch = serde_json::json!({"spec": {"replicas": 0}});
    deps.patch_scale(
        &name,
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&patch),
    )
    .await
    .unwrap_or_else(|e| panic!("scale {name}: {e}"));
    let wanted = name.clone();
    h.until("the scaled deployment's READY to read 0/0", move |s| {
        s.resources.tables[idx].page.as_ref().is_some_and(|p| {
            p.rows
                .iter()
                .any(|r| r.name == wanted && r.cells.get(1).map(String::as_str) == Some("0/0"))
        })
    })
    .await;

    // describe and YAML of the selected row, from the server
    type_keys(&mut h, "d");
    let text = |s: &State| match &s.ui.modal {
        Some(pitwall::state::Modal::Describe(v)) => match &v.lines {
            Some(Ok(l)) => Some(l.join("\n")),
            _ => None,
        },
        _ => None,
    };
    h.until("the deployment described", |s| text(s).is_some())
        .await;
    let described = text(&h.cockpit.state).unwrap_or_default();
    for needle in [
        "Replicas:",
        "desired",
        "StrategyType:",
        "Pod Template:",
        "Events:",
    ] {
        assert!(described.contains(needle), "{needle}:\n{described}");
    }
    type_keys(&mut h, "y");
    h.until("the deployment as YAML", |s| text(s).is_some())
        .await;
    let yaml = text(&h.cockpit.state).unwrap_or_default();
    assert!(yaml.contains("kind: Deployment"), "{yaml}");
    type_keys(&mut h, "q");

    // :no lists the nodes of every region, with no namespace column
    type_keys(&mut h, ":no\n");
    h.until("every region's nodes", |s| {
        s.resources
            .tables
            .iter()
            .all(|t| t.page.as_ref().is_some_and(|p| !p.rows.is_empty()))
    })
    .await;
    let view = h.cockpit.state.resources.view(&h.names, None, None);
    assert_eq!(view.columns[..3], ["REGION", "NAME", "STATUS"]);
    assert!(
        view.rows.iter().all(|r| r.cells[2] == "Ready"),
        "{:?}",
        view.rows
    );

    // a custom resource by its short name: the columns its definition
    // prints, the objects of the regions that hold them
    type_keys(&mut h, ":can\n");
    h.until("every region's canaries", |s| {
        s.resources.tables.iter().all(|t| t.page.is_some())
    })
    .await;
    let view = h.cockpit.state.resources.view(&h.names, None, None);
    assert_eq!(
        view.columns,
        [
            "REGION",
            "NAMESPACE",
            "NAME",
            "TARGET",
            "WEIGHT",
            "PHASE",
            "AGE"
        ]
    );
    let search: Vec<_> = view
        .rows
        .iter()
        .filter(|r| r.name == "search-canary")
        .collect();
    assert_eq!(search.len(), 1, "{:?}", view.rows);
    assert_eq!(
        search[0].cells[..6],
        [
            "us-east",
            "search",
            "search-canary",
            "search",
            "50",
            "Paused"
        ]
    );
    assert_eq!(
        view.rows.len(),
        1 + h.names.len(),
        "checkout's in every region"
    );

    // an unknown word says so
    type_keys(&mut h, ":bogus\n");
    h.until("the unknown resource said", |s| {
        s.ui.toasts
            .iter()
            .any(|t| t.text == "unknown command or resource: bogus")
    })
    .await;
}
