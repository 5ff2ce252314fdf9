//! Drawing the network pane: the nodes table (sorted by conntrack
//! utilisation, a gauge and a 30-minute sparkline each), the LVS view
//! (virtual service -> real servers with their pods) and a node's detail
//! chart. The title always names the source being read.

use super::join::{findings, virt_name, Finding, Level, Lookup, Thresholds};
use super::model::{RegionNet, HISTORY_SECS};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::symbols;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Block, Borders, Chart, Dataset, GraphType, Paragraph, Row, Table, Widget,
};

/// What the pane shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum View {
    #[default]
    Nodes,
    Lvs,
    /// One node's chart: (region, node).
    Detail(String, String),
}

/// One region as the view needs it.
pub struct RegionView<'a> {
    pub name: &'a str,
    pub net: &'a RegionNet,
    pub lookup: &'a dyn Lookup,
    /// "direct scrape" or "Prometheus <url>".
    pub source: &'a str,
    /// The metrics badge: why the last poll failed.
    pub error: Option<&'a str>,
    /// The findings as of the last poll, if kept (else computed here).
    pub findings: Option<&'a [Finding]>,
}

impl RegionView<'_> {
    fn findings(&self, th: &Thresholds) -> Vec<Finding> {
        match self.findings {
            Some(f) => f.to_vec(),
            None => findings(self.net, self.lookup, th),
        }
    }
}

/// Names from a cluster or from metric labels, defused for the screen.
fn clean(s: &str) -> String {
    crate::sanitize::sanitize(s).into_owned()
}

const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A text sparkline of `width` cells over the last 30 minutes (fractions).
pub fn sparkline(points: &[(f64, f64)], now: f64, width: usize) -> String {
    let mut cells: Vec<Option<f64>> = vec![None; width];
    if width == 0 {
        return String::new();
    }
    for (t, v) in points {
        let age = now - t;
        if !(0.0..=HISTORY_SECS).contains(&age) {
            continue;
        }
        let i = ((1.0 - age / HISTORY_SECS) * (width as f64 - 1.0)).round() as usize;
        let c = &mut cells[i.min(width - 1)];
        *c = Some(c.map_or(*v, |x: f64| x.max(*v)));
    }
    cells
        .iter()
        .map(|c| match c {
            None => ' ',
            Some(v) => BLOCKS[((v.clamp(0.0, 1.0) * 7.0).round()) as usize],
        })
        .collect()
}

/// `█████░░░░░` for a fraction.
pub fn gauge(frac: f64, width: usize) -> String {
    let full = ((frac.clamp(0.0, 1.0)) * width as f64).round() as usize;
    format!("{}{}", "█".repeat(full), "░".repeat(width - full))
}

fn level_style(l: Level) -> Style {
    match l {
        Level::Critical => Style::new().red().add_modifier(Modifier::BOLD),
        Level::Warn => Style::new().yellow(),
        Level::Ok => Style::new(),
    }
}

fn title(regions: &[RegionView], what: &str) -> Line<'static> {
    let mut spans = vec![Span::raw(format!(" Network · {what} · "))];
    // one source for all, or each region's
    let mut sources: Vec<&str> = regions.iter().map(|r| r.source).collect();
    sources.dedup();
    let said = if sources.len() > 1 {
        regions
            .iter()
            .map(|r| format!("{} {}", r.name, r.source))
            .collect::<Vec<_>>()
            .join(" · ")
    } else {
        sources.join("")
    };
    spans.push(Span::raw(format!("source: {} ", clean(&said))));
    for r in regions {
        if let Some(e) = r.error {
            spans.push(Span::styled(
                clean(&format!("[{} metrics: {e}] ", r.name)),
                Style::new().red(),
            ));
        }
    }
    Line::from(spans)
}

/// Draw the pane into `area`. `cursor` is the selected row of the table.
pub fn render(
    regions: &[RegionView],
    view: &View,
    cursor: usize,
    th: &Thresholds,
    now: f64,
    area: Rect,
    buf: &mut Buffer,
) {
    match view {
        View::Nodes => nodes(regions, cursor, th, now, area, buf),
        View::Lvs => lvs(regions, cursor, area, buf),
        View::Detail(region, node) => detail(regions, region, node, th, now, area, buf),
    }
}

/// Node rows, hottest first: (region, node, utilisation).
pub fn node_rows<'a>(regions: &'a [RegionView<'a>]) -> Vec<(&'a str, &'a str, f64)> {
    let mut rows: Vec<(&str, &str, f64)> = regions
        .iter()
        .flat_map(|r| {
            r.net
                .nodes
                .iter()
                .map(move |(n, x)| (r.name, n.as_str(), x.utilisation().unwrap_or(0.0)))
        })
        .collect();
    rows.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(b.0)).then(a.1.cmp(b.1)));
    rows
}

fn nodes(
    regions: &[RegionView],
    cursor: usize,
    th: &Thresholds,
    now: f64,
    area: Rect,
    buf: &mut Buffer,
) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title(regions, "conntrack"));
    let inner = block.inner(area);
    block.render(area, buf);
    let flags: Vec<(Level, String)> = regions
        .iter()
        .flat_map(|r| {
            r.findings(th)
                .into_iter()
                .map(move |f| (f.level(), clean(&format!("{} {}", r.name, f.text()))))
        })
        .collect();
    let [table_area, flags_area] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length((flags.len().min(6) as u16).saturating_add(1)),
    ])
    .areas(inner);
    let spark_w = (table_area.width as usize).saturating_sub(70).clamp(10, 30);
    // only the rows on screen are built (a region may have 500 nodes)
    let visible = (table_area.height as usize).saturating_sub(1).max(1);
    let offset = cursor.saturating_sub(visible - 1);
    let rows = node_rows(regions)
        .into_iter()
        .enumerate()
        .skip(offset)
        .take(visible)
        .map(|(i, (region, node, u))| {
            let r = regions.iter().find(|r| r.name == region);
            let n = r.and_then(|r| r.net.nodes.get(node));
            let rates = n.map(|n| n.rates()).unwrap_or_default();
            let entries = n.and_then(|n| n.entries.last()).unwrap_or(0.0);
            let limit = n.map(|n| n.limit).unwrap_or(0.0);
            let pts: Vec<(f64, f64)> = n
                .map(|n| n.util.points.iter().copied().collect())
                .unwrap_or_default();
            let mut style = level_style(th.level(u));
            if rates.drop > 0.0 || rates.insert_failed > 0.0 {
                style = level_style(Level::Critical);
            }
            if i == cursor {
                style = style.add_modifier(Modifier::REVERSED);
            }
            let mark = match th.level(u) {
                Level::Critical => "!!",
                Level::Warn => "! ",
                Level::Ok => "  ",
            };
            Row::new(vec![
                format!("{mark}{region}"),
                clean(node),
                format!("{} {:>3.0}%", gauge(u, 10), u * 100.0),
                format!("{entries:.0}/{limit:.0}"),
                format!("{:.1}", rates.drop),
                format!("{:.1}", rates.insert_failed),
                sparkline(&pts, now, spark_w),
            ])
            .style(style)
        });
    let table = Table::new(
        rows,
        [
            Constraint::Length(14),
            Constraint::Length(22),
            Constraint::Length(15),
            Constraint::Length(14),
            Constraint::Length(7),
            Constraint::Length(9),
            Constraint::Length(spark_w as u16),
        ],
    )
    .header(
        Row::new(vec![
            "REGION",
            "NODE",
            "CONNTRACK",
            "ENTRIES",
            "DROP/s",
            "INSFAIL/s",
            "LAST 30m",
        ])
        .bold(),
    );
    Widget::render(table, table_area, buf);
    let mut lines = vec![Line::from(format!("flags: {}", flags.len())).bold()];
    for (l, t) in flags.iter().take(6) {
        lines.push(Line::styled(t.clone(), level_style(*l)));
    }
    Paragraph::new(lines).render(flags_area, buf);
}

fn lvs(regions: &[RegionView], cursor: usize, area: Rect, buf: &mut Buffer) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title(regions, "LVS"));
    let inner = block.inner(area);
    block.render(area, buf);
    // only the rows on screen are built (and their pods looked up)
    let visible = (inner.height as usize).saturating_sub(1).max(1);
    let offset = cursor.saturating_sub(visible - 1);
    let shown = offset..offset + visible;
    let mut rows = Vec::new();
    let mut i = 0usize;
    for r in regions {
        for (k, reals) in &r.net.virtuals {
            if i + reals.len() < shown.start {
                i += reals.len() + 1;
                continue;
            }
            if shown.contains(&i) {
                let row = Row::new(vec![
                    r.name.to_string(),
                    clean(&format!("{} on {}", virt_name(k), k.director)),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ])
                .bold();
                rows.push(if i == cursor { row.reversed() } else { row });
            }
            i += 1;
            for s in reals {
                if !shown.contains(&i) {
                    i += 1;
                    continue;
                }
                let (pod, ready, style) = match r.lookup.pod_by_ip(&s.ip) {
                    None => (
                        "no pod".to_string(),
                        "-".to_string(),
                        level_style(Level::Critical),
                    ),
                    Some(p) if !p.ready => (
                        clean(&format!("{}/{}", p.namespace, p.name)),
                        "not ready".to_string(),
                        level_style(Level::Warn),
                    ),
                    Some(p) => (
                        clean(&format!("{}/{}", p.namespace, p.name)),
                        "ready".to_string(),
                        Style::new(),
                    ),
                };
                let style = if s.weight == 0.0 && s.active > 0.0 {
                    level_style(Level::Warn)
                } else {
                    style
                };
                let row = Row::new(vec![
                    String::new(),
                    clean(&format!("  -> {}:{}", s.ip, s.port)),
                    pod,
                    ready,
                    format!("w={:.0}", s.weight),
                    format!("{:.0}/{:.0}", s.active, s.inactive),
                ])
                .style(style);
                rows.push(if i == cursor { row.reversed() } else { row });
                i += 1;
            }
            if i >= shown.end {
                break;
            }
        }
        if i >= shown.end {
            break;
        }
    }
    let table = Table::new(
        rows,
        [
            Constraint::Length(14),
            Constraint::Length(38),
            Constraint::Min(20),
            Constraint::Length(10),
            Constraint::Length(6),
            Constraint::Length(12),
        ],
    )
    .header(
        Row::new(vec![
            "REGION",
            "VIRTUAL -> REAL",
            "POD",
            "READY",
            "WEIGHT",
            "ACT/INACT",
        ])
        .bold(),
    );
    Widget::render(table, inner, buf);
}

#[allow(clippy::too_many_arguments)]
fn detail(
    regions: &[RegionView],
    region: &str,
    node: &str,
    th: &Thresholds,
    now: f64,
    area: Rect,
    buf: &mut Buffer,
) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title(regions, &clean(&format!("{region}/{node}"))));
    let inner = block.inner(area);
    block.render(area, buf);
    let n = regions
        .iter()
        .find(|r| r.name == region)
        .and_then(|r| r.net.nodes.get(node));
    let Some(n) = n else {
        Paragraph::new("no figures for this node yet").render(inner, buf);
        return;
    };
    let pts: Vec<(f64, f64)> = n
        .util
        .points
        .iter()
        .map(|(t, v)| ((t - now) / 60.0, v * 100.0))
        .collect();
    let warn = [(-30.0, th.warn * 100.0), (0.0, th.warn * 100.0)];
    let crit = [(-30.0, th.critical * 100.0), (0.0, th.critical * 100.0)];
    let r = n.rates();
    let [head, chart_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(inner);
    Paragraph::new(format!(
        "conntrack {:.0}% ({:.0}/{:.0})  drop {:.1}/s  insert_failed {:.1}/s  early_drop {:.1}/s",
        n.utilisation().unwrap_or(0.0) * 100.0,
        n.entries.last().unwrap_or(0.0),
        n.limit,
        r.drop,
        r.insert_failed,
        r.early_drop
    ))
    .render(head, buf);
    let datasets = vec![
        Dataset::default()
            .name("utilisation %")
            .marker(symbols::Marker::Braille)
            .graph_type(GraphType::Line)
            .data(&pts),
        Dataset::default()
            .name("warn")
            .graph_type(GraphType::Line)
            .style(Style::new().yellow())
            .data(&warn),
        Dataset::default()
            .name("critical")
            .graph_type(GraphType::Line)
            .style(Style::new().red())
            .data(&crit),
    ];
    Chart::new(datasets)
        .x_axis(
            Axis::default()
                .bounds([-30.0, 0.0])
                .labels(["-30m", "-15m", "now"]),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, 100.0])
                .labels(["0", "50", "100%"]),
        )
        .render(chart_area, buf);
}

/// Triage lines for the network: hot nodes, drops and stale backends
/// (with their level), per region.
pub fn triage(regions: &[RegionView], th: &Thresholds) -> Vec<(Level, String)> {
    regions
        .iter()
        .flat_map(|r| {
            r.findings(th)
                .into_iter()
                .filter(|f| {
                    matches!(
                        f,
                        Finding::Conntrack { .. }
                            | Finding::Drops { .. }
                            | Finding::StaleBackend { .. }
                    )
                })
                .map(move |f| (f.level(), clean(&format!("{}: {}", r.name, f.text()))))
        })
        .collect()
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
