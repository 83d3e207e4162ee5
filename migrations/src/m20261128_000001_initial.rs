//! The initial schema: orgs and what the provider owns (admins, API keys, trunks, DIDs), the org
//! configuration in two layers of the same tables (`layer` = `draft` | `applied`), apply jobs,
//! apply history, the queue of FreeSWITCH commands, web sessions and the XML change epoch.
//!
//! Times are UTC milliseconds since the epoch in BIGINT columns: the same on every database.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::schema_helpers::{index, org_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Organizations {
    Table,
    Id,
    Slug,
    Name,
    SipDomain,
    Status,
    LogoMime,
    Logo,
    AppliedVersion,
    DraftRevision,
    XmlVersion,
    MaxExtensions,
    MaxOutboundCalls,
    MaxCallsPerSecond,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrgAdmins {
    Table,
    Id,
    OrgId,
    Email,
    PasswordHash,
    InviteTokenHash,
    InviteExpiresAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    Name,
    Prefix,
    KeyHash,
    OrgId,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum Trunks {
    Table,
    Id,
    OrgId,
    Role,
    SameAsInbound,
    Username,
    AuthUsername,
    PasswordEnc,
    Host,
    Proxy,
    Port,
    Transport,
    Register,
    Realm,
    FromUser,
    FromDomain,
    CallerIdInFrom,
    ExpireSeconds,
    AllowedCidrs,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Dids {
    Table,
    Id,
    OrgId,
    E164,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Extensions {
    Table,
    Id,
    OrgId,
    Layer,
    Number,
    DisplayName,
    A1Hash,
    VoicemailEnabled,
    VoicemailPin,
    VoicemailEmail,
    RingSeconds,
    NoAnswerAction,
    NoAnswerTarget,
    DoNotDisturb,
    OutboundCallerId,
    Revision,
}

#[derive(DeriveIden)]
enum DidRoutes {
    Table,
    Id,
    OrgId,
    Layer,
    Did,
    Extension,
    Revision,
}

#[derive(DeriveIden)]
enum OrgSettings {
    Table,
    Id,
    OrgId,
    Layer,
    MohEnabled,
    MohFile,
    DefaultCallerId,
    VoicemailAttachAudio,
    Revision,
}

#[derive(DeriveIden)]
enum ApplyJobs {
    Table,
    Id,
    OrgId,
    ActiveOrgId,
    State,
    RequestedBy,
    RequestedAt,
    WaitForCalls,
    MaxWaitSeconds,
    EmailTo,
    CallsInProgress,
    DeadlineAt,
    UpdatedAt,
    FinishedAt,
    AppliedVersion,
    Message,
    Issues,
    EmailStatus,
    FsStatus,
    LeaseOwner,
    LeaseUntil,
}

#[derive(DeriveIden)]
enum ApplyHistory {
    Table,
    Id,
    OrgId,
    Version,
    AppliedBy,
    AppliedAt,
    Changes,
    JobId,
}

#[derive(DeriveIden)]
enum FsCommands {
    Table,
    Id,
    OrgId,
    Command,
    CreatedAt,
    DoneAt,
    Attempts,
    LastError,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    TokenHash,
    OrgId,
    AdminId,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum XmlEpoch {
    Table,
    Id,
    Epoch,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Organizations::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Organizations::Id))
                    .col(string_len_uniq(Organizations::Slug, 32))
                    .col(string_len(Organizations::Name, 400))
                    .col(string_len_uniq(Organizations::SipDomain, 253))
                    .col(string_len(Organizations::Status, 16))
                    .col(string_len_null(Organizations::LogoMime, 32))
                    .col(blob_null(Organizations::Logo))
                    .col(big_integer(Organizations::AppliedVersion).default(0))
                    .col(big_integer(Organizations::DraftRevision).default(0))
                    .col(big_integer(Organizations::XmlVersion).default(0))
                    .col(integer(Organizations::MaxExtensions))
                    .col(integer(Organizations::MaxOutboundCalls))
                    .col(integer(Organizations::MaxCallsPerSecond))
                    .col(big_integer(Organizations::CreatedAt))
                    .col(big_integer(Organizations::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OrgAdmins::Table)
                    .if_not_exists()
                    .col(big_pk_auto(OrgAdmins::Id))
                    .col(big_integer(OrgAdmins::OrgId))
                    .col(string_len(OrgAdmins::Email, 254))
                    .col(string_len_null(OrgAdmins::PasswordHash, 255))
                    .col(string_len_null(OrgAdmins::InviteTokenHash, 64))
                    .col(big_integer_null(OrgAdmins::InviteExpiresAt))
                    .col(big_integer(OrgAdmins::CreatedAt))
                    .foreign_key(&mut org_fk(OrgAdmins::Table, "fk_org_admins_org"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_org_admins_email",
                OrgAdmins::Table,
                &["org_id", "email"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "ux_org_admins_invite",
                OrgAdmins::Table,
                &["invite_token_hash"],
                true,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .if_not_exists()
                    .col(big_pk_auto(ApiKeys::Id))
                    .col(string_len(ApiKeys::Name, 100))
                    .col(string_len(ApiKeys::Prefix, 16))
                    .col(string_len_uniq(ApiKeys::KeyHash, 64))
                    .col(big_integer_null(ApiKeys::OrgId))
                    .col(big_integer(ApiKeys::CreatedAt))
                    .col(big_integer_null(ApiKeys::LastUsedAt))
                    .foreign_key(&mut org_fk(ApiKeys::Table, "fk_api_keys_org"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Trunks::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Trunks::Id))
                    .col(big_integer(Trunks::OrgId))
                    .col(string_len(Trunks::Role, 8))
                    .col(boolean(Trunks::SameAsInbound).default(false))
                    .col(string_len(Trunks::Username, 64))
                    .col(string_len_null(Trunks::AuthUsername, 64))
                    .col(text_null(Trunks::PasswordEnc))
                    .col(string_len(Trunks::Host, 253))
                    .col(string_len_null(Trunks::Proxy, 253))
                    .col(integer(Trunks::Port))
                    .col(string_len(Trunks::Transport, 3))
                    .col(boolean(Trunks::Register))
                    .col(string_len_null(Trunks::Realm, 253))
                    .col(string_len_null(Trunks::FromUser, 64))
                    .col(string_len_null(Trunks::FromDomain, 253))
                    .col(boolean(Trunks::CallerIdInFrom))
                    .col(integer(Trunks::ExpireSeconds))
                    .col(text(Trunks::AllowedCidrs))
                    .col(big_integer(Trunks::UpdatedAt))
                    .foreign_key(&mut org_fk(Trunks::Table, "fk_trunks_org"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_trunks_role",
                Trunks::Table,
                &["org_id", "role"],
                true,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Dids::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Dids::Id))
                    .col(big_integer(Dids::OrgId))
                    .col(string_len_uniq(Dids::E164, 16))
                    .col(big_integer(Dids::CreatedAt))
                    .foreign_key(&mut org_fk(Dids::Table, "fk_dids_org"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("ix_dids_org", Dids::Table, &["org_id"], false))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Extensions::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Extensions::Id))
                    .col(big_integer(Extensions::OrgId))
                    .col(string_len(Extensions::Layer, 8))
                    .col(string_len(Extensions::Number, 5))
                    .col(string_len(Extensions::DisplayName, 160))
                    .col(char_len(Extensions::A1Hash, 32))
                    .col(boolean(Extensions::VoicemailEnabled))
                    .col(string_len(Extensions::VoicemailPin, 10))
                    .col(string_len_null(Extensions::VoicemailEmail, 254))
                    .col(small_integer(Extensions::RingSeconds))
                    .col(string_len(Extensions::NoAnswerAction, 20))
                    .col(string_len_null(Extensions::NoAnswerTarget, 16))
                    .col(boolean(Extensions::DoNotDisturb))
                    .col(string_len_null(Extensions::OutboundCallerId, 16))
                    .col(big_integer(Extensions::Revision))
                    .foreign_key(&mut org_fk(Extensions::Table, "fk_extensions_org"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_extensions_number",
                Extensions::Table,
                &["org_id", "layer", "number"],
                true,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DidRoutes::Table)
                    .if_not_exists()
                    .col(big_pk_auto(DidRoutes::Id))
                    .col(big_integer(DidRoutes::OrgId))
                    .col(string_len(DidRoutes::Layer, 8))
                    .col(string_len(DidRoutes::Did, 16))
                    .col(string_len_null(DidRoutes::Extension, 5))
                    .col(big_integer(DidRoutes::Revision))
                    .foreign_key(&mut org_fk(DidRoutes::Table, "fk_did_routes_org"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_did_routes_did",
                DidRoutes::Table,
                &["org_id", "layer", "did"],
                true,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OrgSettings::Table)
                    .if_not_exists()
                    .col(big_pk_auto(OrgSettings::Id))
                    .col(big_integer(OrgSettings::OrgId))
                    .col(string_len(OrgSettings::Layer, 8))
                    .col(boolean(OrgSettings::MohEnabled))
                    .col(char_len_null(OrgSettings::MohFile, 64))
                    .col(string_len_null(OrgSettings::DefaultCallerId, 16))
                    .col(boolean(OrgSettings::VoicemailAttachAudio))
                    .col(big_integer(OrgSettings::Revision))
                    .foreign_key(&mut org_fk(OrgSettings::Table, "fk_org_settings_org"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_org_settings_layer",
                OrgSettings::Table,
                &["org_id", "layer"],
                true,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApplyJobs::Table)
                    .if_not_exists()
                    .col(big_pk_auto(ApplyJobs::Id))
                    .col(big_integer(ApplyJobs::OrgId))
                    // Equal to org_id while the job is unfinished, NULL afterwards: the unique
                    // index allows one unfinished job per org, whatever instance inserts it.
                    .col(big_integer_null(ApplyJobs::ActiveOrgId))
                    .col(string_len(ApplyJobs::State, 16))
                    .col(string_len(ApplyJobs::RequestedBy, 254))
                    .col(big_integer(ApplyJobs::RequestedAt))
                    .col(boolean(ApplyJobs::WaitForCalls))
                    .col(integer(ApplyJobs::MaxWaitSeconds))
                    .col(string_len_null(ApplyJobs::EmailTo, 254))
                    .col(integer_null(ApplyJobs::CallsInProgress))
                    .col(big_integer_null(ApplyJobs::DeadlineAt))
                    .col(big_integer(ApplyJobs::UpdatedAt))
                    .col(big_integer_null(ApplyJobs::FinishedAt))
                    .col(big_integer_null(ApplyJobs::AppliedVersion))
                    .col(text_null(ApplyJobs::Message))
                    .col(text_null(ApplyJobs::Issues))
                    .col(text_null(ApplyJobs::EmailStatus))
                    .col(string_len_null(ApplyJobs::FsStatus, 16))
                    .col(string_len_null(ApplyJobs::LeaseOwner, 64))
                    .col(big_integer_null(ApplyJobs::LeaseUntil))
                    .foreign_key(&mut org_fk(ApplyJobs::Table, "fk_apply_jobs_org"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_apply_jobs_active",
                ApplyJobs::Table,
                &["active_org_id"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_apply_jobs_org",
                ApplyJobs::Table,
                &["org_id", "id"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_apply_jobs_state",
                ApplyJobs::Table,
                &["state"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApplyHistory::Table)
                    .if_not_exists()
                    .col(big_pk_auto(ApplyHistory::Id))
                    .col(big_integer(ApplyHistory::OrgId))
                    .col(big_integer(ApplyHistory::Version))
                    .col(string_len(ApplyHistory::AppliedBy, 254))
                    .col(big_integer(ApplyHistory::AppliedAt))
                    .col(text(ApplyHistory::Changes))
                    .col(big_integer_null(ApplyHistory::JobId))
                    .foreign_key(&mut org_fk(ApplyHistory::Table, "fk_apply_history_org"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_apply_history_version",
                ApplyHistory::Table,
                &["org_id", "version"],
                true,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(FsCommands::Table)
                    .if_not_exists()
                    .col(big_pk_auto(FsCommands::Id))
                    // No foreign key: a deleted org's users must still be flushed from FreeSWITCH.
                    .col(big_integer_null(FsCommands::OrgId))
                    .col(string_len(FsCommands::Command, 512))
                    .col(big_integer(FsCommands::CreatedAt))
                    .col(big_integer_null(FsCommands::DoneAt))
                    .col(integer(FsCommands::Attempts).default(0))
                    .col(text_null(FsCommands::LastError))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_fs_commands_pending",
                FsCommands::Table,
                &["done_at", "id"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Sessions::Id))
                    .col(string_len_uniq(Sessions::TokenHash, 64))
                    .col(big_integer(Sessions::OrgId))
                    .col(big_integer(Sessions::AdminId))
                    .col(big_integer(Sessions::CreatedAt))
                    .col(big_integer(Sessions::ExpiresAt))
                    .foreign_key(&mut org_fk(Sessions::Table, "fk_sessions_org"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_admin")
                            .from(Sessions::Table, Sessions::AdminId)
                            .to(OrgAdmins::Table, OrgAdmins::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(XmlEpoch::Table)
                    .if_not_exists()
                    .col(big_integer(XmlEpoch::Id).primary_key())
                    .col(big_integer(XmlEpoch::Epoch))
                    .to_owned(),
            )
            .await?;
        let seed = Query::insert()
            .into_table(XmlEpoch::Table)
            .columns([XmlEpoch::Id, XmlEpoch::Epoch])
            .values_panic([1.into(), 0.into()])
            .to_owned();
        // Re-runnable: only seed when the row is not there yet.
        let has_row = manager
            .get_connection()
            .query_one(
                &Query::select()
                    .column(XmlEpoch::Id)
                    .from(XmlEpoch::Table)
                    .to_owned(),
            )
            .await?
            .is_some();
        if !has_row {
            manager.exec_stmt(seed).await?;
        }
        Ok(())
    }
}
