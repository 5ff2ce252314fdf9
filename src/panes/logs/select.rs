//! What the logs pane follows: a pod, a workload (found through the fleet
//! store's owner index) or a namespace, in one region or the same one in
//! every region; all containers or chosen ones; the live or the previous
//! container. `targets` turns it into the container instances to stream,
//! read from the store, so pods that join or leave re-plan the streams.

use super::state::Target;
use crate::fleet::owners::{OwnerKind, WorkloadKey};
use crate::fleet::store::Store;
use crate::model::{ContainerState, PodRow, RegionId};
use std::collections::BTreeSet;

/// What is selected, region aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One pod, by name (pod names differ between regions: one region only).
    Pod { namespace: String, name: String },
    /// The pods of a workload: region + namespace + owner, as the store's
    /// owner index keys them.
    Workload {
        namespace: String,
        kind: OwnerKind,
        name: String,
    },
    /// Every pod of a namespace.
    Namespace(String),
    /// Pods matching a label selector (in a namespace, or all), as each
    /// region's server answers it (`LogSelection::matched`).
    Labels {
        namespace: Option<String>,
        selector: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSelection {
    pub scope: Scope,
    /// Where it was picked.
    pub region: RegionId,
    /// The same workload or namespace in every region (the common case).
    pub all_regions: bool,
    /// Chosen container names (init containers included); empty: all the
    /// pod's containers.
    pub containers: Vec<String>,
    /// The previous instance of each container (`previous=true`, no follow).
    pub previous: bool,
    /// For a label selector: the pods each region's server said match
    /// (region, namespace, name), kept up to date by a task.
    pub matched: BTreeSet<(RegionId, String, String)>,
}

/// Most pods a label selector may match per region.
pub const MAX_MATCHED: usize = 10_000;

/// A label selector as typed: `app=checkout`, `tier in (front,back)`,
/// `!canary`: anything with `=`, `!` or ` in ` / ` notin `.
fn is_selector(s: &str) -> bool {
    s.contains('=') || s.contains('!') || s.contains(" in ") || s.contains(" notin ")
}

impl LogSelection {
    pub fn new(scope: Scope, region: RegionId) -> LogSelection {
        LogSelection {
            scope,
            region,
            all_regions: false,
            containers: Vec::new(),
            previous: false,
            matched: BTreeSet::new(),
        }
    }

    /// A pod row: its workload when it has one (so "every region" means
    /// something), else the pod.
    pub fn of_pod(pod: &PodRow) -> LogSelection {
        let key = WorkloadKey::of_pod(pod);
        let scope = if key.kind == OwnerKind::Pod {
            Scope::Pod {
                namespace: pod.namespace.clone(),
                name: pod.name.clone(),
            }
        } else {
            Scope::Workload {
                namespace: key.namespace,
                kind: key.kind,
                name: key.name,
            }
        };
        LogSelection::new(scope, pod.region)
    }

    /// A workload key (triage item, probe row, workloads row).
    pub fn of_workload(key: &WorkloadKey) -> LogSelection {
        let scope = if key.kind == OwnerKind::Pod {
            Scope::Pod {
                namespace: key.namespace.clone(),
                name: key.name.clone(),
            }
        } else {
            Scope::Workload {
                namespace: key.namespace.clone(),
                kind: key.kind.clone(),
                name: key.name.clone(),
            }
        };
        LogSelection::new(scope, key.region)
    }

    /// Typed: `namespace`, `namespace/workload`, or `namespace/pod/NAME`;
    /// `@region` after it picks the region (a workload or namespace is
    /// then followed there only; without it, everywhere).
    pub fn parse(
        text: &str,
        region: RegionId,
        store: &Store,
        region_names: &[String],
    ) -> Result<LogSelection, String> {
        let (text, at) = match text.trim().rsplit_once('@') {
            Some((t, r)) => {
                let r = r.trim();
                let id = region_names
                    .iter()
                    .position(|n| n == r)
                    .ok_or_else(|| format!("no region {r}"))?;
                (t, Some(id))
            }
            None => (text, None),
        };
        let region = at.unwrap_or(region);
        if is_selector(text) {
            // `[namespace ]selector`
            let text = text.trim();
            let (namespace, selector) = match text.split_once(' ') {
                Some((ns, rest)) if !is_selector(ns) => (Some(ns.to_string()), rest.trim()),
                _ => (None, text),
            };
            let mut sel = LogSelection::new(
                Scope::Labels {
                    namespace,
                    selector: selector.to_string(),
                },
                region,
            );
            sel.all_regions = at.is_none();
            return Ok(sel);
        }
        let parts: Vec<&str> = text.trim().split('/').map(str::trim).collect();
        let scope = match parts.as_slice() {
            [ns] if !ns.is_empty() => Scope::Namespace(ns.to_string()),
            [ns, "pod", name] if !ns.is_empty() && !name.is_empty() => Scope::Pod {
                namespace: ns.to_string(),
                name: name.to_string(),
            },
            [ns, name] if !ns.is_empty() && !name.is_empty() => {
                // the workload's kind as the store knows it in any region
                let kind = store
                    .owners()
                    .workloads()
                    .map(|(k, _)| k)
                    .find(|k| k.namespace == *ns && k.name == *name && k.kind != OwnerKind::Pod)
                    .map(|k| k.kind.clone())
                    .ok_or_else(|| format!("no workload {ns}/{name} in the fleet"))?;
                Scope::Workload {
                    namespace: ns.to_string(),
                    kind,
                    name: name.to_string(),
                }
            }
            _ => {
                return Err(format!(
                    "`{}`: type a namespace, namespace/workload or namespace/pod/NAME",
                    text.trim()
                ))
            }
        };
        let mut sel = LogSelection::new(scope, region);
        // a typed workload or namespace is wanted everywhere, unless a
        // region was named
        sel.all_regions = at.is_none() && !matches!(sel.scope, Scope::Pod { .. });
        Ok(sel)
    }

    /// What the pane's title says.
    pub fn describe(&self, region_names: &[String]) -> String {
        let what = match &self.scope {
            Scope::Pod { namespace, name } => format!("pod {namespace}/{name}"),
            Scope::Workload {
                namespace,
                kind,
                name,
            } => format!("{} {namespace}/{name}", kind.as_str().to_lowercase()),
            Scope::Namespace(ns) => format!("namespace {ns}"),
            Scope::Labels {
                namespace,
                selector,
            } => match namespace {
                Some(ns) => format!("pods {selector} in {ns}"),
                None => format!("pods {selector}"),
            },
        };
        let region = if self.all_regions {
            "every region".to_string()
        } else {
            region_names
                .get(self.region)
                .cloned()
                .unwrap_or_else(|| "?".into())
        };
        let mut out = format!("{what} in {region}");
        if !self.containers.is_empty() {
            out.push_str(&format!(" · containers {}", self.containers.join(",")));
        }
        if self.previous {
            out.push_str(" · previous containers");
        }
        out
    }

    /// The regions the selection covers.
    pub fn regions(&self, n: usize) -> Vec<RegionId> {
        if self.all_regions && !matches!(self.scope, Scope::Pod { .. }) {
            (0..n).collect()
        } else {
            vec![self.region]
        }
    }

    /// The container instances to stream, as the store has them now.
    pub fn targets(&self, store: &Store, region_names: &[String]) -> Vec<Target> {
        let mut out = Vec::new();
        for region in self.regions(region_names.len()) {
            let name = region_names.get(region).map_or("?", String::as_str);
            match &self.scope {
                Scope::Workload {
                    namespace,
                    kind,
                    name: wl,
                } => {
                    let key = WorkloadKey {
                        region,
                        namespace: namespace.clone(),
                        kind: kind.clone(),
                        name: wl.clone(),
                    };
                    let Some(pods) = store.owners().pods_of(&key) else {
                        continue;
                    };
                    for uid in pods.keys() {
                        if let Some(pod) = store.find(region, uid) {
                            self.push_pod(name, pod, &mut out);
                        }
                    }
                }
                Scope::Pod {
                    namespace,
                    name: pod,
                } => {
                    for row in store.rows() {
                        if row.region == region && row.namespace == *namespace && row.name == *pod {
                            self.push_pod(name, row, &mut out);
                        }
                    }
                }
                Scope::Namespace(ns) => {
                    for row in store.rows() {
                        if row.region == region && row.namespace == *ns {
                            self.push_pod(name, row, &mut out);
                        }
                    }
                }
                Scope::Labels { .. } => {
                    for row in store.rows() {
                        let key = (region, row.namespace.clone(), row.name.clone());
                        if row.region == region && self.matched.contains(&key) {
                            self.push_pod(name, row, &mut out);
                        }
                    }
                }
            }
        }
        out
    }

    fn push_pod(&self, region_name: &str, pod: &PodRow, out: &mut Vec<Target>) {
        if pod.deleting && !self.previous {
            return;
        }
        let uid: String = pod.uid.chars().take(8).collect();
        let mut add = |container: &str, restarts: u32| {
            out.push(Target {
                region: region_name.to_string(),
                namespace: pod.namespace.clone(),
                pod: pod.name.clone(),
                container: container.to_string(),
                // a restarted container is a new instance, so a new stream
                container_id: format!(
                    "{region_name}/{}/{}/{container}#{restarts} {uid}",
                    pod.namespace, pod.name
                ),
            });
        };
        if self.containers.is_empty() {
            for c in &pod.containers {
                let has_logs = match &c.state {
                    ContainerState::Running { .. } | ContainerState::Terminated(_) => true,
                    // the previous instance of a waiting (crash-looping) one
                    _ => self.previous && c.restart_count > 0,
                };
                if has_logs {
                    add(&c.name, c.restart_count);
                }
            }
        } else {
            // chosen names may be init containers, which the row does not
            // list: the stream finds them in the pod's status
            for name in &self.containers {
                let restarts = pod
                    .containers
                    .iter()
                    .find(|c| c.name == *name)
                    .map_or(0, |c| c.restart_count);
                add(name, restarts);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ContainerRow;

    fn pod(region: RegionId, name: &str, restarts: u32) -> PodRow {
        PodRow {
            region,
            uid: format!("uid-{region}-{name}"),
            namespace: "shop".into(),
            name: name.into(),
            owner_kind: "ReplicaSet".into(),
            owner_name: "checkout-7d9f8c".into(),
            containers: vec![ContainerRow {
                name: "app".into(),
                restart_count: restarts,
                state: ContainerState::Running { started: None },
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn a_workload_in_every_region_and_a_restart_is_a_new_target() {
        let mut store = Store::new(2);
        store.upsert(pod(0, "checkout-7d9f8c-a", 0));
        store.upsert(pod(1, "checkout-7d9f8c-b", 0));
        let names = vec!["eu".to_string(), "us".to_string()];
        let mut sel = LogSelection::of_pod(&pod(0, "checkout-7d9f8c-a", 0));
        assert_eq!(sel.targets(&store, &names).len(), 1, "one region");
        sel.all_regions = true;
        let t = sel.targets(&store, &names);
        assert_eq!(t.len(), 2);
        assert!(t.iter().any(|t| t.region == "us"));
        store.upsert(pod(0, "checkout-7d9f8c-a", 1));
        let t2 = sel.targets(&store, &names);
        assert_ne!(t[0].container_id, t2[0].container_id);
        let typed = LogSelection::parse("shop/checkout", 0, &store, &names).unwrap();
        assert_eq!(typed.targets(&store, &names).len(), 2);
        let us = LogSelection::parse("shop/checkout@us", 0, &store, &names).unwrap();
        assert_eq!((us.region, us.all_regions), (1, false));
        assert_eq!(us.targets(&store, &names).len(), 1);
        assert!(LogSelection::parse("shop@mars", 0, &store, &names).is_err());
        assert!(LogSelection::parse("shop/nothing", 0, &store, &names).is_err());
        assert!(LogSelection::parse("a/b/c/d", 0, &store, &names).is_err());
        let mut labels = LogSelection::parse("shop app=checkout", 0, &store, &names).unwrap();
        assert!(labels.all_regions);
        assert_eq!(
            labels.scope,
            Scope::Labels {
                namespace: Some("shop".into()),
                selector: "app=checkout".into()
            }
        );
        assert!(
            labels.targets(&store, &names).is_empty(),
            "nothing matched yet"
        );
        labels
            .matched
            .insert((1, "shop".into(), "checkout-7d9f8c-b".into()));
        assert_eq!(labels.targets(&store, &names).len(), 1);
        sel.containers = vec!["migrate".into()];
        let init = sel.targets(&store, &names);
        assert!(init.iter().all(|t| t.container == "migrate"));
    }
}
