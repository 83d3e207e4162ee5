//! Store operations on SQLite and MariaDB (each test runs on both, in a database of its own).

use std::collections::BTreeSet;

use domain::defaults::ReceptionSecrets;
use domain::trunk::*;
use domain::*;
use store::admins::AdminCredential;
use store::apply::{ApplyRequest, Step};
use store::orgs::{NewOrg, OrgLimits, OrgUpdate};
use store::telephony::PasswordChange;
use store::{Layer, OrgId, Store, StoreError};
use testkit::db_test;

async fn open(url: &str) -> Store {
    let store = Store::connect(url).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
}

fn secrets(slug: &str, password: &str) -> ReceptionSecrets {
    let domain = SipDomain::parse(&format!("pbx.{slug}.test")).unwrap();
    testkit::fixtures::reception_secrets(&domain, password)
}

async fn new_org(store: &Store, slug: &str) -> OrgId {
    let new = NewOrg {
        slug: OrgSlug::parse(slug).unwrap(),
        name: CompanyName::parse(&format!("{slug} Inc.")).unwrap(),
        sip_domain: SipDomain::parse(&format!("pbx.{slug}.test")).unwrap(),
        limits: OrgLimits::default(),
    };
    store
        .create_org(&new, secrets(slug, "pw"))
        .await
        .expect("create org")
        .id
}

fn extension(number: &str, no_answer: NoAnswer) -> Extension {
    let ext = testkit::fixtures::extension(number, "pbx.acme.test", "secret");
    Extension {
        display_name: DisplayName::parse("Ann Example").unwrap(),
        voicemail_email: Some(Email::parse("ann@example.com").unwrap()),
        call_flow: CallFlow {
            no_answer,
            ..ext.call_flow
        },
        ..ext
    }
}

fn emergency() -> BTreeSet<String> {
    ["112".to_owned(), "911".to_owned()].into()
}

fn flush_commands(facts: &ApplyFacts<'_>) -> Vec<String> {
    facts
        .changes
        .iter()
        .filter_map(|c| match &c.subject {
            Subject::Extension(n) => Some(format!("xml_flush_cache id {n} {}", facts.domain)),
            _ => None,
        })
        .collect()
}

async fn apply(store: &Store, org: OrgId) -> Result<store::apply::ApplyOutcome, StoreError> {
    let emergency = emergency();
    let request = ApplyRequest {
        applied_by: "ann@example.com",
        job_id: None,
        emergency_numbers: &emergency,
    };
    let prepared = store.prepare_apply(org, &request).await?;
    let commands = flush_commands(&prepared.facts());
    prepared.commit(commands).await
}

db_test!(migrations_are_idempotent, |url: String| async move {
    let store = open(&url).await;
    store.migrate().await.expect("second run");
    assert_eq!(store.pending_migrations().await.unwrap(), 0);
    assert_eq!(store.xml_epoch().await.unwrap(), 0);
});

db_test!(
    a_new_org_has_the_default_configuration_applied,
    |url: String| async move {
        let store = open(&url).await;
        let org = new_org(&store, "acme").await;
        let record = store.org(org).await.unwrap();
        assert_eq!(record.applied_version, 1);
        assert_eq!(record.status, OrgStatus::Active);
        let draft = store.load_layer(org, Layer::Draft).await.unwrap();
        let applied = store.load_layer(org, Layer::Applied).await.unwrap();
        assert_eq!(draft, applied);
        assert_eq!(draft.extensions.len(), 1);
        assert_eq!(draft.extensions[0].number.as_str(), "100");
        assert_eq!(store.pending_changes(org).await.unwrap(), vec![]);
        assert_eq!(store.xml_epoch().await.unwrap(), 1);
    }
);

db_test!(slug_and_domain_are_unique, |url: String| async move {
    let store = open(&url).await;
    new_org(&store, "acme").await;
    let again = NewOrg {
        slug: OrgSlug::parse("acme").unwrap(),
        name: CompanyName::parse("Other").unwrap(),
        sip_domain: SipDomain::parse("pbx.other.test").unwrap(),
        limits: OrgLimits::default(),
    };
    let err = store
        .create_org(&again, secrets("acme", "x"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("short name")),
        "{err:?}"
    );
    let same_domain = NewOrg {
        slug: OrgSlug::parse("other").unwrap(),
        sip_domain: SipDomain::parse("pbx.acme.test").unwrap(),
        ..again
    };
    let err = store
        .create_org(&same_domain, secrets("other", "x"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("SIP domain")),
        "{err:?}"
    );
    assert_eq!(store.list_orgs(0, 10).await.unwrap().1, 1);
});

db_test!(
    draft_edits_are_guarded_by_revisions,
    |url: String| async move {
        let store = open(&url).await;
        let org = new_org(&store, "acme").await;
        let created = store
            .create_extension(org, &extension("101", NoAnswer::Voicemail))
            .await
            .unwrap();
        let err = store
            .create_extension(org, &extension("101", NoAnswer::Hangup))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Conflict(m) if m.contains("already exists")),
            "{err:?}"
        );

        let number = ExtensionNumber::parse("101").unwrap();
        let updated = store
            .update_extension(org, &number, created.revision, |e| {
                e.do_not_disturb = true;
                Ok(())
            })
            .await
            .unwrap();
        assert!(updated.revision > created.revision);
        // A second browser still holding the first revision is refused, not silently applied.
        let err = store
            .update_extension(org, &number, created.revision, |e| {
                e.display_name = DisplayName::parse("Overwritten").unwrap();
                Ok(())
            })
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Stale { current_revision, .. } if current_revision == updated.revision),
            "{err:?}"
        );
        let draft = store.load_layer(org, Layer::Draft).await.unwrap();
        let ext = draft.extension(&number).unwrap();
        assert!(ext.do_not_disturb);
        assert_eq!(ext.display_name.as_str(), "Ann Example");

        let err = store
            .delete_extension(org, &number, created.revision)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Stale { .. }));
        store
            .delete_extension(org, &number, updated.revision)
            .await
            .unwrap();
        let err = store
            .delete_extension(org, &number, updated.revision)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)));
    }
);

db_test!(edits_are_scoped_by_org, |url: String| async move {
    let store = open(&url).await;
    let acme = new_org(&store, "acme").await;
    let globex = new_org(&store, "globex").await;
    let created = store
        .create_extension(acme, &extension("101", NoAnswer::Voicemail))
        .await
        .unwrap();
    let number = ExtensionNumber::parse("101").unwrap();
    let err = store
        .delete_extension(globex, &number, created.revision)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    let err = store
        .update_extension(globex, &number, created.revision, |_| Ok(()))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    assert!(store
        .load_layer(globex, Layer::Draft)
        .await
        .unwrap()
        .extension(&number)
        .is_none());
    assert!(store
        .load_layer(acme, Layer::Draft)
        .await
        .unwrap()
        .extension(&number)
        .is_some());
});

db_test!(
    apply_publishes_the_draft_of_one_org_only,
    |url: String| async move {
        let store = open(&url).await;
        let acme = new_org(&store, "acme").await;
        let globex = new_org(&store, "globex").await;
        store
            .create_extension(acme, &extension("101", NoAnswer::Voicemail))
            .await
            .unwrap();
        store
            .create_extension(globex, &extension("101", NoAnswer::Hangup))
            .await
            .unwrap();
        let globex_before = store.load_layer(globex, Layer::Applied).await.unwrap();
        let epoch_before = store.xml_epoch().await.unwrap();

        assert_eq!(store.pending_changes(acme).await.unwrap().len(), 1);
        let outcome = apply(&store, acme).await.unwrap();
        assert_eq!(outcome.version, 2);
        assert_eq!(outcome.queued_commands, 1);
        assert_eq!(
            store.load_layer(acme, Layer::Applied).await.unwrap(),
            store.load_layer(acme, Layer::Draft).await.unwrap()
        );
        assert_eq!(store.pending_changes(acme).await.unwrap(), vec![]);
        assert_eq!(
            store.load_layer(globex, Layer::Applied).await.unwrap(),
            globex_before
        );
        assert_eq!(store.org(globex).await.unwrap().applied_version, 1);
        assert_eq!(store.xml_epoch().await.unwrap(), epoch_before + 1);

        let history = store.apply_history(acme, 10).await.unwrap();
        assert_eq!(history[0].version, 2);
        assert_eq!(history[0].applied_by, "ann@example.com");
        assert!(
            history[0].changes.contains("\"101\""),
            "{}",
            history[0].changes
        );
        let pending = store.pending_fs_commands(10).await.unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].command, "xml_flush_cache id 101 pbx.acme.test");
        assert_eq!(pending[0].org, Some(acme));

        // Nothing left to apply: the version stays.
        assert_eq!(apply(&store, acme).await.unwrap().version, 2);
    }
);

db_test!(
    an_invalid_draft_is_refused_with_its_issues,
    |url: String| async move {
        let store = open(&url).await;
        let org = new_org(&store, "acme").await;
        store
            .create_extension(
                org,
                &extension(
                    "101",
                    NoAnswer::ForwardExtension(ExtensionNumber::parse("199").unwrap()),
                ),
            )
            .await
            .unwrap();
        let err = apply(&store, org).await.unwrap_err();
        let StoreError::Invalid(issues) = err else {
            panic!("expected issues, got {err:?}")
        };
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].code, IssueCode::ForwardTargetMissing);
        assert_eq!(issues[0].field, "no_answer_target");
        assert_eq!(store.org(org).await.unwrap().applied_version, 1);
        assert_eq!(
            store
                .load_layer(org, Layer::Applied)
                .await
                .unwrap()
                .extensions
                .len(),
            1
        );
    }
);

db_test!(discard_and_reset, |url: String| async move {
    let store = open(&url).await;
    let org = new_org(&store, "acme").await;
    let applied = store.load_layer(org, Layer::Applied).await.unwrap();
    let created = store
        .create_extension(org, &extension("101", NoAnswer::Voicemail))
        .await
        .unwrap();
    store.discard(org).await.unwrap();
    assert_eq!(store.load_layer(org, Layer::Draft).await.unwrap(), applied);
    // An edit based on a revision from before the Discard is refused.
    let err = store
        .create_extension(org, &extension("101", NoAnswer::Voicemail))
        .await
        .map(|_| ());
    assert!(err.is_ok(), "re-adding after discard works");
    let number = ExtensionNumber::parse("101").unwrap();
    store.discard(org).await.unwrap();
    assert!(matches!(
        store.delete_extension(org, &number, created.revision).await,
        Err(StoreError::NotFound(_))
    ));

    store
        .add_did(org, &E164::parse("+15550100100").unwrap())
        .await
        .unwrap();
    store
        .create_extension(org, &extension("102", NoAnswer::Voicemail))
        .await
        .unwrap();
    store.reset(org, secrets("acme", "new")).await.unwrap();
    let draft = store.load_layer(org, Layer::Draft).await.unwrap();
    assert_eq!(draft.extensions.len(), 1);
    assert_eq!(draft.extensions[0].number.as_str(), "100");
    assert_eq!(draft.did_routes.len(), 1);
    assert_eq!(
        draft.did_routes[0].extension.as_ref().map(|e| e.as_str()),
        Some("100")
    );
    assert_eq!(
        draft.options.default_caller_id.as_ref().map(|d| d.as_str()),
        Some("+15550100100")
    );
    // Reset changed only the draft.
    assert_eq!(store.org(org).await.unwrap().applied_version, 1);
});

/// Makes the next Apply fail at `step` and checks that nothing of it remains.
async fn apply_fails_cleanly_at(store: &Store, org: OrgId, step: Step) {
    let before_applied = store.load_layer(org, Layer::Applied).await.unwrap();
    let before_draft = store.load_layer(org, Layer::Draft).await.unwrap();
    let before_version = store.org(org).await.unwrap().applied_version;
    let before_history = store.apply_history(org, 100).await.unwrap().len();
    let before_commands = store.pending_fs_commands(1000).await.unwrap().len();
    let before_epoch = store.xml_epoch().await.unwrap();

    store.fail_next_at(step);
    let err = apply(store, org).await.unwrap_err();
    assert!(
        err.to_string().contains("injected failure"),
        "{step:?}: {err}"
    );

    assert_eq!(
        store.load_layer(org, Layer::Applied).await.unwrap(),
        before_applied,
        "{step:?}"
    );
    assert_eq!(
        store.load_layer(org, Layer::Draft).await.unwrap(),
        before_draft,
        "{step:?}"
    );
    assert_eq!(
        store.org(org).await.unwrap().applied_version,
        before_version,
        "{step:?}"
    );
    assert_eq!(
        store.apply_history(org, 100).await.unwrap().len(),
        before_history,
        "{step:?}"
    );
    assert_eq!(
        store.pending_fs_commands(1000).await.unwrap().len(),
        before_commands,
        "{step:?}"
    );
    assert_eq!(store.xml_epoch().await.unwrap(), before_epoch, "{step:?}");
}

db_test!(
    a_failed_apply_leaves_everything_as_it_was,
    |url: String| async move {
        let store = open(&url).await;
        let org = new_org(&store, "acme").await;
        for n in 101..=110 {
            store
                .create_extension(org, &extension(&n.to_string(), NoAnswer::Voicemail))
                .await
                .unwrap();
        }
        for step in [
            Step::AfterValidate,
            Step::AfterClearTarget,
            Step::AfterCopy,
            Step::AfterVersionBump,
            Step::AfterHistory,
            Step::AfterCommands,
        ] {
            apply_fails_cleanly_at(&store, org, step).await;
        }
        // And after all those failures a real Apply still works.
        assert_eq!(apply(&store, org).await.unwrap().version, 2);
        assert_eq!(
            store
                .load_layer(org, Layer::Applied)
                .await
                .unwrap()
                .extensions
                .len(),
            11
        );
    }
);

db_test!(
    a_prepared_apply_shows_its_facts_and_dropping_it_changes_nothing,
    |url: String| async move {
        let store = open(&url).await;
        let org = new_org(&store, "acme").await;
        store
            .create_extension(org, &extension("101", NoAnswer::Voicemail))
            .await
            .unwrap();
        let before = store.org(org).await.unwrap();
        let emergency = emergency();
        let request = ApplyRequest {
            applied_by: "ann@example.com",
            job_id: None,
            emergency_numbers: &emergency,
        };
        let prepared = store.prepare_apply(org, &request).await.unwrap();
        let facts = prepared.facts();
        assert_eq!(facts.slug.as_str(), "acme");
        assert_eq!(facts.domain.as_str(), "pbx.acme.test");
        assert_eq!(facts.changes.len(), 1);
        assert_eq!(
            facts.next.extensions.len(),
            facts.previous.extensions.len() + 1
        );
        drop(prepared);
        let after = store.org(org).await.unwrap();
        assert_eq!(after.applied_version, before.applied_version);
        assert_eq!(store.pending_changes(org).await.unwrap().len(), 1);
        assert!(store.pending_fs_commands(10).await.unwrap().is_empty());
        assert_eq!(apply(&store, org).await.unwrap().queued_commands, 1);
    }
);

db_test!(
    a_stored_slug_that_does_not_parse_refuses_the_apply,
    |url: String| async move {
        let store = open(&url).await;
        let org = new_org(&store, "acme").await;
        store
            .create_extension(org, &extension("101", NoAnswer::Voicemail))
            .await
            .unwrap();
        let edit = sea_orm::Statement::from_string(
            store.backend(),
            format!(
                "UPDATE organizations SET slug = 'Not A Slug' WHERE id = {}",
                org.0
            ),
        );
        sea_orm::ConnectionTrait::execute_raw(store.connection(), edit)
            .await
            .unwrap();
        let err = apply(&store, org).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::Corrupt(m) if m.contains("slug")),
            "{err:?}"
        );
        assert_eq!(store.pending_changes(org).await.unwrap().len(), 1);
    }
);

db_test!(
    failed_discard_and_reset_leave_the_draft,
    |url: String| async move {
        let store = open(&url).await;
        let org = new_org(&store, "acme").await;
        store
            .create_extension(org, &extension("101", NoAnswer::Voicemail))
            .await
            .unwrap();
        let draft = store.load_layer(org, Layer::Draft).await.unwrap();
        for step in [Step::AfterClearTarget, Step::AfterCopy] {
            store.fail_next_at(step);
            assert!(store.discard(org).await.is_err());
            assert_eq!(
                store.load_layer(org, Layer::Draft).await.unwrap(),
                draft,
                "discard {step:?}"
            );
            store.fail_next_at(step);
            assert!(store.reset(org, secrets("acme", "x")).await.is_err());
            assert_eq!(
                store.load_layer(org, Layer::Draft).await.unwrap(),
                draft,
                "reset {step:?}"
            );
        }
    }
);

db_test!(
    dids_are_unique_across_orgs_and_routed_per_layer,
    |url: String| async move {
        let store = open(&url).await;
        let acme = new_org(&store, "acme").await;
        let globex = new_org(&store, "globex").await;
        let did = E164::parse("+15550100100").unwrap();
        store.add_did(acme, &did).await.unwrap();
        let err = store.add_did(globex, &did).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::Conflict(m) if m.contains("already assigned")),
            "{err:?}"
        );
        assert_eq!(store.list_dids(globex).await.unwrap(), vec![]);

        let draft = store.load_draft(acme).await.unwrap();
        assert_eq!(draft.did_routes.len(), 1);
        assert_eq!(draft.did_routes[0].value.extension, None);
        let routed = store
            .set_did_route(
                acme,
                &did,
                Some(ExtensionNumber::parse("100").unwrap()),
                draft.did_routes[0].revision,
            )
            .await
            .unwrap();
        assert!(
            store
                .set_did_route(acme, &did, None, draft.did_routes[0].revision)
                .await
                .is_err(),
            "stale route edit"
        );
        assert!(matches!(
            store
                .set_did_route(globex, &did, None, routed.revision)
                .await,
            Err(StoreError::NotFound(_))
        ));
        apply(&store, acme).await.unwrap();
        assert_eq!(
            store
                .load_layer(acme, Layer::Applied)
                .await
                .unwrap()
                .did_routes[0]
                .extension
                .as_ref()
                .map(|e| e.as_str()),
            Some("100")
        );

        assert!(matches!(
            store.remove_did(globex, &did).await,
            Err(StoreError::NotFound(_))
        ));
        store.remove_did(acme, &did).await.unwrap();
        assert!(store
            .load_layer(acme, Layer::Applied)
            .await
            .unwrap()
            .did_routes
            .is_empty());
        store.add_did(globex, &did).await.unwrap();
    }
);

fn trunk_settings() -> TrunkSettings {
    TrunkSettings {
        username: SipUser::parse("acme-trunk").unwrap(),
        auth_username: None,
        host: SipHost::parse("sip.carrier.example").unwrap(),
        proxy: None,
        port: 5060,
        transport: Transport::Udp,
        register: true,
        realm: None,
        from_user: None,
        from_domain: None,
        caller_id_in_from: false,
        expire_seconds: 600,
        allowed_cidrs: vec![Cidr::parse("203.0.113.10").unwrap()],
    }
}

db_test!(
    trunks_keep_their_password_unless_told,
    |url: String| async move {
        let store = open(&url).await;
        let org = new_org(&store, "acme").await;
        let config = TrunkConfig::Own(trunk_settings());
        store
            .set_trunk(
                org,
                TrunkRole::Inbound,
                &config,
                PasswordChange::Set("enc:1".into()),
                &["sofia profile external killgw acme.in".into()],
            )
            .await
            .unwrap();
        let saved = store
            .set_trunk(org, TrunkRole::Inbound, &config, PasswordChange::Keep, &[])
            .await
            .unwrap();
        assert_eq!(saved.password_enc.as_deref(), Some("enc:1"));
        assert_eq!(saved.config, config);
        store
            .set_trunk(
                org,
                TrunkRole::Outbound,
                &TrunkConfig::SameAsInbound,
                PasswordChange::Keep,
                &[],
            )
            .await
            .unwrap();
        let err = store
            .set_trunk(
                org,
                TrunkRole::Inbound,
                &TrunkConfig::SameAsInbound,
                PasswordChange::Keep,
                &[],
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)));
        let trunks = store.trunks(org).await.unwrap();
        assert_eq!(trunks.len(), 2);
        assert_eq!(trunks[1].config, TrunkConfig::SameAsInbound);
        assert_eq!(store.pending_fs_commands_of(org).await.unwrap(), 1);
        store
            .remove_trunk(org, TrunkRole::Inbound, &[])
            .await
            .unwrap();
        assert_eq!(
            store.trunks(org).await.unwrap(),
            vec![],
            "same-as-inbound goes with the inbound trunk"
        );
    }
);

db_test!(admins_sessions_and_keys, |url: String| async move {
    let store = open(&url).await;
    let acme = new_org(&store, "acme").await;
    let globex = new_org(&store, "globex").await;
    let email = Email::parse("boss@acme.test").unwrap();
    let admin = store
        .create_admin(
            acme,
            &email,
            AdminCredential::PasswordHash("$argon2id$x".into()),
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_admin(acme, &email, AdminCredential::PasswordHash("y".into()))
            .await,
        Err(StoreError::Conflict(_))
    ));
    store
        .create_admin(globex, &email, AdminCredential::PasswordHash("z".into()))
        .await
        .expect("the same e-mail may administer another org");
    assert_eq!(
        store
            .admin_by_email(acme, &email)
            .await
            .unwrap()
            .unwrap()
            .id,
        admin.id
    );
    assert!(matches!(
        store.admin(globex, admin.id).await,
        Err(StoreError::NotFound(_))
    ));

    store
        .create_session(acme, admin.id, "tokenhash", store::now_ms() + 60_000)
        .await
        .unwrap();
    assert_eq!(store.session("tokenhash").await.unwrap().unwrap().org, acme);
    store
        .set_admin_password(acme, admin.id, "$argon2id$new")
        .await
        .unwrap();
    assert_eq!(
        store.session("tokenhash").await.unwrap(),
        None,
        "a new password ends the sessions"
    );
    store
        .create_session(acme, admin.id, "expired", store::now_ms() - 1)
        .await
        .unwrap();
    assert_eq!(store.session("expired").await.unwrap(), None);
    assert_eq!(store.prune_sessions().await.unwrap(), 1);

    let invited = store
        .create_admin(
            acme,
            &Email::parse("new@acme.test").unwrap(),
            AdminCredential::Invite {
                token_hash: "inv".into(),
                expires_at: store::now_ms() + 60_000,
            },
        )
        .await
        .unwrap();
    assert!(invited.invite_pending && invited.password_hash.is_none());
    assert_eq!(
        store.admin_by_invite("inv").await.unwrap().unwrap().id,
        invited.id
    );

    let key = store
        .create_api_key("billing", "lpbx_abc", "keyhash", Some(acme))
        .await
        .unwrap();
    assert_eq!(
        store.api_key_by_hash("keyhash").await.unwrap().unwrap().org,
        Some(acme)
    );
    store.delete_api_key(key.id).await.unwrap();
    assert_eq!(store.api_key_by_hash("keyhash").await.unwrap(), None);

    store.delete_org(acme, &[]).await.unwrap();
    assert_eq!(
        store.admin_by_email(acme, &email).await.unwrap(),
        None,
        "admins go with their org"
    );
    assert!(store
        .admin_by_email(globex, &email)
        .await
        .unwrap()
        .is_some());
});

db_test!(
    status_changes_reach_the_xml_version,
    |url: String| async move {
        let store = open(&url).await;
        let org = new_org(&store, "acme").await;
        let before = store.org(org).await.unwrap().xml_version;
        let epoch = store.xml_epoch().await.unwrap();
        let updated = store
            .update_org(
                org,
                &OrgUpdate {
                    status: Some(OrgStatus::Suspended),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(updated.status, OrgStatus::Suspended);
        assert_eq!(updated.xml_version, before + 1);
        assert_eq!(store.xml_epoch().await.unwrap(), epoch + 1);
        let renamed = store
            .update_org(
                org,
                &OrgUpdate {
                    name: Some(CompanyName::parse("New Name").unwrap()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            renamed.xml_version,
            before + 1,
            "a name is not FreeSWITCH's business"
        );
        let versions = store.xml_versions().await.unwrap();
        assert_eq!(versions, vec![(org, before + 1)]);
        let snapshot = store.applied_snapshot(org).await.unwrap();
        assert_eq!(snapshot.org.name.as_str(), "New Name");
        assert_eq!(snapshot.config.extensions.len(), 1);
    }
);

db_test!(
    one_unfinished_job_per_org_and_leases,
    |url: String| async move {
        use store::jobs::{JobOutcome, JobState, NewJob};
        let store = open(&url).await;
        let acme = new_org(&store, "acme").await;
        let globex = new_org(&store, "globex").await;
        let new = NewJob {
            requested_by: "ann@example.com",
            wait_for_calls: true,
            max_wait_seconds: 60,
            email_to: None,
        };
        let job = store.create_job(acme, &new).await.unwrap();
        assert_eq!(job.state, JobState::Waiting);
        assert!(job.deadline_at.unwrap() > job.requested_at);
        let err = store.create_job(acme, &new).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::Conflict(m) if m.contains("already in progress")),
            "{err:?}"
        );
        let other = store
            .create_job(globex, &new)
            .await
            .expect("another org is not blocked");

        // Leases: the first instance takes both jobs, a second one gets none until they expire.
        assert_eq!(
            store.claim_jobs("instance-a", 60_000).await.unwrap().len(),
            2
        );
        assert_eq!(
            store.claim_jobs("instance-b", 60_000).await.unwrap().len(),
            0
        );
        assert_eq!(
            store.claim_jobs("instance-a", 60_000).await.unwrap().len(),
            2,
            "the owner renews"
        );
        assert_eq!(store.claim_jobs("instance-c", -1).await.unwrap().len(), 0);

        // Stop works only while waiting, and frees the org.
        let stopped = store.stop_job(acme, job.id).await.unwrap();
        assert_eq!(stopped.state, JobState::Stopped);
        assert!(matches!(
            store.stop_job(acme, job.id).await,
            Err(StoreError::Conflict(_))
        ));
        assert!(
            matches!(
                store.stop_job(acme, other.id).await,
                Err(StoreError::NotFound(_))
            ),
            "another org's job is not found"
        );
        let second = store
            .create_job(acme, &new)
            .await
            .expect("free again after stop");

        // Applying: the Apply transaction itself moves the job to syncing.
        store
            .create_extension(acme, &extension("101", NoAnswer::Voicemail))
            .await
            .unwrap();
        assert!(store.start_applying(second.id).await.unwrap());
        assert!(
            matches!(
                store.stop_job(acme, second.id).await,
                Err(StoreError::Conflict(_))
            ),
            "too late to stop"
        );
        let emergency = emergency();
        let request = ApplyRequest {
            applied_by: "ann@example.com",
            job_id: Some(second.id),
            emergency_numbers: &emergency,
        };
        let outcome = store
            .prepare_apply(acme, &request)
            .await
            .unwrap()
            .commit(vec![])
            .await
            .unwrap();
        let synced = store.job(acme, second.id).await.unwrap();
        assert_eq!(synced.state, JobState::Syncing);
        assert_eq!(synced.applied_version, Some(outcome.version));
        assert_eq!(
            store.apply_history(acme, 1).await.unwrap()[0].job_id,
            Some(second.id)
        );
        store
            .finish_job(
                second.id,
                JobState::Done,
                &JobOutcome {
                    message: Some("Applied.".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let done = store.latest_job(acme).await.unwrap().unwrap();
        assert_eq!(
            (done.id, done.state, done.active_org_id),
            (second.id, JobState::Done, None)
        );
        store
            .set_job_notes(second.id, Some("sent"), Some("told"))
            .await
            .unwrap();
        assert_eq!(
            store
                .job(acme, second.id)
                .await
                .unwrap()
                .email_status
                .as_deref(),
            Some("sent")
        );
    }
);

db_test!(
    job_states_are_read_strictly_and_moved_only_as_allowed,
    |url: String| async move {
        use store::jobs::{JobOutcome, NewJob};
        let store = open(&url).await;
        let acme = new_org(&store, "acme").await;
        let globex = new_org(&store, "globex").await;
        let new = NewJob {
            requested_by: "ann@example.com",
            wait_for_calls: false,
            max_wait_seconds: 0,
            email_to: None,
        };
        let job = store.create_job(acme, &new).await.unwrap();
        let other = store.create_job(globex, &new).await.unwrap();

        // A waiting job cannot end done: it has not applied anything.
        store
            .finish_job(job.id, JobState::Done, &JobOutcome::default())
            .await
            .unwrap();
        assert_eq!(
            store.job(acme, job.id).await.unwrap().state,
            JobState::Waiting
        );
        assert!(matches!(
            store
                .finish_job(job.id, JobState::Syncing, &JobOutcome::default())
                .await,
            Err(StoreError::Conflict(_))
        ));

        // A state no code knows is an error where it is read, for that job only.
        let edit = sea_orm::Statement::from_string(
            store.backend(),
            format!(
                "UPDATE apply_jobs SET state = 'cancelled' WHERE id = {}",
                job.id
            ),
        );
        sea_orm::ConnectionTrait::execute_raw(store.connection(), edit)
            .await
            .unwrap();
        let err = store.job(acme, job.id).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::Corrupt(m) if m.contains("cancelled")),
            "{err:?}"
        );
        assert!(matches!(
            store.latest_job(acme).await,
            Err(StoreError::Corrupt(_))
        ));
        let claimed = store.claim_jobs("instance-a", 60_000).await.unwrap();
        assert_eq!(claimed.len(), 2);
        assert!(matches!(claimed[0], Err(StoreError::Corrupt(_))));
        assert_eq!(claimed[1].as_ref().unwrap().id, other.id);
        assert!(!store.start_applying(job.id).await.unwrap());
    }
);

db_test!(
    a_failed_apply_leaves_its_job_applying,
    |url: String| async move {
        use store::jobs::NewJob;
        let store = open(&url).await;
        let org = new_org(&store, "acme").await;
        store
            .create_extension(org, &extension("101", NoAnswer::Voicemail))
            .await
            .unwrap();
        let job = store
            .create_job(
                org,
                &NewJob {
                    requested_by: "x",
                    wait_for_calls: false,
                    max_wait_seconds: 0,
                    email_to: None,
                },
            )
            .await
            .unwrap();
        assert!(store.start_applying(job.id).await.unwrap());
        store.fail_next_at(Step::AfterCommands);
        let emergency = emergency();
        let request = ApplyRequest {
            applied_by: "x",
            job_id: Some(job.id),
            emergency_numbers: &emergency,
        };
        let prepared = store.prepare_apply(org, &request).await.unwrap();
        assert!(prepared.commit(vec![]).await.is_err());
        let after = store.job(org, job.id).await.unwrap();
        assert_eq!(
            after.state,
            JobState::Applying,
            "the job state rolled back with the Apply"
        );
        assert_eq!(after.applied_version, None);
        assert!(store
            .apply_history(org, 10)
            .await
            .unwrap()
            .iter()
            .all(|h| h.job_id != Some(job.id)));
    }
);

db_test!(
    apply_rewrites_exactly_the_changed_rows,
    |url: String| async move {
        let store = open(&url).await;
        let org = new_org(&store, "acme").await;
        let did = E164::parse("+15550100100").unwrap();
        store.add_did(org, &did).await.unwrap();
        for n in ["101", "102", "103"] {
            store
                .create_extension(org, &extension(n, NoAnswer::Voicemail))
                .await
                .unwrap();
        }
        apply(&store, org).await.unwrap();
        // One of each: modified, removed, added, a route and the options.
        let draft = store.load_draft(org).await.unwrap();
        let rev = |n: &str| {
            draft
                .extensions
                .iter()
                .find(|e| e.value.number.as_str() == n)
                .unwrap()
                .revision
        };
        let n101 = ExtensionNumber::parse("101").unwrap();
        store
            .update_extension(org, &n101, rev("101"), |e| {
                e.do_not_disturb = true;
                Ok(())
            })
            .await
            .unwrap();
        store
            .delete_extension(org, &ExtensionNumber::parse("102").unwrap(), rev("102"))
            .await
            .unwrap();
        store
            .create_extension(org, &extension("104", NoAnswer::Hangup))
            .await
            .unwrap();
        store
            .set_did_route(org, &did, Some(n101.clone()), draft.did_routes[0].revision)
            .await
            .unwrap();
        store
            .update_options(org, draft.options.revision, |o| {
                o.moh_enabled = false;
                Ok(())
            })
            .await
            .unwrap();
        let outcome = apply(&store, org).await.unwrap();
        assert_eq!(outcome.changes.len(), 5);
        let applied = store.load_layer(org, Layer::Applied).await.unwrap();
        assert_eq!(
            applied,
            store
                .load_layer(org, Layer::Draft)
                .await
                .unwrap()
                .normalized()
        );
        assert_eq!(
            applied
                .extensions
                .iter()
                .map(|e| e.number.as_str())
                .collect::<Vec<_>>(),
            ["100", "101", "103", "104"]
        );
        assert!(!applied.options.moh_enabled);
        assert_eq!(store.pending_changes(org).await.unwrap(), vec![]);
    }
);

db_test!(
    bulk_snapshots_equal_single_snapshots,
    |url: String| async move {
        let store = open(&url).await;
        let acme = new_org(&store, "acme").await;
        let globex = new_org(&store, "globex").await;
        store
            .add_did(acme, &E164::parse("+15550100100").unwrap())
            .await
            .unwrap();
        store
            .create_extension(globex, &extension("101", NoAnswer::Voicemail))
            .await
            .unwrap();
        apply(&store, globex).await.unwrap();
        store
            .set_trunk(
                acme,
                TrunkRole::Inbound,
                &TrunkConfig::Own(trunk_settings()),
                PasswordChange::Set("enc".into()),
                &[],
            )
            .await
            .unwrap();
        // Page by page (one org per page here) gives every org once, in id order.
        let first_page = store.applied_snapshots_page(None, 1).await.unwrap();
        let second_page = store
            .applied_snapshots_page(Some(first_page[0].org.id), 1)
            .await
            .unwrap();
        let third = store
            .applied_snapshots_page(Some(second_page[0].org.id), 1)
            .await
            .unwrap();
        assert!(third.is_empty());
        let all: Vec<_> = first_page.into_iter().chain(second_page).collect();
        assert_eq!(
            all.iter().map(|s| s.org.id).collect::<Vec<_>>(),
            vec![acme, globex]
        );
        assert_eq!(
            store.applied_snapshots_page(None, 10).await.unwrap().len(),
            2
        );
        for snapshot in all {
            let single = store.applied_snapshot(snapshot.org.id).await.unwrap();
            assert_eq!(snapshot.org, single.org);
            assert_eq!(snapshot.config, single.config);
            assert_eq!(snapshot.dids, single.dids);
            assert_eq!(snapshot.trunks, single.trunks);
        }
        let globex_snapshot = store.applied_snapshot(globex).await.unwrap();
        assert_eq!(
            globex_snapshot.config.extensions.len(),
            2,
            "only applied rows: 100 and 101"
        );
        assert!(globex_snapshot.trunks.is_empty() && globex_snapshot.dids.is_empty());
    }
);

db_test!(
    an_apply_of_a_thousand_changes_keeps_its_history,
    |url: String| async move {
        let store = open(&url).await;
        let new = NewOrg {
            slug: OrgSlug::parse("big").unwrap(),
            name: CompanyName::parse("Big").unwrap(),
            sip_domain: SipDomain::parse("pbx.big.test").unwrap(),
            limits: OrgLimits {
                max_extensions: 2000,
                ..OrgLimits::default()
            },
        };
        let org = store
            .create_org(&new, secrets("big", "pw"))
            .await
            .unwrap()
            .id;
        for n in 0..1000 {
            store
                .create_extension(
                    org,
                    &extension(&(10000 + n).to_string(), NoAnswer::Voicemail),
                )
                .await
                .unwrap();
        }
        let outcome = apply(&store, org).await.expect("a long history row fits");
        assert_eq!(outcome.changes.len(), 1000);
        let history = store.apply_history(org, 1).await.unwrap();
        assert!(
            history[0].changes.len() > 65_535,
            "longer than a MySQL TEXT: {}",
            history[0].changes.len()
        );
        let changes: Vec<Change> = serde_json::from_str(&history[0].changes).unwrap();
        assert_eq!(changes.len(), 1000);
    }
);

db_test!(
    commands_carry_the_epoch_their_change_committed,
    |url: String| async move {
        let store = open(&url).await;
        let acme = new_org(&store, "acme").await;
        store
            .create_extension(acme, &extension("101", NoAnswer::Voicemail))
            .await
            .unwrap();
        apply(&store, acme).await.unwrap();
        let epoch = store.xml_epoch().await.unwrap();
        let pending = store.pending_fs_commands(10).await.unwrap();
        assert!(!pending.is_empty());
        assert!(
            pending.iter().all(|c| c.epoch == epoch),
            "{pending:?} should carry epoch {epoch}"
        );
    }
);

db_test!(
    the_lowest_served_epoch_counts_live_instances_only,
    |url: String| async move {
        let store = open(&url).await;
        assert_eq!(store.lowest_served_epoch().await.unwrap(), None);
        store.report_instance("first", 7).await.unwrap();
        store.report_instance("second", -1).await.unwrap();
        assert_eq!(store.lowest_served_epoch().await.unwrap(), Some(-1));
        store.report_instance("second", 9).await.unwrap();
        assert_eq!(store.lowest_served_epoch().await.unwrap(), Some(7));
        store.report_instance("first", 12).await.unwrap();
        assert_eq!(store.lowest_served_epoch().await.unwrap(), Some(9));
        store.remove_instance("second").await.unwrap();
        assert_eq!(store.lowest_served_epoch().await.unwrap(), Some(12));
        // An instance that stopped reporting no longer holds anything back.
        let stale = sea_orm::Statement::from_string(
            store.backend(),
            "UPDATE instances SET seen_at = seen_at - 60000, served_epoch = 1 WHERE id = 'first'",
        );
        sea_orm::ConnectionTrait::execute_raw(store.connection(), stale)
            .await
            .unwrap();
        store.report_instance("third", 20).await.unwrap();
        assert_eq!(store.lowest_served_epoch().await.unwrap(), Some(20));
    }
);
