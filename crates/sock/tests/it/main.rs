//! Integration tests of the `sock` facade through its public API.

mod loop_run;
