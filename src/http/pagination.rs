//! `limit` / `offset` paging shared by every list endpoint.

use crate::error::{ApiResult, Validator};

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Page {
    /// Validates the query values: limit 1 to 100 (default 20), offset ≥ 0.
    pub fn new(limit: Option<i64>, offset: Option<i64>) -> ApiResult<Self> {
        let page = Page {
            limit: limit.unwrap_or(DEFAULT_LIMIT),
            offset: offset.unwrap_or(0),
        };
        Validator::new()
            .check(
                (1..=MAX_LIMIT).contains(&page.limit),
                "limit",
                "must be between 1 and 100",
            )
            .check(page.offset >= 0, "offset", "must not be negative")
            .finish()?;
        Ok(page)
    }

    /// Whether rows exist past this page.
    pub fn has_more(&self, returned: usize, total: i64) -> bool {
        self.offset + (returned as i64) < total
    }
}
