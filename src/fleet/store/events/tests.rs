use super::*;
use crate::model::InvolvedObject;

fn ev(region: RegionId, uid: &str, pod: &str, count: u32, last: Timestamp) -> EventRow {
    EventRow {
        region,
        uid: uid.into(),
        namespace: "shop".into(),
        name: format!("{pod}.{uid}"),
        object: InvolvedObject {
            kind: "Pod".into(),
            namespace: "shop".into(),
            name: pod.into(),
            uid: format!("uid-{pod}"),
            field_path: String::new(),
        },
        type_: "Warning".into(),
        reason: "Unhealthy".into(),
        message: "Readiness probe failed: 503".into(),
        count,
        first_seen: last,
        last_seen: last,
        source: "kubelet".into(),
    }
}

/// Applies and records the outcomes as (kind, region, uid).
fn run(e: &mut Events, region: RegionId, u: Update<EventRow>) -> Vec<(char, RegionId, String)> {
    let mut out = Vec::new();
    e.apply(region, u, &mut |o| {
        out.push(match o {
            EventOutcome::New(r) => ('n', r.region, r.uid.clone()),
            EventOutcome::Changed { row: r, .. } => ('c', r.region, r.uid.clone()),
            EventOutcome::Gone(g, uid) => ('g', g, uid.to_string()),
        })
    });
    out
}

fn names(e: &Events, region: RegionId, pod: &str) -> Vec<String> {
    let mut v: Vec<String> = e
        .of_object(region, "Pod", "shop", pod)
        .map(|r| r.uid.clone())
        .collect();
    v.sort();
    v
}

#[test]
fn upsert_change_and_delete_say_what_happened() {
    let mut e = Events::new(2);
    let out = run(
        &mut e,
        0,
        Update::Changes(vec![Change::Upsert(ev(0, "a", "p1", 1, 10))]),
    );
    assert_eq!(out, vec![('n', 0, "a".to_string())]);
    // the same row again is no news; a bumped count is
    let again = run(
        &mut e,
        0,
        Update::Changes(vec![Change::Upsert(ev(0, "a", "p1", 1, 10))]),
    );
    assert!(again.is_empty(), "{again:?}");
    let out = run(
        &mut e,
        0,
        Update::Changes(vec![Change::Upsert(ev(0, "a", "p1", 3, 20))]),
    );
    assert_eq!(out, vec![('c', 0, "a".to_string())]);
    assert_eq!(e.find(0, "a").map(|r| r.count), Some(3));
    // the same uid in another region is another event
    run(
        &mut e,
        1,
        Update::Changes(vec![Change::Upsert(ev(1, "a", "p1", 1, 10))]),
    );
    assert_eq!(e.len(), 2);
    assert_eq!(names(&e, 0, "p1"), vec!["a"]);
    let out = run(&mut e, 0, Update::Changes(vec![Change::Delete("a".into())]));
    assert_eq!(out, vec![('g', 0, "a".to_string())]);
    assert!(e.find(0, "a").is_none() && e.find(1, "a").is_some());
    assert!(names(&e, 0, "p1").is_empty());
    // deleting what is not held says nothing
    assert!(run(&mut e, 0, Update::Changes(vec![Change::Delete("a".into())])).is_empty());
}

#[test]
fn relist_drops_what_was_not_listed_in_its_scope() {
    let mut e = Events::new(1);
    let mut other = ev(0, "x", "db", 1, 5);
    other.namespace = "data".into();
    run(
        &mut e,
        0,
        Update::ListPage(vec![ev(0, "a", "p1", 1, 1), ev(0, "b", "p2", 1, 2), other]),
    );
    run(
        &mut e,
        0,
        Update::ListStart {
            namespace: Some("shop".into()),
        },
    );
    let out = run(&mut e, 0, Update::ListPage(vec![ev(0, "a", "p1", 1, 1)]));
    assert!(
        out.is_empty(),
        "a relisted identical event is no news: {out:?}"
    );
    assert_eq!(e.len(), 3, "events stay until the list completes");
    let out = run(
        &mut e,
        0,
        Update::ListDone {
            namespace: Some("shop".into()),
        },
    );
    assert_eq!(out, vec![('g', 0, "b".to_string())]);
    assert!(e.find(0, "a").is_some() && e.find(0, "x").is_some());
    assert!(names(&e, 0, "p2").is_empty());
}

#[test]
fn the_cap_evicts_the_oldest_last_timestamp_and_counts() {
    let mut e = Events::new(2);
    // arrive newest first, so arrival order is not age order
    let rows: Vec<EventRow> = (0..MAX_EVENTS_PER_REGION as i64)
        .map(|i| ev(0, &format!("e{i}"), "p", 1, 1_000_000 - i))
        .collect();
    run(&mut e, 0, Update::ListPage(rows));
    run(
        &mut e,
        1,
        Update::Changes(vec![Change::Upsert(ev(1, "other", "p", 1, 0))]),
    );
    assert_eq!(e.evicted(0), 0);
    let out = run(
        &mut e,
        0,
        Update::Changes(vec![Change::Upsert(ev(0, "new", "p", 1, 2_000_000))]),
    );
    let oldest = format!("e{}", MAX_EVENTS_PER_REGION - 1);
    assert_eq!(
        out,
        vec![('n', 0, "new".to_string()), ('g', 0, oldest.clone())]
    );
    assert_eq!(e.region_len(0), MAX_EVENTS_PER_REGION);
    assert_eq!(e.evicted(0), 1);
    assert!(e.find(0, &oldest).is_none() && e.find(0, "new").is_some());
    // another region's cap is its own
    assert_eq!((e.region_len(1), e.evicted(1)), (1, 0));
    assert_eq!(
        e.of_object(0, "Pod", "shop", "p").count(),
        MAX_EVENTS_PER_REGION
    );
}

/// The by-object index rebuilt from the rows, as sorted uids per object.
fn rebuilt(e: &Events) -> Vec<(ObjectKey, Vec<String>)> {
    let mut m: HashMap<ObjectKey, Vec<String>> = HashMap::new();
    for r in e.rows() {
        m.entry(object_key(r)).or_default().push(r.uid.clone());
    }
    let mut v: Vec<_> = m
        .into_iter()
        .map(|(k, mut u)| {
            u.sort();
            (k, u)
        })
        .collect();
    v.sort();
    v
}

fn kept(e: &Events) -> Vec<(ObjectKey, Vec<String>)> {
    let mut v: Vec<_> = e
        .object_index()
        .iter()
        .map(|(k, slots)| {
            let mut u: Vec<String> = slots
                .iter()
                .filter_map(|&s| e.slots[s as usize].as_ref())
                .map(|r| r.uid.clone())
                .collect();
            assert_eq!(u.len(), slots.len(), "index points at empty slots");
            u.sort();
            (k.clone(), u)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn by_object_index_matches_a_fresh_rebuild_through_random_changes() {
    let mut rng = fastrand::Rng::with_seed(5);
    let mut e = Events::new(2);
    for step in 0..3000 {
        let region = rng.usize(0..2);
        let uid = format!("e{}", rng.u8(0..40));
        match rng.u8(0..10) {
            0..=5 => {
                let pod = ["p1", "p2", "p3"][rng.usize(0..3)];
                let mut r = ev(region, &uid, pod, rng.u32(1..5), rng.i64(0..100));
                r.namespace = ["shop", "data"][rng.usize(0..2)].into();
                r.object.kind = ["Pod", "Node"][rng.usize(0..2)].into();
                run(&mut e, region, Update::Changes(vec![Change::Upsert(r)]));
            }
            6 | 7 => {
                run(&mut e, region, Update::Changes(vec![Change::Delete(uid)]));
            }
            _ => {
                let ns = rng.bool().then(|| "shop".to_string());
                run(
                    &mut e,
                    region,
                    Update::ListStart {
                        namespace: ns.clone(),
                    },
                );
                let page: Vec<EventRow> = e
                    .rows()
                    .filter(|r| r.region == region && rng.bool())
                    .cloned()
                    .collect();
                run(&mut e, region, Update::ListPage(page));
                run(&mut e, region, Update::ListDone { namespace: ns });
            }
        }
        assert_eq!(kept(&e), rebuilt(&e), "step {step}");
        let order: usize = e.order.iter().map(BTreeSet::len).sum();
        assert_eq!(order, e.len(), "step {step}");
        for r in e.rows() {
            assert_eq!(e.find(r.region, &r.uid), Some(r));
        }
    }
}
