//! Apply, Discard and Reset: each one transaction over one org.
//!
//! Apply copies the draft rows onto the applied rows with `INSERT ... SELECT` (cost grows with the
//! org's size only), bumps `applied_version` and `xml_version`, writes the history row and queues
//! the FreeSWITCH commands, all in one transaction: [`Store::prepare_apply`] opens it and does
//! the writes, the caller derives the commands from the facts it exposes, and
//! [`PreparedApply::commit`] queues them and commits. A failure or crash at any point leaves the
//! previous applied version and the draft exactly as they were.

use std::collections::BTreeSet;

use domain::defaults::{default_config, ReceptionSecrets};
use domain::{diff, validate_draft, ApplyFacts, Change, OrgConfig, OrgSlug, SipDomain};
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, EntityTrait, Statement, TransactionTrait, Value,
};

use crate::convert::*;
use crate::draft::{load_layer_in, next_revision, owned_dids};
use crate::entities::{apply_history, fs_commands, organizations};
use crate::{bump_xml_epoch, now_ms, Layer, OrgId, Store, StoreError, StoreResult};

/// Points inside the transactions where tests can inject a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    AfterValidate,
    AfterClearTarget,
    AfterCopy,
    AfterVersionBump,
    AfterHistory,
    AfterCommands,
}

/// The configured tables of the two layers and their copied columns (all but id, org_id,
/// layer and revision). Static names: nothing here comes from a request.
const LAYERED_TABLES: &[(&str, &[&str])] = &[
    (
        "extensions",
        &[
            "number",
            "display_name",
            "a1_hash",
            "voicemail_enabled",
            "voicemail_pin",
            "voicemail_email",
            "ring_seconds",
            "no_answer_action",
            "no_answer_target",
            "do_not_disturb",
            "outbound_caller_id",
        ],
    ),
    ("did_routes", &["did", "extension"]),
    (
        "org_settings",
        &[
            "moh_enabled",
            "moh_file",
            "default_caller_id",
            "voicemail_attach_audio",
        ],
    ),
];

/// What an Apply needs besides the org's own rows.
pub struct ApplyRequest<'a> {
    /// The admin's e-mail (or "provider"), kept in the history.
    pub applied_by: &'a str,
    pub job_id: Option<i64>,
    pub emergency_numbers: &'a BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyOutcome {
    /// The org's applied version after the Apply (unchanged when there was nothing to apply).
    pub version: i64,
    pub changes: Vec<Change>,
    /// How many FreeSWITCH commands were queued.
    pub queued_commands: usize,
}

/// An Apply under way, in its one open transaction.
///
/// [`Store::prepare_apply`] has locked the org row, validated the draft, rewritten the applied
/// rows, bumped the versions, written the history row and moved the job to `syncing`; what the
/// store cannot know is which FreeSWITCH commands the change needs (that is the `freeswitch` crate's
/// business). The caller derives them from [`PreparedApply::facts`] and hands them to
/// [`PreparedApply::commit`], which queues them in the same transaction and commits. Dropping
/// it instead rolls the whole Apply back.
pub struct PreparedApply<'s> {
    store: &'s Store,
    txn: DatabaseTransaction,
    org: OrgId,
    slug: OrgSlug,
    domain: SipDomain,
    version: i64,
    changes: Vec<Change>,
    previous: OrgConfig,
    next: OrgConfig,
}

impl PreparedApply<'_> {
    /// What this Apply changes, for deriving the FreeSWITCH commands.
    pub fn facts(&self) -> ApplyFacts<'_> {
        ApplyFacts {
            slug: &self.slug,
            domain: &self.domain,
            changes: &self.changes,
            previous: &self.previous,
            next: &self.next,
        }
    }

    /// Queues `commands` for FreeSWITCH and commits the Apply.
    ///
    /// With nothing to apply (no changes) nothing was written: the transaction is rolled back
    /// and no command is queued (the facts of an empty change call for none).
    pub async fn commit(self, commands: Vec<String>) -> StoreResult<ApplyOutcome> {
        if self.changes.is_empty() {
            debug_assert!(commands.is_empty(), "commands for an empty Apply");
            let outcome = self.outcome(0);
            self.txn.rollback().await?;
            return Ok(outcome);
        }
        queue_commands(&self.txn, Some(self.org), &commands).await?;
        self.store.checkpoint(Step::AfterCommands)?;
        let outcome = self.outcome(commands.len());
        self.txn.commit().await?;
        Ok(outcome)
    }

    fn outcome(&self, queued_commands: usize) -> ApplyOutcome {
        ApplyOutcome {
            version: self.version,
            changes: self.changes.clone(),
            queued_commands,
        }
    }
}

impl Store {
    /// Starts publishing the org's draft: everything of the Apply but queueing the FreeSWITCH
    /// commands, in one transaction left open (see [`PreparedApply`]). Refused with
    /// [`StoreError::Invalid`] when the draft has issues, and with [`StoreError::Corrupt`]
    /// when the org's stored slug or SIP domain does not parse: FreeSWITCH could not be told
    /// about the change, so it is not made.
    pub async fn prepare_apply(
        &self,
        org: OrgId,
        request: &ApplyRequest<'_>,
    ) -> StoreResult<PreparedApply<'_>> {
        let txn = self.connection().begin().await?;
        // Lock the org row first: Applies and draft edits of this org queue behind it.
        let org_row = lock_org(&txn, org).await?;
        let (slug, domain) = org_names(&org_row)?;
        let next = load_layer_in(&txn, org, Layer::Draft).await?.normalized();
        let previous = load_layer_in(&txn, org, Layer::Applied).await?.normalized();
        let issues = validate_draft(
            &next,
            owned_dids(&txn, org).await?,
            request.emergency_numbers,
            crate::non_negative(org_row.max_extensions),
        );
        if !issues.is_empty() {
            return Err(StoreError::Invalid(issues));
        }
        let changes = diff(&next, &previous);
        let mut prepared = PreparedApply {
            store: self,
            txn,
            org,
            slug,
            domain,
            version: org_row.applied_version,
            changes,
            previous,
            next,
        };
        if !prepared.changes.is_empty() {
            self.checkpoint(Step::AfterValidate)?;
            prepared.version = publish(self, &prepared, request).await?;
        }
        Ok(prepared)
    }

    /// Draft := applied, in one transaction. Returns the new draft revision.
    pub async fn discard(&self, org: OrgId) -> StoreResult<i64> {
        let txn = self.connection().begin().await?;
        let revision = next_revision(&txn, org).await?;
        copy_layer(
            self,
            &txn,
            org,
            Layer::Applied,
            Layer::Draft,
            Some(revision),
        )
        .await?;
        txn.commit().await?;
        Ok(revision)
    }

    /// Draft := the default configuration (see `domain::defaults`), in one transaction.
    pub async fn reset(&self, org: OrgId, secrets: ReceptionSecrets) -> StoreResult<i64> {
        let txn = self.connection().begin().await?;
        let revision = next_revision(&txn, org).await?;
        let dids = owned_dids(&txn, org).await?;
        let config =
            default_config(secrets, &dids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        clear_layer(&txn, org, Layer::Draft).await?;
        self.checkpoint(Step::AfterClearTarget)?;
        insert_config(&txn, org, Layer::Draft, &config, revision).await?;
        self.checkpoint(Step::AfterCopy)?;
        txn.commit().await?;
        Ok(revision)
    }

    /// Number of changes between the draft and the applied configuration.
    pub async fn pending_changes(&self, org: OrgId) -> StoreResult<Vec<Change>> {
        let txn = self.connection().begin().await?;
        let draft = load_layer_in(&txn, org, Layer::Draft).await?;
        let applied = load_layer_in(&txn, org, Layer::Applied).await?;
        txn.commit().await?;
        Ok(diff(&draft, &applied))
    }

    /// The org's last `limit` Applies, newest first.
    pub async fn apply_history(
        &self,
        org: OrgId,
        limit: u64,
    ) -> StoreResult<Vec<apply_history::Model>> {
        use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
        Ok(apply_history::Entity::find()
            .filter(apply_history::Column::OrgId.eq(org.0))
            .order_by_desc(apply_history::Column::Version)
            .limit(limit)
            .all(self.connection())
            .await?)
    }
}

pub(crate) async fn lock_org(
    txn: &DatabaseTransaction,
    org: OrgId,
) -> StoreResult<organizations::Model> {
    // A no-op update takes the row lock on every database (SQLite locks the file anyway).
    txn.execute_raw(Statement::from_sql_and_values(
        txn.get_database_backend(),
        "UPDATE organizations SET draft_revision = draft_revision WHERE id = ?",
        [Value::from(org.0)],
    ))
    .await?;
    organizations::Entity::find_by_id(org.0)
        .one(txn)
        .await?
        .ok_or_else(|| StoreError::NotFound("organization".into()))
}

/// The org's slug and SIP domain, typed. Both were checked when the org was created, so a
/// stored value that does not parse is a bug or a manual edit: logged, and the Apply refused.
fn org_names(row: &organizations::Model) -> StoreResult<(OrgSlug, SipDomain)> {
    let corrupt = |what: &str, e: domain::ValueError| {
        tracing::error!(org = row.id, what, error = %e, "stored org name does not parse; Apply refused");
        StoreError::Corrupt(format!("organization {}: {what}: {e}", row.id))
    };
    let slug = OrgSlug::parse(&row.slug).map_err(|e| corrupt("slug", e))?;
    let domain = SipDomain::parse(&row.sip_domain).map_err(|e| corrupt("sip_domain", e))?;
    Ok((slug, domain))
}

/// The writes of a non-empty Apply in its transaction: applied rows, versions and epoch,
/// history, and the job moved to `syncing`. Returns the new applied version.
async fn publish(
    store: &Store,
    prepared: &PreparedApply<'_>,
    request: &ApplyRequest<'_>,
) -> StoreResult<i64> {
    let (txn, org) = (&prepared.txn, prepared.org);
    publish_changes(store, txn, org, &prepared.changes).await?;

    let version = prepared.version + 1;
    bump_versions(txn, org, version).await?;
    bump_xml_epoch(txn).await?;
    store.checkpoint(Step::AfterVersionBump)?;

    write_history(txn, org, version, request, prepared).await?;
    if let Some(job) = request.job_id {
        crate::jobs::mark_applied_in(txn, org, job, version).await?;
    }
    store.checkpoint(Step::AfterHistory)?;
    Ok(version)
}

async fn write_history(
    txn: &DatabaseTransaction,
    org: OrgId,
    version: i64,
    request: &ApplyRequest<'_>,
    prepared: &PreparedApply<'_>,
) -> StoreResult<()> {
    let changes = &prepared.changes;
    let waited_ms = match request.job_id {
        Some(job) => crate::history::waited_ms(txn, job).await?,
        None => None,
    };
    let history = apply_history::ActiveModel {
        id: sea_orm::ActiveValue::NotSet,
        org_id: sea_orm::ActiveValue::Set(org.0),
        version: sea_orm::ActiveValue::Set(version),
        applied_by: sea_orm::ActiveValue::Set(request.applied_by.to_owned()),
        applied_at: sea_orm::ActiveValue::Set(now_ms()),
        changes: sea_orm::ActiveValue::Set(
            serde_json::to_string(changes).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        ),
        job_id: sea_orm::ActiveValue::Set(request.job_id),
        config: sea_orm::ActiveValue::Set(Some(crate::history::config_json(&prepared.next)?)),
        waited_ms: sea_orm::ActiveValue::Set(waited_ms),
    };
    apply_history::Entity::insert(history).exec(txn).await?;
    Ok(())
}

async fn bump_versions(txn: &DatabaseTransaction, org: OrgId, version: i64) -> StoreResult<()> {
    txn.execute_raw(Statement::from_sql_and_values(
        txn.get_database_backend(),
        "UPDATE organizations SET applied_version = ?, xml_version = xml_version + 1, updated_at = ? WHERE id = ?",
        [Value::from(version), Value::from(now_ms()), Value::from(org.0)],
    ))
    .await?;
    Ok(())
}

/// Deletes one layer of the org's configuration rows.
pub(crate) async fn clear_layer(
    txn: &DatabaseTransaction,
    org: OrgId,
    layer: Layer,
) -> StoreResult<()> {
    for (table, _) in LAYERED_TABLES {
        txn.execute_raw(Statement::from_sql_and_values(
            txn.get_database_backend(),
            format!("DELETE FROM {table} WHERE org_id = ? AND layer = ?"),
            [Value::from(org.0), Value::from(layer.as_str())],
        ))
        .await?;
    }
    Ok(())
}

/// Replaces layer `to` with a copy of layer `from`, table by table, inside the database.
/// `revision`: the revision the copied rows get (`None` keeps each row's own).
async fn copy_layer(
    store: &Store,
    txn: &DatabaseTransaction,
    org: OrgId,
    from: Layer,
    to: Layer,
    revision: Option<i64>,
) -> StoreResult<()> {
    clear_layer(txn, org, to).await?;
    store.checkpoint(Step::AfterClearTarget)?;
    for (table, columns) in LAYERED_TABLES {
        let columns = columns.join(", ");
        let revision_expr = if revision.is_some() { "?" } else { "revision" };
        let sql = format!(
            "INSERT INTO {table} (org_id, layer, {columns}, revision) \
             SELECT org_id, ?, {columns}, {revision_expr} FROM {table} WHERE org_id = ? AND layer = ?"
        );
        let mut values = vec![Value::from(to.as_str())];
        if let Some(revision) = revision {
            values.push(Value::from(revision));
        }
        values.extend([Value::from(org.0), Value::from(from.as_str())]);
        txn.execute_raw(Statement::from_sql_and_values(
            txn.get_database_backend(),
            sql,
            values,
        ))
        .await?;
    }
    store.checkpoint(Step::AfterCopy)?;
    Ok(())
}

/// Makes the applied layer equal to the draft by rewriting only the rows that differ: the rows of
/// changed or removed objects are deleted from the applied layer, those of changed or added ones
/// are copied over from the draft (`INSERT ... SELECT`). The diff was computed in this
/// transaction with the org row locked, so it is exactly the difference.
async fn publish_changes(
    store: &Store,
    txn: &DatabaseTransaction,
    org: OrgId,
    changes: &[Change],
) -> StoreResult<()> {
    use domain::{ChangeKind, Subject};
    let keys = |pick: fn(&Subject) -> Option<String>, kinds: &[ChangeKind]| -> Vec<String> {
        changes
            .iter()
            .filter(|c| kinds.contains(&c.kind))
            .filter_map(|c| pick(&c.subject))
            .collect()
    };
    let extension = |s: &Subject| match s {
        Subject::Extension(n) => Some(n.to_string()),
        _ => None,
    };
    let route = |s: &Subject| match s {
        Subject::DidRoute(d) => Some(d.to_string()),
        _ => None,
    };
    let gone = [ChangeKind::Removed, ChangeKind::Modified];
    let fresh = [ChangeKind::Added, ChangeKind::Modified];
    let options_changed = changes.iter().any(|c| c.subject == Subject::Options);
    let [extensions, routes, settings] = LAYERED_TABLES else {
        return Err(StoreError::Corrupt("layered table list".into()));
    };
    delete_keyed(txn, org, extensions.0, "number", &keys(extension, &gone)).await?;
    delete_keyed(txn, org, routes.0, "did", &keys(route, &gone)).await?;
    if options_changed {
        delete_keyed(
            txn,
            org,
            settings.0,
            "layer",
            &[Layer::Applied.as_str().to_owned()],
        )
        .await?;
    }
    store.checkpoint(Step::AfterClearTarget)?;
    copy_keyed(txn, org, extensions, "number", &keys(extension, &fresh)).await?;
    copy_keyed(txn, org, routes, "did", &keys(route, &fresh)).await?;
    if options_changed {
        copy_keyed(
            txn,
            org,
            settings,
            "layer",
            &[Layer::Draft.as_str().to_owned()],
        )
        .await?;
    }
    store.checkpoint(Step::AfterCopy)?;
    Ok(())
}

/// Rows per statement when deleting or copying by key.
const KEY_CHUNK: usize = 500;

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Deletes the applied rows of `table` whose `key` column is one of `keys`.
async fn delete_keyed(
    txn: &DatabaseTransaction,
    org: OrgId,
    table: &str,
    key: &str,
    keys: &[String],
) -> StoreResult<()> {
    for chunk in keys.chunks(KEY_CHUNK) {
        let sql = format!(
            "DELETE FROM {table} WHERE org_id = ? AND layer = ? AND {key} IN ({})",
            placeholders(chunk.len())
        );
        let mut values = vec![Value::from(org.0), Value::from(Layer::Applied.as_str())];
        values.extend(chunk.iter().map(|k| Value::from(k.as_str())));
        txn.execute_raw(Statement::from_sql_and_values(
            txn.get_database_backend(),
            sql,
            values,
        ))
        .await?;
    }
    Ok(())
}

/// Copies the draft rows of `table` whose `key` column is one of `keys` into the applied layer.
async fn copy_keyed(
    txn: &DatabaseTransaction,
    org: OrgId,
    (table, columns): &(&str, &[&str]),
    key: &str,
    keys: &[String],
) -> StoreResult<()> {
    let columns = columns.join(", ");
    for chunk in keys.chunks(KEY_CHUNK) {
        let sql = format!(
            "INSERT INTO {table} (org_id, layer, {columns}, revision) \
             SELECT org_id, ?, {columns}, revision FROM {table} WHERE org_id = ? AND layer = ? AND {key} IN ({})",
            placeholders(chunk.len())
        );
        let mut values = vec![
            Value::from(Layer::Applied.as_str()),
            Value::from(org.0),
            Value::from(Layer::Draft.as_str()),
        ];
        values.extend(chunk.iter().map(|k| Value::from(k.as_str())));
        txn.execute_raw(Statement::from_sql_and_values(
            txn.get_database_backend(),
            sql,
            values,
        ))
        .await?;
    }
    Ok(())
}

/// Inserts a whole configuration as one layer (which must be empty).
pub(crate) async fn insert_config<C: ConnectionTrait>(
    conn: &C,
    org: OrgId,
    layer: Layer,
    config: &OrgConfig,
    revision: i64,
) -> StoreResult<()> {
    use crate::entities::{did_routes, extensions, org_settings};
    if !config.extensions.is_empty() {
        extensions::Entity::insert_many(
            config
                .extensions
                .iter()
                .map(|e| extension_to_row(org, layer, e, revision)),
        )
        .exec(conn)
        .await?;
    }
    if !config.did_routes.is_empty() {
        did_routes::Entity::insert_many(
            config
                .did_routes
                .iter()
                .map(|r| route_to_row(org, layer, r, revision)),
        )
        .exec(conn)
        .await?;
    }
    org_settings::Entity::insert(options_to_row(org, layer, &config.options, revision))
        .exec(conn)
        .await?;
    Ok(())
}

/// Queues FreeSWITCH commands in the caller's transaction.
///
/// The commands make FreeSWITCH read again what this transaction changes, so they are stamped
/// with the XML epoch it commits: delivery waits until every live instance serves it. Callers
/// bump the epoch (`bump_xml_epoch`) before they queue.
pub(crate) async fn queue_commands(
    txn: &DatabaseTransaction,
    org: Option<OrgId>,
    commands: &[String],
) -> StoreResult<()> {
    if commands.is_empty() {
        return Ok(());
    }
    let epoch = crate::snapshot::read_xml_epoch(txn).await?;
    let now = now_ms();
    fs_commands::Entity::insert_many(commands.iter().map(|command| fs_commands::ActiveModel {
        id: sea_orm::ActiveValue::NotSet,
        org_id: sea_orm::ActiveValue::Set(org.map(|o| o.0)),
        command: sea_orm::ActiveValue::Set(command.clone()),
        created_at: sea_orm::ActiveValue::Set(now),
        done_at: sea_orm::ActiveValue::Set(None),
        attempts: sea_orm::ActiveValue::Set(0),
        last_error: sea_orm::ActiveValue::Set(None),
        epoch: sea_orm::ActiveValue::Set(epoch),
    }))
    .exec(txn)
    .await?;
    Ok(())
}
