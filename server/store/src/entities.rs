//! sea-orm entities, one module per table. Relations are not declared: every query names its
//! org explicitly, which keeps the org scoping visible at each call site.
#![allow(clippy::derive_partial_eq_without_eq)]

macro_rules! no_relations {
    () => {
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    };
}

pub mod organizations {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "organizations")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub slug: String,
        pub name: String,
        pub sip_domain: String,
        pub status: String,
        pub logo_mime: Option<String>,
        pub logo: Option<Vec<u8>>,
        pub applied_version: i64,
        pub draft_revision: i64,
        pub xml_version: i64,
        pub max_extensions: i32,
        pub max_outbound_calls: i32,
        pub max_calls_per_second: i32,
        pub created_at: i64,
        pub updated_at: i64,
    }
    no_relations!();
}

pub mod org_admins {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "org_admins")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub org_id: i64,
        pub email: String,
        pub password_hash: Option<String>,
        pub invite_token_hash: Option<String>,
        pub invite_expires_at: Option<i64>,
        pub created_at: i64,
    }
    no_relations!();
}

pub mod api_keys {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "api_keys")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub prefix: String,
        pub key_hash: String,
        pub org_id: Option<i64>,
        pub created_at: i64,
        pub last_used_at: Option<i64>,
    }
    no_relations!();
}

pub mod trunks {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "trunks")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub org_id: i64,
        pub role: String,
        pub same_as_inbound: bool,
        pub username: String,
        pub auth_username: Option<String>,
        pub password_enc: Option<String>,
        pub host: String,
        pub proxy: Option<String>,
        pub port: i32,
        pub transport: String,
        pub register: bool,
        pub realm: Option<String>,
        pub from_user: Option<String>,
        pub from_domain: Option<String>,
        pub caller_id_in_from: bool,
        pub expire_seconds: i32,
        pub allowed_cidrs: String,
        pub updated_at: i64,
    }
    no_relations!();
}

pub mod dids {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dids")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub org_id: i64,
        pub e164: String,
        pub created_at: i64,
    }
    no_relations!();
}

pub mod extensions {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "extensions")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub org_id: i64,
        pub layer: String,
        pub number: String,
        pub display_name: String,
        pub a1_hash: String,
        pub voicemail_enabled: bool,
        pub voicemail_pin: String,
        pub voicemail_email: Option<String>,
        pub ring_seconds: i16,
        pub no_answer_action: String,
        pub no_answer_target: Option<String>,
        pub do_not_disturb: bool,
        pub outbound_caller_id: Option<String>,
        pub revision: i64,
    }
    no_relations!();
}

pub mod did_routes {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "did_routes")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub org_id: i64,
        pub layer: String,
        pub did: String,
        pub extension: Option<String>,
        pub revision: i64,
    }
    no_relations!();
}

pub mod org_settings {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "org_settings")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub org_id: i64,
        pub layer: String,
        pub moh_enabled: bool,
        pub moh_file: Option<String>,
        pub default_caller_id: Option<String>,
        pub voicemail_attach_audio: bool,
        pub revision: i64,
    }
    no_relations!();
}

pub mod apply_jobs {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "apply_jobs")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub org_id: i64,
        pub active_org_id: Option<i64>,
        pub state: String,
        pub requested_by: String,
        pub requested_at: i64,
        pub wait_for_calls: bool,
        pub max_wait_seconds: i32,
        pub email_to: Option<String>,
        pub calls_in_progress: Option<i32>,
        pub deadline_at: Option<i64>,
        pub updated_at: i64,
        pub finished_at: Option<i64>,
        pub applied_version: Option<i64>,
        pub message: Option<String>,
        pub issues: Option<String>,
        pub email_status: Option<String>,
        pub fs_status: Option<String>,
        pub lease_owner: Option<String>,
        pub lease_until: Option<i64>,
    }
    no_relations!();
}

pub mod apply_history {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "apply_history")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub org_id: i64,
        pub version: i64,
        pub applied_by: String,
        pub applied_at: i64,
        pub changes: String,
        pub job_id: Option<i64>,
        /// The whole applied configuration as JSON (`None` before migration 20261211).
        pub config: Option<String>,
        /// How long the Apply waited for the org's calls (`None`: it did not wait).
        pub waited_ms: Option<i64>,
    }
    no_relations!();
}

pub mod fs_commands {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "fs_commands")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub org_id: Option<i64>,
        pub command: String,
        pub created_at: i64,
        pub done_at: Option<i64>,
        pub attempts: i32,
        pub last_error: Option<String>,
        /// The XML epoch the queuing transaction committed: the command may be sent once every
        /// live instance serves at least this epoch.
        pub epoch: i64,
    }
    no_relations!();
}

pub mod instances {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "instances")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The XML epoch this instance's cache serves; -1 while it is still loading.
        pub served_epoch: i64,
        pub started_at: i64,
        pub seen_at: i64,
    }
    no_relations!();
}

pub mod sessions {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sessions")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub token_hash: String,
        pub org_id: i64,
        pub admin_id: i64,
        pub created_at: i64,
        pub expires_at: i64,
    }
    no_relations!();
}

pub mod xml_epoch {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "xml_epoch")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i64,
        pub epoch: i64,
    }
    no_relations!();
}
