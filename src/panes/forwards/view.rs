//! The forwards pane: one row per forward started here.

use super::state::ForwardSpec;
use crate::sanitize::sanitize;
use crate::state::State;
use crate::tasks::TaskState;
use crate::theme::Styles;
use crate::widgets::frame;
use crate::widgets::table::row_style;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use ratatui::Frame;

/// `12.3 KiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

pub fn draw(state: &State, styles: &Styles, frame: &mut Frame, area: Rect, focused: bool) {
    let fw = &state.forwards;
    let running = fw.rows.values().filter(|r| !r.ended).count();
    let title = format!(" Port-forwards {running} running (x stop, X stop all) ");
    let inner = frame::pane(frame, styles, area, title, focused);
    if inner.height < 2 || inner.width < 20 {
        return;
    }
    if fw.rows.is_empty() {
        frame.render_widget(
            Paragraph::new("no port-forwards: F on a pod starts one").style(styles.get("ui.dim")),
            inner,
        );
        return;
    }
    // beside other panes in the top row: the columns that say the most
    let narrow = inner.width < 110;
    let names: &[&str] = if narrow {
        &["LOCAL", "TARGET", "STATE", "IN/OUT"]
    } else {
        &[
            "LOCAL",
            "TARGET",
            "POD",
            "STATE",
            "CONN",
            "IN",
            "OUT",
            "LAST ERROR",
        ]
    };
    let header = Row::new(names.iter().copied()).style(styles.get("ui.header"));
    let visible = inner.height.saturating_sub(1) as usize;
    let skip = fw.cursor.saturating_sub(visible.saturating_sub(1));
    let rows = fw
        .rows
        .iter()
        .enumerate()
        .skip(skip)
        .take(visible)
        .map(|(i, (key, r))| {
            let s = &r.spec;
            let (st, failure) = match state.tasks.get(key) {
                Some(TaskState::Starting) | None if !r.ended => ("starting", None),
                Some(TaskState::Running(_)) => ("forwarding", None),
                Some(TaskState::Failed(why)) => ("failed", Some(why.clone())),
                _ => ("stopped", None),
            };
            let st = st.to_string();
            let target = target_of(s);
            let last_error = failure
                .or_else(|| r.stats.last_error.clone())
                .unwrap_or_default();
            let local = format!("127.0.0.1:{}", s.local);
            let cells: Vec<String> = if narrow {
                let io = format!("{}/{}", bytes(r.stats.bytes_in), bytes(r.stats.bytes_out));
                vec![local, target, st, io]
            } else {
                vec![
                    local,
                    target,
                    r.stats.pod.clone(),
                    st,
                    format!("{} ({})", r.stats.active, r.stats.total),
                    bytes(r.stats.bytes_in),
                    bytes(r.stats.bytes_out),
                    last_error,
                ]
            };
            let cells = cells
                .into_iter()
                .map(|c| Cell::from(sanitize(&c).into_owned()));
            let base = if r.ended {
                styles.get("ui.dim")
            } else {
                styles.get("ui.text")
            };
            Row::new(cells).style(row_style(styles, focused && i == fw.cursor, false, base))
        });
    // the target column fits the longest target, so none is cut
    let target_w = fw
        .rows
        .values()
        .map(|r| target_of(&r.spec).chars().count())
        .max()
        .unwrap_or(0)
        .clamp(12, 64) as u16;
    let widths: &[Constraint] = if narrow {
        &[
            Constraint::Length(16),
            Constraint::Fill(1),
            Constraint::Length(12),
            Constraint::Length(18),
        ]
    } else {
        &[
            Constraint::Length(16),
            Constraint::Length(target_w),
            Constraint::Fill(2),
            Constraint::Length(12),
            Constraint::Length(8),
            Constraint::Length(10),
            Constraint::Length(10),
            Constraint::Fill(2),
        ]
    };
    frame.render_widget(
        Table::new(rows, widths.iter().copied()).header(header),
        inner,
    );
}

/// `region/namespace/target:port`, as the TARGET column shows it.
fn target_of(s: &ForwardSpec) -> String {
    format!(
        "{}/{}/{}:{}",
        s.region_name,
        s.namespace,
        s.target.label(),
        s.remote
    )
}
