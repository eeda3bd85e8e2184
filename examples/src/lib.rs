//! The examples' shared code: each example's `main` (beside `src/`) is a thin wrapper
//! around a module here, so the tests in `tests/` drive the same code.

pub mod args;
pub mod chat;
pub mod codec;
pub mod demo;
pub mod echo;
pub mod embed;
pub mod heap;
pub mod hyper_client;
pub mod hyper_server;
pub mod observe;
pub mod ping;
pub mod proxy;
pub mod serve;
pub mod sim_echo;
pub mod threads;
pub mod tls_echo;
pub mod udp;
