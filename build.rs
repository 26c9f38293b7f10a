//! Rebuilds the server when a migration is added or the web client is rebuilt:
//! `sqlx::migrate!` and rust-embed embed those folders at compile time, and cargo does not
//! otherwise notice a new file in them (a new client build has new hashed file names).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=web/dist");
}
