//! Unit tests of the simulated world.
