//! Small-case model checking: every ordering of the world events that are due at the
//! same virtual instant, and of the host loops ready at one instant, explored
//! depth-first, each one named by a replayable schedule string.
//!
//! The world's queue is ordered by (virtual time, sequence number); a world made by an
//! [`Explorer`] carries a *chooser* that, whenever more than one event is due at the
//! earliest instant, picks which runs next. Each such pick is a *choice point*; a
//! [`Schedule`] is the list of picks, written `"0.2.1.0"` (the index among that point's
//! candidates, in queue order). Index 0 everywhere is the world's own order, so the
//! all-zero schedule gives the same event-log hash as a world with no chooser.
//!
//! The explorer is stateless (as CHESS and dscheck are): it runs the user's closure on
//! a fresh world per schedule, records how many candidates each choice point had, and
//! moves to the next schedule in depth-first order by bumping the deepest pick that has
//! a sibling left. It stops at the first schedule whose closure returns an error or
//! panics, and reports that schedule's string; [`Explorer::replay`] (or `SOCK_SCHEDULE`
//! in the environment) runs exactly that ordering again.
//!
//! What is a candidate: every event due at the earliest instant, except that the events
//! of one TCP stream (segments toward one socket, a client's handshake and its
//! retransmission timer) stay in their order — TCP is reliable and in order in the model,
//! so only orderings between streams, datagrams, timers, DNS answers and repairs are
//! explored. Datagrams of one socket may be reordered (UDP promises no order).
//!
//! The host loops are choice points too (the drive loop asks the same chooser,
//! `backend.rs`): when the loop whose park drives the simulation has work and another
//! host's loop has some as well, whether the others run their pass first (pick 1) or
//! not (pick 0); and in that pass, whenever more than one host loop is ready, which
//! runs next (the candidates in host order). A bug that only a different host order
//! exposes — two hosts' timers due at one instant acting on state they share — is
//! found this way.
//!
//! What is not explored: the order of one loop's own tasks (FIFO), and orderings that
//! differ in time (give links zero jitter, the default, so deliveries tie). A closure must be
//! deterministic given its world: the explorer replays prefixes and trusts the same
//! choice points to come back.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};

use super::tcp::Segment;
use super::world::{Event, EventKey};
use super::{SocketId, World};

/// The environment variable a failing schedule is replayed from: with it set,
/// [`Explorer::run`] runs that one schedule.
///
/// # Examples
///
/// ```text
/// SOCK_SCHEDULE=1.0 cargo test the_failing_test
/// ```
pub const SCHEDULE_ENV: &str = "SOCK_SCHEDULE";

/// The picks of a run at its choice points, in order: `"0.2.1.0"`.
///
/// # Examples
///
/// ```
/// use sock::sim::Schedule;
///
/// let s: Schedule = "0.2.1".parse()?;
/// assert_eq!(s.choices(), &[0, 2, 1]);
/// assert_eq!(s.to_string(), "0.2.1");
/// assert!("0.x".parse::<Schedule>().is_err());
/// # Ok::<(), sock::sim::ParseScheduleError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Schedule(Vec<usize>);

/// A schedule string that is not dot-separated numbers.
///
/// # Examples
///
/// See [`Schedule`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseScheduleError(String);

/// Explores the same-instant orderings of a simulation, depth-first.
///
/// # Examples
///
/// Two hosts each send a datagram to a third that arrive at the same instant: two
/// orders of the client loops, two orderings of the datagrams each, and a server that
/// only accepts one of them is caught.
///
/// ```
/// use sock::sim::{Explorer, Sim};
/// use sock::Family;
///
/// let run = |world| {
///     let sim = Sim::new(world);
///     let s = sim.add_host("s", &["10.0.0.3".parse().unwrap()]);
///     for (name, ip) in [("a", "10.0.0.1"), ("b", "10.0.0.2")] {
///         let host = sim.add_host(name, &[ip.parse().unwrap()]);
///         host.spawn(async move {
///             let u = sock::udp(Family::INET)?;
///             u.send_to(name.as_bytes(), &("10.0.0.3", 9)).await
///         });
///     }
///     s.run(async {
///         let u = sock::udp(Family::INET)?;
///         u.bind("10.0.0.3", 9)?;
///         let mut buf = [0u8; 1];
///         u.recv(&mut buf).await?;
///         assert_eq!(&buf, b"a", "the server expects a first"); // the planted bug
///         Ok::<(), sock::Error>(())
///     })
/// };
/// let failure = Explorer::new().run(run).unwrap_err();
/// assert_eq!(failure.schedule().to_string(), "0.1"); // a's loop first, b's datagram first
/// assert!(Explorer::replay(failure.schedule(), run).is_err()); // the same ordering
/// ```
#[doc(alias = "explore")]
#[doc(alias = "model_check")]
#[derive(Clone, Debug)]
pub struct Explorer {
    /// The seed of every world made.
    seed: u64,
    /// At most this many schedules run.
    max_schedules: usize,
    /// Choice points past this depth take the world's own order.
    max_depth: usize,
}

/// An exploration that found no failure.
///
/// # Examples
///
/// See [`Explorer::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explored {
    /// How many schedules ran.
    pub schedules: usize,
    /// Whether every schedule within the depth bound ran (else `max_schedules` ended it).
    pub exhaustive: bool,
    /// The most choice points one run had.
    pub max_depth: usize,
}

/// The first schedule of an exploration (or a replay) that failed.
///
/// # Examples
///
/// See [`Explorer`].
#[derive(Clone, Debug)]
pub struct ExploreFailure {
    /// The failing schedule.
    schedule: Schedule,
    /// The closure's error or panic message.
    message: String,
    /// How many schedules ran, this one included.
    schedules: usize,
}

/// The chooser a world made by an explorer carries: the picks to follow and the choice
/// points met.
#[derive(Clone, Debug, Default)]
pub(crate) struct Chooser(Arc<Mutex<Trace>>);

/// What a chooser records over one run.
#[derive(Debug, Default)]
struct Trace {
    /// The picks to make at the first choice points (the rest pick 0).
    prefix: Vec<usize>,
    /// Each recorded choice point: (pick, number of candidates).
    points: Vec<(usize, usize)>,
    /// Choice points past this many are not recorded (and pick 0).
    max_depth: usize,
    /// A pick of the prefix had no such candidate (the run is not the one recorded).
    diverged: bool,
}

impl Schedule {
    /// The picks, one per choice point.
    ///
    /// # Examples
    ///
    /// See [`Schedule`].
    pub fn choices(&self) -> &[usize] {
        &self.0
    }

    /// `SOCK_SCHEDULE` from the environment, if set.
    ///
    /// # Panics
    ///
    /// When it is set but is not a schedule string.
    ///
    /// # Examples
    ///
    /// ```
    /// if let Some(schedule) = sock::sim::Schedule::from_env() {
    ///     println!("replaying schedule {schedule}");
    /// }
    /// ```
    pub fn from_env() -> Option<Schedule> {
        let text = std::env::var(SCHEDULE_ENV).ok()?;
        Some(
            text.parse()
                .unwrap_or_else(|e| panic!("sock::sim: {SCHEDULE_ENV}: {e}")),
        )
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, pick) in self.0.iter().enumerate() {
            let dot = if i == 0 { "" } else { "." };
            write!(f, "{dot}{pick}")?;
        }
        Ok(())
    }
}

impl FromStr for Schedule {
    type Err = ParseScheduleError;

    fn from_str(s: &str) -> Result<Schedule, ParseScheduleError> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(Schedule::default());
        }
        let picks = s.split('.').map(|p| p.trim().parse::<usize>());
        let picks: Result<Vec<usize>, _> = picks.collect();
        picks
            .map(Schedule)
            .map_err(|_| ParseScheduleError(s.to_string()))
    }
}

impl fmt::Display for ParseScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a schedule (dot-separated picks, as \"0.2.1\")",
            self.0
        )
    }
}

impl std::error::Error for ParseScheduleError {}

impl Explorer {
    /// An explorer of seed 0, at most 10,000 schedules and 64 choice points deep.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sim::Explorer;
    ///
    /// // A closure with no choice point has one schedule.
    /// let explored = Explorer::new().seed(7).max_schedules(100).max_depth(8);
    /// let explored = explored.run(|world| Ok::<u64, ()>(world.seed())).unwrap();
    /// assert_eq!((explored.schedules, explored.exhaustive), (1, true));
    /// ```
    pub fn new() -> Explorer {
        Explorer {
            seed: 0,
            max_schedules: 10_000,
            max_depth: 64,
        }
    }

    /// The seed of every world the explorer makes.
    ///
    /// # Examples
    ///
    /// See [`Explorer::new`].
    pub fn seed(mut self, seed: u64) -> Explorer {
        self.seed = seed;
        self
    }

    /// Stops after this many schedules (the result is then not exhaustive).
    ///
    /// # Examples
    ///
    /// See [`Explorer::new`].
    pub fn max_schedules(mut self, n: usize) -> Explorer {
        self.max_schedules = n.max(1);
        self
    }

    /// Explores the first `n` choice points of a run; later ones take the world's order.
    ///
    /// # Examples
    ///
    /// See [`Explorer::new`].
    pub fn max_depth(mut self, n: usize) -> Explorer {
        self.max_depth = n;
        self
    }

    /// Runs `f` on a fresh world per schedule, depth-first, until one fails (its error
    /// or its panic), every schedule has run or `max_schedules` have. With
    /// `SOCK_SCHEDULE` set, runs that one schedule only (a replay).
    ///
    /// # Errors
    ///
    /// The first failing schedule, with the closure's message.
    ///
    /// # Examples
    ///
    /// See [`Explorer`].
    pub fn run<T, E: fmt::Debug>(
        &self,
        mut f: impl FnMut(World) -> Result<T, E>,
    ) -> Result<Explored, ExploreFailure> {
        if let Some(schedule) = Schedule::from_env() {
            return self.replay_with(&schedule, &mut f);
        }
        let mut prefix = Vec::new();
        let mut explored = Explored {
            schedules: 0,
            exhaustive: false,
            max_depth: 0,
        };
        while explored.schedules < self.max_schedules {
            explored.schedules += 1;
            let (points, outcome) = self.once(&prefix, &mut f);
            explored.max_depth = explored.max_depth.max(points.len());
            if let Err(message) = outcome {
                let schedule = Schedule(points.iter().map(|p| p.0).collect());
                let schedules = explored.schedules;
                return Err(ExploreFailure::new(schedule, message, schedules));
            }
            let Some(next) = next_prefix(&points) else {
                explored.exhaustive = true;
                break;
            };
            prefix = next;
        }
        Ok(explored)
    }

    /// Runs `f` once on a world following `schedule` (a failure's, or `SOCK_SCHEDULE`'s),
    /// with the default explorer's seed and depth.
    ///
    /// # Errors
    ///
    /// When the run fails, or when `schedule` does not fit the run (a pick past its
    /// choice point's candidates: the closure or the seed changed).
    ///
    /// # Examples
    ///
    /// See [`Explorer`].
    pub fn replay<T, E: fmt::Debug>(
        schedule: &Schedule,
        mut f: impl FnMut(World) -> Result<T, E>,
    ) -> Result<Explored, ExploreFailure> {
        Explorer::new().replay_with(schedule, &mut f)
    }

    /// [`Explorer::replay`] with this explorer's seed and depth.
    ///
    /// # Errors
    ///
    /// As [`Explorer::replay`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sim::{Explorer, Schedule};
    ///
    /// let none = Schedule::default(); // the world's own order
    /// let explorer = Explorer::new().seed(3);
    /// let ran = explorer.replay_with(&none, &mut |world| Ok::<u64, ()>(world.seed()));
    /// assert_eq!(ran.unwrap().schedules, 1);
    /// ```
    pub fn replay_with<T, E: fmt::Debug>(
        &self,
        schedule: &Schedule,
        f: &mut impl FnMut(World) -> Result<T, E>,
    ) -> Result<Explored, ExploreFailure> {
        let (points, outcome) = self.once(&schedule.0, f);
        let depth = points.len();
        let ran = Schedule(points.into_iter().map(|p| p.0).collect());
        outcome.map_err(|message| ExploreFailure::new(ran, message, 1))?;
        Ok(Explored {
            schedules: 1,
            exhaustive: false,
            max_depth: depth,
        })
    }

    /// One run following `prefix`: its choice points and whether it passed.
    fn once<T, E: fmt::Debug>(
        &self,
        prefix: &[usize],
        f: &mut impl FnMut(World) -> Result<T, E>,
    ) -> (Vec<(usize, usize)>, Result<(), String>) {
        let chooser = Chooser::new(prefix.to_vec(), self.max_depth);
        let mut world = World::new(self.seed);
        world.set_chooser(chooser.clone());
        let outcome = match panic::catch_unwind(AssertUnwindSafe(|| f(world))) {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("{e:?}")),
            Err(payload) => Err(panic_message(payload.as_ref())),
        };
        let trace = chooser.lock();
        let outcome = match trace.diverged {
            true => Err(format!("the schedule does not fit this run ({outcome:?})")),
            false => outcome,
        };
        (trace.points.clone(), outcome)
    }
}

impl Default for Explorer {
    fn default() -> Explorer {
        Explorer::new()
    }
}

impl ExploreFailure {
    /// A failure of `schedule`.
    fn new(schedule: Schedule, message: String, schedules: usize) -> ExploreFailure {
        ExploreFailure {
            schedule,
            message,
            schedules,
        }
    }

    /// The failing schedule: give it to [`Explorer::replay`] or `SOCK_SCHEDULE`.
    ///
    /// # Examples
    ///
    /// See [`Explorer`].
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// The closure's error (`Debug`) or panic message.
    ///
    /// # Examples
    ///
    /// See [`Explorer`].
    pub fn message(&self) -> &str {
        &self.message
    }

    /// How many schedules ran, the failing one included.
    ///
    /// # Examples
    ///
    /// See [`Explorer`].
    pub fn schedules(&self) -> usize {
        self.schedules
    }
}

impl fmt::Display for ExploreFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "schedule {:?} failed after {} schedules: {} (replay: {SCHEDULE_ENV}={})",
            self.schedule.to_string(),
            self.schedules,
            self.message,
            self.schedule
        )
    }
}

impl std::error::Error for ExploreFailure {}

impl Chooser {
    /// A chooser following `prefix`, recording `max_depth` choice points.
    fn new(prefix: Vec<usize>, max_depth: usize) -> Chooser {
        let trace = Trace {
            prefix,
            max_depth,
            ..Trace::default()
        };
        Chooser(Arc::new(Mutex::new(trace)))
    }

    /// Picks one of `count` candidates (`count > 1`): the prefix's pick, else 0.
    pub(crate) fn pick(&self, count: usize) -> usize {
        let mut trace = self.lock();
        let depth = trace.points.len();
        if depth >= trace.max_depth {
            return 0;
        }
        let mut pick = trace.prefix.get(depth).copied().unwrap_or(0);
        if pick >= count {
            trace.diverged = true;
            pick = 0;
        }
        trace.points.push((pick, count));
        pick
    }

    /// The picks made so far, as a schedule (for failure reports).
    pub(crate) fn schedule(&self) -> Schedule {
        Schedule(self.lock().points.iter().map(|p| p.0).collect())
    }

    /// The trace, also after a panic while it was held.
    fn lock(&self) -> MutexGuard<'_, Trace> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The events a chooser picks among: those due at the earliest instant, in queue order,
/// but only the first of each ordered stream ([`stream`]).
pub(crate) fn candidates(queue: &BTreeMap<EventKey, Event>) -> Vec<EventKey> {
    let Some((&(first, _), _)) = queue.first_key_value() else {
        return Vec::new();
    };
    let mut seen = BTreeSet::new();
    let due = queue.range((first, 0)..=(first, u64::MAX));
    due.filter(|(_, event)| stream(event).is_none_or(|s| seen.insert(s)))
        .map(|(key, _)| *key)
        .collect()
}

/// The stream whose order an event keeps (`None`: it may run before or after any
/// other event of its instant): a TCP segment's destination socket, a handshake's client.
fn stream(event: &Event) -> Option<SocketId> {
    let Event::Tcp(segment) = event else {
        return None;
    };
    Some(match segment {
        Segment::Syn { client, .. }
        | Segment::SynRetry { client, .. }
        | Segment::SynAck { client, .. }
        | Segment::Refused { client } => *client,
        Segment::Data { to, .. } | Segment::Fin { to } | Segment::Rst { to } => *to,
        Segment::Fault { socket } => *socket,
    })
}

/// The next schedule depth-first after a run's choice points: the deepest pick with a
/// sibling left, bumped, everything after it dropped; `None` when none is left.
fn next_prefix(points: &[(usize, usize)]) -> Option<Vec<usize>> {
    let deepest = points.iter().rposition(|&(pick, count)| pick + 1 < count)?;
    let mut next: Vec<usize> = points[..deepest].iter().map(|p| p.0).collect();
    next.push(points[deepest].0 + 1);
    Some(next)
}

/// The text of a panic's payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        return (*s).to_string();
    }
    match payload.downcast_ref::<String>() {
        Some(s) => s.clone(),
        None => "a panic without a message".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_prefix_walks_depth_first() {
        assert_eq!(next_prefix(&[(0, 3), (0, 2)]), Some(vec![0, 1]));
        assert_eq!(next_prefix(&[(0, 3), (1, 2)]), Some(vec![1]));
        assert_eq!(next_prefix(&[(2, 3), (1, 2)]), None);
        assert_eq!(next_prefix(&[]), None);
    }

    #[test]
    fn a_pick_past_the_candidates_marks_the_run_diverged() {
        let c = Chooser::new(vec![5], 8);
        assert_eq!(c.pick(2), 0);
        assert!(c.lock().diverged);
    }
}
