//! Desk phones that provision themselves, and the SIP passwords they need.
//!
//! - `desk_phones`: a phone of an org by MAC address (unique across orgs: one phone, one owner),
//!   its model, the extension it carries (none while it waits in stock), the user name of its
//!   per-phone HTTP credentials (the password is derived from it with `secret_key`, never
//!   stored), when it last fetched its file, and `retired_at` for a removed phone, which is
//!   served a file without an account until it is purged.
//! - `sip_secrets`: an extension's SIP password sealed with `secret_key`, keyed by the org and
//!   the a1-hash it produces, so the applied configuration's a1-hash finds exactly the
//!   password FreeSWITCH checks (a restored version finds its own).
//!
//! Re-runnable: tables and indexes are created only when missing.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::schema_helpers::{index, org_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DeskPhones {
    Table,
    Id,
    OrgId,
    Mac,
    Model,
    Extension,
    HttpUsername,
    CreatedAt,
    UpdatedAt,
    LastFetchAt,
    LastFetchIp,
    RetiredAt,
}

#[derive(DeriveIden)]
enum SipSecrets {
    Table,
    OrgId,
    A1Hash,
    PasswordSealed,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DeskPhones::Table)
                    .if_not_exists()
                    .col(big_pk_auto(DeskPhones::Id))
                    .col(big_integer(DeskPhones::OrgId))
                    .col(string_len(DeskPhones::Mac, 12))
                    .col(string_len(DeskPhones::Model, 40))
                    .col(string_len_null(DeskPhones::Extension, 8))
                    .col(string_len(DeskPhones::HttpUsername, 32))
                    .col(big_integer(DeskPhones::CreatedAt))
                    .col(big_integer(DeskPhones::UpdatedAt))
                    .col(big_integer_null(DeskPhones::LastFetchAt))
                    .col(string_len_null(DeskPhones::LastFetchIp, 45))
                    .col(big_integer_null(DeskPhones::RetiredAt))
                    .foreign_key(&mut org_fk(DeskPhones::Table, "fk_desk_phones_org"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_desk_phones_mac",
                DeskPhones::Table,
                &["mac"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_desk_phones_org",
                DeskPhones::Table,
                &["org_id", "mac"],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SipSecrets::Table)
                    .if_not_exists()
                    .col(big_integer(SipSecrets::OrgId))
                    .col(string_len(SipSecrets::A1Hash, 32))
                    .col(string_len(SipSecrets::PasswordSealed, 200))
                    .col(big_integer(SipSecrets::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(SipSecrets::OrgId)
                            .col(SipSecrets::A1Hash),
                    )
                    .foreign_key(&mut org_fk(SipSecrets::Table, "fk_sip_secrets_org"))
                    .to_owned(),
            )
            .await
    }
}
