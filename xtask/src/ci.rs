//! `ci`: every step, in the order that fails fastest on the commonest mistakes.
//!
//! Cheap checks (fmt, clippy, tidy) come before builds that link, and Windows under
//! Wine comes last because it is the slowest. All steps run whatever fails before
//! them; the table at the end says what passed.

use crate::step::Step;
use crate::{bench, clippy, doc, fmt, miri, setup_tools, test, tidy, wine_test};

/// The steps of `cargo xtask ci`.
pub(crate) fn steps() -> Vec<Step> {
    let mut steps = vec![fmt::step(), tidy::step()];
    steps.extend(clippy::steps(&[]));
    steps.push(setup_tools::step());
    steps.extend(test::steps());
    steps.push(doc::step());
    steps.push(bench::smoke_step());
    steps.push(miri::step());
    steps.extend(wine_test::steps(Vec::new()));
    steps
}
