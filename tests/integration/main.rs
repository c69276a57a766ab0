//! Integration tests: the real `octoshard` binary against the simulated GitHub (`fakehub`).
//! One test binary with modules, so the suite links once.

mod analyze;
mod code;
mod deep;
mod errors;
mod export;
mod faults;
mod honesty;
mod pipeline;
mod planner;
mod policy;
mod refresh;
mod report;
mod report_html;
mod resume;
mod util;
mod workflow;
