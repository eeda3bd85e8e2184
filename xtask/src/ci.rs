//! `ci`: every step, in the order that fails fastest on the commonest mistakes.
//!
//! Cheap checks that need nothing outside the Rust toolchain (fmt, tidy) come first;
//! then `setup-tools` installs every outside program a later step runs (mingw for
//! clippy's Windows check, curl and wrk for the tests, Wine); then clippy, the builds
//! that link, the nightly checks (miri, the sanitizers, fuzzing), and Windows under Wine
//! last because it is the slowest. All steps run
//! whatever fails before them; the table at the end says what passed. A unit test in
//! [`crate::needs`] checks that each step's needed programs come before it.

use crate::step::Step;
use crate::{bench, clippy, doc, fmt, fuzz, miri, sanitize, setup_tools, test, tidy, wine_test};

/// The steps of `cargo xtask ci`.
pub(crate) fn steps() -> Vec<Step> {
    let mut steps = vec![fmt::step(), tidy::step(), setup_tools::step()];
    steps.extend(clippy::steps(&[]));
    steps.extend(test::steps());
    steps.push(doc::step());
    steps.push(bench::smoke_step());
    steps.push(miri::step());
    steps.push(sanitize::asan_step());
    steps.push(sanitize::tsan_step());
    steps.push(fuzz::step());
    steps.extend(wine_test::steps(Vec::new()));
    steps
}
