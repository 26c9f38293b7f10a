//! Access tokens and join tickets as the server reads them: the `Authorization` and `Cookie`
//! headers, then JWT verification. Three shapes of input: any string as a token; any JSON
//! as claims, signed with the server's real key (so claim parsing and validation run, not
//! only the signature check); and a real token with bytes changed. Only a well-signed
//! token with valid claims may pass, and a ticket only for its own session.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use arbitrary::Arbitrary;
use axum::http::{HeaderMap, HeaderValue, header};
use libfuzzer_sys::fuzz_target;
use uuid::Uuid;
use workbook::auth::credentials::bearer_or_cookie;
use workbook::auth::roles::Role;
use workbook::auth::tokens::TokenKeys;
use workbook::hub::ticket;

const ISSUER: &str = "workbook-fuzz";
const SESSION: Uuid = Uuid::from_u128(7);

#[derive(Arbitrary, Debug)]
enum Input {
    /// Header values as a client sends them.
    Headers {
        authorization: Option<String>,
        cookie: Option<String>,
    },
    /// This JSON (when it parses) signed as access token and as ticket.
    SignedClaims { json: String },
    /// A valid token with one byte replaced and a suffix added.
    Tampered { at: u16, byte: u8, suffix: String },
}

fn keys() -> &'static TokenKeys {
    static KEYS: OnceLock<TokenKeys> = OnceLock::new();
    KEYS.get_or_init(|| TokenKeys::new(b"fuzzing secret", ISSUER, Duration::from_secs(900)))
}

fn verify_both(token: &str) {
    let keys = keys();
    if let Some(claims) = keys.verify_access(token) {
        assert!(
            claims.exp >= chrono::Utc::now().timestamp() - 5,
            "expired token accepted"
        );
        assert_eq!(claims.iss, ISSUER);
    }
    if let Ok(claims) = ticket::verify(keys, token, SESSION) {
        assert_eq!(claims.sid, SESSION, "ticket accepted for another session");
    }
}

fuzz_target!(|input: Input| {
    match input {
        Input::Headers {
            authorization,
            cookie,
        } => {
            let mut headers = HeaderMap::new();
            for (name, value) in [
                (header::AUTHORIZATION, authorization),
                (header::COOKIE, cookie),
            ] {
                if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
                    headers.insert(name, value);
                }
            }
            if let Some(token) = bearer_or_cookie(&headers) {
                verify_both(token);
            }
        }
        Input::SignedClaims { json } => {
            if let Ok(claims) = serde_json::from_str::<serde_json::Value>(&json) {
                verify_both(&keys().access.encode(&claims));
                verify_both(&keys().ticket.encode(&claims));
            }
        }
        Input::Tampered { at, byte, suffix } => {
            let token = keys().issue_access(
                Uuid::from_u128(1),
                "a@example.com",
                Role::User,
                Uuid::from_u128(2),
            );
            let mut bytes = token.clone().into_bytes();
            let at = usize::from(at) % bytes.len();
            bytes[at] = byte;
            bytes.extend_from_slice(suffix.as_bytes());
            if let Ok(tampered) = String::from_utf8(bytes) {
                let accepted = keys().verify_access(&tampered).is_some();
                // Base64 has a few spellings of the last character's spare bits; anything
                // else that still verifies would be a forged token.
                assert!(
                    !accepted
                        || tampered.starts_with(&token[..token.len() - 1]) && suffix.is_empty(),
                    "tampered token accepted: {tampered}"
                );
            }
        }
    }
});
