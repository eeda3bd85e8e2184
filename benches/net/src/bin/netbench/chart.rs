//! The ratio bar chart (`ratios.svg`), written by hand: grouped bars, one group per
//! workload, one bar per server, a dashed line at 1.0 (tokio current_thread).

use std::fmt::Write as _;

/// Chart width and height, pixels.
const WIDTH: f64 = 960.0;
/// See `WIDTH`.
const HEIGHT: f64 = 400.0;
/// Space left of, right of, above and below the plot area.
const LEFT: f64 = 56.0;
/// See `LEFT`.
const RIGHT: f64 = 16.0;
/// See `LEFT`.
const TOP: f64 = 64.0;
/// See `LEFT`.
const BOTTOM: f64 = 40.0;
/// One colour per server slot, in table order (sock first, in red).
const COLOURS: [&str; 8] = [
    "#d62728", "#1f77b4", "#e377c2", "#9ecae1", "#2ca02c", "#ff7f0e", "#7f7f7f", "#9467bd",
];

/// One workload's bars.
pub(crate) struct Group {
    /// Shown under the bars.
    pub(crate) label: String,
    /// `(server slot, ratio)` for each server measured.
    pub(crate) bars: Vec<(usize, f64)>,
}

/// The whole SVG document for `groups`, with a legend naming `servers` by slot; each
/// server is `(name, colour index)` so a server keeps its colour whatever subset runs.
pub(crate) fn svg(title: &str, servers: &[(&str, usize)], groups: &[Group]) -> String {
    let top_ratio = groups
        .iter()
        .flat_map(|g| g.bars.iter().map(|b| b.1))
        .fold(1.0f64, f64::max);
    let y_max = ((top_ratio * 1.1).max(1.2) * 5.0).ceil() / 5.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        out,
        r#"<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#
    );
    let _ = writeln!(
        out,
        r#"<text x="{}" y="20" text-anchor="middle" font-size="15" font-weight="bold">{}</text>"#,
        WIDTH / 2.0,
        escape(title)
    );
    legend(&mut out, servers);
    axis(&mut out, y_max);
    bars(&mut out, servers, groups, y_max);
    if groups.is_empty() {
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" text-anchor="middle">no data</text>"#,
            WIDTH / 2.0,
            HEIGHT / 2.0
        );
    }
    out.push_str("</svg>\n");
    out
}

/// A row of coloured squares with server names under the title.
fn legend(out: &mut String, servers: &[(&str, usize)]) {
    let step = (WIDTH - LEFT - RIGHT) / servers.len().max(1) as f64;
    for (slot, &(name, colour)) in servers.iter().enumerate() {
        let x = LEFT + slot as f64 * step;
        let _ = writeln!(
            out,
            r#"<rect x="{x:.1}" y="32" width="12" height="12" fill="{}"/><text x="{:.1}" y="42">{}</text>"#,
            COLOURS[colour % COLOURS.len()],
            x + 16.0,
            escape(name)
        );
    }
}

/// Horizontal grid lines with their values, and the dashed 1.0 line.
fn axis(out: &mut String, y_max: f64) {
    let step = if y_max > 3.0 { 0.5 } else { 0.2 };
    let mut v = 0.0;
    while v <= y_max + 1e-9 {
        let y = y_of(v, y_max);
        let _ = writeln!(
            out,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{v:.1}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0
        );
        v += step;
    }
    let y = y_of(1.0, y_max);
    let _ = writeln!(
        out,
        r##"<line x1="{LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#333" stroke-dasharray="6 4"/>"##,
        WIDTH - RIGHT
    );
    let _ = writeln!(
        out,
        r#"<text x="14" y="{:.1}" transform="rotate(-90 14 {:.1})" text-anchor="middle">× tokio current_thread</text>"#,
        TOP + plot_height() / 2.0,
        TOP + plot_height() / 2.0
    );
}

/// The bars, their values and the group labels.
fn bars(out: &mut String, servers: &[(&str, usize)], groups: &[Group], y_max: f64) {
    let group_width = (WIDTH - LEFT - RIGHT) / groups.len().max(1) as f64;
    let bar_width = group_width * 0.8 / servers.len().max(1) as f64;
    for (g, group) in groups.iter().enumerate() {
        let x0 = LEFT + g as f64 * group_width + group_width * 0.1;
        for &(slot, ratio) in &group.bars {
            let x = x0 + slot as f64 * bar_width;
            let y = y_of(ratio, y_max);
            let _ = writeln!(
                out,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{ratio:.2}</title></rect><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="8">{ratio:.2}</text>"#,
                bar_width * 0.9,
                y_of(0.0, y_max) - y,
                COLOURS[servers.get(slot).map_or(slot, |s| s.1) % COLOURS.len()],
                x + bar_width * 0.45,
                y - 3.0
            );
        }
        for slot in (0..servers.len()).filter(|s| !group.bars.iter().any(|b| b.0 == *s)) {
            let x = x0 + (slot as f64 + 0.45) * bar_width;
            let y = y_of(0.0, y_max) - 4.0;
            let _ = writeln!(
                out,
                r##"<text x="{x:.1}" y="{y:.1}" text-anchor="middle" font-size="9" fill="#888">n/a</text>"##
            );
        }
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            LEFT + (g as f64 + 0.5) * group_width,
            HEIGHT - BOTTOM + 18.0,
            escape(&group.label)
        );
    }
}

/// Height of the plot area.
fn plot_height() -> f64 {
    HEIGHT - TOP - BOTTOM
}

/// The y pixel of value `v`.
fn y_of(v: f64, y_max: f64) -> f64 {
    TOP + plot_height() * (1.0 - v.clamp(0.0, y_max) / y_max)
}

/// Escapes text for SVG.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_tallest_ratio() {
        let groups = [Group {
            label: "echo N=64".to_owned(),
            bars: vec![(0, 2.0), (1, 1.0)],
        }];
        let doc = svg("t", &[("a", 0), ("b", 1)], &groups);
        assert!(doc.starts_with("<svg") && doc.ends_with("</svg>\n"));
        assert_eq!(doc.matches("<title>").count(), 2);
        let bars: Vec<f64> = doc
            .lines()
            .filter(|line| line.contains("<title>"))
            .filter_map(|line| {
                line.split("height=\"")
                    .nth(1)?
                    .split('"')
                    .next()?
                    .parse()
                    .ok()
            })
            .collect();
        assert_eq!(bars.len(), 2, "{doc}");
        assert!((bars[0] / bars[1] - 2.0).abs() < 0.01, "{bars:?}");
    }
}
