//! Workbook: a self-hosted server for live workshops.
//!
//! `cli` parses the command line, `config` loads settings, `server` builds the shared
//! [`state::AppState`] and serves [`api::router`]. Storage lives in `db`, what a request does
//! beyond one query in `services`, accounts and tokens in `auth`, request plumbing in `http`,
//! the live-session WebSocket hub in `hub`, the embedded SFU wired to it in `media`.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod export;
pub mod http;
pub mod hub;
pub mod media;
pub mod recording;
pub mod server;
pub mod services;
pub mod state;
pub mod telemetry;
pub mod transcription;
