//! A region's initial world, built from the scenario.

use crate::world::clock::Clock;
use crate::world::faults::Faults;
use crate::world::history;
use crate::world::objects;
use crate::world::region::{s, Region, State};
use crate::world::scenario::{RegionSpec, ScenarioFile, WorkloadSpec};
use crate::world::store::Store;
use crate::world::store::{splitmix, Kind};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

/// Build a region's initial world from the scenario.
pub fn build(
    file: &ScenarioFile,
    index: usize,
    spec: &RegionSpec,
    clock: Clock,
    token: String,
) -> Region {
    let seed = splitmix(file.seed ^ ((index as u64 + 1) * 0x1000_0000_01b3));
    let mut st = State {
        store: Store::new(file.watch_history, seed),
        pods: HashMap::new(),
        gone_logs: VecDeque::new(),
        hpa_recommendations: HashMap::new(),
        nodes: Vec::new(),
        node_load: Vec::new(),
        next_ip: 0,
        rng: fastrand::Rng::with_seed(seed),
        events: HashMap::new(),
        event_order: VecDeque::new(),
        dirty: true,
        next_due: 0.0,
        endpoints_dirty: true,
        hostile: false,
        region_index: index as u32,
        workloads: BTreeMap::new(),
        bad_images: spec.crash_images.clone(),
        net: Default::default(),
        pin_node: None,
    };
    let mut workloads: Vec<(WorkloadSpec, u32)> = file
        .workloads
        .iter()
        .filter(|w| w.regions.is_empty() || w.regions.contains(&spec.name))
        .map(|w| {
            // this region's view: its image, its past revisions
            let mut mine = w.clone();
            mine.image = w.image_for(&spec.name).to_string();
            mine.history
                .retain(|h| h.regions.is_empty() || h.regions.contains(&spec.name));
            (mine, *w.replicas_in.get(&spec.name).unwrap_or(&w.replicas))
        })
        .collect();
    let base: u64 = workloads.iter().map(|(_, r)| *r as u64).sum();
    let mut namespaces = spec.namespaces.clone();
    let base_namespaces: &[&str] = if file.node_exporter {
        &["default", "kube-system", crate::world::network::EXPORTER_NS]
    } else {
        &["default", "kube-system"]
    };
    for ns in base_namespaces.iter().copied() {
        if !namespaces.iter().any(|n| n == ns) {
            namespaces.push(ns.into());
        }
    }
    for (w, _) in &workloads {
        if !namespaces.contains(&w.namespace) {
            namespaces.push(w.namespace.clone());
        }
    }
    if let Some(target) = spec.pods {
        let mut extra = (target as u64).saturating_sub(base);
        if extra > 0 && !namespaces.iter().any(|n| n == "bulk") {
            namespaces.push("bulk".into());
        }
        let mut i = 0;
        while extra > 0 {
            let n = extra.min(500) as u32;
            workloads.push((
                WorkloadSpec {
                    name: format!("bulk-{i:03}"),
                    namespace: "bulk".into(),
                    kind: "Deployment".into(),
                    replicas: n,
                    replicas_in: BTreeMap::new(),
                    regions: Vec::new(),
                    image: "registry.local/bulk/worker:1.0.0".into(),
                    ports: vec![8080],
                    readiness: None,
                    liveness: None,
                    log_rate: 0.2,
                    labels: BTreeMap::new(),
                    memory: None,
                    autoscale: None,
                    image_in: BTreeMap::new(),
                    history: Vec::new(),
                },
                n,
            ));
            extra -= n as u64;
            i += 1;
        }
    }
    let node_count = spec.nodes.max(spec.pods.unwrap_or(0).div_ceil(110));
    let day = 86_400.0;
    let created_world = clock.stamp_at(-30.0 * day);
    let now = clock.stamp();
    for ns in &namespaces {
        let _ = st.store.put(
            Kind::Namespace,
            objects::namespace(ns, &created_world),
            &created_world,
        );
        let _ = st.store.put(
            Kind::ConfigMap,
            objects::root_ca(ns, &created_world),
            &created_world,
        );
    }
    for i in 0..node_count {
        let name = format!("{}-node-{:02}", spec.name, i + 1);
        let ip = format!("10.{}.{}.{}", index, i / 200, 10 + i % 200);
        let _ = st.store.put(
            Kind::Node,
            objects::node(&spec.name, &name, &ip, &created_world, &now),
            &created_world,
        );
        st.nodes.push((name, ip));
        st.node_load.push(0);
    }
    let mut svc_ip = 10u32;
    let scale = clock.scaled(1.0);
    let mut past = history::Past::new(scale, file.history_pods);
    for (w, replicas) in &workloads {
        st.workloads
            .insert((w.namespace.clone(), w.name.clone()), w.clone());
        let mut age = -(1.0 + (splitmix(seed ^ svc_ip as u64) % 20) as f64) * day;
        let hours = |h: f64| -h * 3_600.0 * scale;
        if let Some(oldest) = w.history.first() {
            age = age.min(hours(oldest.hours_ago) - day);
        }
        let created = clock.stamp_at(age);
        let obj = if w.kind == "StatefulSet" {
            objects::statefulset(w, *replicas, &created)
        } else {
            let mut d = objects::deployment(w, *replicas, &created);
            if !w.history.is_empty() {
                let current = history::Revision {
                    image: w.image.clone(),
                    change_cause: None,
                };
                history::annotate(&mut d, w, &current, w.history.len() + 1);
            }
            d
        };
        let kind = if w.kind == "StatefulSet" {
            Kind::StatefulSet
        } else {
            Kind::Deployment
        };
        let stored = match st.store.put(kind, obj, &created) {
            Ok(v) => v,
            Err(_) => continue,
        };
        if let Some(a) = &w.autoscale {
            let hpa = crate::world::hpa::object(w, a, &created);
            if let Ok(h) = st.store.put(Kind::HorizontalPodAutoscaler, hpa, &created) {
                st.refresh_hpa(&clock, &h);
            }
        }
        if !w.ports.is_empty() {
            svc_ip += 1;
            let ip = format!("10.96.{}.{}", svc_ip / 250, svc_ip % 250);
            let _ = st
                .store
                .put(Kind::Service, objects::service(w, &ip, &created), &created);
        }
        // The initial pods: a recent rollout with its events, or running
        // for a while with none left (events live an hour).
        let uid = s(&stored, "/metadata/uid").to_string();
        let recent = past.rollout_at(seed ^ u64::from(svc_ip) ^ 0x7e57, *replicas);
        // without a recent rollout, the running revision came half way
        // between the last earlier one and now
        let settled = match w.history.last() {
            Some(h) => hours(h.hours_ago / 2.0),
            None => age / 2.0,
        };
        let times = |i: u32| match recent {
            Some(at) => history::Past::pod_times(scale, seed ^ u64::from(svc_ip), at, i),
            None => history::PodTimes::old(settled),
        };
        let template = stored
            .pointer("/spec/template")
            .cloned()
            .unwrap_or(Value::Null);
        if kind == Kind::Deployment {
            let hash = objects::template_hash(&template);
            let mut previous = None;
            for (i, h) in w.history.iter().enumerate() {
                let at = clock.stamp_at(hours(h.hours_ago));
                let rev = history::Revision {
                    image: h.image.clone(),
                    change_cause: h.change_cause.clone(),
                };
                let old = history::old_replicaset(&stored, w, &rev, i + 1, &at);
                if let Ok(v) = st.store.put(Kind::ReplicaSet, old, &at) {
                    previous = Some(s(&v, "/metadata/name").to_string());
                }
            }
            let rs_created = match (recent, w.history.is_empty()) {
                (Some(t), _) => clock.stamp_at(t),
                (None, false) => clock.stamp_at(settled),
                (None, true) => created.clone(),
            };
            let rs = objects::replicaset(&stored, &hash, 1, *replicas as u64, &rs_created);
            let rs = match st.store.put(Kind::ReplicaSet, rs, &rs_created) {
                Ok(v) => v,
                Err(_) => continue,
            };
            let rs_name = s(&rs, "/metadata/name").to_string();
            let rs_uid = s(&rs, "/metadata/uid").to_string();
            let rs_template = rs.pointer("/spec/template").cloned().unwrap_or(Value::Null);
            if let Some(at) = recent {
                past.scaled_up(at, &stored, &rs_name, *replicas);
                if let Some(prev) = &previous {
                    past.scaled_down(at + 30.0 * scale, &stored, prev, *replicas);
                }
            }
            for i in 0..*replicas {
                let suffix = objects::safe_string(st.rng.u64(..), 5);
                let name = format!("{rs_name}-{suffix}");
                let t = times(i);
                st.create_pod(
                    &clock,
                    &rs_template,
                    &w.namespace,
                    name.clone(),
                    "ReplicaSet",
                    &rs_name,
                    &rs_uid,
                    &[],
                    Some((t.created, t.started)),
                );
                if recent.is_some() {
                    past.pod_started(&st, &w.namespace, &name, &t);
                }
            }
        } else {
            let revision = format!("{}-{}", w.name, objects::template_hash(&template));
            for i in 0..*replicas {
                let pn = format!("{}-{i}", w.name);
                let t = times(i);
                st.create_pod(
                    &clock,
                    &template,
                    &w.namespace,
                    pn.clone(),
                    "StatefulSet",
                    &w.name,
                    &uid,
                    &[
                        ("controller-revision-hash", revision.clone()),
                        ("statefulset.kubernetes.io/pod-name", pn.clone()),
                        ("apps.kubernetes.io/pod-index", i.to_string()),
                    ],
                    Some((t.created, t.started)),
                );
                if recent.is_some() {
                    past.pod_started(&st, &w.namespace, &pn, &t);
                }
            }
        }
    }
    if file.node_exporter {
        crate::world::network::add_exporters(&mut st, &clock, &created_world);
    }
    past.record(&mut st, &clock);
    st.reconcile(&clock);
    st.update_endpoints(&clock);
    Region {
        name: spec.name.clone(),
        token,
        admin_token: String::new(),
        bookmark_interval: Duration::from_secs_f64(file.bookmark_interval_seconds),
        rbac: spec.rbac.clone(),
        faults: Mutex::new(Faults::default()),
        state: Mutex::new(st),
        clock,
        wake: tokio::sync::Notify::new(),
        watch_requests: Default::default(),
        requests: Default::default(),
        gate: Default::default(),
        es: Default::default(),
        custom: crate::world::custom::served(&file.crds, &file.customs, &spec.name, &created_world),
    }
}
