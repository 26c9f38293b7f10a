//! Account roles and the permission map of the original guide.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Stored as its serde spelling; an unknown stored role is a decoding error, not a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum Role {
    User,
    Premium,
    Admin,
}

/// What a role may do. `workbook.read` for everyone, writing and hosting for paying users,
/// administration for admins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    WorkbookRead,
    WorkbookWrite,
    SessionsHost,
    AdminAccess,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Premium => "premium",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "user" => Some(Role::User),
            "premium" => Some(Role::Premium),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn has(self, permission: Permission) -> bool {
        match permission {
            Permission::WorkbookRead => true,
            Permission::WorkbookWrite | Permission::SessionsHost => {
                matches!(self, Role::Premium | Role::Admin)
            }
            Permission::AdminAccess => self == Role::Admin,
        }
    }
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::WorkbookRead => "workbook.read",
            Permission::WorkbookWrite => "workbook.write",
            Permission::SessionsHost => "sessions.host",
            Permission::AdminAccess => "admin.access",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_map_matches_the_guide() {
        use Permission::*;
        let table = [
            (WorkbookRead, [true, true, true]),
            (WorkbookWrite, [false, true, true]),
            (SessionsHost, [false, true, true]),
            (AdminAccess, [false, false, true]),
        ];
        for (permission, expected) in table {
            let actual = [Role::User, Role::Premium, Role::Admin].map(|r| r.has(permission));
            assert_eq!(actual, expected, "{}", permission.as_str());
        }
    }

    #[test]
    fn roles_round_trip_through_text() {
        for role in [Role::User, Role::Premium, Role::Admin] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
