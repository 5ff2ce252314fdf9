//! Plain row types the cockpit keeps in memory: only what the screen shows,
//! never whole Kubernetes objects (a full `Pod` costs ~50 KB, a row ~0.4 KB).
//!
//! Sources build these off the UI task; state and drawing only read them.
//! Every string here is raw cluster text: sanitise before drawing.

pub mod event;
pub mod object;
pub mod pod;
pub mod resource;
pub mod workload;

pub use event::{EventRow, InvolvedObject};
pub use object::{ApiObject, ShowAs};
pub use pod::{ContainerRow, ContainerState, PodRow};
pub use workload::{WorkloadCondition, WorkloadKind, WorkloadRow};

/// Seconds since the Unix epoch (UTC). Rows store times as plain numbers so
/// they are cheap to copy and compare.
pub type Timestamp = i64;

/// Index of a region in the configured list (the UI shows its name).
pub type RegionId = usize;
