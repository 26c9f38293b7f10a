//! Shared pieces of the load generators: the server under test as a child process,
//! latency histograms, and process resource readings.
//!
//! Every generator sends traffic to 127.0.0.1 only, is bounded in requests and time, and
//! stops by itself.

pub mod account;
pub mod cli;
pub mod media_peer;
pub mod reference;
pub mod server;
pub mod session;
pub mod stats;
pub mod words;
pub mod yclient;
pub mod ywire;

pub use cli::ServerArgs;
pub use server::Server;
pub use stats::{Buckets, Latencies, ProcessUsage};
