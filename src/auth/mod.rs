//! Accounts and access: password hashing, tokens, roles, where a request carries its
//! credentials and its cookies, revoked logins, failed sign-ins, and the caller extractor.

pub mod attempts;
pub mod cookies;
pub mod credentials;
pub mod extract;
pub mod password;
pub mod revocation;
pub mod roles;
pub mod tokens;
