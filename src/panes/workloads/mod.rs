//! Workloads: what the cockpit can do to a Deployment, a StatefulSet or a
//! pod (`plan`: a registry action and its target become a write-path change
//! or the permission a session needs) and how a rollout reads (`rollout`:
//! status as `kubectl rollout status` says it, revisions for undo).

pub mod plan;
pub mod rollout;

#[cfg(test)]
mod tests;
