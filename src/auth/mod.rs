//! Accounts and access: password hashing, tokens, roles, and the caller extractor.

pub mod extract;
pub mod password;
pub mod roles;
pub mod tokens;
