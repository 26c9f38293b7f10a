//! Signed tokens: short-lived access JWTs and opaque refresh tokens.
//!
//! Access tokens are HS256 JWTs with the algorithm pinned on decode (a token claiming any
//! other algorithm, `none` included, is refused) and issuer and audience checked. Each names
//! its login (`fam`, the refresh-token family), so revoking the login ends it at once. Join
//! tickets for live sessions use a separate key and audience, derived from the same secret,
//! so neither kind of token can stand in for the other.
//!
//! A login's first refresh token is random; each later one is derived from the one it
//! replaces with a third key (HMAC), so two refreshes of the same token compute the same
//! successor without the server keeping successors in plain text: a double-fired refresh
//! can be answered twice with one rotation.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::roles::Role;

pub const ACCESS_AUDIENCE: &str = "workbook-api";

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: Uuid,
    pub email: String,
    pub role: Role,
    /// The login this token belongs to: the family of its refresh tokens.
    pub fam: Uuid,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

/// One signing key with its audience: encodes and verifies one kind of token.
pub struct JwtKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKey {
    fn new(secret: &[u8], issuer: &str, audience: &str) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    pub fn encode<C: Serialize>(&self, claims: &C) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .expect("HS256 signing of a serializable value cannot fail")
    }

    /// Verifies signature, algorithm, expiry, issuer and audience.
    pub fn decode<C: for<'de> Deserialize<'de>>(&self, token: &str) -> Option<C> {
        jsonwebtoken::decode::<C>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
    }
}

/// The server's token keys.
pub struct TokenKeys {
    pub access: JwtKey,
    pub ticket: JwtKey,
    /// Derives a refresh token's successor.
    successor: Hmac<Sha256>,
    pub issuer: String,
    pub access_ttl: Duration,
}

pub const TICKET_AUDIENCE: &str = "workbook-hub";

impl TokenKeys {
    pub fn new(secret: &[u8], issuer: &str, access_ttl: Duration) -> Self {
        Self {
            access: JwtKey::new(&derive_key(secret, "access-token"), issuer, ACCESS_AUDIENCE),
            ticket: JwtKey::new(&derive_key(secret, "join-ticket"), issuer, TICKET_AUDIENCE),
            successor: Hmac::new_from_slice(&derive_key(secret, "refresh-successor"))
                .expect("HMAC accepts any key length"),
            issuer: issuer.to_owned(),
            access_ttl,
        }
    }

    /// A fresh access token for this user's login `family`, valid for the configured TTL.
    pub fn issue_access(&self, user_id: Uuid, email: &str, role: Role, family: Uuid) -> String {
        let now = chrono::Utc::now().timestamp();
        self.access.encode(&AccessClaims {
            sub: user_id,
            email: email.to_owned(),
            role,
            fam: family,
            iss: self.issuer.clone(),
            aud: ACCESS_AUDIENCE.to_owned(),
            iat: now,
            exp: now + self.access_ttl.as_secs() as i64,
        })
    }

    pub fn verify_access(&self, token: &str) -> Option<AccessClaims> {
        self.access.decode(token)
    }

    /// The refresh token that replaces `token` on rotation, and its hash: always the same
    /// for the same token, and unguessable without the server's secret.
    pub fn refresh_successor(&self, token: &str) -> (String, Vec<u8>) {
        let mut mac = self.successor.clone();
        mac.update(token.as_bytes());
        let successor = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        let hash = hash_opaque_token(&successor);
        (successor, hash)
    }
}

/// Separate keys per token kind, so a leaked ticket key cannot mint access tokens.
fn derive_key(secret: &[u8], purpose: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// A new opaque token (256 random bits, URL-safe): a login's first refresh token, or a
/// password-reset link's. Returns it and the hash that is stored.
pub fn new_opaque_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_opaque_token(&token);
    (token, hash)
}

/// What is stored of an opaque token: its SHA-256.
pub fn hash_opaque_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The configured secret, or one generated once into `<data_dir>/secret.key`.
pub fn load_or_create_secret(configured: &str, data_dir: &Path) -> std::io::Result<Vec<u8>> {
    if !configured.is_empty() {
        return Ok(configured.as_bytes().to_vec());
    }
    let path = data_dir.join("secret.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => hex::decode(text.trim())
            .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display()))),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let mut secret = vec![0u8; 64];
            rand::rng().fill_bytes(&mut secret);
            write_private(&path, hex::encode(&secret).as_bytes())?;
            Ok(secret)
        }
        Err(err) => Err(err),
    }
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(
            b"0123456789abcdef0123456789abcdef",
            "workbook",
            Duration::from_secs(60),
        )
    }

    #[test]
    fn an_access_token_round_trips() {
        let keys = keys();
        let id = Uuid::new_v4();
        let family = Uuid::new_v4();
        let claims = keys
            .verify_access(&keys.issue_access(id, "a@b.c", Role::Admin, family))
            .unwrap();
        assert_eq!(
            (claims.sub, claims.role, claims.fam),
            (id, Role::Admin, family)
        );
    }

    #[test]
    fn a_ticket_key_cannot_mint_access_tokens() {
        let keys = keys();
        let now = chrono::Utc::now().timestamp();
        let forged = keys.ticket.encode(&AccessClaims {
            sub: Uuid::new_v4(),
            email: "x@y.z".into(),
            role: Role::Admin,
            fam: Uuid::new_v4(),
            iss: "workbook".into(),
            aud: ACCESS_AUDIENCE.into(),
            iat: now,
            exp: now + 60,
        });
        assert!(keys.verify_access(&forged).is_none());
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, hash_a) = new_opaque_token();
        let (b, _) = new_opaque_token();
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_eq!(hash_opaque_token(&a), hash_a);
    }

    #[test]
    fn a_successor_is_the_same_for_the_same_token_and_only_for_it() {
        let keys = keys();
        let (token, _) = new_opaque_token();
        let (successor, hash) = keys.refresh_successor(&token);
        assert_eq!(keys.refresh_successor(&token), (successor.clone(), hash));
        assert_eq!(URL_SAFE_NO_PAD.decode(&successor).unwrap().len(), 32);
        assert_ne!(keys.refresh_successor(&successor).0, successor);
        let other_server = TokenKeys::new(
            b"another secret, another secret!!",
            "workbook",
            Duration::from_secs(60),
        );
        assert_ne!(other_server.refresh_successor(&token).0, successor);
    }

    #[test]
    fn the_generated_secret_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_secret("", dir.path()).unwrap();
        assert_eq!(first.len(), 64);
        assert_eq!(load_or_create_secret("", dir.path()).unwrap(), first);
    }
}
