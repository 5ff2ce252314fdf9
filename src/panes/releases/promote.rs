//! A promotion as long-lived IO. `propose` reads each stage's Deployment
//! and prepares every change through the write path (nothing is sent);
//! the reducer asks the person once (`update::confirm`), and `execute`
//! then runs the waves in order through `write::send`: set the image (a
//! paused canary is resumed), follow the rollout, soak while the gates are
//! watched. A failing gate halts the promotion and marks the wave. Every
//! step is persisted (`persist`) and reported as `ReleasesMsg::Progress`;
//! every change is audited by `write::send`.

use super::gates::{self, Reading};
use super::persist;
use super::plan::{Plan, PlanState, Wave, WaveGates, WaveRegion, WaveState};
use super::ReleasesMsg;
use crate::config::stages::Stage;
use crate::effects::Env;
use crate::fleet::owners::OwnerIndex;
use crate::model::{RegionId, Timestamp};
use crate::msg::Msg;
use crate::panes::workloads::rollout::{self, RolloutState};
use crate::tasks::TaskCtx;
use crate::write::{self, Confirmation, Confirmed, ObjectRef, Params};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc::Sender;

/// How often a wave's regions are read while it rolls and soaks.
pub const POLL: Duration = Duration::from_secs(1);

/// A plan ready to be confirmed: the changes of every region, prepared.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub plan: Plan,
    /// Per region id: the changes, in order (set image, then resume).
    pub changes: Vec<(RegionId, Confirmation)>,
}

impl PartialEq for Proposal {
    fn eq(&self, other: &Self) -> bool {
        self.plan == other.plan
    }
}

/// An undo ready to be confirmed: per region of the failed wave, back to
/// the revision that ran before the promotion.
#[derive(Debug, Clone, PartialEq)]
pub struct UndoProposal {
    pub workload: String,
    pub changes: Vec<(RegionId, Confirmation)>,
}

fn now() -> Timestamp {
    crate::app::wall_now()
}

fn region_id(names: &[String], name: &str) -> Option<RegionId> {
    names.iter().position(|n| n == name)
}

async fn deployment(
    env: &Env,
    region: RegionId,
    ns: &str,
    name: &str,
) -> Result<Deployment, String> {
    let client = env
        .clients
        .get(region)
        .ok_or_else(|| "not connected yet".to_string())?;
    let req = http::Request::get(format!("/apis/apps/v1/namespaces/{ns}/deployments/{name}"))
        .body(Vec::new())
        .map_err(|e| e.to_string())?;
    client
        .request::<Deployment>(req)
        .await
        .map_err(|e| write::error_text(&e))
}

fn containers(d: &Deployment) -> Vec<(String, String)> {
    d.spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|s| {
            s.containers
                .iter()
                .map(|c| (c.name.clone(), c.image.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default()
}

/// The plan for `ns/name` over `stages`, read from the clusters, or a
/// plan to resume (`resume`): its waves not passed yet. Every change is
/// prepared (and RBAC asked) but nothing is sent.
pub async fn propose(
    env: &Env,
    names: &[String],
    stages: &[Stage],
    ns: &str,
    name: &str,
    resume: Option<Plan>,
) -> Result<Proposal, String> {
    let mut plan = match resume {
        Some(p) => p,
        None => fresh_plan(env, names, stages, ns, name).await?,
    };
    let mut changes = Vec::new();
    for (i, wave) in plan.waves.iter().enumerate() {
        if wave.state == WaveState::Passed {
            continue;
        }
        for r in &wave.regions {
            let region = region_id(names, &r.region)
                .ok_or_else(|| format!("no region {} in this cockpit", r.region))?;
            for params in region_changes(r, &plan.change_cause(i)) {
                let c = env
                    .writer
                    .prepare(region, ObjectRef::deployment(ns, name), params)
                    .map_err(|e| e.to_string())?;
                match write::allowed(&env.writer, region, &c.mutation().permission()).await {
                    write::Access::Allowed => {}
                    write::Access::Denied(why) | write::Access::Unknown(why) => {
                        return Err(format!("{}: {why}", r.region))
                    }
                }
                changes.push((region, c));
            }
        }
    }
    if changes.is_empty() {
        return Err(format!(
            "{ns}/{name} already runs {} everywhere",
            plan.image
        ));
    }
    plan.state = PlanState::Proposed;
    plan.updated = now();
    Ok(Proposal { plan, changes })
}

/// What one region needs: the image set (unless it runs it already), and a
/// paused canary resumed.
fn region_changes(r: &WaveRegion, cause: &str) -> Vec<Params> {
    let mut out = Vec::new();
    if r.from != r.to {
        out.push(Params::SetImage {
            container: r.container.clone(),
            image: r.to.clone(),
            from: r.from.clone(),
            change_cause: cause.to_string(),
        });
    }
    if r.paused {
        out.push(Params::Resume);
    }
    out
}

async fn fresh_plan(
    env: &Env,
    names: &[String],
    stages: &[Stage],
    ns: &str,
    name: &str,
) -> Result<Plan, String> {
    let (first, rest) = stages
        .split_first()
        .ok_or_else(|| "no release stages configured ([[stage]] in config.toml)".to_string())?;
    if rest.is_empty() {
        return Err("only one stage: nothing to promote to".into());
    }
    // the image proven in the first stage: the same in each of its regions
    let mut source: Option<(String, String, String)> = None;
    for r in &first.regions {
        let Some(id) = region_id(names, r) else {
            continue;
        };
        let d = deployment(env, id, ns, name)
            .await
            .map_err(|e| format!("{r}: {e}"))?;
        let (container, image) = containers(&d)
            .into_iter()
            .next()
            .ok_or_else(|| format!("{r}: {ns}/{name} has no container"))?;
        if rollout::status(&d) != RolloutState::Complete {
            return Err(format!(
                "{r}: {ns}/{name} is still rolling out; promote once it is complete"
            ));
        }
        match &source {
            Some((_, _, img)) if *img != image => {
                return Err(format!(
                    "stage {} runs two images of {ns}/{name}",
                    first.name
                ))
            }
            _ => source = Some((r.clone(), container, image)),
        }
    }
    let (source_region, container, image) =
        source.ok_or_else(|| format!("stage {} has no region running {ns}/{name}", first.name))?;
    let mut waves = Vec::new();
    for stage in rest {
        let mut regions = Vec::new();
        for r in &stage.regions {
            let Some(id) = region_id(names, r) else {
                return Err(format!(
                    "stage {}: no region {r} in this cockpit",
                    stage.name
                ));
            };
            let d = deployment(env, id, ns, name)
                .await
                .map_err(|e| format!("{r}: {e}"))?;
            let from = containers(&d)
                .into_iter()
                .find(|(c, _)| *c == container)
                .map(|(_, i)| i)
                .ok_or_else(|| format!("{r}: {ns}/{name} has no container {container}"))?;
            let paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
            regions.push(WaveRegion {
                region: r.clone(),
                container: container.clone(),
                from,
                to: image.clone(),
                replicas: d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1).max(0) as u32,
                paused,
                note: String::new(),
            });
        }
        waves.push(Wave {
            stage: stage.name.clone(),
            gates: WaveGates::from(&stage.gates),
            regions,
            state: WaveState::Pending,
            started: None,
            ended: None,
        });
    }
    let t = now();
    Ok(Plan {
        namespace: ns.to_string(),
        name: name.to_string(),
        image,
        source: format!("{} ({source_region})", first.name),
        waves,
        state: PlanState::Proposed,
        created: t,
        updated: t,
    })
}

/// For the failed wave of `plan`: per region, the undo to the newest
/// revision that ran the image the region had before the promotion.
pub async fn propose_undo(
    env: &Env,
    names: &[String],
    plan: &Plan,
) -> Result<UndoProposal, String> {
    let wave = plan
        .waves
        .iter()
        .find(|w| w.state == WaveState::Failed)
        .ok_or_else(|| "no failed wave to undo".to_string())?;
    let (ns, name) = (&plan.namespace, &plan.name);
    let mut changes = Vec::new();
    for r in &wave.regions {
        let region =
            region_id(names, &r.region).ok_or_else(|| format!("no region {}", r.region))?;
        let d = deployment(env, region, ns, name)
            .await
            .map_err(|e| format!("{}: {e}", r.region))?;
        let uid = d.metadata.uid.clone().unwrap_or_default();
        let client = env
            .clients
            .get(region)
            .ok_or_else(|| format!("{}: not connected", r.region))?;
        let req = http::Request::get(format!(
            "/apis/apps/v1/namespaces/{ns}/replicasets?limit=500"
        ))
        .body(Vec::new())
        .map_err(|e| e.to_string())?;
        #[derive(serde::Deserialize)]
        struct List {
            items: Vec<ReplicaSet>,
        }
        let list: List = client
            .request(req)
            .await
            .map_err(|e| format!("{}: {}", r.region, write::error_text(&e)))?;
        let revs = rollout::revisions(&uid, &list.items);
        let running = rollout::running_images(&d);
        if running.iter().all(|i| *i == r.from) {
            continue; // already back
        }
        let Some(prev) = revs.iter().find(|v| v.images.contains(&r.from)) else {
            return Err(format!(
                "{}: no revision runs {} any more",
                r.region, r.from
            ));
        };
        let params = prev.undo()?;
        let c = env
            .writer
            .prepare(region, ObjectRef::deployment(ns, name), params)
            .map_err(|e| e.to_string())?;
        changes.push((region, c));
    }
    if changes.is_empty() {
        return Err(format!(
            "{} already runs its previous image in every region of the wave",
            plan.workload()
        ));
    }
    Ok(UndoProposal {
        workload: plan.workload(),
        changes,
    })
}

/// A promotion's own step (a wave started, passed, failed; an abort) in
/// the audit log, once per region of the wave, beside the changes
/// `write::send` records.
pub fn audit_step(env: &Env, plan: &Plan, wave: usize, action: &str, result: Result<(), String>) {
    let Some(w) = plan.waves.get(wave) else {
        return;
    };
    let names: Vec<&str> = w.regions.iter().map(|r| r.region.as_str()).collect();
    for r in &w.regions {
        let context = (0..)
            .map_while(|i| env.writer.policy(i))
            .find(|p| p.name == r.region)
            .map(|p| p.context.clone())
            .unwrap_or_default();
        let record = write::audit::Record::new(
            &r.region,
            &context,
            "promote",
            action,
            ObjectRef::deployment(&plan.namespace, &plan.name),
            serde_json::json!({
                "wave": wave + 1,
                "stage": w.stage,
                "regions": names,
                "image": {"from": r.from, "to": r.to},
            }),
            match &result {
                Ok(()) => write::audit::AuditResult::Ok,
                Err(why) => write::audit::AuditResult::Failed(why.clone()),
            },
            Duration::ZERO,
        );
        if let Err(e) = env.writer.audit().record(record) {
            tracing::error!("{e}");
        }
    }
}

/// Everything `execute` reports through.
struct Reporter {
    tx: Sender<Msg>,
    dir: Option<PathBuf>,
}

impl Reporter {
    async fn report(&self, plan: &mut Plan) {
        plan.updated = now();
        if let Some(dir) = &self.dir {
            if let Err(e) = persist::save(dir, plan) {
                tracing::warn!("promotion not saved: {e}");
            }
        }
        let _ = self
            .tx
            .send(Msg::Releases(ReleasesMsg::Progress(Box::new(plan.clone()))))
            .await;
    }
}

/// Runs the confirmed plan's waves not passed yet, in order. Returns the
/// reason it halted, if it did.
pub async fn execute(
    env: Env,
    ctx: TaskCtx,
    mut plan: Plan,
    names: Vec<String>,
    confirmed: Vec<(RegionId, Confirmed)>,
    dir: Option<PathBuf>,
) -> Result<(), String> {
    let rep = Reporter {
        tx: ctx.sender().clone(),
        dir,
    };
    plan.state = PlanState::Running;
    rep.report(&mut plan).await;
    let mut index = OwnerIndex::default();
    for w in 0..plan.waves.len() {
        if plan.waves[w].state == WaveState::Passed {
            continue;
        }
        ctx.running(format!(
            "{}: wave {} {}",
            plan.workload(),
            w + 1,
            plan.waves[w].stage
        ))
        .await;
        match run_wave(&env, &rep, &mut plan, w, &names, &confirmed, &mut index).await {
            Ok(()) => {}
            Err(why) => {
                audit_step(&env, &plan, w, "promotion wave failed", Err(why.clone()));
                plan.waves[w].state = WaveState::Failed;
                plan.waves[w].ended = Some(now());
                plan.state =
                    PlanState::Halted(format!("wave {} {}: {why}", w + 1, plan.waves[w].stage));
                rep.report(&mut plan).await;
                return Err(plan.state.word());
            }
        }
    }
    plan.state = PlanState::Done;
    rep.report(&mut plan).await;
    Ok(())
}

async fn run_wave(
    env: &Env,
    rep: &Reporter,
    plan: &mut Plan,
    w: usize,
    names: &[String],
    confirmed: &[(RegionId, Confirmed)],
    index: &mut OwnerIndex,
) -> Result<(), String> {
    let ids: Vec<RegionId> = plan.waves[w]
        .regions
        .iter()
        .map(|r| region_id(names, &r.region).ok_or_else(|| format!("no region {}", r.region)))
        .collect::<Result<_, _>>()?;
    let (ns, name) = (plan.namespace.clone(), plan.name.clone());
    let gates = plan.waves[w].gates.clone();
    plan.waves[w].state = WaveState::Rolling;
    plan.waves[w].started = Some(now());
    audit_step(env, plan, w, "promotion wave started", Ok(()));
    rep.report(plan).await;
    // the probe failures each region had before its change
    let mut baseline = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let r = read(env, *id, &ns, &name, index).await?;
        baseline.push(r.probe_failures);
        plan.waves[w].regions[i].note = "sending".into();
    }
    for (i, id) in ids.iter().enumerate() {
        for (_, c) in confirmed.iter().filter(|(r, c)| {
            *r == *id
                && c.mutation().object().name == name
                && c.mutation().object().namespace.as_deref() == Some(ns.as_str())
        }) {
            write::send(&env.writer, c.clone())
                .await
                .map_err(|refusal| format!("{}: {refusal}", plan.waves[w].regions[i].region))?;
        }
    }
    // follow the rollouts under the gates, then soak
    let started = now();
    let deadline = started + gates.rollout_deadline_secs as i64;
    let mut soak_from: Option<Timestamp> = None;
    loop {
        let mut all_done = true;
        let mut changed = false;
        for (i, id) in ids.iter().enumerate() {
            let r = read(env, *id, &ns, &name, index).await?;
            let target = &plan.waves[w].regions[i].to;
            let on_target = r.images.iter().any(|img| img == target);
            let complete = on_target && r.rollout == RolloutState::Complete;
            let region = plan.waves[w].regions[i].region.clone();
            gates::check(&gates, &r, baseline[i], soak_from.is_none() && !complete)
                .map_err(|why| format!("{region}: {why}"))?;
            all_done &= complete;
            let note = format!(
                "{}; unready {}, probe failures +{}",
                r.rollout.cell(),
                r.unready.len(),
                r.probe_failures.saturating_sub(baseline[i])
            );
            if plan.waves[w].regions[i].note != note {
                plan.waves[w].regions[i].note = note;
                changed = true;
            }
        }
        let t = now();
        match soak_from {
            None if all_done => {
                soak_from = Some(t);
                plan.waves[w].state = WaveState::Soaking;
                changed = true;
            }
            None if t > deadline => {
                return Err(format!(
                    "rollout not complete within {} s",
                    gates.rollout_deadline_secs
                ))
            }
            Some(s) if t - s >= gates.soak_secs as i64 => break,
            _ => {}
        }
        if changed {
            rep.report(plan).await;
        }
        tokio::time::sleep(POLL).await;
    }
    plan.waves[w].state = WaveState::Passed;
    plan.waves[w].ended = Some(now());
    audit_step(env, plan, w, "promotion wave passed", Ok(()));
    rep.report(plan).await;
    Ok(())
}

/// Readings a region may fail in a row (a blip in the path, a restarted
/// API server) before the wave halts, retried with backoff and jitter.
pub const READ_TRIES: usize = 6;

async fn read(
    env: &Env,
    region: RegionId,
    ns: &str,
    name: &str,
    index: &mut OwnerIndex,
) -> Result<Reading, String> {
    let mut backoff =
        crate::fleet::backoff::Backoff::new(Duration::from_millis(500), Duration::from_secs(8));
    let mut last = String::new();
    for _ in 0..READ_TRIES {
        let attempt = match env.clients.get(region) {
            Some(client) => gates::read(&client, region, ns, name, index, now()).await,
            None => Err("region not connected".to_string()),
        };
        match attempt {
            Ok(r) => return Ok(r),
            Err(e) => last = e,
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
    Err(format!("no reading after {READ_TRIES} tries: {last}"))
}
