//! The logs pane's history against the simulator's Elasticsearch endpoints
//! through the `elasticsearch` crate: pages with PIT and `search_after`
//! across regions merged in time order, and each region's failure (500,
//! timeout, bad credentials, refused connection) reported as such while the
//! other regions go on.

use pitwall::panes::logs::es::{Auth, EsConfig, EsError, History, Mapping, Query, RegionPager};
use pitwall::panes::logs::line::{FieldNames, DEFAULT_MAX_LINE};
use pitwall_sim::{Fault, Fleet, Scenario};
use std::path::Path;
use std::time::Duration;

async fn fleet() -> Fleet {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios/test-small.toml");
    Fleet::start(Scenario::load(&path).expect("scenario"), None)
        .await
        .expect("fleet")
}

fn config(f: &Fleet, region: &str, password: Option<&str>, timeout: Duration) -> EsConfig {
    let r = f
        .regions()
        .iter()
        .find(|r| r.name == region)
        .expect("region");
    EsConfig {
        url: r.es_url.clone(),
        auth: Auth::Basic {
            user: "elastic".into(),
            password: password.unwrap_or(&r.token).to_string(),
        },
        ca_pem: Some(f.ca_pem().as_bytes().to_vec()),
        index: "logs-*".into(),
        mapping: Mapping::ecs(),
        timeout,
    }
}

fn history(f: &Fleet, cfgs: Vec<(&str, EsConfig)>, page: usize) -> History {
    let now = jiff::Timestamp::now().as_nanosecond() as i64;
    let regions = cfgs
        .into_iter()
        .map(|(name, c)| RegionPager::new(name, c).expect("client"))
        .collect();
    let _ = f;
    History::new(
        regions,
        Query {
            namespace: Some("shop".into()),
            pods: vec![],
            // the last simulated minutes of both regions
            from: Some(now - 30_000_000_000),
            to: Some(now),
            query_string: "log.level:error OR log.level:warn".into(),
            page,
        },
        FieldNames::default(),
        DEFAULT_MAX_LINE,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_pages_every_region_with_pit_in_time_order() {
    let f = fleet().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let t = Duration::from_secs(20);
    let mut h = history(
        &f,
        vec![
            ("alpha", config(&f, "alpha", None, t)),
            ("beta", config(&f, "beta", None, t)),
        ],
        40,
    );
    let mut got = Vec::new();
    while got.len() < 400 && !h.exhausted() {
        got.extend(h.next(100).await);
    }
    for r in &h.regions {
        assert!(r.error.is_none(), "{}: {:?}", r.region, r.error);
        assert!(r.pages >= 3, "{} paged {} times", r.region, r.pages);
    }
    assert!(got.len() >= 240, "{}", got.len());
    assert!(got.windows(2).all(|w| w[0].ts <= w[1].ts), "time order");
    for region in ["alpha", "beta"] {
        assert!(got.iter().any(|l| l.origin.region == region), "{region}");
    }
    assert!(got.iter().all(|l| l.origin.namespace == "shop"));
    assert!(got.iter().all(|l| matches!(
        l.level,
        Some(pitwall::panes::logs::line::Level::Error | pitwall::panes::logs::line::Level::Warn)
    )));
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_region_says_why_and_the_others_go_on() {
    let f = fleet().await;
    let t = Duration::from_secs(20);
    f.set_fault("alpha", Fault::EsError { code: 500 })
        .expect("fault");
    let mut h = history(
        &f,
        vec![
            ("alpha", config(&f, "alpha", None, t)),
            ("beta", config(&f, "beta", None, t)),
        ],
        20,
    );
    let got = h.next(50).await;
    assert!(matches!(
        &h.regions[0].error,
        Some(EsError::Refused { status: 500, .. })
    ));
    assert!(h.regions[1].error.is_none());
    assert!(got.iter().all(|l| l.origin.region == "beta") && !got.is_empty());
    f.clear_faults("alpha").expect("clear");

    let mut h = history(
        &f,
        vec![("alpha", config(&f, "alpha", Some("wrong"), t))],
        20,
    );
    h.next(10).await;
    let e = h.regions[0].error.clone().expect("401");
    assert!(matches!(e, EsError::Unauthorized(_)), "{e:?}");
    assert!(e.to_string().contains("401 security_exception"), "{e}");

    f.set_fault("alpha", Fault::EsLatency { millis: 3000 })
        .expect("fault");
    let quick = Duration::from_millis(500);
    let mut h = history(&f, vec![("alpha", config(&f, "alpha", None, quick))], 20);
    h.next(10).await;
    assert_eq!(h.regions[0].error, Some(EsError::Timeout(quick)));
    f.clear_faults("alpha").expect("clear");

    f.set_fault("alpha", Fault::EsRefuseConnections)
        .expect("fault");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut h = history(&f, vec![("alpha", config(&f, "alpha", None, t))], 20);
    h.next(10).await;
    let e = h.regions[0].error.clone().expect("refused");
    assert!(matches!(e, EsError::Unreachable(_)), "{e:?}");
}
