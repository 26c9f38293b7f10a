//! Accounts for the load: registration and login over the REST API, answering the access
//! token.

use anyhow::Context;
use futures_util::StreamExt;
use serde_json::{Value, json};

/// Every load account's password.
pub const PASSWORD: &str = "load-test-password";

/// Registers `email` and returns its access token.
pub async fn register(
    http: &reqwest::Client,
    base: &str,
    email: &str,
    name: &str,
) -> anyhow::Result<String> {
    let body = json!({"email": email, "name": name, "password": PASSWORD});
    post_for_token(http, &format!("{base}/api/workbook/auth/register"), &body).await
}

/// Logs `email` in and returns a fresh access token.
pub async fn login(http: &reqwest::Client, base: &str, email: &str) -> anyhow::Result<String> {
    let body = json!({"email": email, "password": PASSWORD});
    post_for_token(http, &format!("{base}/api/workbook/auth/login"), &body).await
}

/// Registers each of `emails` (named after its local part), `parallel` at a time; the
/// tokens come back in the same order.
pub async fn register_many(
    http: &reqwest::Client,
    base: &str,
    emails: impl IntoIterator<Item = String>,
    parallel: usize,
) -> anyhow::Result<Vec<String>> {
    futures_util::stream::iter(emails)
        .map(|email| async move {
            let name = email.split('@').next().unwrap_or("load").to_owned();
            register(http, base, &email, &name).await
        })
        .buffered(parallel.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

async fn post_for_token(http: &reqwest::Client, url: &str, body: &Value) -> anyhow::Result<String> {
    let response: Value = http
        .post(url)
        .json(body)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(response["token"].as_str().context("no token")?.to_owned())
}
