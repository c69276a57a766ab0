//! Reports of a crawl database for people: the HTML page of charts ([`html`], drawn by
//! [`charts`]). Each reads the database read-only and aggregates in SQL.

mod chart_queries;
mod chart_svg;
pub mod charts;
pub mod html;
