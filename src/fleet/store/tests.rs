use super::*;
use crate::panes::pods::state::{compare, tie_break, Column};
use std::collections::{BTreeMap, BTreeSet};

fn pod(region: RegionId, ns: &str, name: &str) -> PodRow {
    PodRow {
        region,
        uid: format!("{region}-{ns}-{name}"),
        namespace: ns.into(),
        name: name.into(),
        phase: "Running".into(),
        status: "Running".into(),
        ready: 1,
        total: 1,
        ..PodRow::default()
    }
}

fn names(store: &Store) -> Vec<String> {
    store
        .view()
        .iter()
        .map(|s| store.get(*s).map(|r| r.name.clone()).unwrap_or_default())
        .collect()
}

#[test]
fn relist_keeps_listed_rows_and_drops_the_rest_without_duplicates() {
    let mut s = Store::new(2);
    s.list_start(0, None);
    s.list_page(0, vec![pod(0, "a", "one"), pod(0, "a", "two")]);
    s.list_done(0, None);
    s.upsert(pod(1, "a", "other"));
    assert_eq!(s.len(), 3);
    s.list_start(0, None);
    // during the relist the old rows stay
    assert_eq!(s.region_len(0), 2);
    s.list_page(0, vec![pod(0, "a", "two"), pod(0, "a", "three")]);
    s.list_done(0, None);
    let mut got: Vec<_> = s
        .rows()
        .filter(|r| r.region == 0)
        .map(|r| r.name.clone())
        .collect();
    got.sort();
    assert_eq!(got, vec!["three", "two"]);
    assert_eq!(s.region_len(1), 1, "other regions untouched");
}

#[test]
fn view_filters_scopes_and_sorts() {
    let mut s = Store::new(2);
    s.upsert(pod(0, "shop", "checkout-1"));
    s.upsert(pod(0, "shop", "cart-1"));
    s.upsert(pod(1, "infra", "checkout-2"));
    let mut bad = pod(1, "shop", "payments-1");
    bad.status = "CrashLoopBackOff".into();
    bad.ready = 0;
    s.upsert(bad);
    let regions = vec!["eu".to_string(), "us".to_string()];
    s.refresh_view(0, &regions);
    assert_eq!(
        names(&s),
        vec!["checkout-2", "cart-1", "checkout-1", "payments-1"]
    );

    s.set_view_spec(ViewSpec {
        filter: "chk".into(),
        ..ViewSpec::default()
    });
    s.refresh_view(0, &regions);
    assert_eq!(names(&s), vec!["checkout-2", "checkout-1"]);

    s.set_view_spec(ViewSpec {
        region: Some(1),
        ..ViewSpec::default()
    });
    s.refresh_view(0, &regions);
    assert_eq!(names(&s), vec!["checkout-2", "payments-1"]);

    s.set_view_spec(ViewSpec {
        problems_only: true,
        ..ViewSpec::default()
    });
    s.refresh_view(0, &regions);
    assert_eq!(names(&s), vec!["payments-1"]);

    s.set_view_spec(ViewSpec {
        sort: Column::Name,
        reverse: true,
        ..ViewSpec::default()
    });
    s.refresh_view(0, &regions);
    assert_eq!(
        names(&s),
        vec!["payments-1", "checkout-2", "checkout-1", "cart-1"]
    );
}

#[test]
fn updates_that_move_nothing_keep_the_view_and_show_the_new_row() {
    let mut s = Store::new(1);
    s.upsert(pod(0, "a", "x"));
    s.upsert(pod(0, "b", "y"));
    s.refresh_view(0, &["r".into()]);
    let mut y = pod(0, "b", "y");
    y.status = "CrashLoopBackOff".into();
    y.restarts = 3;
    s.upsert(y);
    assert!(!s.view_is_dirty(), "sorted by namespace: nothing moved");
    assert_eq!(names(&s), vec!["x", "y"]);
    let shown = s.get(s.view()[1]).map(|r| r.status.clone());
    assert_eq!(shown.as_deref(), Some("CrashLoopBackOff"));

    // sorted by status, the same change reorders the rows
    s.set_view_spec(ViewSpec {
        sort: Column::Status,
        ..ViewSpec::default()
    });
    s.refresh_view(0, &["r".into()]);
    assert_eq!(names(&s), vec!["y", "x"]);
    let mut x = pod(0, "a", "x");
    x.status = "Completed".into();
    s.upsert(x);
    s.refresh_view(0, &["r".into()]);
    assert_eq!(names(&s), vec!["x", "y"]);

    // showing problems only, a pod turning healthy leaves the view
    s.set_view_spec(ViewSpec {
        problems_only: true,
        ..ViewSpec::default()
    });
    s.refresh_view(0, &["r".into()]);
    assert_eq!(names(&s), vec!["x", "y"]);
    s.upsert(pod(0, "b", "y"));
    s.refresh_view(0, &["r".into()]);
    assert_eq!(names(&s), vec!["x"]);

    // filtering, a pod moving to a matching node joins the view
    s.set_view_spec(ViewSpec {
        filter: "gpu".into(),
        ..ViewSpec::default()
    });
    s.refresh_view(0, &["r".into()]);
    assert!(names(&s).is_empty());
    let mut y = pod(0, "b", "y");
    y.node = "gpu-node-1".into();
    s.upsert(y);
    s.refresh_view(0, &["r".into()]);
    assert_eq!(names(&s), vec!["y"]);
}

/// The view kept across changes equals a view sorted from scratch.
#[test]
fn incremental_view_matches_a_fresh_sort_through_random_changes() {
    let names_of = vec!["eu".to_string(), "us".to_string()];
    let mut rng = fastrand::Rng::with_seed(11);
    let mut s = Store::new(2);
    let statuses = ["Running", "Pending", "CrashLoopBackOff", "Completed"];
    for step in 0..2000 {
        let region = rng.usize(..2);
        let n = rng.usize(..60);
        let mut p = pod(region, &format!("ns{}", n % 5), &format!("p{n}"));
        p.status = statuses[rng.usize(..statuses.len())].into();
        p.restarts = rng.u32(..4);
        p.created = rng.i64(..1000);
        match rng.u8(..10) {
            0..=5 => s.upsert(p),
            6..=7 => s.delete(region, &p.uid),
            _ => {
                let sort = Column::ALL[rng.usize(..Column::ALL.len())];
                s.set_view_spec(ViewSpec {
                    sort,
                    reverse: rng.bool(),
                    problems_only: rng.u8(..4) == 0,
                    ..ViewSpec::default()
                });
            }
        }
        // refresh after one change or after several
        if rng.u8(..3) > 0 {
            continue;
        }
        s.refresh_view(0, &names_of);
        let spec = s.view_spec().clone();
        let mut fresh: Vec<&PodRow> = s
            .rows()
            .filter(|r| !(spec.problems_only && r.is_healthy()))
            .collect();
        fresh.sort_by(|a, b| {
            let o = compare(spec.sort, a, b, 0, &names_of).then_with(|| tie_break(a, b));
            if spec.reverse {
                o.reverse()
            } else {
                o
            }
        });
        let got: Vec<&PodRow> = s.view().iter().filter_map(|v| s.get(*v)).collect();
        assert_eq!(got, fresh, "step {step}");
    }
}

#[test]
fn deleted_slots_are_reused_and_view_skips_them() {
    let mut s = Store::new(1);
    s.upsert(pod(0, "a", "x"));
    s.upsert(pod(0, "a", "y"));
    s.delete(0, "0-a-x");
    s.upsert(pod(0, "a", "z"));
    assert_eq!(s.len(), 2);
    s.refresh_view(0, &["r".into()]);
    assert_eq!(names(&s), vec!["y", "z"]);
}

fn uids(s: &Store) -> Vec<String> {
    s.view()
        .iter()
        .filter_map(|x| s.get(*x))
        .map(|r| r.uid.clone())
        .collect()
}

#[test]
fn incremental_view_matches_a_fresh_build() {
    let mut rng = fastrand::Rng::with_seed(7);
    let names = vec!["a".to_string(), "b".to_string()];
    for sort in Column::ALL {
        let mut s = Store::new(2);
        let spec = ViewSpec {
            sort,
            ..ViewSpec::default()
        };
        s.set_view_spec(spec.clone());
        let mut all = Vec::new();
        for i in 0..500 {
            let mut p = pod(
                rng.usize(0..2),
                &format!("ns{}", rng.u8(0..5)),
                &format!("p{i}"),
            );
            p.restarts = rng.u32(0..4);
            p.created = rng.i64(0..1000);
            all.push(p.clone());
            s.upsert(p);
        }
        s.refresh_view(0, &names);
        for _ in 0..60 {
            let i = rng.usize(0..all.len());
            if rng.bool() {
                all[i].restarts = rng.u32(0..9);
                all[i].namespace = format!("ns{}", rng.u8(0..5));
                s.upsert(all[i].clone());
            } else {
                let p = all.swap_remove(i);
                s.delete(p.region, &p.uid);
            }
        }
        s.refresh_view(0, &names);
        let mut fresh = Store::new(2);
        fresh.set_view_spec(spec);
        for p in &all {
            fresh.upsert(p.clone());
        }
        fresh.refresh_view(0, &names);
        assert_eq!(uids(&s), uids(&fresh), "sort by {sort:?}");
    }
}

/// The indices as a fresh build over the rows held would make them.
fn indices(
    s: &Store,
) -> (
    BTreeMap<String, BTreeSet<String>>,
    BTreeMap<String, u32>,
    IdxMap,
) {
    let (mut owners, mut live) = (BTreeMap::new(), BTreeMap::new());
    for (key, pods) in s.owners().workloads() {
        let k = format!("{}/{key}", key.region);
        owners.insert(k.clone(), pods.keys().cloned().collect::<BTreeSet<_>>());
        live.insert(k, s.owners().live_count(key));
    }
    let mut by = IdxMap::new();
    for (name, map) in [("node", &s.by_node), ("ip", &s.by_ip)] {
        for ((region, key), slots) in map {
            let uids = slots
                .iter()
                .filter_map(|x| s.get(*x))
                .map(|r| r.uid.clone());
            by.insert(format!("{name}:{region}:{key}"), uids.collect());
        }
    }
    (owners, live, by)
}

type IdxMap = BTreeMap<String, BTreeSet<String>>;

fn randomised(rng: &mut fastrand::Rng) -> PodRow {
    let mut p = crate::fleet::owners::tests::random_pod(rng);
    p.node = ["", "node-a", "node-b", "node-c"][rng.usize(0..4)].into();
    p.ip = ["", "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"][rng.usize(0..5)].into();
    p.namespace = ["shop", "data"][rng.usize(0..2)].into();
    p
}

#[test]
fn indices_match_a_fresh_build_through_upserts_deletes_and_relists() {
    let mut rng = fastrand::Rng::with_seed(11);
    let mut s = Store::new(2);
    let mut gone = 0;
    for step in 0..3_000 {
        s.set_now(step / 10);
        match rng.u8(0..10) {
            0..=5 => s.upsert(randomised(&mut rng)),
            6 | 7 => {
                let region = rng.usize(0..2);
                let uid = format!("u{}", rng.usize(0..24));
                let held = s.find(region, &uid).is_some();
                s.delete(region, &uid);
                gone += usize::from(held);
            }
            _ => {
                // a relist of one region (maybe one namespace) that
                // sees a random part of the rows again
                let region = rng.usize(0..2);
                let ns = rng.bool().then_some(["shop", "data"][rng.usize(0..2)]);
                let before = s.len();
                s.list_start(region, ns);
                for _ in 0..rng.usize(0..12) {
                    let mut p = randomised(&mut rng);
                    p.region = region;
                    if let Some(ns) = ns {
                        p.namespace = ns.into();
                    }
                    s.upsert(p);
                }
                let grown = s.len() - before;
                s.list_done(region, ns);
                gone += before + grown - s.len();
            }
        }
        if step % 50 == 0 {
            let mut fresh = Store::new(2);
            for row in s.rows() {
                fresh.upsert(row.clone());
            }
            assert_eq!(indices(&s), indices(&fresh), "step {step}");
            assert_eq!(s.owners().len(), s.len());
            for row in s.rows() {
                assert!(s.owners().get(row.region, &row.uid).is_some());
                assert!(
                    s.on_node(row.region, &row.node)
                        .any(|x| s.get(x) == Some(row))
                        || row.node.is_empty()
                );
                assert!(
                    s.with_ip(row.region, &row.ip)
                        .any(|x| s.get(x) == Some(row))
                        || row.ip.is_empty()
                );
            }
            assert_eq!(s.take_gone().len(), gone, "every removal reported once");
            gone = 0;
        }
    }
}

#[test]
fn relists_keep_the_owner_index_in_step() {
    use crate::fleet::owners::tests::pod;
    let mut store = Store::new(2);
    for i in 0..3 {
        store.upsert(pod(0, &format!("a{i}"), &format!("api-1-{i}"), "api", true));
    }
    store.upsert(pod(1, "other", "api-1-9", "api", true));
    store.list_start(0, None);
    store.set_now(1);
    store.upsert(pod(0, "a0", "api-1-0", "api", true));
    store.upsert(pod(0, "a2", "api-1-2", "api", true));
    // rows stay until the list completes
    assert_eq!(store.owners().len(), 4);
    store.list_done(0, None);
    let pods = store.owners();
    assert_eq!(pods.len(), 3, "a1 is gone, region 1 untouched");
    assert!(pods.get(0, "a1").is_none() && pods.get(1, "other").is_some());
    assert_eq!(store.take_gone().len(), 1);
    // a namespace-scoped list leaves other namespaces alone
    let mut p = pod(0, "x", "db-0", "db", true);
    p.namespace = "data".into();
    store.upsert(p);
    store.list_start(0, Some("shop"));
    store.list_done(0, Some("shop"));
    assert!(store.owners().get(0, "x").is_some());
    assert!(store.owners().get(0, "a0").is_none());
}
