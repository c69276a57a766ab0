//! The chart shapes the report draws, each to an SVG string with plotters: horizontal bars for
//! ranked categories, vertical bars for buckets and months, lines for several series per month,
//! stacked bars for spend per period and spans for the id space. Text goes into `<text>` elements
//! in a generic font family (plotters escapes it), so no font file is needed.

use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::{RangedCoordf64, RangedCoordusize};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Width of every chart, in pixels (the page scales it down on narrow screens).
pub const WIDTH: u32 = 1100;
/// The font of every chart.
const FONT: &str = "sans-serif";
/// Series colors (Tableau 10), in order.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(78, 121, 167),
    RGBColor(242, 142, 43),
    RGBColor(225, 87, 89),
    RGBColor(118, 183, 178),
    RGBColor(89, 161, 79),
    RGBColor(237, 201, 72),
    RGBColor(176, 122, 161),
    RGBColor(255, 157, 167),
    RGBColor(156, 117, 95),
    RGBColor(186, 176, 172),
];

/// A chart plotters could not draw (a coordinate or text it refused).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DrawError(String);

fn fail<E: std::fmt::Display>(error: E) -> DrawError {
    DrawError(error.to_string())
}

/// Draws on a white area of `height` pixels and returns the SVG text.
fn draw(
    height: u32,
    body: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<(), DrawError>,
) -> Result<String, DrawError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(fail)?;
        body(&root)?;
        root.present().map_err(fail)?;
    }
    Ok(svg)
}

/// Columns over `labels` (one segment each; blank labels are not drawn) up to `top`, with the
/// mesh every column chart shares: the chart to draw the series on.
fn column_chart<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    labels: &[String],
    top: f64,
    (x_desc, y_desc): (&str, &str),
) -> Result<ChartContext<'a, SVGBackend<'b>, Cartesian2d<SegmentedCoord<RangedCoordusize>, RangedCoordf64>>, DrawError>
{
    let n = labels.len();
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d((0usize..n).into_segmented(), 0f64..top)
        .map_err(fail)?;
    chart
        .configure_mesh()
        .max_light_lines(1)
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|v| segment_label(labels, v))
        .y_labels(8)
        .y_label_formatter(&|v| axis_number(*v))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        .draw()
        .map_err(fail)?;
    Ok(chart)
}

/// Rows over `labels` (one segment each, the first at the bottom) from 0 to `end`, with the mesh
/// every row chart shares; `(label_width, label_size)` fit its labels.
fn row_chart<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    labels: &[String],
    end: f64,
    x_desc: &str,
    (label_width, label_size): (u32, u32),
) -> Result<ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, SegmentedCoord<RangedCoordusize>>>, DrawError>
{
    let n = labels.len();
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(label_width)
        .build_cartesian_2d(0f64..end, (0usize..n).into_segmented())
        .map_err(fail)?;
    chart
        .configure_mesh()
        .max_light_lines(1)
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|v| segment_label(labels, v))
        .x_labels(8)
        .x_label_formatter(&|v| axis_number(*v))
        .x_desc(x_desc)
        .label_style((FONT, label_size))
        .axis_desc_style((FONT, 15))
        .draw()
        .map_err(fail)?;
    Ok(chart)
}

/// `text` cut to `max` characters with an ellipsis: long names must not push the plot away.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A nice upper bound for an axis holding `max` (at least 1).
fn axis_max(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() { 1.0 } else { max * 1.08 }
}

/// The label of segment `value` among `labels`, or nothing between segments.
fn segment_label(labels: &[String], value: &SegmentValue<usize>) -> String {
    match value {
        SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
        _ => String::new(),
    }
}

/// Only every `step`-th label, so that dense axes stay readable.
fn thin(labels: &[String], step: usize) -> Vec<String> {
    labels.iter().enumerate().map(|(i, l)| if i % step.max(1) == 0 { l.clone() } else { String::new() }).collect()
}

/// Horizontal bars, first bar on top: ranked categories (languages, workflows). `value_text`
/// is written at the end of each bar.
pub fn horizontal_bars(x_desc: &str, bars: &[(String, f64, String)], x_max: Option<f64>) -> Result<String, DrawError> {
    let n = bars.len();
    let labels: Vec<String> = bars.iter().rev().map(|(label, _, _)| truncate(label, 32)).collect();
    let top = x_max.unwrap_or_else(|| axis_max(bars.iter().map(|b| b.1).fold(0.0, f64::max) * 1.1));
    draw(90 + 26 * n as u32, |root| {
        let mut chart = row_chart(root, &labels, top, x_desc, (250, 14))?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, (_, value, _))| {
                let row = n - 1 - i;
                let mut bar = Rectangle::new(
                    [(0.0, SegmentValue::Exact(row)), (*value, SegmentValue::Exact(row + 1))],
                    PALETTE[0].filled(),
                );
                bar.set_margin(4, 4, 0, 0);
                bar
            }))
            .map_err(fail)?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, (_, value, text))| {
                let style = TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
                Text::new(format!(" {text}"), (*value, SegmentValue::CenterOf(n - 1 - i)), style)
            }))
            .map_err(fail)?;
        Ok(())
    })
}

/// Vertical bars over labelled buckets (star buckets, months), every `label_step`-th labelled.
pub fn vertical_bars(
    x_desc: &str,
    y_desc: &str,
    bars: &[(String, i64)],
    label_step: usize,
) -> Result<String, DrawError> {
    let labels = thin(&bars.iter().map(|(l, _)| l.clone()).collect::<Vec<_>>(), label_step);
    let top = axis_max(bars.iter().map(|b| b.1).max().unwrap_or(0) as f64);
    draw(420, |root| {
        let mut chart = column_chart(root, &labels, top, (x_desc, y_desc))?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, (_, count))| {
                let mut bar = Rectangle::new(
                    [(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), *count as f64)],
                    PALETTE[0].filled(),
                );
                bar.set_margin(0, 0, 1, 1);
                bar
            }))
            .map_err(fail)?;
        Ok(())
    })
}

/// Lines of several series over the same months, with a legend; a dot on every point, so that a
/// single month still shows.
pub fn month_lines(y_desc: &str, months: &[String], series: &[(String, Vec<i64>)]) -> Result<String, DrawError> {
    let n = months.len();
    let labels = thin(months, n.div_ceil(14));
    let top = axis_max(series.iter().flat_map(|(_, v)| v.iter().copied()).max().unwrap_or(0) as f64);
    draw(440, |root| {
        let mut chart = column_chart(root, &labels, top, ("month", y_desc))?;
        for (k, (name, values)) in series.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let points = values.iter().enumerate().map(|(i, v)| (SegmentValue::CenterOf(i), *v as f64));
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(fail)?
                .label(name.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled()));
            chart.draw_series(points.map(|p| Circle::new(p, 3, color.filled()))).map_err(fail)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()
            .map_err(fail)?;
        Ok(())
    })
}

/// Stacked bars per period, one color per series, with a legend (API spend per shard).
pub fn stacked_bars(
    x_desc: &str,
    y_desc: &str,
    periods: &[String],
    series: &[(String, Vec<i64>)],
) -> Result<String, DrawError> {
    let n = periods.len();
    let labels = thin(periods, n.div_ceil(10));
    let totals: Vec<i64> = (0..n).map(|i| series.iter().map(|(_, v)| v[i]).sum()).collect();
    let top = axis_max(totals.iter().copied().max().unwrap_or(0) as f64);
    draw(460, |root| {
        let mut chart = column_chart(root, &labels, top, (x_desc, y_desc))?;
        let mut base = vec![0i64; n];
        for (k, (name, values)) in series.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let bars: Vec<_> = values
                .iter()
                .enumerate()
                .filter(|(_, v)| **v > 0)
                .map(|(i, v)| {
                    let mut bar = Rectangle::new(
                        [(SegmentValue::Exact(i), base[i] as f64), (SegmentValue::Exact(i + 1), (base[i] + v) as f64)],
                        color.filled(),
                    );
                    bar.set_margin(0, 0, 2, 2);
                    bar
                })
                .collect();
            for (i, v) in values.iter().enumerate() {
                base[i] += v;
            }
            chart
                .draw_series(bars)
                .map_err(fail)?
                .label(name.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font((FONT, 13))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()
            .map_err(fail)?;
        Ok(())
    })
}

/// One span of the id space on one row.
pub struct Span {
    /// The row (0: top).
    pub row: usize,
    /// First id.
    pub from: f64,
    /// First id past it.
    pub to: f64,
    /// Index into the legend (its color).
    pub kind: usize,
}

/// Spans on rows over a numeric axis from 0 to `x_end` (the id space of each shard), colored by
/// kind with a legend.
pub fn spans(x_desc: &str, rows: &[String], spans: &[Span], kinds: &[&str], x_end: f64) -> Result<String, DrawError> {
    let n = rows.len();
    let labels: Vec<String> = rows.iter().rev().map(|r| truncate(r, 34)).collect();
    draw(110 + 24 * n as u32, |root| {
        let mut chart = row_chart(root, &labels, x_end.max(1.0), x_desc, (260, 13))?;
        for (k, kind) in kinds.iter().enumerate() {
            let color = status_color(kind);
            let shapes: Vec<_> = spans
                .iter()
                .filter(|s| s.kind == k)
                .map(|s| {
                    let row = n - 1 - s.row;
                    let mut bar = Rectangle::new(
                        [
                            (s.from.min(x_end), SegmentValue::Exact(row)),
                            (s.to.min(x_end), SegmentValue::Exact(row + 1)),
                        ],
                        color.filled(),
                    );
                    bar.set_margin(3, 3, 0, 0);
                    bar
                })
                .collect();
            chart
                .draw_series(shapes)
                .map_err(fail)?
                .label(*kind)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font((FONT, 13))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()
            .map_err(fail)?;
        Ok(())
    })
}

/// The color of a work item status: done green, failed red, the rest grey or orange.
fn status_color(status: &str) -> RGBColor {
    match status {
        "completed" => PALETTE[4],
        "failed" => PALETTE[2],
        "processing" => PALETTE[1],
        _ => PALETTE[9],
    }
}

/// An axis number: integers with thousands separators, large ones short (`1.5M`), fractions
/// with one decimal.
pub fn axis_number(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.1}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if (v - v.round()).abs() < 1e-9 {
        super::chart_queries::thousands(v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shapes(svg: &str) -> usize {
        ["<rect", "<path", "<polyline", "<circle", "<line"].iter().map(|tag| svg.matches(tag).count()).sum()
    }

    #[test]
    fn every_shape_draws_an_svg_with_its_text_escaped() {
        let bars = [("<b>Rust</b>".to_string(), 3.0, "3".to_string()), ("Go".to_string(), 1.0, "1".to_string())];
        let svg = horizontal_bars("repositories", &bars, None).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("&lt;b&gt;Rust&lt;/b&gt;") && !svg.contains("<b>"), "{svg}");
        assert!(shapes(&svg) > 4);
        let svg = vertical_bars("stars", "repositories", &[("0".into(), 2), ("1-9".into(), 5)], 1).unwrap();
        assert!(svg.contains(">1-9") || svg.contains("1-9\n"), "{svg}");
        let months = vec!["2024-01".to_string()];
        let svg = month_lines("items", &months, &[("opened".into(), vec![4])]).unwrap();
        assert!(svg.contains("<circle"), "a single month still shows as a dot");
        let svg = stacked_bars("hour", "cost", &months, &[("a".into(), vec![1]), ("b".into(), vec![2])]).unwrap();
        assert!(svg.matches("<rect").count() >= 3);
        let rows = vec!["shard-0000".to_string()];
        let svg = spans("id", &rows, &[Span { row: 0, from: 0.0, to: 5.0, kind: 0 }], &["completed"], 10.0).unwrap();
        assert!(svg.contains("shard-0000") && svg.contains("completed"));
    }

    #[test]
    fn labels_are_cut_and_axis_numbers_short() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
        assert_eq!(axis_number(1234.0), "1,234");
        assert_eq!(axis_number(0.5), "0.5");
        assert_eq!(axis_number(25_000.0), "25k");
        assert_eq!(axis_number(1_500_000.0), "1.5M");
    }
}
