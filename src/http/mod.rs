//! HTTP plumbing shared by the API modules: extractors, paging, rate limits.

pub mod extract;
pub mod pagination;
pub mod rate_limit;
