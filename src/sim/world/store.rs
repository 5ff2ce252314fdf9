//! One region's object store: every object kept as its serialized JSON (so a
//! list is a concatenation), a resourceVersion counter shared by all kinds,
//! a bounded history ring for watches and a bounded broadcast for fan-out.

use bytes::{BufMut, Bytes, BytesMut};
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use tokio::sync::broadcast;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Namespace,
    Node,
    Pod,
    Event,
    Service,
    Endpoints,
    Deployment,
    ReplicaSet,
    StatefulSet,
    HorizontalPodAutoscaler,
    ConfigMap,
}

pub const ALL_KINDS: [Kind; 11] = [
    Kind::Namespace,
    Kind::Node,
    Kind::Pod,
    Kind::Event,
    Kind::Service,
    Kind::Endpoints,
    Kind::Deployment,
    Kind::ReplicaSet,
    Kind::StatefulSet,
    Kind::HorizontalPodAutoscaler,
    Kind::ConfigMap,
];

impl Kind {
    pub fn index(self) -> usize {
        self as usize
    }
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Namespace => "namespaces",
            Kind::Node => "nodes",
            Kind::Pod => "pods",
            Kind::Event => "events",
            Kind::Service => "services",
            Kind::Endpoints => "endpoints",
            Kind::Deployment => "deployments",
            Kind::ReplicaSet => "replicasets",
            Kind::StatefulSet => "statefulsets",
            Kind::HorizontalPodAutoscaler => "horizontalpodautoscalers",
            Kind::ConfigMap => "configmaps",
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Kind::Namespace => "Namespace",
            Kind::Node => "Node",
            Kind::Pod => "Pod",
            Kind::Event => "Event",
            Kind::Service => "Service",
            Kind::Endpoints => "Endpoints",
            Kind::Deployment => "Deployment",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::StatefulSet => "StatefulSet",
            Kind::HorizontalPodAutoscaler => "HorizontalPodAutoscaler",
            Kind::ConfigMap => "ConfigMap",
        }
    }
    pub fn singular(self) -> &'static str {
        match self {
            Kind::Endpoints => "endpoints",
            k => {
                let p = k.plural();
                &p[..p.len() - 1]
            }
        }
    }
    pub fn short_names(self) -> &'static [&'static str] {
        match self {
            Kind::Namespace => &["ns"],
            Kind::Node => &["no"],
            Kind::Pod => &["po"],
            Kind::Event => &["ev"],
            Kind::Service => &["svc"],
            Kind::Endpoints => &["ep"],
            Kind::Deployment => &["deploy"],
            Kind::ReplicaSet => &["rs"],
            Kind::StatefulSet => &["sts"],
            Kind::HorizontalPodAutoscaler => &["hpa"],
            Kind::ConfigMap => &["cm"],
        }
    }
    pub fn group(self) -> &'static str {
        match self {
            Kind::Deployment | Kind::ReplicaSet | Kind::StatefulSet => "apps",
            Kind::HorizontalPodAutoscaler => "autoscaling",
            _ => "",
        }
    }
    /// The resource as kube-apiserver names it in messages: `pods`,
    /// `deployments.apps` (group-qualified outside the core group).
    pub fn qualified(self) -> String {
        match self.group() {
            "" => self.plural().to_string(),
            g => format!("{}.{g}", self.plural()),
        }
    }
    /// The kind as kube-apiserver names it in `Invalid` messages:
    /// `Pod`, `Deployment.apps`.
    pub fn qualified_kind(self) -> String {
        match self.group() {
            "" => self.name().to_string(),
            g => format!("{}.{g}", self.name()),
        }
    }
    /// The `details` of a Status about one object, as kube-apiserver
    /// fills them (`group` only outside the core group).
    pub fn status_details(self, name: &str) -> serde_json::Value {
        let mut d = serde_json::json!({"name": name, "kind": self.plural()});
        if !self.group().is_empty() {
            d["group"] = self.group().into();
        }
        d
    }
    pub fn api_version(self) -> &'static str {
        match self.group() {
            "apps" => "apps/v1",
            "autoscaling" => "autoscaling/v2",
            _ => "v1",
        }
    }
    pub fn namespaced(self) -> bool {
        !matches!(self, Kind::Namespace | Kind::Node)
    }
    pub fn from_plural(group: &str, plural: &str) -> Option<Kind> {
        ALL_KINDS
            .into_iter()
            .find(|k| k.group() == group && k.plural() == plural)
    }
    /// Field selectors a real API server accepts for this kind.
    pub fn field_paths(self) -> &'static [&'static str] {
        match self {
            Kind::Pod => &[
                "metadata.name",
                "metadata.namespace",
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "status.phase",
                "status.podIP",
                "status.nominatedNodeName",
            ],
            Kind::Event => &[
                "metadata.name",
                "metadata.namespace",
                "involvedObject.kind",
                "involvedObject.namespace",
                "involvedObject.name",
                "involvedObject.uid",
                "involvedObject.apiVersion",
                "involvedObject.resourceVersion",
                "involvedObject.fieldPath",
                "reason",
                "reportingComponent",
                "source",
                "type",
            ],
            Kind::Node => &["metadata.name", "spec.unschedulable"],
            Kind::Namespace => &["metadata.name", "status.phase"],
            Kind::ReplicaSet => &["metadata.name", "metadata.namespace", "status.replicas"],
            _ => &["metadata.name", "metadata.namespace"],
        }
    }
}

/// What selectors look at, extracted once when an object is stored.
#[derive(Debug, Clone, Default)]
pub struct Index {
    pub labels: BTreeMap<String, String>,
    pub fields: Vec<(&'static str, String)>,
}

impl Index {
    fn of(kind: Kind, v: &Value) -> Index {
        let labels = v
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let fields = kind
            .field_paths()
            .iter()
            .map(|path| {
                let ptr = if *path == "source" {
                    "/source/component".to_string()
                } else {
                    format!("/{}", path.replace('.', "/"))
                };
                let val = match v.pointer(&ptr) {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Bool(b)) => b.to_string(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => String::new(),
                };
                (*path, val)
            })
            .collect();
        Index { labels, fields }
    }
    pub fn field(&self, path: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct Obj {
    pub json: Bytes,
    pub index: Arc<Index>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, ready to be written to any watch that selects it.
#[derive(Debug)]
pub struct Change {
    pub rv: u64,
    pub kind: Kind,
    pub namespace: String,
    pub index: Arc<Index>,
    pub ty: EventType,
    pub object: Bytes,
}

impl Change {
    /// `{"type":"...","object":{...}}\n`
    pub fn line(&self) -> Bytes {
        watch_line(self.ty.as_str(), &self.object)
    }
}

pub fn watch_line(ty: &str, object: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(object.len() + 32);
    b.put_slice(b"{\"type\":\"");
    b.put_slice(ty.as_bytes());
    b.put_slice(b"\",\"object\":");
    b.put_slice(object);
    b.put_slice(b"}\n");
    b.freeze()
}

type Key = (String, String);

pub struct Store {
    rv: u64,
    objects: Vec<BTreeMap<Key, Obj>>,
    history: VecDeque<Arc<Change>>,
    history_cap: usize,
    /// Oldest resourceVersion from which a watch can still resume.
    pub compacted: u64,
    pub tx: broadcast::Sender<Arc<Change>>,
    uid_counter: u64,
    uid_seed: u64,
}

#[derive(Debug)]
pub enum StoreError {
    NotFound,
    AlreadyExists,
    Conflict,
    Invalid(String),
}

impl Store {
    pub fn new(history_cap: usize, seed: u64) -> Store {
        // The broadcast only has to bridge the gap between a change and the
        // watch tasks writing it; a watch that falls further behind is closed
        // and the client resumes from the history ring.
        let (tx, _) = broadcast::channel(history_cap.clamp(1024, 65_536));
        Store {
            rv: 1000,
            objects: (0..ALL_KINDS.len()).map(|_| BTreeMap::new()).collect(),
            history: VecDeque::with_capacity(history_cap.min(100_000)),
            history_cap,
            compacted: 1000,
            tx,
            uid_counter: 0,
            uid_seed: seed,
        }
    }

    pub fn rv(&self) -> u64 {
        self.rv
    }

    pub fn new_uid(&mut self) -> String {
        self.uid_counter += 1;
        let a = splitmix(self.uid_seed ^ self.uid_counter);
        let b = splitmix(a ^ 0x9e37_79b9);
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            (a >> 32) as u32,
            (a >> 16) as u16,
            (a & 0xfff) as u16,
            (b >> 52) as u16 & 0xfff,
            b & 0xffff_ffff_ffff
        )
    }

    pub fn get(&self, kind: Kind, ns: &str, name: &str) -> Option<&Obj> {
        self.objects[kind.index()].get(&(ns.to_string(), name.to_string()))
    }

    pub fn get_value(&self, kind: Kind, ns: &str, name: &str) -> Option<Value> {
        self.get(kind, ns, name)
            .and_then(|o| serde_json::from_slice(&o.json).ok())
    }

    pub fn iter(&self, kind: Kind) -> impl Iterator<Item = (&Key, &Obj)> {
        self.objects[kind.index()].iter()
    }

    /// Objects from `after` (exclusive) on, in key order.
    pub fn range_after(
        &self,
        kind: Kind,
        after: Option<&Key>,
    ) -> Box<dyn Iterator<Item = (&Key, &Obj)> + '_> {
        use std::ops::Bound;
        match after {
            Some(k) => Box::new(
                self.objects[kind.index()]
                    .range::<Key, _>((Bound::Excluded(k.clone()), Bound::Unbounded)),
            ),
            None => Box::new(self.objects[kind.index()].iter()),
        }
    }

    pub fn values(&self, kind: Kind) -> Vec<Value> {
        self.objects[kind.index()]
            .values()
            .filter_map(|o| serde_json::from_slice(&o.json).ok())
            .collect()
    }

    pub fn count(&self, kind: Kind) -> usize {
        self.objects[kind.index()].len()
    }

    /// Insert or replace; stamps resourceVersion (and uid, creationTimestamp
    /// on create). Returns the stored object.
    pub fn put(&mut self, kind: Kind, mut v: Value, now: &str) -> Result<Value, StoreError> {
        let ns = if kind.namespaced() {
            v.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("default")
                .to_string()
        } else {
            String::new()
        };
        let name = v
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| StoreError::Invalid("metadata.name: Required value".into()))?
            .to_string();
        let key = (ns.clone(), name);
        let existing = self.objects[kind.index()].get(&key);
        let ty = if existing.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.rv += 1;
        let rv = self.rv;
        {
            let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) else {
                return Err(StoreError::Invalid("metadata: Required value".into()));
            };
            if kind.namespaced() {
                meta.insert("namespace".into(), Value::String(ns.clone()));
            }
            meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
            if ty == EventType::Added {
                if !meta.contains_key("uid") {
                    let uid = self.new_uid();
                    meta.insert("uid".into(), Value::String(uid));
                }
                if !meta.contains_key("creationTimestamp") {
                    meta.insert("creationTimestamp".into(), Value::String(now.to_string()));
                }
            }
        }
        if let Some(o) = v.as_object_mut() {
            o.insert("kind".into(), Value::String(kind.name().into()));
            o.insert(
                "apiVersion".into(),
                Value::String(kind.api_version().into()),
            );
        }
        let json =
            Bytes::from(serde_json::to_vec(&v).map_err(|e| StoreError::Invalid(e.to_string()))?);
        let index = Arc::new(Index::of(kind, &v));
        self.objects[kind.index()].insert(
            key,
            Obj {
                json: json.clone(),
                index: index.clone(),
            },
        );
        self.record(Change {
            rv,
            kind,
            namespace: ns,
            index,
            ty,
            object: json,
        });
        Ok(v)
    }

    pub fn delete(&mut self, kind: Kind, ns: &str, name: &str) -> Result<Value, StoreError> {
        let key = (ns.to_string(), name.to_string());
        let Some(old) = self.objects[kind.index()].remove(&key) else {
            return Err(StoreError::NotFound);
        };
        self.rv += 1;
        let rv = self.rv;
        let mut v: Value = serde_json::from_slice(&old.json).unwrap_or(Value::Null);
        if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
        }
        let json = Bytes::from(serde_json::to_vec(&v).unwrap_or_default());
        self.record(Change {
            rv,
            kind,
            namespace: ns.to_string(),
            index: old.index,
            ty: EventType::Deleted,
            object: json,
        });
        Ok(v)
    }

    fn record(&mut self, change: Change) {
        let change = Arc::new(change);
        if self.history.len() >= self.history_cap {
            if let Some(old) = self.history.pop_front() {
                self.compacted = old.rv;
            }
        }
        self.history.push_back(change.clone());
        // No receivers is fine: nobody is watching.
        let _ = self.tx.send(change);
    }

    /// Changes after `rv`, or None when `rv` has left the history window.
    pub fn history_since(&self, rv: u64) -> Option<Vec<Arc<Change>>> {
        if rv < self.compacted {
            return None;
        }
        let start = self.history.partition_point(|c| c.rv <= rv);
        Some(self.history.iter().skip(start).cloned().collect())
    }

    /// Forget history (used by the admin endpoint to force 410s).
    pub fn compact_all(&mut self) {
        self.history.clear();
        self.compacted = self.rv;
    }
}

pub fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}
