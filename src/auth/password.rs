//! Argon2id password hashing on a fixed set of worker threads, one per core.
//!
//! One hash costs tens of milliseconds of CPU and 19 MiB of memory. On an async worker it
//! would stall every connection sharing that thread; on tokio's blocking pool (up to 512
//! threads, each with its own allocator arena that keeps what it used) a flood of sign-ins
//! left hundreds of megabytes behind. A few long-lived threads reuse their memory, so RSS
//! stays at about one hash's worth per core. The pool is a channel and a loop, too small to
//! be worth a crate.

use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::{mpsc, oneshot};

use crate::error::{ApiError, Validator};

/// The length of a new password, in characters (registration, change, reset, the CLI).
pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 128;

/// The rule for a new password, as a [`Validator`] step: registration, change, reset and
/// the command line share it.
pub trait NewPassword {
    fn new_password(&mut self, value: &str, field: &str) -> &mut Self;
}

impl NewPassword for Validator {
    fn new_password(&mut self, value: &str, field: &str) -> &mut Self {
        self.length(value, field, MIN_CHARS, MAX_CHARS)
    }
}

/// Hashes waiting for a worker; past it callers wait (asynchronously) for room.
const QUEUE: usize = 256;

type Job = Box<dyn FnOnce() + Send>;

/// OWASP's minimum for Argon2id: 19 MiB, 2 passes, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant Argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The queue of the worker threads, started on first use.
fn workers() -> &'static mpsc::Sender<Job> {
    static WORKERS: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    WORKERS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (jobs, queue) = mpsc::channel::<Job>(QUEUE);
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..cores {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for the next job.
                        let job = queue
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .blocking_recv();
                        match job {
                            Some(job) => job(),
                            None => return,
                        }
                    }
                })
                .expect("spawning an Argon2 worker thread");
        }
        jobs
    })
}

/// Runs `work` on a hashing worker and waits for its result without blocking the caller.
async fn on_worker<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let (reply, result) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = reply.send(work());
    });
    workers()
        .send(job)
        .await
        .map_err(|_| ApiError::internal("the Argon2 workers are gone"))?;
    result
        .await
        .map_err(|_| ApiError::internal("an Argon2 worker dropped its job"))
}

pub async fn hash(password: String) -> Result<String, ApiError> {
    on_worker(move || {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await?
    .map_err(ApiError::internal)
}

/// True when `password` matches `stored`; a malformed stored hash never matches.
pub async fn verify(password: String, stored: String) -> Result<bool, ApiError> {
    on_worker(move || {
        PasswordHash::new(&stored)
            .map(|parsed| {
                argon2()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
}

/// A hash of a random password, verified against when the email is unknown so a failed
/// login takes the same time whether or not the account exists.
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        argon2()
            .hash_password(b"not a real password", &salt)
            .expect("hashing a constant succeeds")
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_own_password() {
        let stored = hash("correct horse".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(
            verify("correct horse".into(), stored.clone())
                .await
                .unwrap()
        );
        assert!(!verify("wrong horse".into(), stored).await.unwrap());
        assert!(!verify("x".into(), "garbage".into()).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_run_on_the_named_workers() {
        let thread = on_worker(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert!(thread.unwrap().starts_with("argon2-"));
    }
}
