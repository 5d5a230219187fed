//! Application roles; the permission set is a JSON array.

use std::collections::BTreeSet;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{Row, params};

use crate::error::{Error, ErrorCode, Result};
use crate::ids::{ApplicationId, RoleId};
use crate::model::Role;
use crate::store::RoleRepo;
use crate::store::sqlite::codec::Ts;
use crate::store::sqlite::tx::SqliteTx;

/// A permission set as stored: a sorted JSON array of strings.
struct Permissions(BTreeSet<String>);

/// A permission set to bind.
struct PermissionsRef<'a>(&'a BTreeSet<String>);

impl ToSql for PermissionsRef<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        serde_json::to_string(&self.0)
            .map(ToSqlOutput::from)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
    }
}

impl FromSql for Permissions {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        serde_json::from_str(value.as_str()?)
            .map(Permissions)
            .map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

fn role_row(row: &Row<'_>) -> rusqlite::Result<Role> {
    Ok(Role {
        id: row.get(0)?,
        app_id: row.get(1)?,
        key: row.get(2)?,
        name: row.get(3)?,
        permissions: row.get::<_, Permissions>(4)?.0,
        created_at: row.get::<_, Ts>(5)?.0,
    })
}

impl RoleRepo for SqliteTx<'_> {
    fn insert_role(&mut self, role: &Role) -> Result<()> {
        self.exec(
            "INSERT INTO roles (id, app_id, key, name, permissions, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                role.id,
                role.app_id,
                role.key,
                role.name,
                PermissionsRef(&role.permissions),
                Ts(role.created_at)
            ],
        )?;
        Ok(())
    }

    fn update_role(&mut self, role: &Role) -> Result<()> {
        let changed = self.exec(
            "UPDATE roles SET app_id = ?2, key = ?3, name = ?4, permissions = ?5,
             created_at = ?6 WHERE id = ?1",
            params![
                role.id,
                role.app_id,
                role.key,
                role.name,
                PermissionsRef(&role.permissions),
                Ts(role.created_at)
            ],
        )?;
        if changed > 0 {
            return Ok(());
        }
        // Like the in-memory store, a key taken in the app wins over a missing role.
        let taken = self.exists(
            "SELECT 1 FROM roles WHERE app_id = ?1 AND key = ?2 AND id <> ?3",
            params![role.app_id, role.key, role.id],
        )?;
        if taken {
            Err(Error::new(
                ErrorCode::AlreadyExists,
                "a role with this key already exists",
            ))
        } else {
            Err(Error::not_found("role"))
        }
    }

    fn get_role(&mut self, id: RoleId) -> Result<Option<Role>> {
        self.one(
            "SELECT id, app_id, key, name, permissions, created_at FROM roles WHERE id = ?1",
            params![id],
            role_row,
        )
    }

    fn list_roles(&mut self, app: ApplicationId) -> Result<Vec<Role>> {
        self.all(
            "SELECT id, app_id, key, name, permissions, created_at FROM roles
             WHERE app_id = ?1 ORDER BY id",
            params![app],
            role_row,
        )
    }
}
