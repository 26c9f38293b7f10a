//! HTTP plumbing: the browser client's files, extractors, paging, rate limits, response
//! headers, and the listener's connection limits and timeouts.

pub mod client;
pub mod deadlines;
pub mod extract;
pub mod files;
pub mod headers;
pub mod listener;
pub mod pagination;
pub mod public_url;
pub mod rate_limit;
pub mod ws_close;
pub mod ws_ping;
