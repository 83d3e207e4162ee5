//! Outgoing e-mail over SMTP (lettre), configured in `[smtp]`.

use domain::JobState;
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use store::orgs::Org;

use crate::config::Config;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("no mail server is configured")]
    NotConfigured,
    #[error("invalid address: {0}")]
    Address(String),
    #[error("{0}")]
    Send(String),
}

fn transport(config: &Config) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
    let smtp = &config.smtp;
    if smtp.host.is_empty() {
        return Err(MailError::NotConfigured);
    }
    let builder = match smtp.security.as_str() {
        "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host),
        "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host),
        _ => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
            &smtp.host,
        )),
    }
    .map_err(|e| MailError::Send(e.to_string()))?;
    let mut builder = builder
        .port(smtp.port)
        .timeout(Some(std::time::Duration::from_secs(20)));
    if !smtp.username.is_empty() {
        builder = builder.credentials(Credentials::new(
            smtp.username.clone(),
            smtp.password.expose().to_owned(),
        ));
    }
    Ok(builder.build())
}

/// Sends one plain-text message.
pub async fn send(config: &Config, to: &str, subject: &str, body: String) -> Result<(), MailError> {
    let transport = transport(config)?;
    let from: Mailbox = config
        .smtp
        .from
        .parse()
        .map_err(|_| MailError::Address(config.smtp.from.clone()))?;
    let to: Mailbox = to.parse().map_err(|_| MailError::Address(to.to_owned()))?;
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| MailError::Send(e.to_string()))?;
    transport
        .send(message)
        .await
        .map_err(|e| MailError::Send(e.to_string()))?;
    Ok(())
}

/// Tells the admin how their Apply ended.
pub async fn send_job_report(
    config: &Config,
    org: &Org,
    to: &str,
    end: JobState,
    message: &str,
) -> Result<(), MailError> {
    let (subject, opening) = match end {
        JobState::Done => (
            format!("{}: your PBX changes are applied", org.name),
            "Your changes are now live.",
        ),
        _ => (
            format!("{}: your PBX changes were not applied", org.name),
            "Your changes could not be applied.",
        ),
    };
    let body = format!(
        "Hello,\n\n{opening}\n\n{message}\n\nYour PBX: {}\n\n-- \nLittlePBX\n",
        config.org_url(org.slug.as_str())
    );
    send(config, to, &subject, body).await
}
