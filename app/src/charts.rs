//! Charts drawn on the server as SVG with plotters: no chart library in the browser, the same
//! picture on screen and on paper. The SVG scales to its container (it keeps its viewBox).

use aegis_core::model::{Bucket, Metric, Trend};
use plotters::prelude::*;

const WIDTH: u32 = 640;
const HEIGHT: u32 = 260;
/// The design system's chart colours (style/main.css), in series order.
const PALETTE: [RGBColor; 6] = [
    RGBColor(0x2f, 0x5b, 0xea),
    RGBColor(0x16, 0xa3, 0x4a),
    RGBColor(0xdc, 0x26, 0x26),
    RGBColor(0xd9, 0x77, 0x06),
    RGBColor(0x7c, 0x3a, 0xed),
    RGBColor(0x64, 0x74, 0x8b),
];
const GRID: RGBColor = RGBColor(0xe5, 0xe7, 0xeb);
const INK: RGBColor = RGBColor(0x47, 0x55, 0x69);

/// The trend as an SVG document.
pub fn render(trend: &Trend) -> Result<String, String> {
    let mut svg = String::new();
    draw(trend, &mut svg).map_err(|e| e.to_string())?;
    // Scale with the page: drop the fixed size, keep the viewBox.
    let responsive = svg.replacen(
        &format!(r#"width="{WIDTH}" height="{HEIGHT}""#),
        r#"width="100%" preserveAspectRatio="xMidYMid meet" role="img""#,
        1,
    );
    Ok(responsive)
}

fn draw<'a>(trend: &Trend, out: &'a mut String) -> Result<(), Box<dyn std::error::Error + 'a>> {
    let root = SVGBackend::with_string(out, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    // x is the bucket's index, so that ticks fall on whole hours or days.
    let width = trend.bucket.micros() / 1_000_000;
    let start = trend.from.timestamp().div_euclid(width) * width;
    let buckets = ((trend.to.timestamp() - start) as f64 / width as f64).ceil().max(1.0) as i64;
    let index = |t: &chrono::DateTime<chrono::Utc>| (t.timestamp() - start) / width;
    let peak = trend.series.iter().flat_map(|s| s.points.iter().map(|(_, v)| *v)).fold(0.0_f64, f64::max);
    let metric = trend.metric;
    let (y_max, y_labels) = match metric {
        Metric::PassRate => (1.0, 5),
        // A tenth of a cent, when nothing was spent.
        Metric::Cost if peak <= 0.0 => (1_000.0, 3),
        Metric::Latency => ((peak * 1.15).max(1.0), 5),
        // Whole counts: no more labels than there are integers to show.
        _ => {
            let top = (peak * 1.15).max(1.0);
            (top, (top.floor() as usize + 1).min(5))
        }
    };
    let bucket = trend.bucket;
    let font = ("sans-serif", 14).into_font().color(&INK);

    let mut chart = ChartBuilder::on(&root)
        .margin_top(14)
        .margin_right(18)
        .x_label_area_size(30)
        .y_label_area_size(76)
        .build_cartesian_2d(0..buckets, 0.0..y_max)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .axis_style(GRID)
        .x_labels(6)
        .y_labels(y_labels)
        .label_style(font.clone())
        .x_label_formatter(&|i| time_label(start + i * width, bucket))
        .y_label_formatter(&|v| value_label(*v, metric))
        .draw()?;

    let has_points = trend.series.iter().any(|s| !s.points.is_empty());
    for (i, series) in trend.series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let points: Vec<(i64, f64)> = series.points.iter().map(|(t, v)| (index(t), *v)).collect();
        if i == 0 && matches!(metric, Metric::Volume | Metric::PassRate) {
            chart.draw_series(AreaSeries::new(points.iter().copied(), 0.0, color.mix(0.08)))?;
        }
        // Ratios and percentiles exist only for buckets with traces: markers keep a lone one
        // visible, where a line needs two.
        if matches!(metric, Metric::PassRate | Metric::Latency) {
            chart.draw_series(points.iter().map(|p| Circle::new(*p, 3, color.filled())))?;
        }
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))?
            .label(series.name.replace('_', " "))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], color.stroke_width(3)));
    }
    if trend.series.len() > 1 && has_points {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(GRID)
            .label_font(font)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

fn time_label(t: i64, bucket: Bucket) -> String {
    let Some(t) = chrono::DateTime::from_timestamp(t, 0) else { return String::new() };
    match bucket {
        Bucket::Hour => t.format("%d %b %H:%M").to_string(),
        Bucket::Day => t.format("%d %b").to_string(),
    }
}

fn value_label(v: f64, metric: Metric) -> String {
    match metric {
        Metric::PassRate => format!("{:.0}%", v * 100.0),
        // Micro-dollars on the axis, dollars on the label.
        Metric::Cost => crate::format::usd((v.round()) as i64),
        Metric::Latency => format!("{v:.1} ms"),
        Metric::Volume | Metric::Issues => {
            if v >= 1000.0 {
                format!("{:.1}k", v / 1000.0)
            } else {
                format!("{v:.0}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aegis_core::model::{Series, StatusCounts, TrendPoint};
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn draws_a_scalable_svg_with_every_series() {
        let from = Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap();
        let points: Vec<TrendPoint> = (0..24)
            .map(|h| TrendPoint {
                t: from + Duration::hours(h),
                status_counts: StatusCounts { pass: 10 + h, fail: h % 3, needs_review: 1, error: 0 },
                cost_micro_usd: 1_000 * h,
                cost_by_tier: [0, 0, 0, 1_000 * h, 0],
                p50_latency_ms: Some(0.2),
                p95_latency_ms: Some(1.5),
                p99_latency_ms: Some(3.0),
                issues: Default::default(),
            })
            .collect();
        for metric in Metric::ALL {
            let trend = Trend::of(metric, Bucket::Hour, from, from + Duration::hours(24), &points);
            let svg = render(&trend).unwrap();
            assert!(svg.starts_with("<svg"), "{metric:?}");
            assert!(svg.contains(r#"width="100%""#) && svg.contains("viewBox"), "{metric:?}: scales to the page");
            let root = &svg[..svg.find('>').unwrap()];
            assert!(!root.contains("height="), "{root}");
        }
        let volume =
            render(&Trend::of(Metric::Volume, Bucket::Hour, from, from + Duration::hours(24), &points)).unwrap();
        assert!(volume.contains("needs review"), "the legend names the series");
        let empty = Trend {
            series: vec![Series { name: "total".into(), points: vec![] }],
            ..Trend::of(Metric::Volume, Bucket::Day, from, from + Duration::days(7), &[])
        };
        assert!(render(&empty).unwrap().starts_with("<svg"), "an empty range still draws axes");
    }
}
