//! `[[stage]]` tables: name, regions (a wave), and the gates.

use super::{Checker, Value};
use crate::config::spanned::Node;
use crate::config::stages::{Gates, Stage};

impl Checker<'_> {
    fn seconds(&mut self, what: &str, value: &Value, max: i64) -> Option<u64> {
        match value.get_ref() {
            Node::Integer(n) if (0..=max).contains(n) => Some(*n as u64),
            Node::Integer(n) => {
                self.error(
                    value.span(),
                    format!("`{what}` must be between 0 and {max}, found {n}"),
                );
                None
            }
            _ => {
                self.wrong_type(what, "a whole number", value);
                None
            }
        }
    }

    pub(super) fn stages(&mut self, value: &Value) -> Vec<Stage> {
        let Node::Array(items) = value.get_ref() else {
            self.wrong_type("stage", "an array of tables (write [[stage]])", value);
            return Vec::new();
        };
        let mut stages: Vec<Stage> = Vec::new();
        for item in items {
            let Node::Table(fields) = item.get_ref() else {
                self.wrong_type("stage", "a table", item);
                continue;
            };
            let mut stage = Stage {
                name: String::new(),
                regions: Vec::new(),
                gates: Gates::default(),
            };
            for (key, v) in fields {
                match key.get_ref().as_str() {
                    "name" => {
                        if let Some(s) = self.non_empty_string("name", v) {
                            stage.name = s.to_string();
                        }
                    }
                    "regions" => {
                        let Node::Array(names) = v.get_ref() else {
                            self.wrong_type("regions", "an array of region names", v);
                            continue;
                        };
                        for n in names {
                            let Some(name) = self.non_empty_string("regions", n) else {
                                continue;
                            };
                            let seen = stages
                                .iter()
                                .flat_map(|s| &s.regions)
                                .chain(&stage.regions)
                                .any(|r| r == name);
                            if seen {
                                self.error(
                                    n.span(),
                                    format!("region `{name}` is in more than one stage"),
                                );
                            } else {
                                stage.regions.push(name.to_string());
                            }
                        }
                    }
                    "soak" => {
                        stage.gates.soak_secs = self
                            .seconds("soak", v, 86_400)
                            .unwrap_or(stage.gates.soak_secs)
                    }
                    "max_unready" => {
                        stage.gates.max_unready = self
                            .seconds("max_unready", v, 100_000)
                            .map_or(stage.gates.max_unready, |n| n as u32)
                    }
                    "max_probe_failures" => {
                        stage.gates.max_probe_failures = self
                            .seconds("max_probe_failures", v, 1_000_000)
                            .map_or(stage.gates.max_probe_failures, |n| n as u32)
                    }
                    "no_crash_loop" => {
                        stage.gates.no_crash_loop = self.boolean("no_crash_loop", v).unwrap_or(true)
                    }
                    "rollout_deadline" => {
                        stage.gates.rollout_deadline_secs = self
                            .seconds("rollout_deadline", v, 86_400)
                            .unwrap_or(stage.gates.rollout_deadline_secs)
                    }
                    other => self.error(
                        key.span(),
                        format!(
                            "unknown key `{other}` in [[stage]] (expected name, regions, soak, \
                             max_unready, max_probe_failures, no_crash_loop or rollout_deadline)"
                        ),
                    ),
                }
            }
            if stage.name.is_empty() {
                self.error(item.span(), "[[stage]] needs a `name`".into());
            }
            if stage.regions.is_empty() {
                self.error(
                    item.span(),
                    "[[stage]] needs at least one region in `regions`".into(),
                );
            }
            stages.push(stage);
        }
        stages
    }
}
