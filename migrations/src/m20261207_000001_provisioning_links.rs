//! Single-use provisioning links: an org admin makes one for an extension, the help page shows it
//! as a QR code, and a softphone fetches its configuration through it once.
//!
//! Only the SHA-256 of the random token is stored. A link belongs to one org (cascade on delete)
//! and names the extension by number, as the applied configuration does.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ProvisioningLinks {
    Table,
    Id,
    OrgId,
    Extension,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ProvisioningLinks::Table)
                    .if_not_exists()
                    .col(big_pk_auto(ProvisioningLinks::Id))
                    .col(big_integer(ProvisioningLinks::OrgId))
                    .col(string_len(ProvisioningLinks::Extension, 8))
                    .col(string_len_uniq(ProvisioningLinks::TokenHash, 64))
                    .col(big_integer(ProvisioningLinks::CreatedAt))
                    .col(big_integer(ProvisioningLinks::ExpiresAt))
                    .col(big_integer_null(ProvisioningLinks::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_provisioning_links_org")
                            .from(ProvisioningLinks::Table, ProvisioningLinks::OrgId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_provisioning_links_org_expiry")
                    .table(ProvisioningLinks::Table)
                    .col(ProvisioningLinks::OrgId)
                    .col(ProvisioningLinks::ExpiresAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }
}
