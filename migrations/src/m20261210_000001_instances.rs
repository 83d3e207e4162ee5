//! What FreeSWITCH may be told, and when.
//!
//! A queued FreeSWITCH command makes FreeSWITCH ask LittlePBX again (for a gateway, the carrier
//! ACL, a user). It must not be sent before every LittlePBX instance FreeSWITCH may ask serves the
//! change the command is about. So each command records the XML epoch its transaction committed
//! (`fs_commands.epoch`), and each instance reports the epoch its XML cache serves
//! (`instances.served_epoch`, with `seen_at` as its heartbeat).
//!
//! Re-runnable: the column is added only when missing, the table only when absent.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FsCommands {
    Table,
    Epoch,
}

#[derive(DeriveIden)]
enum Instances {
    Table,
    Id,
    ServedEpoch,
    StartedAt,
    SeenAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if !manager.has_column("fs_commands", "epoch").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(FsCommands::Table)
                        .add_column(big_integer(FsCommands::Epoch).default(0))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Instances::Table)
                    .if_not_exists()
                    .col(string_len(Instances::Id, 32).primary_key())
                    .col(big_integer(Instances::ServedEpoch))
                    .col(big_integer(Instances::StartedAt))
                    .col(big_integer(Instances::SeenAt))
                    .to_owned(),
            )
            .await
    }
}
