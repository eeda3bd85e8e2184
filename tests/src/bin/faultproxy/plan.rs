//! The faults of one connection, drawn from the run's seed and the connection's
//! number: about a quarter are delayed, a sixth written byte by byte, a fifth cut
//! (half dropped with FIN, half reset with RST), some of those before a byte moved.

use sock_tests::harness::rng::Rng;

/// A direction of a proxied connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dir {
    /// Client to server.
    Up,
    /// Server to client.
    Down,
}

impl Dir {
    /// `up` or `down`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Dir::Up => "up",
            Dir::Down => "down",
        }
    }
}

/// How a connection is cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CutKind {
    /// Both sockets shut down: the ends see EOF.
    Drop,
    /// Both sockets closed with `SO_LINGER` 0: the ends see a reset.
    Rst,
}

impl CutKind {
    /// `drop` or `rst`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            CutKind::Drop => "drop",
            CutKind::Rst => "rst",
        }
    }
}

/// A cut of the connection once `at` bytes went through in direction `dir`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cut {
    pub(crate) kind: CutKind,
    pub(crate) dir: Dir,
    pub(crate) at: u64,
}

/// What the proxy does to one connection.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    /// Draws the delays.
    pub(crate) rng: Rng,
    /// Each chunk waits up to this many milliseconds before it is written.
    pub(crate) delay_ms: Option<u64>,
    /// Chunks are written one byte per `write`.
    pub(crate) bytewise: bool,
    /// The connection is cut.
    pub(crate) cut: Option<Cut>,
}

impl Plan {
    /// The plan of connection `index`: faults drawn from `seed` when `faults`, none
    /// otherwise.
    pub(crate) fn draw(seed: u64, index: u64, faults: bool) -> Plan {
        let mut rng = Rng::derive(seed, &format!("connection {index}"));
        let mut plan = Plan {
            rng: rng.clone(),
            delay_ms: None,
            bytewise: false,
            cut: None,
        };
        if faults {
            plan.delay_ms = rng.chance(25).then(|| rng.range(1, 20));
            plan.bytewise = rng.chance(15);
            plan.cut = rng.chance(20).then(|| cut(&mut rng));
        }
        plan.rng = rng;
        plan
    }
}

/// A cut at a random place: a third of them before or in the first frame's header.
fn cut(rng: &mut Rng) -> Cut {
    let kind = match rng.chance(50) {
        true => CutKind::Drop,
        false => CutKind::Rst,
    };
    let dir = match rng.chance(50) {
        true => Dir::Up,
        false => Dir::Down,
    };
    let at = match rng.chance(33) {
        true => rng.range(0, 24),
        false => rng.range(0, 32 * 1024),
    };
    Cut { kind, dir, at }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_faults_nothing_is_planned() {
        let plan = Plan::draw(1, 2, false);
        assert!(plan.delay_ms.is_none() && !plan.bytewise && plan.cut.is_none());
    }

    #[test]
    fn with_faults_about_a_fifth_is_cut() {
        let cuts = (0..1000)
            .filter(|&i| Plan::draw(7, i, true).cut.is_some())
            .count();
        assert!((120..280).contains(&cuts), "{cuts} of 1000 cut");
    }
}
