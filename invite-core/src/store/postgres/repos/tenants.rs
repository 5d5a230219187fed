//! Businesses, apps, enabled apps and business admins.

use uuid::Uuid;

use crate::error::{Error, Result};
use crate::ids::{ApplicationId, BusinessId, UserId};
use crate::model::{Application, Business};
use crate::store::TenantRepo;
use crate::store::postgres::error::already_exists;
use crate::store::postgres::rows;
use crate::store::postgres::tx::{PgTx, get};

const INSERT_BUSINESS: &str = "INSERT INTO businesses (id, name, created_at) VALUES ($1, $2, $3) \
                               ON CONFLICT DO NOTHING";
const UPDATE_BUSINESS: &str = "UPDATE businesses SET name = $2, created_at = $3 WHERE id = $1";
const GET_BUSINESS: &str = "SELECT id, name, created_at FROM businesses WHERE id = $1";
const LIST_BUSINESSES: &str = "SELECT id, name, created_at FROM businesses ORDER BY id";

const INSERT_APP: &str =
    "INSERT INTO apps (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
const UPDATE_APP: &str = "UPDATE apps SET name = $2, created_at = $3 WHERE id = $1";
const GET_APP: &str = "SELECT id, name, created_at FROM apps WHERE id = $1";
const LIST_APPS: &str = "SELECT id, name, created_at FROM apps ORDER BY id";

const ENABLE: &str = "INSERT INTO business_apps (business_id, app_id) VALUES ($1, $2) \
                      ON CONFLICT DO NOTHING";
const DISABLE: &str = "DELETE FROM business_apps WHERE business_id = $1 AND app_id = $2";
const ENABLED: &str = "SELECT app_id FROM business_apps WHERE business_id = $1 ORDER BY app_id";
const IS_ENABLED: &str =
    "SELECT EXISTS (SELECT 1 FROM business_apps WHERE business_id = $1 AND app_id = $2)";

const ADD_ADMIN: &str = "INSERT INTO business_admins (business_id, user_id) VALUES ($1, $2) \
                         ON CONFLICT DO NOTHING";
const REMOVE_ADMIN: &str = "DELETE FROM business_admins WHERE business_id = $1 AND user_id = $2";
const IS_ADMIN: &str =
    "SELECT EXISTS (SELECT 1 FROM business_admins WHERE business_id = $1 AND user_id = $2)";
const ADMIN_OF: &str =
    "SELECT business_id FROM business_admins WHERE user_id = $1 ORDER BY business_id";

impl TenantRepo for PgTx {
    fn insert_business(&mut self, business: &Business) -> Result<()> {
        let params: [&(dyn postgres::types::ToSql + Sync); 3] =
            [business.id.as_uuid(), &business.name, &business.created_at];
        match self.exec(INSERT_BUSINESS, &params)? {
            0 => Err(already_exists("business")),
            _ => Ok(()),
        }
    }

    fn update_business(&mut self, business: &Business) -> Result<()> {
        let params: [&(dyn postgres::types::ToSql + Sync); 3] =
            [business.id.as_uuid(), &business.name, &business.created_at];
        match self.exec(UPDATE_BUSINESS, &params)? {
            0 => Err(Error::not_found("business")),
            _ => Ok(()),
        }
    }

    fn get_business(&mut self, id: BusinessId) -> Result<Option<Business>> {
        self.opt(GET_BUSINESS, &[id.as_uuid()])?
            .map(|r| rows::business(&r))
            .transpose()
    }

    fn list_businesses(&mut self) -> Result<Vec<Business>> {
        self.rows(LIST_BUSINESSES, &[])?
            .iter()
            .map(rows::business)
            .collect()
    }

    fn insert_app(&mut self, app: &Application) -> Result<()> {
        match self.exec(INSERT_APP, &[app.id.as_uuid(), &app.name, &app.created_at])? {
            0 => Err(already_exists("app")),
            _ => Ok(()),
        }
    }

    fn update_app(&mut self, app: &Application) -> Result<()> {
        match self.exec(UPDATE_APP, &[app.id.as_uuid(), &app.name, &app.created_at])? {
            0 => Err(Error::not_found("app")),
            _ => Ok(()),
        }
    }

    fn get_app(&mut self, id: ApplicationId) -> Result<Option<Application>> {
        self.opt(GET_APP, &[id.as_uuid()])?
            .map(|r| rows::app(&r))
            .transpose()
    }

    fn list_apps(&mut self) -> Result<Vec<Application>> {
        self.rows(LIST_APPS, &[])?.iter().map(rows::app).collect()
    }

    fn set_app_enabled(
        &mut self,
        business: BusinessId,
        app: ApplicationId,
        enabled: bool,
    ) -> Result<()> {
        let sql = if enabled { ENABLE } else { DISABLE };
        self.exec(sql, &[business.as_uuid(), app.as_uuid()])?;
        Ok(())
    }

    fn enabled_apps(&mut self, business: BusinessId) -> Result<Vec<ApplicationId>> {
        self.rows(ENABLED, &[business.as_uuid()])?
            .iter()
            .map(|r| get::<Uuid, _>(r, 0).map(ApplicationId::from))
            .collect()
    }

    fn is_app_enabled(&mut self, business: BusinessId, app: ApplicationId) -> Result<bool> {
        get(
            &self.one(IS_ENABLED, &[business.as_uuid(), app.as_uuid()])?,
            0,
        )
    }

    fn set_business_admin(
        &mut self,
        business: BusinessId,
        user: UserId,
        admin: bool,
    ) -> Result<()> {
        let sql = if admin { ADD_ADMIN } else { REMOVE_ADMIN };
        self.exec(sql, &[business.as_uuid(), user.as_uuid()])?;
        Ok(())
    }

    fn is_business_admin(&mut self, business: BusinessId, user: UserId) -> Result<bool> {
        get(
            &self.one(IS_ADMIN, &[business.as_uuid(), user.as_uuid()])?,
            0,
        )
    }

    fn admin_businesses(&mut self, user: UserId) -> Result<Vec<BusinessId>> {
        self.rows(ADMIN_OF, &[user.as_uuid()])?
            .iter()
            .map(|r| get::<Uuid, _>(r, 0).map(BusinessId::from))
            .collect()
    }
}
