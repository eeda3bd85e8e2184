//! `ci`: every step, in the order that fails fastest on the commonest mistakes.
//!
//! Cheap checks that need nothing outside the Rust toolchain (fmt, tidy) come first;
//! then `setup-tools` installs every outside program a later step runs (mingw for
//! clippy's Windows check, curl, wrk and openssl for the tests, strace for `faults`,
//! valgrind for `icount`, Wine); then clippy, the builds that link (the tests, then the fault
//! injection and the soaks, which reuse the stress step's release build; `icount`
//! right after `bench-smoke`, whose optimized build of the dependencies it reuses),
//! and Windows under Wine last because it is the slowest. All steps run whatever fails
//! before them; the table at the end says what passed. A unit test in
//! [`crate::needs`] checks that each step's needed programs come before it.

use crate::step::Step;
use crate::{
    bench, chaos, clippy, deps, doc, faults, features, fmt, fuzz, icount, miri, package, sanitize,
    setup_tools, sim, soak, test, tidy, wine_test,
};

/// The steps of `cargo xtask ci`.
pub(crate) fn steps() -> Vec<Step> {
    let mut steps = vec![fmt::step(), tidy::step(), deps::step(), setup_tools::step()];
    steps.extend(clippy::steps(&[]));
    steps.extend(test::steps());
    steps.push(faults::step(Vec::new()));
    steps.push(soak::step());
    steps.push(chaos::step(Vec::new()));
    steps.push(sim::ci_step());
    steps.push(features::step());
    steps.push(doc::step());
    steps.push(package::step());
    steps.push(bench::smoke_step());
    steps.push(icount::step(false));
    steps.push(miri::step());
    steps.push(sanitize::asan_step());
    steps.push(sanitize::tsan_step());
    steps.push(fuzz::step());
    steps.extend(wine_test::steps(Vec::new()));
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_injection_and_the_soaks_follow_the_stress_step() {
        let names: Vec<String> = steps().into_iter().map(|step| step.name).collect();
        let at = |name: &str| names.iter().position(|n| n == name);
        let stress = at("stress").expect("a stress step");
        assert_eq!(at("faults"), Some(stress + 1));
        assert_eq!(at("soak"), Some(stress + 2));
    }
}
