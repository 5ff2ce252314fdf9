//! The one confirm dialog every mutating action goes through: it names the
//! region, context, namespace, object and the exact change, shows warnings
//! (an autoscaler that will undo a scale), and in a production region takes
//! the object's name typed in a text input. Only a right answer yields the
//! `Confirmed` that `write::send` takes.

use crate::theme::Styles;
use crate::write::{Confirmation, Confirmed};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;
use tui_textarea::TextArea;

pub struct ConfirmDialog {
    confirmation: Confirmation,
    warnings: Vec<String>,
    /// The typed name (production regions).
    pub input: TextArea<'static>,
    error: Option<String>,
}

impl ConfirmDialog {
    pub fn new(confirmation: Confirmation) -> ConfirmDialog {
        ConfirmDialog {
            confirmation,
            warnings: Vec::new(),
            input: TextArea::default(),
            error: None,
        }
    }

    /// A warning shown above the question (`scale` with an autoscaler).
    pub fn warn(mut self, warning: impl Into<String>) -> ConfirmDialog {
        self.warnings.push(warning.into());
        self
    }

    pub fn needs_typed_name(&self) -> bool {
        self.confirmation.typed_name_required()
    }

    /// What the dialog says, line by line.
    pub fn lines(&self) -> Vec<String> {
        let m = self.confirmation.mutation();
        let o = m.object();
        let mut out = vec![
            format!("region     {}", m.region_name()),
            format!("context    {}", m.context()),
            format!(
                "namespace  {}",
                o.namespace.as_deref().unwrap_or("(cluster)")
            ),
            format!("object     {} {}", o.kind, o.name),
            format!(
                "change     {}: {}",
                m.params().action(),
                m.params().detail()
            ),
        ];
        out.extend(self.warnings.iter().map(|w| format!("warning    {w}")));
        out.push(if self.needs_typed_name() {
            format!("production region: type `{}` and press Enter", o.name)
        } else {
            "confirm? (y/n)".into()
        });
        if let Some(e) = &self.error {
            out.push(e.clone());
        }
        out
    }

    /// The person's yes. In a production region the typed name must match
    /// exactly; otherwise `None`, and the dialog stays open saying why.
    pub fn answer(&mut self) -> Option<Confirmed> {
        let typed = self.input.lines().join("");
        let name = &self.confirmation.mutation().object().name;
        if self.needs_typed_name() && typed.trim() != name {
            self.error = Some(format!("type `{name}` exactly to confirm"));
            return None;
        }
        Some(self.confirmation.clone().confirm(typed.trim()))
    }

    /// Draws the dialog centred in `area`.
    pub fn draw(&self, frame: &mut Frame, styles: &Styles, area: Rect) {
        let lines = self.lines();
        let width = area.width.min(78);
        let input_rows: u16 = if self.needs_typed_name() { 3 } else { 0 };
        // long lines wrap: count the rows they take, so the question at the
        // bottom is never cut off
        let inner_w = usize::from(width.saturating_sub(2)).max(1);
        let rows: usize = lines
            .iter()
            .map(|l| match l.chars().count().div_ceil(inner_w) {
                // word wrapping may take a row more than the characters do
                n if n > 1 => n + 1,
                _ => 1,
            })
            .sum();
        let height = (rows as u16 + 2 + input_rows).min(area.height);
        let rect = Rect {
            x: area.x + (area.width - width) / 2,
            y: area.y + (area.height - height) / 2,
            width,
            height,
        };
        frame.render_widget(Clear, rect);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(styles.get("ui.border.focused"))
            .style(styles.get("ui.modal"))
            .title(Span::styled(" confirm ", styles.get("ui.title")));
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        let [text_area, input_area] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(input_rows)]).areas(inner);
        let text: Vec<Line> = lines
            .into_iter()
            .map(|l| {
                let scope = if l.starts_with("warning") {
                    "ui.warning"
                } else if l.starts_with("type `") {
                    "ui.error"
                } else {
                    "ui.text"
                };
                Line::from(Span::styled(l, styles.get(scope)))
            })
            .collect();
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), text_area);
        if input_rows > 0 {
            // one line: a copy to frame costs nothing and keeps drawing `&self`
            let mut input = self.input.clone();
            input.set_block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(styles.get("ui.input")),
            );
            frame.render_widget(&input, input_area);
        }
    }
}

/// The autoscaler warning for a scale: names the HPAs (autoscaling/v2 JSON)
/// whose `scaleTargetRef` is this object, with their bounds.
pub fn hpa_warning(hpas: &[serde_json::Value], kind: &str, name: &str) -> Option<String> {
    let found: Vec<String> = hpas
        .iter()
        .filter(|h| {
            let t = &h["spec"]["scaleTargetRef"];
            t["kind"] == kind && t["name"] == name
        })
        .map(|h| {
            format!(
                "{} (min {}, max {})",
                h["metadata"]["name"].as_str().unwrap_or("?"),
                h["spec"]["minReplicas"].as_i64().unwrap_or(1),
                h["spec"]["maxReplicas"].as_i64().unwrap_or(0)
            )
        })
        .collect();
    (!found.is_empty()).then(|| {
        format!(
            "autoscaled by {}: it may change the count back",
            found.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::{Audit, ClientLookup, ObjectRef, Params, RegionPolicy, Writer};
    use ratatui::backend::TestBackend;
    use serde_json::json;
    use std::sync::Arc;

    fn writer(dir: &std::path::Path) -> Writer {
        let regions = ["eu", "prod"]
            .iter()
            .map(|n| RegionPolicy {
                name: n.to_string(),
                context: format!("ctx-{n}"),
                production: *n == "prod",
                read_only: false,
            })
            .collect();
        let clients: ClientLookup = Arc::new(|_| None);
        Writer::new(regions, false, clients, Audit::open(dir).expect("audit"))
    }

    fn scale(w: &Writer, region: usize) -> ConfirmDialog {
        let c = w
            .prepare(
                region,
                ObjectRef::deployment("shop", "web"),
                Params::Scale { from: 3, to: 5 },
            )
            .expect("prepare");
        ConfirmDialog::new(c)
    }

    #[test]
    fn the_dialog_names_where_what_and_the_exact_change() {
        let dir = tempfile::tempdir().expect("dir");
        let w = writer(dir.path());
        let mut d = scale(&w, 0).warn("autoscaled by web (min 3, max 10)");
        assert_eq!(
            d.lines(),
            [
                "region     eu",
                "context    ctx-eu",
                "namespace  shop",
                "object     Deployment web",
                "change     scale: replicas 3 -> 5",
                "warning    autoscaled by web (min 3, max 10)",
                "confirm? (y/n)",
            ]
        );
        let confirmed = d.answer().expect("confirmed");
        assert_eq!(
            confirmed.mutation().params(),
            &Params::Scale { from: 3, to: 5 }
        );
        assert_eq!(confirmed.mutation().region(), 0);
    }

    #[test]
    fn a_production_region_takes_the_name_typed_exactly() {
        let dir = tempfile::tempdir().expect("dir");
        let w = writer(dir.path());
        let mut d = scale(&w, 1);
        assert!(d.needs_typed_name());
        d.input.insert_str("we");
        assert!(d.answer().is_none(), "a wrong name confirmed");
        assert!(d
            .lines()
            .last()
            .is_some_and(|l| l.contains("type `web` exactly")));
        d.input.insert_str("b");
        assert!(d.answer().is_some());
    }

    #[test]
    fn the_dialog_draws_every_line_and_the_input() {
        let dir = tempfile::tempdir().expect("dir");
        let w = writer(dir.path());
        let mut d = scale(&w, 1);
        d.input.insert_str("web");
        let mut term = ratatui::Terminal::new(TestBackend::new(90, 20)).expect("terminal");
        term.draw(|f| d.draw(f, &Styles::default(), f.area()))
            .expect("draw");
        let buf = term.backend().buffer();
        let text: String = (0..buf.area.height)
            .map(|y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
                    + "\n"
            })
            .collect();
        for want in [
            "region     prod",
            "context    ctx-prod",
            "change     scale: replicas 3 -> 5",
            "type `web` and press Enter",
            "│web",
        ] {
            assert!(text.contains(want), "{want} not in\n{text}");
        }
    }

    #[test]
    fn the_autoscaler_warning_names_only_hpas_targeting_the_object() {
        let hpa = |name: &str, kind: &str, target: &str| {
            json!({"metadata": {"name": name}, "spec": {"minReplicas": 2, "maxReplicas": 9,
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": target}}})
        };
        let hpas = [
            hpa("web-hpa", "Deployment", "web"),
            hpa("db", "StatefulSet", "web"),
            hpa("api", "Deployment", "api"),
        ];
        assert_eq!(
            hpa_warning(&hpas, "Deployment", "web").as_deref(),
            Some("autoscaled by web-hpa (min 2, max 9): it may change the count back")
        );
        assert_eq!(hpa_warning(&hpas, "Deployment", "cart"), None);
    }
}
